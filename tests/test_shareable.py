"""The copy of an original other teams may download holds pixels, never where they were taken.

The test files are built here from a real camera photo: its compressed image data, wrapped in
the layouts that carried coordinates past the old GPS blanking, with coordinates planted so
that their every trace can be looked for in the bytes, not only through one parser.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import struct

import pytest
from django.core.files import File
from django.core.files.storage import default_storage
from PIL import Image, ImageCms, PngImagePlugin

from sightings import derivatives, exif, ingest, shareable

from .conftest import TESTDATA

GPS_PHOTO = TESTDATA / "exif-samples/jpg/gps/DSCN0010.jpg"
# Planted: 43° 6' 6.1237" N, 131° 29' 6.7237" E, seconds as fractions no camera writes by
# chance. In decimal degrees 43.1017, 131.4852; in XMP's degrees and minutes 43,6.1020617N
# and 131,29.1120617E.
LATITUDE = ((43, 1), (6, 1), (61237, 10000))
LONGITUDE = ((131, 1), (29, 1), (67237, 10000))
PLACE_TEXT = b"KP-12 camera at 43.1017 N, 131.4852 E (43 deg 6' 6.1237\")"
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="43,6.1020617N" '
    b'exif:GPSLongitude="131,29.1120617E"/></rdf:RDF></x:xmpmeta>'
)
# The photo's own GPS seconds as its camera wrote them: 2.814" N and 6.455" E.
PHOTO_SECONDS = ((281400000, 100000000), (645599999, 100000000))
TEXT_TRACES = (b"43.1017", b"131.4852", b"43,6.10206", b"131,29.11206", b"6.1237", b"6.7237")
# Markers a rebuilt JPEG may hold before its image data: our EXIF (orientation), ICC, Adobe,
# DQT, DHT, DAC, DRI and the frame headers.
REBUILT_MARKERS = {0xE1, 0xE2, 0xEE, 0xDB, 0xC4, 0xCC, 0xDD, *shareable.FRAMES}
# A derivative holds libjpeg's JFIF header, tables, frame: nothing else.
DERIVATIVE_MARKERS = {0xE0, 0xDB, 0xC4, 0xC0}


def traces(data: bytes) -> list[bytes]:
    """The traces of the planted or the photo's own coordinates found in data."""
    seconds = [LATITUDE[2], LONGITUDE[2], *PHOTO_SECONDS]
    packed = [struct.pack(order + "II", *pair) for pair in seconds for order in "<>"]
    return [needle for needle in [*packed, *TEXT_TRACES] if needle in data]


def segment(code: int, body: bytes) -> bytes:
    return bytes((0xFF, code)) + struct.pack(">H", len(body) + 2) + body


def tiff_block(order: str = ">", orientation: int | None = None, thumbnail: bytes = b"") -> bytes:
    """An EXIF TIFF block written by hand, in either byte order: IFD0 with the orientation
    and a pointer to a GPS directory holding the planted coordinates, and an IFD1 thumbnail."""

    def pack(layout: str, *values) -> bytes:
        return struct.pack(order + layout, *values)

    entries = [(0x0112, 3, 1, pack("HH", orientation, 0))] if orientation else []
    ifd0_size = 2 + 12 * (len(entries) + 1) + 4
    gps_at = 8 + ifd0_size
    values_at = gps_at + 2 + 12 * 4 + 4
    values = b"".join(pack("II", *pair) for pair in (*LATITUDE, *LONGITUDE))
    ifd1_at = values_at + len(values) if thumbnail else 0
    entries.append((0x8825, 4, 1, pack("I", gps_at)))
    ifd0 = pack("H", len(entries)) + b"".join(pack("HHI", *e[:3]) + e[3] for e in entries)
    gps = pack("H", 4) + pack("HHI", 1, 2, 2) + b"N\0\0\0" + pack("HHII", 2, 5, 3, values_at)
    gps += pack("HHI", 3, 2, 2) + b"E\0\0\0" + pack("HHII", 4, 5, 3, values_at + 24) + pack("I", 0)
    block = (b"MM" if order == ">" else b"II") + pack("HI", 42, 8) + ifd0 + pack("I", ifd1_at)
    block += gps + values
    if thumbnail:
        block += pack("H", 2) + pack("HHII", 0x0201, 4, 1, ifd1_at + 30)
        block += pack("HHII", 0x0202, 4, 1, len(thumbnail)) + pack("I", 0) + thumbnail
    return block


def exif_segment(order: str = ">", orientation: int | None = None, thumbnail: bytes = b"") -> bytes:
    return segment(0xE1, b"Exif\0\0" + tiff_block(order, orientation, thumbnail))


@functools.cache
def photo() -> tuple[list[bytes], bytes]:
    """The GPS photo's tables and frame header, and its image data from the scan on."""
    data = GPS_PHOTO.read_bytes()
    kept, position = [], 2
    while data[position + 1] != 0xDA:
        (length,) = struct.unpack_from(">H", data, position + 2)
        if data[position + 1] in (0xDB, 0xC4, 0xC0):
            kept.append(data[position : position + 2 + length])
        position += 2 + length
    return kept, data[position:]


def build(*before: bytes, after: bytes = b"") -> bytes:
    """The photo with these bytes before its tables and these after its end of image."""
    tables, scan = photo()
    return b"\xff\xd8" + b"".join(before) + b"".join(tables) + scan + after


@functools.cache
def small_jpeg_with_gps() -> bytes:
    """A small JPEG of its own with the planted GPS in little-endian EXIF: a thumbnail, or
    the second image of a multi-picture file."""
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "olive").save(buffer, "JPEG", exif=b"Exif\0\0" + tiff_block("<"))
    return buffer.getvalue()


def encoded(**save) -> bytes:
    """The photo's pixels encoded again by Pillow, with the planted EXIF and a comment."""
    with Image.open(GPS_PHOTO) as image:
        buffer = io.BytesIO()
        exif_block = b"Exif\0\0" + tiff_block(">", save.pop("orientation", None))
        image.save(buffer, "JPEG", exif=exif_block, comment=PLACE_TEXT, **save)
        return buffer.getvalue()


def with_fill_bytes() -> bytes:
    tables, scan = photo()
    padded = b"".join(b"\xff\xff" + part for part in (exif_segment(">"), *tables))
    return b"\xff\xd8" + padded + b"\xff\xff" + scan[:-2] + b"\xff\xff\xff\xd9"


def extended_xmp() -> bytes:
    # An XMP packet too long for one segment continues in APP1 "extension" segments: the
    # GUID of the whole, its full length and this part's offset, then the part.
    guid = hashlib.md5(XMP).hexdigest().upper().encode()
    header = b"http://ns.adobe.com/xmp/extension/\0" + guid + struct.pack(">I", len(XMP))
    half = len(XMP) // 2
    return segment(0xE1, header + struct.pack(">I", 0) + XMP[:half]) + segment(
        0xE1, header + struct.pack(">I", half) + XMP[half:]
    )


def jfif_thumbnail() -> bytes:
    # JFIF APP0, then a JFXX extension whose thumbnail is a JPEG with its own EXIF GPS.
    jfif = segment(0xE0, b"JFIF\0\x01\x02\x00\x00\x01\x00\x01\x00\x00")
    return jfif + segment(0xE0, b"JFXX\0\x10" + small_jpeg_with_gps())


def photoshop_iptc() -> bytes:
    # IPTC record 2, dataset 92 (sub-location), inside a Photoshop image resource block.
    iptc = b"\x1c\x02\x5c" + struct.pack(">H", len(PLACE_TEXT)) + PLACE_TEXT
    resource = b"8BIM\x04\x04\0\0" + struct.pack(">I", len(iptc)) + iptc
    return segment(0xED, b"Photoshop 3.0\0" + resource)


def mpf_index() -> bytes:
    # The first image of a multi-picture file announces the others in APP2 "MPF".
    return segment(0xE2, b"MPF\0MM\0*\0\0\0\x08\0\x01\xb0\x00\0\x07\0\0\0\x04" + b"0100\0\0\0\0")


# Every layout keeps the photo's image data, so its pixels are the photo's.
LAYOUTS = {
    "the camera's own file": GPS_PHOTO.read_bytes,
    "fill bytes before every marker": lambda: with_fill_bytes(),
    "junk between segments": lambda: build(exif_segment("<"), b"junk " + PLACE_TEXT),
    "a padding byte before the EXIF segment": lambda: build(b"\x00" + exif_segment(">")),
    "two EXIF segments": lambda: build(exif_segment(">", orientation=1), exif_segment("<")),
    "a second image after the first (MPF)": lambda: build(
        mpf_index(), exif_segment(">"), after=small_jpeg_with_gps()
    ),
    "extended XMP": lambda: build(
        segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + XMP), extended_xmp()
    ),
    "a comment": lambda: build(segment(0xFE, PLACE_TEXT)),
    "a JFIF thumbnail with GPS": lambda: build(jfif_thumbnail()),
    "an EXIF thumbnail with GPS": lambda: build(exif_segment(">", thumbnail=small_jpeg_with_gps())),
    "Photoshop IPTC": lambda: build(photoshop_iptc()),
    "bytes after the end of image": lambda: build(after=PLACE_TEXT + tiff_block("<")),
}


def rebuilt(data: bytes) -> bytes:
    target = io.BytesIO()
    shareable.rebuild_jpeg(io.BytesIO(data), target)
    return target.getvalue()


def pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as image:
        return image.mode, image.size, image.tobytes()


def markers(data: bytes) -> list[int]:
    """The markers before the first scan of a JPEG without fill or junk bytes (as the rebuild
    and Pillow write them)."""
    found, position = [], 2
    while data[position + 1] != 0xDA:
        found.append(data[position + 1])
        position += 2 + struct.unpack_from(">H", data, position + 2)[0]
    return found


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_rebuilt_jpeg_holds_no_trace_of_the_coordinates(layout):
    original = LAYOUTS[layout]()
    assert traces(original)  # else this test could not fail
    copy = rebuilt(original)
    assert traces(copy) == []
    assert set(markers(copy)) <= REBUILT_MARKERS - {0xE1, 0xE2, 0xEE}
    assert copy.endswith(b"\xff\xd9") and copy.count(b"\xff\xd8") == 1


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_rebuilt_jpeg_has_the_photos_pixels_exactly(layout):
    assert pixels(rebuilt(LAYOUTS[layout]())) == pixels(GPS_PHOTO.read_bytes())


@pytest.mark.parametrize(
    "save",
    [{"progressive": True}, {"restart_marker_blocks": 3}, {"progressive": True, "optimize": True}],
    ids=["progressive", "restart markers", "progressive, optimised tables"],
)
def test_progressive_and_restart_marker_jpegs_keep_their_pixels(save):
    original = encoded(quality=90, **save)
    assert traces(original)
    copy = rebuilt(original)
    assert (traces(copy), pixels(copy)) == ([], pixels(original))


def test_a_progressive_jpeg_keeps_its_scans_and_the_tables_between_them():
    original = encoded(progressive=True, optimize=True)
    copy = rebuilt(original)
    assert copy.count(b"\xff\xda") == original.count(b"\xff\xda") > 1
    # The tables between scans are the same bytes: only what preceded the first scan changed.
    first_scan = original.index(b"\xff\xda")
    assert copy.endswith(original[first_scan:])


def test_restart_markers_are_copied_as_image_data():
    original = encoded(restart_marker_blocks=2)
    restarts = sum(original.count(bytes((0xFF, code))) for code in range(0xD0, 0xD8))
    copy = rebuilt(original)
    assert restarts > 10
    assert sum(copy.count(bytes((0xFF, code))) for code in range(0xD0, 0xD8)) == restarts


def test_the_orientation_survives_alone_in_an_exif_of_our_own():
    original = encoded(orientation=6)
    copy = rebuilt(original)
    with Image.open(io.BytesIO(copy)) as image:
        assert dict(image.getexif()) == {0x0112: 6}
    # Exactly our segment: Exif header, TIFF header, one directory entry, no next directory.
    length = 2 + len(b"Exif\0\0") + 8 + 2 + 12 + 4
    assert copy[2:4] == b"\xff\xe1" and struct.unpack_from(">H", copy, 4)[0] == length
    assert pixels(copy) == pixels(original)


def test_an_upright_photo_gets_no_exif_at_all():
    copy = rebuilt(encoded(orientation=1))
    assert 0xE1 not in markers(copy)


def test_a_little_endian_orientation_is_read_too():
    copy = rebuilt(build(exif_segment("<", orientation=8)))
    with Image.open(io.BytesIO(copy)) as image:
        assert image.getexif().get(0x0112) == 8


@functools.cache  # the profile holds the time it was made
def icc_profile(size: int = 0) -> bytes:
    """sRGB, or a profile of the given size with an RGB ICC header (split over segments)."""
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    if not size:
        return profile
    return struct.pack(">I", size) + profile[4:128] + bytes(range(256)) * ((size - 128) // 256)


@pytest.mark.parametrize("size, parts", [(0, 1), (128 + 256 * 600, 3)], ids=["sRGB", "large"])
def test_the_icc_profile_is_kept_whole_even_over_several_segments(size, parts):
    profile = icc_profile(size)
    original = encoded(icc_profile=profile)
    copy = rebuilt(original)
    with Image.open(io.BytesIO(copy)) as image:
        assert image.info["icc_profile"] == profile
    assert markers(copy).count(0xE2) == parts
    assert pixels(copy) == pixels(original)


def test_icc_parts_in_the_wrong_order_are_put_back_in_order():
    profile = icc_profile(128 + 256 * 600)
    parts = [
        segment(0xE2, b"ICC_PROFILE\0" + bytes((n + 1, 3)) + profile[n * 65519 : (n + 1) * 65519])
        for n in range(3)
    ]
    copy = rebuilt(build(parts[2], parts[0], parts[1]))
    with Image.open(io.BytesIO(copy)) as image:
        assert image.info["icc_profile"] == profile


def test_an_icc_profile_that_does_not_add_up_is_dropped():
    profile = icc_profile()
    missing_part = segment(0xE2, b"ICC_PROFILE\0\x01\x02" + profile)
    not_a_profile = segment(0xE2, b"ICC_PROFILE\0\x01\x01" + PLACE_TEXT)
    for original in (build(missing_part), build(not_a_profile)):
        copy = rebuilt(original)
        assert 0xE2 not in markers(copy) and traces(copy) == []


def test_bytes_after_the_icc_profiles_end_are_dropped():
    profile = icc_profile()
    copy = rebuilt(build(segment(0xE2, b"ICC_PROFILE\0\x01\x01" + profile + PLACE_TEXT)))
    with Image.open(io.BytesIO(copy)) as image:
        assert image.info["icc_profile"] == profile
    assert traces(copy) == []


def cmyk_jpeg() -> bytes:
    with Image.open(GPS_PHOTO) as image:
        buffer = io.BytesIO()
        image.convert("CMYK").save(buffer, "JPEG", comment=PLACE_TEXT)
        return buffer.getvalue()


def test_the_adobe_segment_is_kept_so_colours_stay_the_same():
    # Adobe's colour transform 2 says the four components are YCCK, not CMYK: without the
    # segment libjpeg would take them for CMYK.
    cmyk = cmyk_jpeg()
    transform = cmyk.index(b"\xff\xee") + 15
    ycck = cmyk[:transform] + b"\x02" + cmyk[transform + 1 :]
    copy = rebuilt(ycck)
    assert 0xEE in markers(copy)
    assert pixels(copy) == pixels(ycck) != pixels(cmyk)
    without = ycck[: transform - 15] + ycck[transform + 1 :]
    assert pixels(without) == pixels(cmyk)


def test_only_the_fields_of_the_adobe_segment_are_kept():
    original = cmyk_jpeg()
    adobe = original.index(b"\xff\xee")
    fields = original[adobe + 4 : adobe + 16]
    longer = original[:adobe] + segment(0xEE, fields + PLACE_TEXT) + original[adobe + 16 :]
    copy = rebuilt(longer)
    assert segment(0xEE, fields) in copy and traces(copy) == []
    assert pixels(copy) == pixels(original)


def test_an_app14_that_is_not_adobes_is_dropped():
    copy = rebuilt(build(segment(0xEE, b"Adobx" + bytes(7)), segment(0xEE, b"Adobe\0d")))
    assert 0xEE not in markers(copy)


def test_a_file_without_a_start_of_image_is_refused():
    with pytest.raises(shareable.BrokenJpeg, match="no start-of-image marker"):
        rebuilt(b"\x89PNG\r\n\x1a\n" + bytes(100))


def test_a_segment_running_past_the_end_is_refused():
    tables, _ = photo()
    with pytest.raises(shareable.BrokenJpeg, match="runs past the end"):
        rebuilt(b"\xff\xd8" + tables[0][:-10])
    # BrokenJpeg is a ValueError, as callers that know no better expect.
    with pytest.raises(ValueError):
        rebuilt(b"\xff\xd8" + tables[0][:-10])


def test_a_file_without_a_frame_header_is_refused():
    # DHT (C4), JPG (C8) and DAC (CC) share the SOF range but are no frame headers.
    tables, scan = photo()
    not_frames = [t for t in tables if t[1] != 0xC0] + [segment(0xC8, b""), segment(0xCC, b"")]
    with pytest.raises(shareable.BrokenJpeg, match="no frame"):
        rebuilt(b"\xff\xd8" + b"".join(not_frames) + scan)


def test_a_file_without_image_data_is_refused():
    tables, _ = photo()
    for end in (b"\xff\xd9", b""):
        with pytest.raises(shareable.BrokenJpeg, match="no scan"):
            rebuilt(b"\xff\xd8" + b"".join(tables) + end)


def test_image_data_without_an_end_is_refused():
    with pytest.raises(shareable.BrokenJpeg, match="runs past the end of the file"):
        rebuilt(GPS_PHOTO.read_bytes()[:-2])


def test_a_second_frame_header_is_refused():
    tables, scan = photo()
    with pytest.raises(shareable.BrokenJpeg, match="a second frame header"):
        rebuilt(b"\xff\xd8" + b"".join(tables) + tables[-1] + scan)


def test_the_file_is_read_in_chunks_never_whole():
    # A source that hands out at most CHUNK_SIZE bytes a read and counts what is asked.
    class Source(io.BytesIO):
        largest = 0

        def read(self, size=-1):
            Source.largest = max(Source.largest, size)
            return super().read(size)

    with Image.open(GPS_PHOTO) as image:
        original = saved(image.resize((2560, 1920)), "JPEG", quality=95, comment=PLACE_TEXT)
    assert len(original) > 2 * shareable.CHUNK_SIZE
    target = io.BytesIO()
    shareable.rebuild_jpeg(Source(original), target)
    assert 0 < Source.largest <= shareable.CHUNK_SIZE
    assert pixels(target.getvalue()) == pixels(original)


# Other formats: decoded and written as PNG with the ICC profile only.


def png_chunks(data: bytes) -> list[bytes]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    found, position = [], 8
    while position < len(data):
        (length,) = struct.unpack_from(">I", data, position)
        found.append(data[position + 4 : position + 8])
        position += 12 + length
    return found


def as_png(data: bytes) -> bytes:
    target = io.BytesIO()
    shareable.write_png(io.BytesIO(data), target)
    return target.getvalue()


def saved(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def photo_pixels() -> Image.Image:
    with Image.open(GPS_PHOTO) as image:
        image.load()
        return image


def png_with_everything() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add_text("Comment", PLACE_TEXT.decode())
    info.add_text("Location", PLACE_TEXT.decode(), zip=True)
    info.add(b"tIME", b"\x07\xe5\x04\x0b\x14\x2b\x09")
    image = photo_pixels()
    return saved(
        image, "PNG", pnginfo=info, exif=tiff_block("<"), icc_profile=icc_profile(), dpi=(300, 300)
    )


def test_a_png_keeps_its_pixels_and_profile_and_loses_every_other_chunk():
    original = png_with_everything()
    assert {b"eXIf", b"iTXt", b"tEXt", b"zTXt", b"tIME", b"pHYs"} <= set(png_chunks(original))
    copy = as_png(original)
    assert set(png_chunks(copy)) == {b"IHDR", b"iCCP", b"IDAT", b"IEND"}
    assert traces(copy) == [] and traces(original)
    with Image.open(io.BytesIO(copy)) as image:
        assert image.info["icc_profile"] == icc_profile()
    assert pixels(copy) == pixels(original)


@pytest.mark.parametrize("order", "<>")
def test_a_tiff_loses_its_gps_directory(order):
    original = saved(photo_pixels(), "TIFF", exif=tiff_block(order))
    with Image.open(io.BytesIO(original)) as image:
        assert image.getexif().get_ifd(0x8825)[1] == "N"  # else this test could not fail
    copy = as_png(original)
    assert set(png_chunks(copy)) == {b"IHDR", b"IDAT", b"IEND"}
    assert traces(copy) == []
    assert pixels(copy) == pixels(original)


def test_a_heic_loses_its_exif():
    original = saved(photo_pixels(), "HEIF", exif=b"Exif\0\0" + tiff_block("<"), quality=-1)
    assert traces(original)
    copy = as_png(original)
    assert traces(copy) == [] and b"eXIf" not in png_chunks(copy)
    assert pixels(copy) == pixels(original)


def test_a_turned_heic_is_turned_once():
    exif_block = b"Exif\0\0" + tiff_block(">", orientation=6)
    original = saved(photo_pixels(), "HEIF", exif=exif_block, quality=-1)
    copy = as_png(original)
    # pillow-heif hands out the pixels upright already, reporting orientation 1.
    assert pixels(copy)[1] == (480, 640)
    assert pixels(copy) == pixels(original)


def test_a_webp_loses_its_exif_and_xmp():
    original = saved(
        photo_pixels(), "WEBP", lossless=True, exif=b"Exif\0\0" + tiff_block(">"), xmp=XMP
    )
    assert traces(original)
    copy = as_png(original)
    assert traces(copy) == []
    assert pixels(copy) == pixels(original)


def test_the_png_is_turned_upright():
    original = saved(photo_pixels(), "PNG", exif=tiff_block(">", orientation=6))
    with Image.open(io.BytesIO(as_png(original))) as image:
        assert image.tobytes() == photo_pixels().transpose(Image.Transpose.ROTATE_270).tobytes()
        assert dict(image.getexif()) == {}


@pytest.mark.parametrize(
    "mode, written",
    [
        ("L", "L"),
        ("LA", "LA"),
        ("RGB", "RGB"),
        ("RGBA", "RGBA"),
        ("I;16", "I;16"),
        ("I", "I;16"),
        ("1", "1"),
        ("P", "RGB"),
        ("CMYK", "RGB"),
    ],
)
def test_modes_are_kept_where_png_holds_them(mode, written):
    image = photo_pixels().convert("L" if mode.startswith("I") else "RGB").convert(mode)
    original = saved(image, "TIFF")
    with Image.open(io.BytesIO(as_png(original))) as copy:
        assert copy.mode == written
        expected = image if mode == written else image.convert(written)
        assert copy.tobytes() == expected.tobytes()


def test_a_palette_with_transparency_becomes_rgba():
    original = saved(photo_pixels().convert("P"), "PNG", transparency=0)
    with Image.open(io.BytesIO(original)) as image:
        expected = image.convert("RGBA")
    assert expected.getchannel("A").getextrema() == (0, 255)  # some pixels are transparent
    with Image.open(io.BytesIO(as_png(original))) as copy:
        assert (copy.mode, copy.tobytes()) == ("RGBA", expected.tobytes())


def test_a_cmyk_profile_is_not_put_on_rgb_pixels():
    cmyk = icc_profile()[:16] + b"CMYK" + icc_profile()[20:]
    original = saved(photo_pixels().convert("CMYK"), "TIFF", icc_profile=cmyk)
    with Image.open(io.BytesIO(original)) as image:
        assert image.info["icc_profile"] == cmyk
    assert b"iCCP" not in png_chunks(as_png(original))


def test_an_image_with_too_many_pixels_gets_no_copy(settings):
    settings.MAX_IMAGE_PIXELS = 640 * 480 - 1
    with pytest.raises(derivatives.ImageError) as error:
        as_png(saved(photo_pixels(), "PNG"))
    assert error.value.reason == exif.TOO_MANY_PIXELS


# The copy as the web view serves it: made once, kept, named by the original's hash.


def stored(deployment, user, data: bytes, name: str):
    batch = deployment.batches.create(uploaded_by=user)
    sha256 = hashlib.sha256(data).hexdigest()
    return ingest.add_file(
        batch, File(io.BytesIO(data), name=name), name=name, folder="", sha256=sha256
    )


def read(name: str) -> bytes:
    with default_storage.open(name) as file:
        return file.read()


def test_the_copy_of_a_jpeg_is_the_rebuilt_jpeg(cn_deployment, alice):
    original = LAYOUTS["a second image after the first (MPF)"]()
    media = stored(cn_deployment, alice, original, "IMG_0001.JPG")
    name, content_type = shareable.copy_for_others(media)
    assert (name, content_type) == (
        f"shareable/{media.sha256[:2]}/{media.sha256}.jpg",
        "image/jpeg",
    )
    assert read(name) == rebuilt(original)
    assert traces(read(name)) == []


def test_the_copy_of_another_format_is_a_png(cn_deployment, alice):
    media = stored(cn_deployment, alice, png_with_everything(), "IMG_0002.PNG")
    name, content_type = shareable.copy_for_others(media)
    assert (name, content_type) == (f"shareable/{media.sha256[:2]}/{media.sha256}.png", "image/png")
    assert set(png_chunks(read(name))) == {b"IHDR", b"iCCP", b"IDAT", b"IEND"}


def test_the_copy_is_made_once(cn_deployment, alice):
    media = stored(cn_deployment, alice, GPS_PHOTO.read_bytes(), "DSCN0010.jpg")
    name, _ = shareable.copy_for_others(media)
    first = os.stat(default_storage.path(name))
    assert shareable.copy_for_others(media) == (name, "image/jpeg")
    again = os.stat(default_storage.path(name))
    assert (again.st_ino, again.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)


def test_a_jpeg_the_rebuild_refuses_is_copied_as_png(cn_deployment, alice, monkeypatch):
    # Files Pillow decodes the rebuild follows too; a lower limit on the tables held makes
    # one it refuses.
    monkeypatch.setattr(shareable, "MAX_HEADER_BYTES", 100)
    media = stored(cn_deployment, alice, LAYOUTS["a comment"](), "IMG_0003.JPG")
    name, content_type = shareable.copy_for_others(media)
    assert (name[-4:], content_type) == (".png", "image/png")
    assert pixels(read(name)) == pixels(GPS_PHOTO.read_bytes())
    assert traces(read(name)) == []


def test_a_broken_file_gets_no_copy_and_a_clear_error(cn_deployment, alice, settings):
    leftovers = set(os.listdir(settings.FILE_UPLOAD_TEMP_DIR))
    media = stored(cn_deployment, alice, b"\xff\xd8\xff\xe0" + PLACE_TEXT, "IMG_0004.JPG")
    with pytest.raises(derivatives.ImageError) as error:
        shareable.copy_for_others(media)
    assert error.value.reason == exif.NOT_AN_IMAGE
    assert not default_storage.exists(f"shareable/{media.sha256[:2]}/{media.sha256}.png")
    assert not default_storage.exists(f"shareable/{media.sha256[:2]}/{media.sha256}.jpg")
    assert set(os.listdir(settings.FILE_UPLOAD_TEMP_DIR)) == leftovers


# Previews and thumbnails: no metadata at all, whatever the original carried.


def laden_jpeg(orientation: int | None = None) -> bytes:
    """The photo with a comment, EXIF GPS, XMP, extended XMP, IPTC and an ICC profile."""
    xmp = segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + XMP)
    data = encoded(orientation=orientation, icc_profile=icc_profile())
    return data[:2] + xmp + extended_xmp() + photoshop_iptc() + data[2:]


@pytest.mark.parametrize("orientation", [None, 6], ids=["as stored", "turned"])
def test_previews_and_thumbnails_carry_no_metadata(orientation):
    original = laden_jpeg(orientation)
    assert traces(original)
    made = derivatives.render_derivatives(io.BytesIO(original))
    for derivative in (made.preview, made.thumbnail):
        assert set(markers(derivative)) <= DERIVATIVE_MARKERS
        assert traces(derivative) == [] and PLACE_TEXT not in derivative
        with Image.open(io.BytesIO(derivative)) as image:
            assert set(image.info) <= {"jfif", "jfif_version", "jfif_unit", "jfif_density"}
