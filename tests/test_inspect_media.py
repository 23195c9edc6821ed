from __future__ import annotations

import io
import json

from django.core.management import call_command

from sightings.management.commands.inspect_media import KEYS

from .conftest import TESTDATA

HYPERFIRE_2 = TESTDATA / "camera-trap/camtrap-dp-example/media/20210531082538-RCNX0031.JPG"
GPS = TESTDATA / "camera-trap/megadetector/images/failure-examples/sage-grouse-raw.jpg"
TRUNCATED = TESTDATA / "camera-trap/speciesnet/test_data/african_elephants_truncated_file.jpg"
REFERENCE = {
    r["SourceFile"]: r for r in json.loads((TESTDATA / "exiftool-reference.json").read_text())
}


def inspect(*paths) -> list[dict]:
    output = io.StringIO()
    call_command("inspect_media", *map(str, paths), stdout=output)
    return [json.loads(line) for line in output.getvalue().splitlines()]


def test_it_prints_the_contract_keys_in_order():
    [record] = inspect(HYPERFIRE_2)
    assert list(record) == list(KEYS)
    assert record == {
        "file": str(HYPERFIRE_2),
        "sha256": "905b3cc1cc9edb49be53fb8eaf24e906956bc5b4af8c869739d5f90221f4c050",
        "captured_at": "2021-04-11T20:43:09",
        "offset": None,
        "make": "RECONYX",
        "model": "HYPERFIRE 2 COVERT",
        "serial": "H2RXEM06043616",
        "width": 2048,
        "height": 1440,
        "orientation": None,
        "gps_lat": None,
        "gps_lon": None,
        "gps_alt": None,
        "error": None,
    }


def test_gps_is_signed_decimal_degrees():
    # A Bushnell camera in Idaho: 42.94639 N, 116.52306 W, 231 m.
    [record] = inspect(GPS)
    reference = REFERENCE[str(GPS.relative_to(TESTDATA))]
    assert abs(record["gps_lat"] - reference["Composite:GPSLatitude"]) < 1e-6
    assert abs(record["gps_lon"] - reference["Composite:GPSLongitude"]) < 1e-6
    assert record["gps_lon"] < 0
    assert abs(record["gps_alt"] - reference["GPS:GPSAltitude"]) < 1e-6


def test_it_reports_what_the_worker_would_fail_on(tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(TRUNCATED.read_bytes()[:3000])  # cut within its header
    records = inspect(empty, broken, tmp_path / "missing.jpg", HYPERFIRE_2, TRUNCATED)
    errors = [record["error"] for record in records]
    assert (
        errors[0] == "The file is empty: the camera may have lost power while writing it. (0 bytes)"
    )
    assert errors[1] == "The file is not an image that can be read. (OSError: Truncated File Read)"
    assert errors[2] == "No such file or directory"
    assert errors[3:] == [None, None]
    # An image cut short is read from its intact header, as the worker does.
    assert (records[4]["captured_at"], records[4]["width"]) == ("2010-08-04T08:43:15", 2048)


def test_it_never_crashes_on_the_whole_corpus(tmp_path):
    paths = sorted(path for path in TESTDATA.rglob("*") if path.is_file()) + [tmp_path]
    records = inspect(*paths)
    assert [record["file"] for record in records] == [str(path) for path in paths]
    assert records[-1]["error"] == "Is a directory"
