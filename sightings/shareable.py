"""The copy of an original that other teams may download.

Other teams must never learn where a protected station is (protection.py), and a file's
metadata can say so in many places: EXIF GPS tags, XMP and extended XMP, maker notes, IPTC,
comments, thumbnails with their own EXIF, further frames after the image (MPF), bytes
hidden between segments or after the end. Instead of hunting for them, the copy is built
from what is known to be harmless: a JPEG is rebuilt from the segments decoding needs,
its compressed image data copied as it is; anything else is decoded and written as a PNG
with nothing but its pixels and colour profile.
"""

from __future__ import annotations

import logging
import re
import struct
from typing import BinaryIO

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import TemporaryUploadedFile
from PIL import Image

from sightings import derivatives, exif, ingest
from sightings.models import Media

logger = logging.getLogger(__name__)

CHUNK_SIZE = 256 * 1024
SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
# SOF0..SOF15 without the codes that share their range: DHT (C4), JPG (C8) and DAC (CC).
FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# DHT, DAC, DQT, DRI: tables a decoder needs, before the frame or between scans.
TABLES = {0xC4, 0xCC, 0xDB, 0xDD}
# Markers that stand alone, without a length: RST0..RST7 and TEM.
STANDALONE = {0x01, *range(0xD0, 0xD8)}
APP1, APP2, APP14 = 0xE1, 0xE2, 0xEE
EXIF_HEADER = b"Exif\x00\x00"
ICC_HEADER = b"ICC_PROFILE\x00"
ICC_PART = 65519  # profile bytes per APP2 segment: 65535 less length, header and numbering
ADOBE_LENGTH = 12  # "Adobe", version, two flag words and the colour transform
ORIENTATION = 0x0112
# Between segments: junk bytes, any fill (0xFF) bytes, then a marker. Inside entropy-coded
# data 0xFF00 is a stuffed 0xFF and RSTn markers are part of the data; any other marker ends
# it. One 0xFF each: a run of fill bytes is then searched in linear time.
MARKER = re.compile(rb"\xff([^\x00\xff])")
END_OF_DATA = re.compile(rb"\xff([^\x00\xd0-\xd7\xff])")
# The segments kept before the image data are held until it starts; a full 255-part ICC
# profile is 16.7 MB, so more than this is no camera's file.
MAX_HEADER_BYTES = 32 * 1024 * 1024
# Where copies are kept: (suffix, content type) of a rebuilt JPEG and of a PNG.
JPEG_COPY = (".jpg", "image/jpeg")
PNG_COPY = (".png", "image/png")
# What PNG holds as it is; other modes become RGB, or RGBA if they have transparency.
PNG_MODES = {"1", "L", "LA", "RGB", "RGBA", "I;16"}
SIXTEEN_BIT_GREY = {"I", "I;16B", "I;16L", "I;16N"}
PILLOW_ERRORS = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)


class BrokenJpeg(ValueError):
    """The JPEG's structure cannot be followed; the message says where it broke."""


def copy_for_others(media: Media) -> tuple[str, str]:
    """The storage name and content type of the copy of the media's original that other
    teams may download, made on first use and kept.

    Raises derivatives.ImageError if no copy can be made of the file.
    """
    for suffix, content_type in (JPEG_COPY, PNG_COPY):
        name = _copy_name(media.sha256, suffix)
        if default_storage.exists(name):
            return name, content_type
    return _make_copy(media)


def _copy_name(sha256: str, suffix: str) -> str:
    return f"shareable/{sha256[:2]}/{sha256}{suffix}"


def _make_copy(media: Media) -> tuple[str, str]:
    # Written to a temporary file beside MEDIA_ROOT (FILE_UPLOAD_TEMP_DIR, on the same
    # filesystem), then moved into place by the storage: a concurrent request sees no file
    # or the whole file. Two requests making the same copy write the same bytes, and
    # the storage may overwrite (settings.STORAGES), so the last move does no harm.
    with media.file.open("rb") as original, TemporaryUploadedFile("copy", "", 0, None) as copy:
        if _rebuilt(original, copy):
            suffix, content_type = JPEG_COPY
        else:
            _restart(original, copy)
            write_png(original, copy)
            suffix, content_type = PNG_COPY
        copy.flush()
        name = default_storage.save(_copy_name(media.sha256, suffix), copy)
    return name, content_type


def _restart(original: BinaryIO, copy: BinaryIO) -> None:
    original.seek(0)
    copy.seek(0)
    copy.truncate()


def _rebuilt(original: BinaryIO, copy: BinaryIO) -> bool:
    """Whether the original is a JPEG now rebuilt into copy, and the result decodes."""
    if ingest.sniff_format(original.read(ingest.SNIFF_BYTES)) != Media.Format.JPEG:
        return False
    original.seek(0)
    try:
        rebuild_jpeg(original, copy)
    except BrokenJpeg as exc:
        logger.warning("%s: not rebuilt as a JPEG (%s), copied as a PNG", original.name, exc)
        return False
    copy.flush()
    copy.seek(0)
    if _decodes(copy):
        return True
    logger.warning("%s: the rebuilt JPEG does not decode, copied as a PNG", original.name)
    return False


def _decodes(file: BinaryIO) -> bool:
    # libjpeg reads all the entropy-coded data even when it scales by 1/8 while decoding,
    # at a fraction of the cost of a full decode.
    try:
        with _open(file) as image:
            image.draft(None, (1, 1))
            image.load()
    except (derivatives.ImageError, *PILLOW_ERRORS):
        return False
    return True


def _open(file: BinaryIO) -> Image.Image:
    """The image, if Pillow can read it and it has no more pixels than allowed."""
    try:
        image = Image.open(file)
    except PILLOW_ERRORS as exc:
        raise derivatives.ImageError(exif.NOT_AN_IMAGE, str(exc)) from exc
    if image.width * image.height > settings.MAX_IMAGE_PIXELS:
        image.close()
        detail = f"{image.width} × {image.height} px, limit {settings.MAX_IMAGE_PIXELS} px"
        raise derivatives.ImageError(exif.TOO_MANY_PIXELS, detail)
    return image


# Any format Pillow reads, and JPEGs the rebuild refuses: decoded and written as PNG.


def write_png(source: BinaryIO, target: BinaryIO) -> None:
    """Decode the image and write it upright as a lossless PNG, its ICC profile the only
    thing besides the pixels (no eXIf, text, XMP or time chunks).

    Raises derivatives.ImageError if it cannot be decoded.
    """
    with _open(source) as image:
        try:
            _write_png(image, target)
        except PILLOW_ERRORS as exc:
            raise derivatives.ImageError(derivatives.DAMAGED, str(exc)) from exc


def _write_png(image: Image.Image, target: BinaryIO) -> None:
    turn = derivatives.orientation(image)
    profile = image.info.get("icc_profile")
    pixels = _png_ready(image)
    if turn in derivatives.UPRIGHT:
        pixels = pixels.transpose(derivatives.UPRIGHT[turn])
    # Pillow's PNG writer falls back on image.info for the profile, the transparency and
    # more; with it empty, only what is passed here is written.
    pixels.info = {}
    pixels.save(target, "PNG", icc_profile=_profile_for(profile, pixels.mode))


def _png_ready(image: Image.Image) -> Image.Image:
    """The image in a mode PNG holds, converted only when it must be."""
    if image.mode in PNG_MODES and "transparency" not in image.info:
        return image
    if image.mode in SIXTEEN_BIT_GREY:
        return image.convert("I;16")
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


def _profile_for(profile: bytes | None, mode: str) -> bytes | None:
    """The ICC profile if it describes the colour space of the pixels written (a CMYK
    image written as RGB loses its profile)."""
    space = b"RGB " if mode in ("RGB", "RGBA") else b"GRAY"
    if profile and profile[16:20] == space and profile[36:40] == b"acsp":
        return profile
    return None


# JPEG originals: rebuilt from an allowlist, the compressed image data copied as it is.


def rebuild_jpeg(source: BinaryIO, target: BinaryIO) -> None:
    """Write a JPEG holding only what decoding needs, read from source in chunks.

    Kept: the tables, the frame header, the scans with their entropy-coded data up to the
    first end of image, the Adobe segment (how colours are coded) and the ICC profile, plus
    an EXIF segment of our own with the orientation only. Raises BrokenJpeg if the structure
    cannot be followed.
    """
    reader = _Reader(source)
    if reader.read(2) != b"\xff\xd8":
        raise BrokenJpeg("no start-of-image marker")
    header, scan = _read_header(reader)
    target.write(b"\xff\xd8")
    target.write(header.rebuilt())
    _copy_scans(reader, target, scan)


class _Header:
    """What is kept of the segments before the first scan."""

    def __init__(self) -> None:
        self.segments: list[bytes] = []  # tables and the frame, in the file's order
        self.size = 0
        self.has_frame = False
        self.orientation: int | None = None  # from the first EXIF segment
        self.icc_parts: list[bytes] = []
        self.adobe: bytes | None = None

    def add(self, code: int, segment: bytes) -> None:
        body = segment[4:]
        if code in FRAMES:
            if self.has_frame:
                raise BrokenJpeg("a second frame header")
            self.has_frame = True
        if code in FRAMES or code in TABLES:
            self._keep(segment)
        elif code == APP1 and body.startswith(EXIF_HEADER) and self.orientation is None:
            self.orientation = _orientation(body[len(EXIF_HEADER) :])
        elif code == APP2 and body.startswith(ICC_HEADER) and len(body) > len(ICC_HEADER) + 2:
            self._keep(body, into=self.icc_parts)
        elif code == APP14 and body.startswith(b"Adobe") and self.adobe is None:
            # Only the fields libjpeg reads: bytes after them could carry anything.
            if len(body) >= ADOBE_LENGTH:
                self.adobe = body[:ADOBE_LENGTH]
        # Everything else (APPn, COM, JPG, DNL, DHP, EXP, reserved codes) is dropped.

    def _keep(self, data: bytes, into: list[bytes] | None = None) -> None:
        self.size += len(data)
        if self.size > MAX_HEADER_BYTES:
            raise BrokenJpeg(f"more than {MAX_HEADER_BYTES} bytes of tables before the image")
        (self.segments if into is None else into).append(data)

    def rebuilt(self) -> bytes:
        parts = []
        if self.orientation not in (None, 1):
            parts.append(_segment(APP1, _orientation_exif(self.orientation)))
        profile = _icc_profile(self.icc_parts)
        for start in range(0, len(profile), ICC_PART):
            number = bytes((start // ICC_PART + 1, -(-len(profile) // ICC_PART)))
            parts.append(_segment(APP2, ICC_HEADER + number + profile[start : start + ICC_PART]))
        if self.adobe is not None:
            parts.append(_segment(APP14, self.adobe))
        return b"".join(parts + self.segments)


def _read_header(reader: _Reader) -> tuple[_Header, bytes]:
    """The kept segments up to the first scan, and that scan's header."""
    header = _Header()
    while True:
        code = reader.until_marker(MARKER)
        if code is None or code == EOI:
            raise BrokenJpeg("no scan: the file ends before any image data")
        if code == SOI:
            raise BrokenJpeg("a second start-of-image marker before any image data")
        if code in STANDALONE:
            continue
        segment = reader.segment(code)
        if code == SOS:
            if not header.has_frame:
                raise BrokenJpeg("no frame: image data before any frame header")
            return header, segment
        header.add(code, segment)


def _copy_scans(reader: _Reader, target: BinaryIO, scan: bytes) -> None:
    """Copy the scans, with the tables between them, up to and including the first EOI."""
    segment = scan
    while True:
        target.write(segment)
        code = reader.until_marker(END_OF_DATA, target.write)
        while code not in (EOI, SOS):
            if code is None:
                raise BrokenJpeg("the image data runs past the end of the file")
            if code in FRAMES or code == SOI:
                raise BrokenJpeg("a second image before the first one ended")
            if code not in STANDALONE:
                segment = reader.segment(code)
                if code in TABLES:
                    target.write(segment)
            code = reader.until_marker(MARKER)
        if code == EOI:
            target.write(b"\xff\xd9")
            return
        segment = reader.segment(SOS)


def _segment(code: int, body: bytes) -> bytes:
    return bytes((0xFF, code)) + struct.pack(">H", len(body) + 2) + body


def _orientation(tiff: bytes) -> int:
    """The Orientation tag of an EXIF block's first directory; 1 if absent or unreadable."""
    order = {b"MM\x00*": ">", b"II*\x00": "<"}.get(tiff[:4])
    if order is None:
        return 1
    try:
        (directory,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, directory)
        for entry in range(directory + 2, directory + 2 + 12 * count, 12):
            tag, kind, number, value = struct.unpack_from(order + "HHIH", tiff, entry)
            if tag == ORIENTATION:
                return value if (kind, number) == (3, 1) and 1 <= value <= 8 else 1
    except struct.error:
        pass
    return 1


def _orientation_exif(orientation: int) -> bytes:
    """An EXIF block of one directory holding one tag: Orientation, a SHORT."""
    return (
        EXIF_HEADER
        + b"MM\x00*"
        + struct.pack(">IHHHIHHI", 8, 1, ORIENTATION, 3, 1, orientation, 0, 0)
    )


def _icc_profile(parts: list[bytes]) -> bytes:
    """The ICC profile the APP2 parts add up to, or nothing if they do not add up: every
    part numbered once out of the same count, and a profile as long as its header says."""
    numbered = {part[len(ICC_HEADER)]: part for part in parts}
    counts = {part[len(ICC_HEADER) + 1] for part in parts}
    if not parts or counts != {len(parts)} or set(numbered) != set(range(1, len(parts) + 1)):
        return b""
    start = len(ICC_HEADER) + 2
    profile = b"".join(numbered[number][start:] for number in sorted(numbered))
    size = int.from_bytes(profile[:4], "big")
    if profile[36:40] != b"acsp" or not 128 <= size <= len(profile):
        return b""
    # Bytes after the profile's own end are not part of it.
    return profile[:size]


class _Reader:
    """A file read in chunks: holds one chunk and at most one segment."""

    def __init__(self, source: BinaryIO) -> None:
        self.source = source
        self.buffer = b""
        self.position = 0

    def _fill(self, size: int) -> bool:
        """Have at least size bytes from position on; False if the file ends first."""
        while len(self.buffer) - self.position < size:
            chunk = self.source.read(CHUNK_SIZE)
            if not chunk:
                return False
            self.buffer = self.buffer[self.position :] + chunk
            self.position = 0
        return True

    def read(self, size: int) -> bytes:
        if not self._fill(size):
            raise BrokenJpeg("a segment runs past the end of the file")
        data = self.buffer[self.position : self.position + size]
        self.position += size
        return data

    def segment(self, code: int) -> bytes:
        """The segment whose marker was just read: marker, length and body."""
        length = self.read(2)
        (size,) = struct.unpack(">H", length)
        if size < 2:
            raise BrokenJpeg(f"a segment (marker 0x{code:02X}) shorter than its length field")
        return bytes((0xFF, code)) + length + self.read(size - 2)

    def until_marker(self, pattern: re.Pattern, out=None) -> int | None:
        """Pass over the bytes up to the next marker pattern finds, giving them to out if
        any; the marker's code, or None if the file ends first."""
        while True:
            match = pattern.search(self.buffer, self.position)
            if match is not None:
                if out is not None:
                    # A data 0xFF is always followed by 0x00: any right before a marker is fill.
                    out(self.buffer[self.position : match.start()].rstrip(b"\xff"))
                self.position = match.end()
                return match[1][0]
            end = max(len(self.buffer.rstrip(b"\xff")), self.position)
            if out is not None:
                out(self.buffer[self.position : end])
            # Of the 0xFF bytes ending the chunk, all but the last are fill; the last may
            # begin a marker or a stuffed 0xFF, which the next chunk will tell.
            self.position = max(end, len(self.buffer) - 1)
            if not self._fill(len(self.buffer) - self.position + 1):
                return None
