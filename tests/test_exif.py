"""sightings.exif.read_metadata against exiftool's reading of tests/data, and edge cases."""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import random
import re
import struct
from pathlib import Path, PurePath

import pytest
from PIL import Image, TiffImagePlugin

from sightings import exif, makernotes
from sightings.exif import Metadata, MetadataError, read_metadata

from .conftest import TESTDATA

MAX_PIXELS = 100_000_000
REFERENCE = {
    r["SourceFile"]: r for r in json.loads((TESTDATA / "exiftool-reference.json").read_text())
}

CAMTRAP_DP = "camera-trap/camtrap-dp-example/media/20210531082538-RCNX0031.JPG"
HC600_NO_EXIF_DATE = "camera-trap/exif-parser-huntforce/test/data/huntforce/reconyx/IMG_0164.jpg"
ULTRAFIRE = "camera-trap/megadetector/images/idaho-camera-traps.jpg"
CAMTRAPR = "camera-trap/camtrapR/sample_images_species_dir/StationA/PBE/"
CAMTRAPR_IMAGE = CAMTRAPR + "StationA__2009-04-21__00-40-00(1).JPG"
NO_METADATA = "camera-trap/camtrapR/full_size_for_ocr/StationA/mousedeer.JPG"
IPHONE_HEIC = "exif-samples/heic/mobile/iphone_13_pro_max.HEIC"
TRUNCATED = "camera-trap/speciesnet/test_data/african_elephants_truncated_file.jpg"

# The camera serial lives only in a maker note that we do not decode (exiftool does).
NIKON_SERIAL = "serial_number: only in the Nikon maker note (Nikon:SerialNumber)"
OLYMPUS_SERIAL = "serial_number: only in the Olympus maker note (Olympus:SerialNumber)"

# Files where we disagree with exiftool: "field[, field]: why". The corpus test checks that
# exactly these fields differ, so every other field of these files is still compared.
EXCEPTIONS = {
    "exif-samples/exif-py-extra/jpg/tests/nikon_D3100_TypeError.jpg": NIKON_SERIAL,
    "exif-samples/jpg/tests/32-lens_data.jpeg": NIKON_SERIAL,
    "exif-samples/jpg/corrupted.jpg": OLYMPUS_SERIAL,
    "exif-samples/jpg/tests/42_IndexError.jpg": OLYMPUS_SERIAL,
}


@functools.cache
def _read(path: str) -> Metadata:
    with (TESTDATA / path).open("rb") as file:  # as the worker reads its originals
        return read_metadata(file, PurePath(path).name, max_pixels=MAX_PIXELS)


def _exiftool_time(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y:%m:%d %H:%M:%S")


def _reference_time(record: dict) -> tuple[dt.datetime | None, str, str]:
    """exiftool's capture time, source and offset, taken in the same order as read_metadata."""
    if "ExifIFD:DateTimeOriginal" in record:
        time = _exiftool_time(record["ExifIFD:DateTimeOriginal"])
        return time, "DateTimeOriginal", record.get("ExifIFD:OffsetTimeOriginal", "")
    if "ExifIFD:CreateDate" in record:
        time = _exiftool_time(record["ExifIFD:CreateDate"])
        return time, "CreateDate", record.get("ExifIFD:OffsetTimeDigitized", "")
    if "Reconyx:DateTimeOriginal" in record:
        return _reference_maker_note_time(record), "MakerNote", ""
    name = re.search(r"__(\d{4}-\d\d-\d\d__\d\d-\d\d-\d\d)\(\d+\)\.\w+$", record["SourceFile"])
    if name:
        return dt.datetime.strptime(name[1], "%Y-%m-%d__%H-%M-%S"), "FileName", ""
    return None, "", ""


def _reference_maker_note_time(record: dict) -> dt.datetime | None:
    if "Reconyx:DateTimeOriginal" not in record:
        return None
    time = _exiftool_time(record["Reconyx:DateTimeOriginal"])
    # Only the HyperFire 2 layout has DirectoryNumber; for it exiftool 12.57 swaps day and month.
    if "Reconyx:DirectoryNumber" in record:
        time = time.replace(month=time.day, day=time.month)
    return time


def _reference_serial(record: dict) -> str:
    """ExifIFD first, then the Reconyx maker note, then any other group's SerialNumber."""
    keys = ["ExifIFD:SerialNumber", "Reconyx:SerialNumber"]
    keys += sorted(key for key in record if key.endswith(":SerialNumber"))
    return next((str(record[key]) for key in keys if key in record), "")


def _reference_microseconds(record: dict) -> int | None:
    if "ExifIFD:DateTimeOriginal" not in record:
        return None
    digits = str(record.get("ExifIFD:SubSecTimeOriginal", ""))
    return int(digits[:6].ljust(6, "0"))


def _reference_sequence(record: dict) -> tuple[int, int] | tuple[None, None]:
    if "Reconyx:Sequence" not in record:
        return None, None
    number, length = record["Reconyx:Sequence"].split()
    return int(number), int(length)


def _comparisons(record: dict, meta: Metadata) -> dict[str, tuple]:
    """(ours, exiftool's) per field; text fields compared as text, as exiftool may print numbers."""
    time, source, offset = _reference_time(record)
    label = record.get("Reconyx:UserLabel")
    return {
        "camera_time": (meta.camera_time and meta.camera_time.replace(microsecond=0), time),
        "capture_time_source": (meta.capture_time_source, source),
        "sub_seconds": (
            meta.camera_time.microsecond if source == "DateTimeOriginal" else None,
            _reference_microseconds(record),
        ),
        "camera_offset": (meta.camera_offset, offset),
        "make": (meta.make, str(record.get("IFD0:Make", ""))),
        "model": (meta.model, str(record.get("IFD0:Model", ""))),
        "serial_number": (meta.serial_number, _reference_serial(record)),
        "width": (meta.width, record.get("File:ImageWidth", record.get("IFD0:ImageWidth"))),
        "height": (meta.height, record.get("File:ImageHeight", record.get("IFD0:ImageHeight"))),
        "orientation": (meta.orientation, record.get("IFD0:Orientation")),
        "gps_latitude": (meta.gps_latitude, record.get("Composite:GPSLatitude")),
        "gps_longitude": (meta.gps_longitude, record.get("Composite:GPSLongitude")),
        # exiftool 12.57 makes no Composite:GPSAltitude without GPSAltitudeRef; the EXIF default
        # is then "above sea level", so the raw altitude is the right comparison.
        "gps_altitude": (
            meta.gps_altitude,
            record.get("Composite:GPSAltitude", record.get("GPS:GPSAltitude")),
        ),
        "temperature": (meta.temperature, record.get("Reconyx:AmbientTemperature")),
        "moon_phase": (meta.moon_phase, record.get("Reconyx:MoonPhase")),
        "trigger_mode": (meta.trigger_mode, record.get("Reconyx:TriggerMode", "")),
        "sequence": ((meta.sequence_number, meta.sequence_length), _reference_sequence(record)),
        "event_number": (meta.event_number, record.get("Reconyx:EventNumber")),
        # We drop the trailing blanks that pad UltraFire and HC550 labels; exiftool keeps them.
        "user_label": (meta.user_label, str(label).rstrip() if label is not None else ""),
        "maker_note_time": (meta.maker_note_time, _reference_maker_note_time(record)),
    }


def _same(ours: object, theirs: object) -> bool:
    if isinstance(ours, float) and isinstance(theirs, int | float):
        return abs(ours - theirs) <= 1e-6
    return ours == theirs


@pytest.mark.parametrize("path", sorted(REFERENCE), ids=str)
def test_it_agrees_with_exiftool(path: str) -> None:
    comparisons = _comparisons(REFERENCE[path], _read(path))
    differences = {name: pair for name, pair in comparisons.items() if not _same(*pair)}
    expected = EXCEPTIONS[path].split(":")[0].split(", ") if path in EXCEPTIONS else []
    assert sorted(differences) == sorted(expected), differences


@pytest.mark.parametrize("path", sorted(REFERENCE), ids=str)
def test_its_tags_are_json_for_postgresql(path: str) -> None:
    text = json.dumps(_read(path).tags, allow_nan=False)
    assert "\\u0000" not in text


def test_hyperfire_2_maker_note_date_has_month_before_day() -> None:
    meta = _read(CAMTRAP_DP)
    # exiftool 12.57 says 2021:11:04; the EXIF date of the same photo is 2021:04:11.
    assert meta.maker_note_time == dt.datetime(2021, 4, 11, 20, 43, 9)
    assert meta.camera_time == dt.datetime(2021, 4, 11, 20, 43, 9)
    assert meta.capture_time_source == "DateTimeOriginal"
    assert (meta.temperature, meta.moon_phase, meta.trigger_mode) == (2, 0, "M")
    assert (meta.sequence_number, meta.sequence_length, meta.event_number) == (1, 10, 4)
    assert (meta.serial_number, meta.user_label) == ("H2RXEM06043616", "MICA 318")
    assert meta.tags["MakerNote AmbientTemperature"] == 2
    assert meta.tags["MakerNote DateTimeOriginal"] == "2021:04:11 20:43:09"
    assert meta.tags["EXIF DateTimeOriginal"] == "2021:04:11 20:43:09"
    assert meta.warnings == []


def test_hyperfire_without_exif_date_takes_the_maker_note_time() -> None:
    meta = _read(HC600_NO_EXIF_DATE)
    assert meta.camera_time == dt.datetime(2014, 7, 4, 18, 40, 53)
    assert meta.capture_time_source == "MakerNote"
    assert (meta.make, meta.model) == ("", "")
    assert meta.serial_number == "H600EE04125079"
    assert (meta.temperature, meta.moon_phase, meta.event_number) == (39, 2, 164)
    assert meta.user_label == "HC600 COVERT"


def test_ultrafire_layout() -> None:
    meta = _read(ULTRAFIRE)
    assert meta.maker_note_time == dt.datetime(2016, 1, 28, 15, 14, 45)
    assert meta.serial_number == "UXR6BI02004234"
    assert (meta.temperature, meta.moon_phase, meta.trigger_mode) == (4, 5, "M")
    assert (meta.sequence_number, meta.sequence_length, meta.event_number) == (4, 5, 122)
    assert meta.user_label == "AM100"


@pytest.mark.parametrize(
    "name",
    ["StationA__2009-04-21__00-40-00(1).JPG", "StationA__CAM1__2009-04-21__00-40-00(2).JPG"],
)
def test_camtrapr_file_name_is_the_last_fallback(tmp_path: Path, name: str) -> None:
    with Image.open(TESTDATA / CAMTRAPR_IMAGE) as im:
        im.save(tmp_path / name, "JPEG")  # re-encoded without its EXIF
    meta = read_metadata(io.BytesIO((tmp_path / name).read_bytes()), name, max_pixels=MAX_PIXELS)
    assert meta.camera_time == dt.datetime(2009, 4, 21, 0, 40)
    assert meta.capture_time_source == "FileName"
    assert meta.make == ""


def test_a_truncated_file_is_read_from_its_intact_header_as_exiftool_reads_it() -> None:
    # The first 600,000 bytes of african_elephants.jpg: the camera stopped writing mid-image.
    assert TRUNCATED in REFERENCE  # so test_it_agrees_with_exiftool compares every field too
    meta = _read(TRUNCATED)
    assert (meta.width, meta.height, meta.orientation) == (2048, 1536, 1)
    assert (meta.camera_time, meta.capture_time_source) == (
        dt.datetime(2010, 8, 4, 8, 43, 15),
        "DateTimeOriginal",
    )
    assert meta.image_description == "M2E70L213-212R382B320"
    assert meta.warnings == []


def test_a_value_with_control_characters_is_quoted_without_a_python_repr() -> None:
    assert exif.quoted("a\x00b\n") == '"a\ufffdb\ufffd"'


def test_no_time_at_all_is_not_an_error() -> None:
    meta = _read(NO_METADATA)
    assert (meta.camera_time, meta.capture_time_source, meta.warnings) == (None, "", [])


def test_empty_file_is_refused() -> None:
    with pytest.raises(MetadataError) as error:
        read_metadata(io.BytesIO(b""), "empty.jpg", max_pixels=MAX_PIXELS)
    assert (error.value.reason, error.value.detail) == (exif.EMPTY_FILE, "0 bytes")


def test_text_file_is_refused() -> None:
    with pytest.raises(MetadataError) as error:
        read_metadata(
            io.BytesIO(b"Station,Date\nA,2024-05-06\n"), "notes.jpg", max_pixels=MAX_PIXELS
        )
    assert error.value.reason == exif.NOT_AN_IMAGE
    # The first bytes in hex, as a site admin reads them in a hex dump; never a Python repr.
    assert error.value.detail == "unknown format, starts with 53 74 61 74 69 6f 6e 2c"


def test_more_pixels_than_the_limit_is_refused() -> None:
    data = (TESTDATA / CAMTRAPR_IMAGE).read_bytes()
    with pytest.raises(MetadataError) as error:
        read_metadata(io.BytesIO(data), "a.jpg", max_pixels=7499)
    assert (error.value.reason, error.value.detail) == (
        exif.TOO_MANY_PIXELS,
        "100 × 75 px, limit 7499 px",
    )
    assert read_metadata(io.BytesIO(data), "a.jpg", max_pixels=7500).width == 100


def test_a_decompression_bomb_header_is_refused_before_any_decoding() -> None:
    data = bytearray(_jpeg(Image.Exif()))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, 60000, 60000)  # height, width in the frame header
    with pytest.raises(MetadataError) as error:
        read_metadata(io.BytesIO(bytes(data)), "bomb.jpg", max_pixels=MAX_PIXELS)
    assert error.value.reason == exif.TOO_MANY_PIXELS
    assert "3600000000 pixels" in error.value.detail


def test_heic_reports_the_stored_size_and_the_files_orientation() -> None:
    meta = _read(IPHONE_HEIC)
    assert (meta.format, meta.width, meta.height, meta.orientation) == ("HEIF", 4032, 3024, 6)
    # Whereas Pillow (through pillow-heif, registered by the app) hands out the image already
    # upright with Orientation reset to 1, so derivatives must not rotate it again.
    with Image.open(TESTDATA / IPHONE_HEIC) as im:
        assert (im.size, im.getexif().get(0x0112)) == ((3024, 4032), 1)


@pytest.mark.parametrize(
    ("sub_seconds", "offset", "time", "normalised"),
    [
        ("123", "+08:00", dt.datetime(2024, 5, 6, 7, 8, 9, 123000), "+08:00"),
        ("04", "-0530", dt.datetime(2024, 5, 6, 7, 8, 9, 40000), "-05:30"),
        ("1234567", "+9:00", dt.datetime(2024, 5, 6, 7, 8, 9, 123456), "+09:00"),
    ],
)
def test_sub_seconds_and_offset(
    sub_seconds: str, offset: str, time: dt.datetime, normalised: str
) -> None:
    meta = _read_exif({0x9003: "2024:05:06 07:08:09", 0x9291: sub_seconds, 0x9011: offset})
    assert (meta.camera_time, meta.camera_offset) == (time, normalised)
    assert meta.warnings == []


@pytest.mark.parametrize("absurd", ["2019:13:45 25:61:00", "0000:00:00 00:00:00", "yesterday"])
def test_absurd_date_time_original_falls_back_to_create_date(absurd: str) -> None:
    meta = _read_exif({0x9003: absurd, 0x9004: "2019:05:06 07:08:09", 0x9012: "+01:00"})
    assert meta.camera_time == dt.datetime(2019, 5, 6, 7, 8, 9)
    assert (meta.capture_time_source, meta.camera_offset) == ("CreateDate", "+01:00")
    assert [w["reason"] for w in meta.warnings] == [exif.BAD_VALUE]
    assert meta.warnings[0]["detail"].startswith(f'EXIF DateTimeOriginal = "{absurd}": ')


def test_blank_date_means_unknown_without_a_warning() -> None:
    meta = _read_exif({0x9003: "    :  :     :  :  "})
    assert (meta.camera_time, meta.warnings) == (None, [])


def test_a_reset_camera_clock_is_kept() -> None:
    meta = _read_exif({0x9003: "2000:01:01 00:00:00"})
    assert meta.camera_time == dt.datetime(2000, 1, 1)


def test_absurd_gps_latitude_is_dropped_with_a_warning() -> None:
    gps = {1: "N", 2: (123.0, 0.0, 0.0), 3: "W", 4: (116.0, 30.0, 0.0), 5: 1, 6: 12.5}
    meta = _read_exif({}, gps=gps)
    assert meta.gps_latitude is None
    assert (meta.gps_longitude, meta.gps_altitude) == (-116.5, -12.5)
    assert meta.warnings == [
        {"reason": exif.BAD_VALUE, "detail": 'GPS GPSLatitude = "[123, 0, 0]": not within 0..90°'}
    ]


def test_zero_denominator_is_dropped_with_a_warning() -> None:
    meta = _read_exif({0x829A: TiffImagePlugin.IFDRational(1, 0), 0x8827: 400})
    assert (meta.exposure_time, meta.iso) == (None, 400)
    assert meta.warnings[0]["detail"].startswith('EXIF ExposureTime = "1/0": ')
    assert "EXIF ExposureTime" not in meta.tags


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
def test_exif_pointer_past_the_end_gives_a_warning_not_an_error() -> None:
    data = _patch_ifd0(_jpeg(_exif({0x9003: "2024:05:06 07:08:09"})), 0x8769, value=0xFFFFFF00)
    meta = read_metadata(io.BytesIO(data), "a.jpg", max_pixels=MAX_PIXELS)
    assert (meta.make, meta.camera_time) == ("RECONYX", None)
    detail = "Image ExifOffset = 4294967040: outside the 84 bytes of EXIF data"
    assert meta.warnings == [{"reason": exif.EXIF_DAMAGED, "detail": detail}]


def test_exif_block_without_tiff_header_gives_a_warning() -> None:
    data = _jpeg(_exif({0x9003: "2024:05:06 07:08:09"}))
    tiff = data.index(b"Exif\0\0") + 6
    meta = read_metadata(
        io.BytesIO(data[:tiff] + b"XX" + data[tiff + 2 :]), "a.jpg", max_pixels=MAX_PIXELS
    )
    assert (meta.make, meta.camera_time, meta.tags) == ("", None, {})
    detail = "no TIFF header: 58 58 00 2a 00 00 00 08"
    assert meta.warnings == [{"reason": exif.EXIF_UNREADABLE, "detail": detail}]


def test_ifd_loop_gives_no_error() -> None:
    data = _jpeg(_exif({0x9003: "2024:05:06 07:08:09"}))
    tiff = data.index(b"Exif\0\0") + 6
    ifd0 = struct.unpack_from(_endian(data) + "I", data, tiff + 4)[0]
    count = struct.unpack_from(_endian(data) + "H", data, tiff + ifd0)[0]
    looped = bytearray(data)
    struct.pack_into(_endian(data) + "I", looped, tiff + ifd0 + 2 + 12 * count, ifd0)
    meta = read_metadata(io.BytesIO(bytes(looped)), "a.jpg", max_pixels=MAX_PIXELS)
    assert (meta.make, meta.camera_time) == ("RECONYX", dt.datetime(2024, 5, 6, 7, 8, 9))


@pytest.mark.filterwarnings("ignore:Tag data larger than file:UserWarning")
def test_exifread_failing_gives_a_warning_and_the_fallbacks_go_on() -> None:
    # A count of 5000 makes exifread skip the ExifOffset value and then fail on it.
    data = _patch_ifd0(_jpeg(_exif({0x9003: "2024:05:06 07:08:09"})), 0x8769, count=5000)
    name = "StationA__2009-04-21__00-40-00(1).JPG"
    meta = read_metadata(io.BytesIO(data), name, max_pixels=MAX_PIXELS)
    assert [w["reason"] for w in meta.warnings] == [exif.EXIF_UNREADABLE]
    assert meta.warnings[0]["detail"].startswith("IndexError: ")
    assert (meta.camera_time, meta.capture_time_source) == (
        dt.datetime(2009, 4, 21, 0, 40),
        "FileName",
    )


def test_truncated_maker_note_is_decoded_as_far_as_it_goes() -> None:
    note = _maker_note(CAMTRAP_DP)[:0x4E]
    meta = _read_exif({0x927C: note})
    assert (meta.trigger_mode, meta.event_number, meta.moon_phase) == ("M", 4, 0)
    assert (meta.temperature, meta.user_label, meta.serial_number) == (None, "", "")
    assert meta.warnings == [
        {
            "reason": makernotes.DAMAGED,
            "detail": "78 bytes, too short for Reconyx AmbientTemperature, UserLabel, SerialNumber",
        }
    ]


def test_impossible_maker_note_value_is_dropped_with_a_warning() -> None:
    note = bytearray(_maker_note(CAMTRAP_DP))
    note[0x4C] = 200  # moon phase
    meta = _read_exif({0x927C: bytes(note)})
    assert (meta.moon_phase, meta.temperature) == (None, 2)
    assert meta.warnings == [
        {"reason": makernotes.DAMAGED, "detail": "Reconyx MoonPhase: moon phase 200 is not 0..7"}
    ]


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's "Corrupt EXIF data" and kin
@pytest.mark.parametrize("path", [CAMTRAP_DP, ULTRAFIRE, "exif-samples/jpg/gps/DSCN0010.jpg"])
def test_random_damage_to_the_exif_block_never_raises(path: str) -> None:
    data = (TESTDATA / path).read_bytes()
    start = data.index(b"Exif\0\0") + 6
    end = start - 8 + int.from_bytes(data[start - 8 : start - 6], "big")  # APP1 length field
    rng = random.Random(path)
    for _ in range(200):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(start, end)] = rng.randrange(256)
        meta = read_metadata(io.BytesIO(bytes(damaged)), "a.jpg", max_pixels=MAX_PIXELS)
        assert "\\u0000" not in json.dumps([meta.tags, meta.warnings], allow_nan=False)
        assert not [w for w in meta.warnings if re.search(r"\bb'|\\x[0-9a-f]{2}", w["detail"])]


@pytest.mark.parametrize(
    ("path", "make"),
    [
        ("camera-trap/camtrapR/raw_images/StationA/IMG0001.JPG", "G4"),
        ("camera-trap/camtrapR/raw_images/StationB/IMG0001.JPG", "G6.1"),
    ],
)
def test_swapped_cuddeback_make_and_model_are_kept_as_written(path: str, make: str) -> None:
    meta = _read(path)
    assert (meta.make, meta.model) == (make, "CUDDEBACK")


def _exif(exif_ifd: dict, gps: dict | None = None) -> Image.Exif:
    """An EXIF block from a RECONYX camera with the given ExifIFD and GPS tags."""
    exif_data = Image.Exif()
    exif_data[0x010F] = "RECONYX"
    exif_data.get_ifd(0x8769).update(exif_ifd)
    if gps:
        exif_data.get_ifd(0x8825).update(gps)
    return exif_data


def _jpeg(exif_data: Image.Exif) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "JPEG", exif=exif_data)
    return buffer.getvalue()


def _read_exif(exif_ifd: dict, gps: dict | None = None) -> Metadata:
    return read_metadata(io.BytesIO(_jpeg(_exif(exif_ifd, gps))), "a.jpg", max_pixels=MAX_PIXELS)


def _maker_note(path: str) -> bytes:
    with Image.open(TESTDATA / path) as im:
        return im.getexif().get_ifd(0x8769)[0x927C]


def _endian(jpeg: bytes) -> str:
    tiff = jpeg.index(b"Exif\0\0") + 6
    return "<" if jpeg[tiff : tiff + 2] == b"II" else ">"


def _patch_ifd0(
    jpeg: bytes, tag: int, *, count: int | None = None, value: int | None = None
) -> bytes:
    """Overwrite the count or the value field of one IFD0 entry in a JPEG's EXIF block."""
    endian, tiff = _endian(jpeg), jpeg.index(b"Exif\0\0") + 6
    ifd0 = tiff + struct.unpack_from(endian + "I", jpeg, tiff + 4)[0]
    patched = bytearray(jpeg)
    for entry in range(
        ifd0 + 2, ifd0 + 2 + 12 * struct.unpack_from(endian + "H", jpeg, ifd0)[0], 12
    ):
        if struct.unpack_from(endian + "H", jpeg, entry)[0] == tag:
            if count is not None:
                struct.pack_into(endian + "I", patched, entry + 4, count)
            if value is not None:
                struct.pack_into(endian + "I", patched, entry + 8, value)
    return bytes(patched)
