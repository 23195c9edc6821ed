"""Detection histories as camtrapR's detectionHistory() makes them (sightings/occupancy.py),
on camtrapR's sample card and station table: the expected numbers are those its vignette 3
("Occupancy analyses": DetHist1, DetHist2, DetHist3 for VTA, Viverra tangalunga) and its
tests/testthat/test_detectionHistory.R print for this sample, or worked out by camtrapR's
rules where they print none (said at each)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from sightings import effort, occupancy

# The vignette's recordTableSample: minDeltaTime = 60 (the sample's records are far
# apart: VTA's are the same by the site's rule); its camop_no_problem: hasProblems = FALSE.
VTA = ["--species", "Viverra tangalunga", "--min-delta", "60"]


def history(tmp_path, *options: str) -> tuple[list[list[str]], list[list[str]] | None, str]:
    out, effort_out = tmp_path / "history.csv", tmp_path / "effort.csv"
    effort_out.unlink(missing_ok=True)
    if "--include-effort" in options:
        options += ("--effort-out", str(effort_out))
    printed = io.StringIO()
    call_command("detection_history", "--out", str(out), *options, stdout=printed,
                 stderr=printed)  # fmt: skip
    return _read(out), _read(effort_out) if effort_out.exists() else None, printed.getvalue()


def _read(path) -> list[list[str]]:
    with path.open(newline="") as file:
        return list(csv.reader(file))


HEADER = ["Station", "o1", "o2", "o3", "o4", "o5", "o6", "o7"]


@pytest.mark.django_db(transaction=True)
def test_the_vignettes_vta_histories(camtrapr_sample, tmp_path):
    weekly = [*VTA, "--occasion-length", "7", "--day1", "station", "--no-problems"]
    # DetHist1 (includeEffort = FALSE): the short last occasion is NA everywhere.
    detections, _, _ = history(tmp_path, *weekly)
    assert detections == [
        HEADER,
        ["StationA", "0", "1", "0", "0", "1", "0", "NA"],
        ["StationB", "0", "1", "0", "1", "0", "0", "NA"],
        ["StationC", "0", "0", "1", "0", "0", "0", "NA"],
    ]
    # DetHist2 (includeEffort = TRUE): it stays, with its effort (half days at the ends).
    detections, effort_table, _ = history(tmp_path, *weekly, "--include-effort")
    assert [row[-1] for row in detections] == ["o7", "0", "0", "0"]
    assert effort_table == [
        HEADER,
        ["StationA", "6.5", "7", "7", "7", "7", "7", "0.5"],
        ["StationB", "6.5", "7", "7", "7", "7", "7", "1.5"],
        ["StationC", "6.5", "7", "7", "7", "7", "7", "1.5"],
    ]


@pytest.mark.django_db(transaction=True)
def test_scaled_effort_and_one_day_occasions(camtrapr_sample, tmp_path):
    weekly = [*VTA, "--occasion-length", "7", "--no-problems", "--include-effort"]
    _, scaled, printed = history(tmp_path, *weekly, "--scale-effort")
    # DetHist3: "effort.scaled.center 6.095238, effort.scaled.scale 2.077372", and the
    # vignette's scaled effort of StationA (printed to 7 digits).
    center, scale = printed.split("center ")[1].split(", scale ")
    assert (f"{float(center):.7g}", f"{float(scale):.7g}") == ("6.095238", "2.077372")
    assert [f"{float(v):.7g}" for v in scaled[1][1:]] == [
        "0.1948432", "0.4355319", "0.4355319", "0.4355319", "0.4355319", "0.4355319",
        "-2.693421",
    ]  # fmt: skip
    # test_detectionHistory.R: dim(DetHist1day) is 3 x 44 (day1 station: the longest
    # station), dim(DetHist1day_survey) 3 x 46 (day1 survey: 2 April to 17 May).
    daily = [*VTA, "--occasion-length", "1", "--no-problems", "--include-effort"]
    assert len(history(tmp_path, *daily)[0][0]) == 1 + 44
    by_survey, effort_table, _ = history(tmp_path, *daily, "--day1", "survey")
    assert len(by_survey[0]) == 1 + 46
    # Worked out: with day1 survey, StationB has not started on 2 April (NA) and runs half
    # of 3 April; its VTA records are on 15 and 27 April, occasions 14 and 26.
    assert (effort_table[2][1], effort_table[2][2]) == ("NA", "0.5")
    assert [n for n, v in enumerate(by_survey[2]) if v == "1"] == [14, 26]


@pytest.mark.django_db(transaction=True)
def test_day1_as_a_date(camtrapr_sample, tmp_path):
    weekly = [*VTA, "--occasion-length", "7", "--no-problems"]
    # test_detectionHistory.R: its warning and its two errors, for this sample.
    _, _, printed = history(tmp_path, *weekly, "--day1", "2009-05-01")
    assert "4 records (out of 5) were removed because they were taken before day1" in printed
    with pytest.raises(CommandError, match=r"day1 \(2009-06-01\) is after the last station's "
                       r"retrieval date \(2009-05-17\)"):  # fmt: skip
        history(tmp_path, *weekly, "--day1", "2009-06-01")
    with pytest.raises(CommandError, match=r"day1 \(2009-04-01\) is before the first station's "
                       r"setup date \(2009-04-02\)"):  # fmt: skip
        history(tmp_path, *weekly, "--day1", "2009-04-01")
    with pytest.raises(CommandError, match="occasion length must be shorter"):
        history(tmp_path, *VTA, "--occasion-length", "47")


@pytest.mark.django_db(transaction=True)
def test_a_record_in_a_malfunction_period(camtrapr_sample, tmp_path):
    # StationC's camera failed from 12 May to its retrieval on 17 May; a mousedeer
    # (Tragulus) was recorded on 12 May at 02:32. Worked out by camtrapR's rules, occasions
    # of 7 days from each setup: StationC's o6 is 9-15 May (3 working days), o7 16-17 May.
    weekly = ["--species", "Tragulus", "--occasion-length", "7"]
    detections, effort_table, _ = history(tmp_path, *weekly, "--include-effort")
    assert detections[3] == ["StationC", "0", "1", "1", "1", "1", "1", "NA"]
    assert effort_table[3] == ["StationC", "6.5", "7", "7", "7", "7", "3", "NA"]
    # Without effort, an occasion with a day off is NA: the record is lost.
    detections, _, _ = history(tmp_path, *weekly)
    assert detections[3] == ["StationC", "0", "1", "1", "1", "1", "NA", "NA"]
    assert detections[1] == ["StationA", "0", "0", "0", "0", "0", "0", "NA"]
    # By day: 12 May had no effort (0), so it is NA, with its record.
    daily, effort_table, _ = history(tmp_path, "--species", "Tragulus", "--occasion-length",
                                     "1", "--include-effort")  # fmt: skip
    assert (daily[3][38], effort_table[3][38]) == ("0", "1")  # 11 May, day 38 from 4 April
    assert (daily[3][39], effort_table[3][39]) == ("NA", "0")  # 12 May


@pytest.mark.django_db(transaction=True)
def test_counts_and_what_others_may_see(camtrapr_sample, tmp_path, boris):
    # Leopard cat (PBE) at StationB: independent records at 00:11 and 23:13 on 5 April,
    # StationB's third day: 2 detections that day, and one on the fifth.
    daily = ["--species", "Prionailurus bengalensis", "--occasion-length", "1"]
    daily += ["--output", "count"]
    counts, _, _ = history(tmp_path, *daily)
    assert counts[2][:6] == ["StationB", "0", "0", "2", "0", "1"]
    # Nothing of the Chinese card is approved: the Russian team has no station to see.
    with pytest.raises(CommandError, match="No deployment in this set has a period"):
        history(tmp_path, *daily, "--user", "boris")


# camtrapR's rules on small made-up operations (no database).


def operation(days: int, **values) -> effort.Operation:
    start = dt.date(2020, 1, 1)
    rows = [effort.Row(name, n, list(row)) for n, (name, row) in enumerate(values.items())]
    return effort.Operation([start + dt.timedelta(days=d) for d in range(days)], 0, rows)


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2020, 1, day, hour, minute, second)


def test_a_record_at_midnight_belongs_to_the_day_before():
    daily = operation(4, A=[0.5, 1, 1, 0.5])
    options = occupancy.Options(occasion_length=1, include_effort=True)
    # ceil(86,400 s / 1 day) = 1: the first day's occasion.
    made = occupancy.detection_history(daily, [(0, at(2))], options)
    assert made.detections == [[1, 0, 0, 0]]
    # A record on the very start (occasion 0) makes camtrapR move every midnight record to
    # 00:00:01 ("seem to have no time information"), so this one moves on a day.
    made = occupancy.detection_history(daily, [(0, at(2)), (0, at(1))], options)
    assert made.detections == [[1, 1, 0, 0]]


def test_min_active_days_and_max_days():
    daily = operation(10, A=[0.5, 1, 1, 0, 0, 1, 1, 1, 1, 0.5])
    # Occasions of 3 days: 2.5, 1, 3, 0.5. At least 2 active days: 1 and 0.5 are NA; the
    # zeros of the second occasion do not make it NA by themselves.
    options = occupancy.Options(occasion_length=3, min_active_days=2)
    made = occupancy.detection_history(daily, [(0, at(5, 12))], options)
    assert made.detections == [[0, None, 0, None]]
    # At most 6 days from the start: two occasions; the record (day 5, a day off) is in the
    # second, which has 1 day of effort.
    options = occupancy.Options(occasion_length=3, max_days=6, include_effort=True)
    made = occupancy.detection_history(daily, [(0, at(5, 12))], options)
    assert (made.detections, made.effort) == ([[0, 1]], [[2.5, 1]])
