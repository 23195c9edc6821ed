"""What other teams may see of places where sensitive species live.

The three big cats are sensitive: outside the team that owns a station, its coordinates are
only ever shown generalised to the centre of a grid cell (LOCATION_GRID_DEGREES), on every
surface (access.place and access.places decide who sees what), and its originals reach other
teams only as copies rebuilt without their metadata (shareable.py).
A station is protected as a whole once a sensitive species has been recorded there, so its
exact place cannot be learnt from its other sightings either.
"""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Iterable

from django.conf import settings
from PIL import Image

from sightings.models import Location, Sighting, Species

EXIF_HEADER = b"Exif\x00\x00"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
GPS_IFD = 0x8825
# Bytes per value of each TIFF field type (BYTE, ASCII, SHORT, LONG, RATIONAL, ...).
TIFF_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}


def note_species(location_id: int, species: Iterable) -> None:
    """Remember that a location has records of a sensitive species (never forgotten)."""
    if any(item is not None and item.is_sensitive for item in species):
        Location.objects.filter(pk=location_id, has_sensitive_species=False).update(
            has_sensitive_species=True
        )


def protect_stations_of(species: Species) -> int:
    """Protect every station holding a sighting of a species that is (now) sensitive;
    return how many were not protected before."""
    if not species.is_sensitive:
        return 0
    holding = Sighting.objects.filter(species=species).values("location")
    return Location.objects.filter(pk__in=holding, has_sensitive_species=False).update(
        has_sensitive_species=True
    )


def generalised(
    latitude: float | None, longitude: float | None
) -> tuple[float | None, float | None]:
    """The centre of the grid cell holding a point."""
    grid = settings.LOCATION_GRID_DEGREES
    return tuple(
        None if degrees is None else round((math.floor(degrees / grid) + 0.5) * grid, 6)
        for degrees in (latitude, longitude)
    )


def without_gps(data: bytes) -> bytes:
    """The image file with its GPS tags (and XMP, which may repeat them) taken out.

    JPEG segments are edited in place, the image data untouched; other formats are
    re-encoded as JPEG without any metadata.
    """
    if data[:2] != b"\xff\xd8":
        with Image.open(io.BytesIO(data)) as image:
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, "JPEG", quality=95)
            return buffer.getvalue()
    out = [data[:2]]
    position = 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker in (0xDA, 0xD9):  # start of scan: the rest is image data
            break
        length = struct.unpack(">H", data[position + 2 : position + 4])[0]
        segment = data[position : position + 2 + length]
        out.append(_clean_segment(marker, segment))
        position += 2 + length
    out.append(data[position:])
    return b"".join(out)


def _clean_segment(marker: int, segment: bytes) -> bytes:
    body = segment[4:]
    if marker == 0xE1 and body.startswith(XMP_HEADER):
        return b""
    if marker != 0xE1 or not body.startswith(EXIF_HEADER):
        return segment
    tiff = bytearray(body[len(EXIF_HEADER) :])
    try:
        _empty_gps_directory(tiff)
    except (struct.error, ValueError):  # unreadable EXIF: drop it rather than risk GPS in it
        return b""
    return segment[:4] + EXIF_HEADER + bytes(tiff)


def _empty_gps_directory(tiff: bytearray) -> None:
    """Blank the GPS directory in place: its entries and their values become zeros and its
    entry count 0. Every other offset stays valid, maker notes included."""
    order = {b"II": "<", b"MM": ">"}.get(bytes(tiff[:2]))
    if order is None:
        raise ValueError("not a TIFF header")
    first = struct.unpack_from(order + "I", tiff, 4)[0]
    gps = _pointer(tiff, order, first, GPS_IFD)
    if gps is None:
        return
    count = struct.unpack_from(order + "H", tiff, gps)[0]
    for entry in range(gps + 2, gps + 2 + 12 * count, 12):
        kind, number, value = struct.unpack_from(order + "HII", tiff, entry + 2)
        size = TIFF_SIZES.get(kind, 1) * number
        if size > 4 and value + size <= len(tiff):
            tiff[value : value + size] = bytes(size)
        tiff[entry : entry + 12] = bytes(12)
    struct.pack_into(order + "H", tiff, gps, 0)


def _pointer(tiff: bytearray, order: str, directory: int, tag: int) -> int | None:
    count = struct.unpack_from(order + "H", tiff, directory)[0]
    for entry in range(directory + 2, directory + 2 + 12 * count, 12):
        if struct.unpack_from(order + "H", tiff, entry)[0] == tag:
            return struct.unpack_from(order + "I", tiff, entry + 8)[0]
    return None
