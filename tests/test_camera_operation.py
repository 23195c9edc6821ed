"""Camera operation as camtrapR's cameraOperation() gives it (sightings/effort.py), on
camtrapR's sample card and station table, where its vignette and tests print the numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from sightings import effort
from sightings.models import Deployment, Media, Sighting


def camera_operation(tmp_path, *options: str) -> list[list[str]]:
    out = tmp_path / "camop.csv"
    call_command("camera_operation", "--out", str(out), *options, stdout=io.StringIO())
    with out.open(newline="") as file:
        return list(csv.reader(file))


def columns(table: list[list[str]], first: str, count: int) -> list[list[str]]:
    """The Station column and count columns from the one named first, as R's camop[, a:b]."""
    start = table[0].index(first)
    return [[row[0], *row[start : start + count]] for row in table]


@pytest.mark.django_db(transaction=True)
def test_the_sample_gives_camtrapRs_matrix(camtrapr_sample, tmp_path):
    table = camera_operation(tmp_path)
    # vignette 3 ("Dates as input"): camop_problem[, 1:5] and its last 7 columns, as
    # cameraOperation(camtraps, hasProblems = TRUE, dateFormat = "dmy") prints them.
    assert columns(table, "2009-04-02", 5) == [
        ["Station", "2009-04-02", "2009-04-03", "2009-04-04", "2009-04-05", "2009-04-06"],
        ["StationA", "0.5", "1", "1", "1", "1"],
        ["StationB", "NA", "0.5", "1", "1", "1"],
        ["StationC", "NA", "NA", "0.5", "1", "1"],
    ]
    assert columns(table, "2009-05-11", 7) == [
        ["Station", "2009-05-11", "2009-05-12", "2009-05-13", "2009-05-14", "2009-05-15",
         "2009-05-16", "2009-05-17"],
        ["StationA", "1", "1", "1", "0.5", "NA", "NA", "NA"],
        ["StationB", "1", "1", "1", "1", "1", "0.5", "NA"],
        ["StationC", "1", "0", "0", "0", "0", "0", "0"],
    ]  # fmt: skip
    # 46 days from the first setup to the last retrieval; days between are whole (1).
    assert len(table[0]) == 1 + 46
    assert set(table[1][2:43]) == {"1"}


@pytest.mark.django_db(transaction=True)
def test_without_problems_and_from_noon(camtrapr_sample, tmp_path):
    # camop_no_problem: StationC works to its retrieval at noon on 17 May.
    table = camera_operation(tmp_path, "--no-problems")
    assert columns(table, "2009-05-11", 7)[3] == ["StationC", "1", "1", "1", "1", "1", "1", "0.5"]
    # occasionStartTime = 12: days run noon to noon, so setup and retrieval fall on day
    # edges. camtrapR moves a date-only retrieval 1 s later so that the last occasion is 0,
    # not NA, and keeps the records of the retrieval morning.
    table = camera_operation(tmp_path, "--occasion-start-hour", "12")
    assert columns(table, "2009-04-02+12h", 2)[:2] == [
        ["Station", "2009-04-02+12h", "2009-04-03+12h"], ["StationA", "1", "1"],
    ]  # fmt: skip
    assert columns(table, "2009-05-11+12h", 7)[1:] == [
        ["StationA", "1", "1", "1", "0", "NA", "NA", "NA"],
        ["StationB", "1", "1", "1", "1", "1", "0", "NA"],
        # The problem starts at midnight: half of the noon-to-noon day before it.
        ["StationC", "0.5", "0", "0", "0", "0", "0", "0"],
    ]


@pytest.mark.django_db(transaction=True)
def test_other_teams_see_only_stations_with_shared_records(camtrapr_sample, tmp_path, boris):
    with pytest.raises(CommandError, match="No deployment in this set has a period"):
        camera_operation(tmp_path, "--user", "boris")
    Sighting.objects.filter(location__name="StationB").update(review_status="approved")
    table = camera_operation(tmp_path, "--user", "boris")
    assert [row[0] for row in table] == ["Station", "StationB"]
    assert (table[0][1], table[0][-1]) == ("2009-04-03", "2009-05-16")


@pytest.mark.django_db(transaction=True)
def test_filters_choose_stations_and_days(camtrapr_sample, tmp_path):
    c = Deployment.objects.get(location__name="StationC").location_id
    table = camera_operation(
        tmp_path, "--location", str(c), "--date-from", "2009-05-10", "--date-to", "2009-05-13",
        "--by-camera",
    )  # fmt: skip
    deployment = Deployment.objects.get(location_id=c).pk
    assert table == [
        ["Station", "2009-05-10", "2009-05-11", "2009-05-12", "2009-05-13"],
        [f"StationC__CAM_{deployment}", "1", "1", "0", "0"],
    ]


# Several cameras at a station: the table in camtrapR's vignette 3 ("Combining multiple
# cameras per station"), column "date": x = c(1, 0.5) and c(1, 1).

NOON = dt.time(12)


def two_cameras(second_retrieval: dt.date) -> list[effort.Camera]:
    setup = dt.datetime.combine(dt.date(2020, 1, 1), NOON)
    return [
        effort.Camera(1, "A", 1, setup, dt.datetime.combine(dt.date(2020, 1, 8), NOON)),
        effort.Camera(1, "A", 2, setup, dt.datetime.combine(second_retrieval, NOON)),
    ]


@pytest.mark.parametrize(
    ("all_cams_on", "independent", "one_and_a_half", "one_and_one"),
    [(True, True, 0, 2), (False, True, 1.5, 2), (True, False, 0, 1), (False, False, 1, 1)],
)
def test_cameras_combine_as_camtrapRs_table_says(
    all_cams_on, independent, one_and_a_half, one_and_one
):
    options = {"all_cams_on": all_cams_on, "cameras_independent": independent}
    # The second camera is retrieved at noon on 5 January: c(1, 0.5) that day.
    [row] = effort.camera_operation(two_cameras(dt.date(2020, 1, 5)), **options).rows
    assert (row.values[3], row.values[4]) == (one_and_one, one_and_a_half)
    # After it, one camera and an NA: all_cams_on gives NA (R's all(c(1, NA) == 1)).
    assert row.values[5] == (None if all_cams_on else 1)


def test_a_running_deployment_ends_at_its_last_image(cn_deployment, alice):
    cn_deployment.end_at = None
    cn_deployment.save()
    batch = cn_deployment.batches.create(uploaded_by=alice)
    Media.objects.create(
        batch=batch, deployment=cn_deployment, sha256="c" * 64, file="x.jpg", file_size=1,
        original_name="x.jpg", state="processed",
        captured_at=dt.datetime(2009, 4, 3, 10, tzinfo=dt.UTC),  # 18:00 in Shanghai
    )  # fmt: skip
    [camera] = effort.cameras(Deployment.objects.all())
    assert (camera.setup, camera.retrieval) == (
        dt.datetime(2009, 4, 1, 8),
        dt.datetime(2009, 4, 3, 18),
    )
    [row] = effort.camera_operation([camera]).rows
    assert row.values == [pytest.approx(16 / 24, abs=1e-4), 1, 0.75]
    Media.objects.all().delete()
    assert effort.cameras(Deployment.objects.all()) == []
