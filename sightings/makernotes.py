"""Decode the maker notes of Reconyx camera traps, which exifread leaves alone.

The byte layouts are those of ExifTool's lib/Image/ExifTool/Reconyx.pm: "Main" (HyperFire:
HC500, HC550, HC600, PC800, ...), "Type2" (UltraFire) and "Type3" (HyperFire 2). All three are
little-endian whatever the byte order of the surrounding EXIF block.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Callable

from django.utils.translation import gettext_noop

DAMAGED = gettext_noop("The camera's maker note is damaged; only part of it was read.")


def _text(values: tuple) -> str:
    """A fixed-size ASCII field: up to the first NUL, without trailing spaces."""
    return values[0].split(b"\0", 1)[0].decode("latin-1").rstrip()


def _utf16(values: tuple) -> str:
    """A fixed-size UTF-16 field (the HyperFire serial numbers)."""
    return values[0].decode("utf-16-le", "replace").split("\0", 1)[0].rstrip()


def _trigger_mode(values: tuple) -> str:
    mode = _text(values)
    if mode and not (mode.isascii() and mode.isalpha()):
        raise ValueError(f"{mode.encode('latin-1').hex(' ')} is not a trigger code")
    return mode


def _pair(values: tuple) -> tuple[int, int]:
    return values[0], values[1]


def _halves(values: tuple) -> int:
    """A 32-bit number stored as two 16-bit words, high word first."""
    return values[0] << 16 | values[1]


def _first(values: tuple) -> int:
    return values[0]


def _moon_phase(values: tuple) -> int:
    if not 0 <= values[0] <= 7:
        raise ValueError(f"moon phase {values[0]} is not 0..7")
    return values[0]


def _temperature(values: tuple) -> int:
    # The sensor field is a signed 16-bit number; beyond ±100 °C it is not a temperature.
    if not -100 <= values[0] <= 100:
        raise ValueError(f"{values[0]} °C is out of range")
    return values[0]


def _word_time(values: tuple) -> dt.datetime:
    """Six 16-bit words: second, minute, hour, month, day, year (HyperFire and HyperFire 2).

    ExifTool reads the HyperFire 2 words as day before month, which swaps them; the EXIF date
    of the same files shows the order used here is the right one.
    """
    # ExifTool has seen these words big-endian in otherwise little-endian notes.
    if (values[0] & 0xFF00 and not values[0] & 0xFF) or values[5] > 9999:
        values = tuple((value >> 8) | (value & 0xFF) << 8 for value in values)
    second, minute, hour, month, day, year = values
    return dt.datetime(year, month, day, hour, minute, second)


def _byte_time(values: tuple) -> dt.datetime:
    """Seven bytes: second, minute, hour, day, month, year low byte, year high byte (UltraFire)."""
    second, minute, hour, day, month, year_low, year_high = values
    return dt.datetime(year_high << 8 | year_low, month, day, hour, minute, second)


# (ExifTool's tag name, byte offset, struct format, conversion), in order of offset.
Layout = tuple[tuple[str, int, str, Callable], ...]

HYPERFIRE: Layout = (
    ("TriggerMode", 12, "2s", _trigger_mode),
    ("Sequence", 14, "2H", _pair),
    ("EventNumber", 18, "2H", _halves),
    ("DateTimeOriginal", 22, "6H", _word_time),
    ("MoonPhase", 36, "H", _moon_phase),
    ("AmbientTemperature", 40, "h", _temperature),
    ("SerialNumber", 42, "30s", _utf16),
    ("UserLabel", 86, "22s", _text),
)

HYPERFIRE_2: Layout = (
    ("TriggerMode", 0x34, "2s", _trigger_mode),
    ("Sequence", 0x36, "2H", _pair),
    ("EventNumber", 0x3A, "2H", _halves),
    ("DateTimeOriginal", 0x3E, "6H", _word_time),
    ("MoonPhase", 0x4C, "H", _moon_phase),
    ("AmbientTemperature", 0x50, "h", _temperature),
    ("UserLabel", 0x68, "22s", _text),
    ("SerialNumber", 0x7E, "30s", _utf16),
)

ULTRAFIRE: Layout = (
    ("TriggerMode", 0x34, "1s", _trigger_mode),
    ("Sequence", 0x35, "2B", _pair),
    ("EventNumber", 0x37, "I", _first),
    ("DateTimeOriginal", 0x3B, "7B", _byte_time),
    ("MoonPhase", 0x43, "B", _moon_phase),
    ("AmbientTemperature", 0x46, "h", _temperature),
    ("SerialNumber", 0x4B, "15s", _text),
    ("UserLabel", 0x5A, "21s", _text),
)


def _layout(raw: bytes, make: str) -> Layout | None:
    if raw.startswith(b"RECONYXH2\0"):
        return HYPERFIRE_2
    if raw.startswith(b"RECONYXUF\0"):
        return ULTRAFIRE
    # HyperFire notes carry no name, only version 0xF101 and then the firmware's major number;
    # some firmware writes no Make at all. Same test as ExifTool's MakerNotes.pm.
    if raw[:2] == b"\x01\xf1" and (raw[2:4] in (b"\x02\x00", b"\x03\x00") or make == "RECONYX"):
        return HYPERFIRE
    return None


def decode(raw: bytes, make: str, warnings: list[dict]) -> dict:
    """The Reconyx fields of a maker note, by ExifTool's tag names; {} for other notes.

    Never raises: a value that does not convert, or a note too short for its layout, is left
    out and reported in warnings.
    """
    layout = _layout(raw, make)
    fields: dict = {}
    missing = []
    for name, offset, fmt, convert in layout or ():
        try:
            fields[name] = convert(struct.unpack_from("<" + fmt, raw, offset))
        except struct.error:
            missing.append(name)
        except ValueError as err:
            warnings.append({"reason": DAMAGED, "detail": f"Reconyx {name}: {err}"})
    if missing:
        detail = f"{len(raw)} bytes, too short for Reconyx {', '.join(missing)}"
        warnings.append({"reason": DAMAGED, "detail": detail})
    return fields
