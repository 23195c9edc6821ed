"""camtrapR's sample images, imported from their Station/Species folders, give camtrapR's
own record table: recordTable(inDir, IDfrom = "directory", minDeltaTime = 60,
deltaTimeComparedTo = "lastRecord", timeZone = "Asia/Kuala_Lumpur") in its vignette."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command

from sightings.models import PendingIndependence, Sighting

from .conftest import CAMTRAPR, CAMTRAPR_SPECIES_MAP, wait_until

# Derived by hand from the file names (the cameras' DateTimeOriginal to the minute) and the
# species folders, applying camtrapR's rules: same station, species and second count once;
# a record is independent when >= 60 min after the previous record of its species at its
# station; n_images counts the records up to the next independent one.
# Station, species, local time, delta seconds, directory, file, n_images
EXPECTED = [
    ("StationA", "Prionailurus bengalensis", "2009-04-21 00:40:00", 0, "PBE", 1),
    ("StationA", "Prionailurus bengalensis", "2009-04-22 20:19:00", 157140, "PBE", 2),
    ("StationA", "Prionailurus bengalensis", "2009-04-23 00:07:00", 13560, "PBE", 2),
    ("StationA", "Prionailurus bengalensis", "2009-05-07 17:11:00", 1270920, "PBE", 1),
    ("StationA", "Viverra tangalunga", "2009-04-10 05:07:00", 0, "VTA", 1),
    ("StationA", "Viverra tangalunga", "2009-05-06 19:06:00", 2296740, "VTA", 1),
    ("StationB", "Macaca nemestrina", "2009-04-15 07:21:00", 0, "MNE", 2),
    ("StationB", "Macaca nemestrina", "2009-04-28 17:47:00", 1160640, "MNE", 3),
    ("StationB", "Prionailurus bengalensis", "2009-04-05 00:11:00", 0, "PBE", 1),
    ("StationB", "Prionailurus bengalensis", "2009-04-05 23:13:00", 82920, "PBE", 1),
    ("StationB", "Prionailurus bengalensis", "2009-04-07 00:23:00", 90600, "PBE", 1),
    ("StationB", "Prionailurus bengalensis", "2009-04-10 04:07:00", 272640, "PBE", 2),
    ("StationB", "Prionailurus bengalensis", "2009-04-14 06:13:00", 353100, "PBE", 1),
    ("StationB", "Prionailurus bengalensis", "2009-04-24 22:54:00", 924060, "PBE", 1),
    ("StationB", "Prionailurus bengalensis", "2009-04-25 04:33:00", 20340, "PBE", 1),
    ("StationB", "Prionailurus bengalensis", "2009-05-14 02:11:00", 1633080, "PBE", 1),
    ("StationB", "Unknown", "2009-05-07 18:45:00", 0, "UNID", 1),
    ("StationB", "Viverra tangalunga", "2009-04-15 19:12:00", 0, "VTA", 1),
    ("StationB", "Viverra tangalunga", "2009-04-27 05:07:00", 986100, "VTA", 1),
    ("StationC", "Echinosorex gymnura", "2009-04-06 03:49:00", 0, "EGY", 1),
    ("StationC", "Echinosorex gymnura", "2009-04-12 20:26:00", 578220, "EGY", 1),
    ("StationC", "Echinosorex gymnura", "2009-04-23 02:25:00", 885540, "EGY", 2),
    ("StationC", "Echinosorex gymnura", "2009-04-25 03:09:00", 175320, "EGY", 1),
    ("StationC", "Echinosorex gymnura", "2009-04-27 00:17:00", 162480, "EGY", 1),
    ("StationC", "Echinosorex gymnura", "2009-05-02 03:35:00", 443880, "EGY", 2),
    ("StationC", "Prionailurus bengalensis", "2009-04-06 03:00:00", 0, "PBE", 1),
    ("StationC", "Prionailurus bengalensis", "2009-04-14 23:30:00", 765000, "PBE", 1),
    ("StationC", "Prionailurus bengalensis", "2009-04-18 22:57:00", 343620, "PBE", 1),
    ("StationC", "Prionailurus bengalensis", "2009-04-23 03:33:00", 362160, "PBE", 2),
    ("StationC", "Prionailurus bengalensis", "2009-05-05 18:24:00", 1090200, "PBE", 2),
    ("StationC", "Prionailurus bengalensis", "2009-05-07 18:47:00", 174120, "PBE", 1),
    ("StationC", "Tragulus", "2009-04-11 21:44:00", 0, "TRA", 2),
    ("StationC", "Tragulus", "2009-04-13 22:38:00", 175920, "TRA", 1),
    ("StationC", "Tragulus", "2009-04-14 00:18:00", 6000, "TRA", 1),
    ("StationC", "Tragulus", "2009-04-24 19:26:00", 932880, "TRA", 2),
    ("StationC", "Tragulus", "2009-04-27 00:19:00", 190320, "TRA", 2),
    ("StationC", "Tragulus", "2009-05-01 20:10:00", 417000, "TRA", 2),
    ("StationC", "Tragulus", "2009-05-02 00:10:00", 14280, "TRA", 2),
    ("StationC", "Tragulus", "2009-05-12 02:32:00", 872460, "TRA", 2),
    ("StationC", "Viverra tangalunga", "2009-04-24 02:57:00", 0, "VTA", 1),
]


def expected_row(station, species, local, seconds, species_folder, images) -> dict:
    minutes = round(seconds / 60, 1)
    hours = round(minutes / 60, 1)
    days = round(hours / 24, 1)
    date, time = local.split()
    name = f"{station}__{date}__{time.replace(':', '-')}(1).JPG"
    as_r = [str(int(v)) if v == int(v) else str(v) for v in (minutes, hours, days)]
    return {
        "Station": station, "Species": species, "DateTimeOriginal": local, "Date": date,
        "Time": time, "delta.time.secs": str(seconds), "delta.time.mins": as_r[0],
        "delta.time.hours": as_r[1], "delta.time.days": as_r[2],
        "Directory": f"{station}/{species_folder}", "FileName": name, "n_images": str(images),
    }  # fmt: skip


@pytest.fixture
def imported(tmp_path, catalogue, alice, cn_team, celery_worker):
    species_map = tmp_path / "species.csv"
    species_map.write_text(CAMTRAPR_SPECIES_MAP)
    call_command(
        "import_folder", str(CAMTRAPR / "sample_images_species_dir"), "--team", cn_team.name,
        "--timezone", "Asia/Kuala_Lumpur", "--species-map", str(species_map), "--add-species",
        stdout=io.StringIO(), stderr=io.StringIO(),
    )  # fmt: skip


def record_table(tmp_path, *args: str) -> list[dict]:
    out = tmp_path / "records.csv"
    call_command("record_table", *args, "--out", str(out))
    with out.open(newline="") as file:
        return list(csv.DictReader(file))


@pytest.mark.django_db(transaction=True)
def test_the_record_table_is_camtrapRs(imported, tmp_path):
    rows = record_table(tmp_path, "--min-delta", "60", "--compared-to", "last")
    ours = [{key: row[key] for key in list(row)[:12]} for row in rows]
    assert ours == [expected_row(*row) for row in EXPECTED]
    assert all(row["sighting_id"] and row["media_id"] for row in rows)


@pytest.mark.django_db(transaction=True)
def test_a_users_record_table_holds_what_they_may_see(imported, tmp_path, boris):
    everything = record_table(tmp_path, "--min-delta", "60")
    assert record_table(tmp_path, "--min-delta", "60", "--user", "alice") == everything
    # Nothing of the Chinese card is approved yet: the Russian team sees none of it.
    assert record_table(tmp_path, "--min-delta", "60", "--user", "boris") == []
    Sighting.objects.exclude(species=None).update(review_status="approved")
    assert len(record_table(tmp_path, "--min-delta", "60", "--user", "boris")) == len(everything)


@pytest.mark.django_db(transaction=True)
def test_compared_to_the_last_independent_record(imported, tmp_path):
    # Tragulus at StationC with 240 min. 2009-05-02 00:10 is 238 min after the last record
    # (20:12) but exactly 240 min after the last independent one (20:10): independent only
    # when compared to that, as camtrapR's ">=" has it.
    options = ["--min-delta", "240", "--location", "StationC", "--species", "Tragulus"]
    independent = record_table(tmp_path, *options, "--compared-to", "independent")
    assert [(r["DateTimeOriginal"], r["delta.time.mins"], r["n_images"]) for r in independent] == [
        ("2009-04-11 21:44:00", "0", "2"),
        ("2009-04-13 22:38:00", "2934", "2"),
        ("2009-04-24 19:26:00", "15648", "2"),
        ("2009-04-27 00:19:00", "3173", "2"),
        ("2009-05-01 20:10:00", "6951", "2"),
        ("2009-05-02 00:10:00", "240", "2"),
        ("2009-05-12 02:32:00", "14542", "2"),
    ]
    last = record_table(tmp_path, *options, "--compared-to", "last")
    assert "2009-05-02 00:10:00" not in [r["DateTimeOriginal"] for r in last]
    assert [r["n_images"] for r in last if r["DateTimeOriginal"] == "2009-05-01 20:10:00"] == ["4"]


@pytest.mark.django_db(transaction=True)
def test_sightings_are_marked_independent(imported, celery_worker):
    # The site's rule (30 min after the last record), worked out by the worker.
    wait_until(lambda: not PendingIndependence.objects.exists(), 60, celery_worker.text())
    tragulus = Sighting.objects.filter(species__scientific_name="Tragulus", is_independent=True)
    # Local times (UTC+8) 04-11 21:44, 04-13 22:38, 04-14 00:18, 04-24 19:26, 04-27 00:19,
    # 05-01 20:10, 05-02 00:10 and 05-12 02:32.
    assert sorted(f"{s.event.start_at:%m-%d %H:%M}" for s in tragulus) == [
        "04-11 13:44", "04-13 14:38", "04-13 16:18", "04-24 11:26", "04-26 16:19",
        "05-01 12:10", "05-01 16:10", "05-11 18:32",
    ]  # fmt: skip
