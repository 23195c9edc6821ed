"""Read the metadata of one image file: EXIF, GPS, camera-trap maker notes, capture time."""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, BinaryIO

import exifread
from django.utils.translation import gettext_lazy, gettext_noop
from exifread.core.ifd_tag import IfdTag
from exifread.tags.fields import FieldType
from PIL import Image

from sightings import makernotes

EMPTY_FILE = gettext_noop("The file is empty: the camera may have lost power while writing it.")
NOT_AN_IMAGE = gettext_noop("The file is not an image that can be read.")
TOO_MANY_PIXELS = gettext_noop("The image has more pixels than allowed.")
EXIF_UNREADABLE = gettext_noop(
    "The EXIF data could not be read: the capture time and camera details may be missing."
)
EXIF_DAMAGED = gettext_noop("Part of the EXIF data is missing or damaged.")
BAD_VALUE = gettext_noop("A metadata value is not valid and was ignored.")

# Longer lists are tables or binary blobs, not metadata worth keeping in Metadata.tags.
MAX_LIST = 64
MAX_BYTES = 16

# exifread's names for the pointers from IFD0 to the EXIF and GPS directories.
SUB_IFDS = ("Image ExifOffset", "Image GPSInfo")

EXIF_TIME = re.compile(r"(\d{4})[:/-](\d\d)[:/-](\d\d)[ T](\d\d):(\d\d):(\d\d)")
OFFSET = re.compile(r"([+-])(\d{1,2}):?(\d\d)")
# camtrapR's imageRename: Station__YYYY-MM-DD__hh-mm-ss(n).JPG, optionally with __Camera.
FILE_NAME_TIME = re.compile(r"__(\d{4})-(\d\d)-(\d\d)__(\d\d)-(\d\d)-(\d\d)\(\d+\)\.\w+$")


class MetadataError(Exception):
    """The file cannot be read as an image.

    reason is a fixed English sentence marked with gettext_noop (translated when shown);
    detail is free text such as numbers or the library's message, never translated, for
    site admins. Neither ever holds a Python repr.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


@dataclass
class Metadata:
    format: str  # Pillow's format name: JPEG, TIFF, HEIF, PNG, ...
    width: int
    height: int
    # The camera clock reading (naive, sub-seconds kept) and which source it came from.
    camera_time: dt.datetime | None = None
    capture_time_source: str = ""  # "DateTimeOriginal", "CreateDate", "MakerNote", "FileName", ""
    camera_offset: str = ""  # the file's own OffsetTimeOriginal, e.g. "+08:00"
    make: str = ""
    model: str = ""
    serial_number: str = ""
    orientation: int | None = None
    exposure_time: float | None = None  # seconds
    iso: int | None = None
    flash: int | None = None  # the raw EXIF Flash bit field
    gps_latitude: float | None = None  # signed decimal degrees, WGS84
    gps_longitude: float | None = None
    gps_altitude: float | None = None  # metres, negative below sea level
    image_description: str = ""
    temperature: int | None = None  # °C, from maker notes
    moon_phase: int | None = None  # 0 new .. 4 full .. 7 old crescent
    trigger_mode: str = ""  # raw maker-note code: "M" motion, "T" time lapse, ...
    sequence_number: int | None = None
    sequence_length: int | None = None
    event_number: int | None = None
    user_label: str = ""
    maker_note_time: dt.datetime | None = None
    tags: dict = field(default_factory=dict)  # every readable tag, JSON-safe
    # Problems that did not stop the file: [{"reason": <gettext_noop sentence>, "detail": str}]
    warnings: list[dict] = field(default_factory=list)


def read_metadata(file: BinaryIO, name: str, *, max_pixels: int) -> Metadata:
    """Read the metadata of one image file from its header; name is its original file name.

    file is a seekable binary file; only the parts holding metadata are read from it.
    """
    with _open_image(file) as im:
        width, height = _stored_size(im)
        if width * height > max_pixels:
            detail = f"{width} × {height} px, limit {max_pixels} px"
            raise MetadataError(TOO_MANY_PIXELS, detail)
        meta = Metadata(format=im.format or "", width=width, height=height)
        block = _exif_block(im, file, meta.warnings)
        maker_note = _maker_note_bytes(im, meta.warnings) if block is not None else b""
    tags = _read_tags(block, meta.warnings)
    _fill_camera(meta, tags)
    _fill_gps(meta, tags)
    note = makernotes.decode(maker_note, meta.make, meta.warnings)
    _fill_maker_note(meta, note)
    _fill_capture_time(meta, tags, name)
    meta.tags = _json_tags(tags) | _json_maker_note(note)
    return meta


def _warning(reason: str, detail: str) -> dict:
    return {"reason": reason, "detail": detail}


def quoted(text: str) -> str:
    """Text from a file, in quotes for a detail: control characters become U+FFFD."""
    return '"' + "".join(c if c.isprintable() else "\ufffd" for c in text) + '"'


def _open_image(file: BinaryIO) -> Image.Image:
    """Parse the image header only; no pixels are decoded."""
    file.seek(0)
    start = file.read(8)
    if not start:
        raise MetadataError(EMPTY_FILE, "0 bytes")
    file.seek(0)
    try:
        return Image.open(file)
    except Image.DecompressionBombError as err:
        raise MetadataError(TOO_MANY_PIXELS, str(err)) from err
    except Image.UnidentifiedImageError as err:
        raise MetadataError(NOT_AN_IMAGE, f"unknown format, starts with {start.hex(' ')}") from err
    except Exception as err:  # Pillow's format plugins raise many types on damaged headers.
        raise MetadataError(NOT_AN_IMAGE, f"{type(err).__name__}: {err}") from err


def _stored_size(im: Image.Image) -> tuple[int, int]:
    """Width and height as stored in the file, before the Orientation tag is applied."""
    width, height = im.size
    # pillow-heif hands out HEIF images already turned upright (and moves the EXIF Orientation
    # to info["original_orientation"]); undo the swap so that every format reports the stored
    # size together with the file's own Orientation, as exiftool does.
    if im.info.get("original_orientation") in (5, 6, 7, 8):
        return height, width
    return width, height


def _maker_note_bytes(im: Image.Image, warnings: list[dict]) -> bytes:
    """The raw MakerNote (EXIF tag 0x927C), which exifread skips when details=False."""
    try:
        note = im.getexif().get_ifd(0x8769).get(0x927C, b"")
    except Exception as err:  # Pillow's EXIF parser on damaged bytes raises many types.
        warnings.append(_warning(EXIF_DAMAGED, f"MakerNote: {type(err).__name__}: {err}"))
        return b""
    return note if isinstance(note, bytes) else b""


def _exif_block(im: Image.Image, file: BinaryIO, warnings: list[dict]) -> BinaryIO | None:
    """What exifread should parse: the EXIF block Pillow found, or the file (None if none)."""
    # A TIFF file is its own EXIF block, and pillow-heif's copy of a HEIF's block has the
    # Orientation reset to 1: give exifread those files, which it reads as far as it needs.
    if im.format in ("TIFF", "HEIF"):
        return file
    # Pillow also finds a JPEG's EXIF segment behind an XMP segment, where exifread misses it.
    block = im.info.get("exif")
    if not isinstance(block, bytes):
        return None
    block = block.removeprefix(b"Exif\0\0")
    if not block.startswith((b"II*\0", b"MM\0*")):
        warnings.append(_warning(EXIF_UNREADABLE, f"no TIFF header: {block[:8].hex(' ')}"))
        return None
    return io.BytesIO(block)


def _read_tags(block: BinaryIO | None, warnings: list[dict]) -> dict:
    """exifread's tags, without maker notes and thumbnail (we do not need them)."""
    if block is None:
        return {}
    block.seek(0, os.SEEK_END)
    size = block.tell()
    block.seek(0)
    try:
        tags = exifread.process_file(block, details=False, extract_thumbnail=False)
    except Exception as err:  # exifread is a best-effort parser and may fail on any bad byte.
        warnings.append(_warning(EXIF_UNREADABLE, f"{type(err).__name__}: {err}"))
        return {}
    # exifread silently skips a sub-directory that lies outside the data; say so.
    for pointer in SUB_IFDS:
        offset = _get(tags, pointer, _int, warnings)
        if offset is not None and not 8 <= offset < size:
            detail = f"{pointer} = {offset}: outside the {size} bytes of EXIF data"
            warnings.append(_warning(EXIF_DAMAGED, detail))
    return tags


def _get(tags: dict, key: str, convert: Callable, warnings: list[dict]) -> Any:
    """The converted value of one tag, or None; a value that does not convert is reported."""
    tag = tags.get(key)
    if tag is None:
        return None
    try:
        return convert(tag.values)
    except (ValueError, TypeError, IndexError, ZeroDivisionError, OverflowError) as err:
        warnings.append(_warning(BAD_VALUE, f"{key} = {_shown(tag)}: {err}"))
        return None


def _shown(tag: IfdTag) -> str:
    """A tag's value for a detail, in quotes: exifread prints text that is not UTF-8 as a
    Python bytes repr, so such text is shown as written instead."""
    values = tag.values
    text = values.decode("latin-1") if isinstance(values, bytes) else tag.printable
    return quoted(text[:60])


def _text(values: str | bytes | list) -> str:
    """A text tag as written, without NULs or trailing whitespace (as exiftool shows it)."""
    if isinstance(values, bytes):  # exifread leaves non-UTF-8 text as bytes
        values = values.decode("latin-1")
    if not isinstance(values, str):
        raise ValueError("not text")
    return values.replace("\x00", "").rstrip()


def _int(values: list) -> int:
    if not values:
        raise ValueError("empty")
    if isinstance(values, str | bytes) or not isinstance(values[0], int):
        raise ValueError("not an integer")
    return values[0]


def _numbers(values: list) -> list[float]:
    if isinstance(values, str | bytes):
        raise ValueError("text, not a number")
    numbers = [_json_number(value) for value in values]
    if not numbers or None in numbers:
        raise ValueError("not a number (zero denominator?)")
    return [float(number) for number in numbers]


def _float(values: list) -> float:
    return _numbers(values)[0]


def _orientation(values: list) -> int:
    if not 1 <= _int(values) <= 8:
        raise ValueError("not 1..8")
    return values[0]


def _fill_camera(meta: Metadata, tags: dict) -> None:
    warnings = meta.warnings
    meta.make = _get(tags, "Image Make", _text, warnings) or ""
    meta.model = _get(tags, "Image Model", _text, warnings) or ""
    meta.serial_number = _get(tags, "EXIF BodySerialNumber", _text, warnings) or ""
    meta.image_description = _get(tags, "Image ImageDescription", _text, warnings) or ""
    meta.orientation = _get(tags, "Image Orientation", _orientation, warnings)
    meta.exposure_time = _get(tags, "EXIF ExposureTime", _float, warnings)
    meta.iso = _get(tags, "EXIF ISOSpeedRatings", _int, warnings)
    meta.flash = _get(tags, "EXIF Flash", _int, warnings)


def _degrees(limit: float) -> Callable[[list], float]:
    """A converter for degrees[, minutes[, seconds]] rationals, refusing values beyond limit."""

    def convert(values: list) -> float:
        numbers = _numbers(values)
        if len(numbers) > 3:
            raise ValueError(f"{len(numbers)} numbers, expected degrees, minutes, seconds")
        degrees = sum(number / 60**i for i, number in enumerate(numbers))
        if not 0 <= degrees <= limit:
            raise ValueError(f"not within 0..{limit}°")
        return degrees

    return convert


def _signed(value: float | None, ref: str | None, negative: str) -> float | None:
    if value is not None and (ref or "").upper().startswith(negative):
        return -value
    return value


def _fill_gps(meta: Metadata, tags: dict) -> None:
    warnings = meta.warnings
    latitude = _get(tags, "GPS GPSLatitude", _degrees(90), warnings)
    longitude = _get(tags, "GPS GPSLongitude", _degrees(180), warnings)
    altitude = _get(tags, "GPS GPSAltitude", _float, warnings)
    meta.gps_latitude = _signed(latitude, _get(tags, "GPS GPSLatitudeRef", _text, warnings), "S")
    meta.gps_longitude = _signed(longitude, _get(tags, "GPS GPSLongitudeRef", _text, warnings), "W")
    below_sea = _get(tags, "GPS GPSAltitudeRef", _int, warnings) == 1
    meta.gps_altitude = -altitude if below_sea and altitude is not None else altitude


def _fill_maker_note(meta: Metadata, note: dict) -> None:
    meta.temperature = note.get("AmbientTemperature")
    meta.moon_phase = note.get("MoonPhase")
    meta.trigger_mode = note.get("TriggerMode", "")
    meta.sequence_number, meta.sequence_length = note.get("Sequence", (None, None))
    meta.event_number = note.get("EventNumber")
    meta.user_label = note.get("UserLabel", "")
    meta.maker_note_time = note.get("DateTimeOriginal")
    meta.serial_number = meta.serial_number or note.get("SerialNumber", "")


def _parse_time(values: str | bytes | list) -> dt.datetime | None:
    text = _text(values).strip()
    # The EXIF standard fills unknown dates with blanks (and colons).
    if not text.strip(" :"):
        return None
    match = EXIF_TIME.match(text)
    if not match:
        raise ValueError("not YYYY:MM:DD hh:mm:ss")
    return dt.datetime(*map(int, match.groups()))


def _microseconds(values: str | bytes | list) -> int:
    digits = _text(values).strip()
    if digits and not digits.isdigit():
        raise ValueError("not digits")
    return int(digits[:6].ljust(6, "0"))


def _offset(values: str | bytes | list) -> str | None:
    text = _text(values).strip()
    if not text.strip(" :"):
        return None
    match = OFFSET.fullmatch(text)
    if not match or int(match[2]) > 14 or int(match[3]) > 59:
        raise ValueError("not ±HH:MM")
    return f"{match[1]}{int(match[2]):02d}:{match[3]}"


def _exif_time(meta: Metadata, tags: dict, kind: str) -> bool:
    """Take the capture time from DateTime<kind> with SubSecTime<kind> and OffsetTime<kind>."""
    time = _get(tags, f"EXIF DateTime{kind}", _parse_time, meta.warnings)
    if time is None:
        return False
    microsecond = _get(tags, f"EXIF SubSecTime{kind}", _microseconds, meta.warnings)
    meta.camera_time = time.replace(microsecond=microsecond or 0)
    meta.camera_offset = _get(tags, f"EXIF OffsetTime{kind}", _offset, meta.warnings) or ""
    return True


def _file_name_time(name: str, warnings: list[dict]) -> dt.datetime | None:
    match = FILE_NAME_TIME.search(name)
    if not match:
        return None
    try:
        return dt.datetime(*map(int, match.groups()))
    except ValueError as err:
        warnings.append(_warning(BAD_VALUE, f"file name {quoted(name)}: {err}"))
        return None


def _fill_capture_time(meta: Metadata, tags: dict, name: str) -> None:
    """The first usable of: DateTimeOriginal, CreateDate, the maker-note date, the file name."""
    if _exif_time(meta, tags, "Original"):
        meta.capture_time_source = "DateTimeOriginal"
    elif _exif_time(meta, tags, "Digitized"):
        meta.capture_time_source = "CreateDate"  # exiftool's name for DateTimeDigitized
    elif meta.maker_note_time:
        meta.camera_time, meta.capture_time_source = meta.maker_note_time, "MakerNote"
    elif time := _file_name_time(name, meta.warnings):
        meta.camera_time, meta.capture_time_source = time, "FileName"


def _json_number(value: object) -> int | float | None:
    """An exifread number as int or float; None where JSON has no value (x/0, NaN)."""
    if isinstance(value, tuple):  # exifread wraps each float in a 1-tuple
        value = value[0]
    if isinstance(value, Fraction):
        if value.denominator == 0:
            return None
        value = int(value) if value.denominator == 1 else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, int | float) else None


def _json_value(tag: IfdTag) -> object:
    """A JSON-safe form of one exifread tag (raw values, like exiftool -n); None to drop it."""
    values = tag.values
    if isinstance(values, str | bytes):
        return _text(values)
    if not values or len(values) > MAX_LIST:
        return None
    if tag.field_type in (FieldType.BYTE, FieldType.UNDEFINED) and len(values) > 1:
        # Version numbers and the like are ASCII stored as bytes ("0230"); longer non-text
        # bytes are binary blocks (PrintIM, padding, vendor data).
        text = bytes(values).strip(b"\0 ").decode("latin-1")
        if text and text.isascii() and text.isprintable():
            return text
        if len(values) > MAX_BYTES:
            return None
    numbers = [_json_number(value) for value in values]
    return numbers[0] if len(numbers) == 1 else numbers


def _json_tags(tags: dict) -> dict:
    """Every tag exifread read, in a form json.dumps and PostgreSQL jsonb accept."""
    result = {}
    for key, tag in tags.items():
        if not hasattr(tag, "values"):  # thumbnails are plain bytes
            continue
        value = _json_value(tag)
        if value is not None:
            result[key] = value
    return result


def _json_maker_note(note: dict) -> dict:
    result = {}
    for name, value in note.items():
        if isinstance(value, dt.datetime):
            value = value.strftime("%Y:%m:%d %H:%M:%S")
        result[f"MakerNote {name}"] = list(value) if isinstance(value, tuple) else value
    return result


# The image page. Tags read into the page's own fields (camera, capture time, GPS, maker
# note...) are not repeated; these others are shown with a label in the reader's language,
# their coded values in words. Every other tag is a technical detail, for site admins.
SHOWN_AS_FIELDS = re.compile(
    r"(Image (Make|Model|Orientation|ImageDescription|ExifOffset|GPSInfo)"
    r"|EXIF (DateTimeOriginal|ExposureTime|ISOSpeedRatings|Flash|ExifImageWidth"
    r"|ExifImageLength|OffsetTime\w*)|GPS .*|MakerNote .*)"
)
_AUTO_MANUAL = {0: gettext_lazy("auto"), 1: gettext_lazy("manual")}
TAG_LABELS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "EXIF DateTimeDigitized": (gettext_lazy("Digitised"), lambda v: v.replace(":", "-", 2)),
    "Image DateTime": (gettext_lazy("File changed"), lambda v: v.replace(":", "-", 2)),
    "EXIF FNumber": (gettext_lazy("Aperture"), lambda v: f"f/{v:g}"),
    "EXIF FocalLength": (gettext_lazy("Focal length"), lambda v: f"{v:g} mm"),
    "EXIF ExposureBiasValue": (gettext_lazy("Exposure compensation"), lambda v: f"{v:+g} EV"),
    "EXIF ExposureMode": (
        gettext_lazy("Exposure mode"),
        {**_AUTO_MANUAL, 2: gettext_lazy("auto bracket")}.get,
    ),
    "EXIF WhiteBalance": (gettext_lazy("White balance"), _AUTO_MANUAL.get),
    "EXIF ColorSpace": (
        gettext_lazy("Colour space"),
        {1: "sRGB", 2: "Adobe RGB", 65535: gettext_lazy("uncalibrated")}.get,
    ),
    "EXIF DigitalZoomRatio": (gettext_lazy("Digital zoom"), lambda v: f"{v:g}×"),
    "Image Software": (gettext_lazy("Camera firmware"), str),
    "Image Copyright": (gettext_lazy("Copyright"), str),
}


def labelled_tags(tags: dict) -> tuple[list[tuple[str, str]], list[tuple[str, object]]]:
    """(label, value in words) of the tags the page shows by name, and (raw name, raw
    value) of all the others, for the technical details."""
    labelled, technical = [], []
    for name, value in sorted(tags.items()):
        words = _in_words(name, value) if name in TAG_LABELS else None
        if words:
            labelled.append((str(TAG_LABELS[name][0]), words))
        elif not SHOWN_AS_FIELDS.fullmatch(name):
            technical.append((name, value))
    return labelled, technical


def _in_words(name: str, value: object) -> str | None:
    """The value as the page shows it; None for a value the tag should not have."""
    try:
        words = TAG_LABELS[name][1](value)
    except (TypeError, ValueError):  # a list or text where a number belongs
        return None
    return None if words is None else str(words)
