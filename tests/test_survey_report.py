"""The survey report as camtrapR's surveyReport() counts it (sightings/survey.py), on
camtrapR's sample card and station table: the expected numbers are those of its
tests/testthat/test-surveyReport.R for this sample, or counted from the record table
(tests/test_record_table.py) where it has none."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from sightings.models import Sighting


def report(tmp_path, *options: str) -> tuple[list[dict], list[dict]]:
    out, dates = tmp_path / "report.csv", tmp_path / "dates.csv"
    call_command(
        "survey_report", "--out", str(out), "--dates-out", str(dates), *options,
        stdout=io.StringIO(),
    )  # fmt: skip
    return _read(out), _read(dates)


def _read(path) -> list[dict]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


@pytest.mark.django_db(transaction=True)
def test_events_trap_nights_and_rai(camtrapr_sample, tmp_path):
    # recordTableSample's rule: 60 minutes since the last record.
    events, _ = report(tmp_path, "--min-delta", "60")
    leopard_cat = [row for row in events if row["Species"] == "Prionailurus bengalensis"]
    # test-surveyReport.R: PBE has 18 events at 3 stations (4, 8 and 6 in the record table).
    assert [(row["Station"], row["n_events"]) for row in leopard_cat] == [
        ("StationA", "4"), ("StationB", "8"), ("StationC", "6"),
    ]  # fmt: skip
    # Trap nights 42 at StationA (test-surveyReport.R), 43 at StationB (its 44 days, two of
    # them halves), 37.5 at StationC with its problem (test-surveyReport.R).
    assert [row["n_trap_nights_active"] for row in leopard_cat] == ["42", "43", "37.5"]
    assert leopard_cat[0]["rai_per_100_trap_nights"] == f"{4 / 42 * 100:.15g}"
    # Every station with records by every species recorded, 0 where none (events_by_station2).
    assert len(events) == 3 * 6
    macaque = {
        row["Station"]: row["n_events"] for row in events if row["Species"] == "Macaca nemestrina"
    }
    assert macaque == {"StationA": "0", "StationB": "2", "StationC": "0"}


@pytest.mark.django_db(transaction=True)
def test_survey_dates(camtrapr_sample, tmp_path):
    _, dates = report(tmp_path, "--no-problems")
    # test-surveyReport.R without problems: StationA 43 calendar days, all active, 42 trap
    # nights. Its first record 10 April (VTA), its last 7 May (PBE).
    assert dates[0] == {
        "Station": "StationA", "setup": "2009-04-02", "retrieval": "2009-05-14",
        "image_first": "2009-04-10", "image_last": "2009-05-07", "n_cameras": "1",
        "n_calendar_days_total": "43", "n_calendar_days_active": "43",
        "n_calendar_days_inactive": "0", "n_trap_nights_active": "42",
    }  # fmt: skip
    _, dates = report(tmp_path)
    # test-surveyReport.R with problems: StationC 44 days, 38 active, 6 inactive, 37.5.
    station_c = dates[2]
    assert [station_c[key] for key in ("Station", "n_calendar_days_total",
            "n_calendar_days_active", "n_calendar_days_inactive", "n_trap_nights_active")] == [
        "StationC", "44", "38", "6", "37.5",
    ]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_the_sites_rule_counts_in_the_database_as_worked_out_anew(camtrapr_sample, tmp_path):
    # The site's rule is 30 minutes since the last record (settings): the counts read from
    # the sightings the worker marked equal those worked out from the images.
    assert report(tmp_path) == report(tmp_path, "--min-delta", "30")


@pytest.mark.django_db(transaction=True)
def test_other_teams_see_only_what_is_shared(camtrapr_sample, tmp_path, boris):
    with pytest.raises(CommandError, match="No deployment in this set has a period"):
        report(tmp_path, "--user", "boris")
    Sighting.objects.filter(location__name="StationB").update(review_status="approved")
    events, dates = report(tmp_path, "--user", "boris")
    assert {row["Station"] for row in events} == {row["Station"] for row in dates} == {"StationB"}
