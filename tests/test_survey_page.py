"""The survey page (/analysis/survey/) and its downloads, on camtrapR's sample card and
station table: the same tables as the survey_report, camera_operation and
detection_history commands, byte for byte, for what the viewer may see."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from sightings import protection
from sightings.models import Event, Location, Sighting, Species

VTA = "Viverra tangalunga"
# Made-up places for camtrapR's stations (its table gives none); StationB is protected.
PLACES = {"StationA": (43.0853, 130.9564), "StationB": (43.2311, 130.8127),
          "StationC": (43.1017, 131.4852)}  # fmt: skip


def command_file(tmp_path, command: str, *options: str, out: str = "--out") -> bytes:
    """The file a command writes (--out, or the option named) with these options."""
    path = tmp_path / "out.csv"
    outs = [out, str(path)]
    if out != "--out":
        outs += ["--out", str(tmp_path / "other.csv")]
    call_command(command, *outs, *options, stdout=io.StringIO(), stderr=io.StringIO())
    return path.read_bytes()


def download(client, table: str, query: str) -> bytes:
    response = client.get(f"/analysis/survey/{table}.csv?{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return b"".join(response.streaming_content)


def species_id(name: str) -> int:
    return Species.objects.get(scientific_name=name).pk


@pytest.mark.django_db
def test_anonymous_is_sent_to_log_in(client):
    for url in ["/analysis/survey/", "/analysis/survey/map.json", "/analysis/survey/report.csv"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


@pytest.mark.django_db(transaction=True)
def test_the_page_shows_the_report_and_the_stations(camtrapr_sample, client):
    client.login(username="alice", password="password")
    response = client.get("/analysis/survey/?min_delta=60")
    assert response.status_code == 200
    # test-surveyReport.R: 4 leopard cat events at StationA, 42 trap nights; 37.5 at StationC.
    rows = {(r["station"], r["record_name"]): (r["count"], r["nights"], r["rai"])
            for r in response.context["event_rows"]}  # fmt: skip
    cat = "Prionailurus bengalensis"
    assert rows["StationA", cat] == (4, 42, pytest.approx(4 / 42 * 100, rel=1e-14))
    assert rows["StationC", cat] == (6, 37.5, pytest.approx(6 / 37.5 * 100, rel=1e-14))
    assert response.context["station_rows"][2][0] == "StationC"
    assert response.context["station_rows"][2][6:] == ["44", "38", "6", 37.5]
    html = response.content.decode()
    assert '<td class="number">9.52</td>' in html  # RAI, 4 per 42 trap nights
    assert 'href="/analysis/survey/camop.csv?min_delta=60"' in html


@pytest.mark.django_db(transaction=True)
def test_the_tables_are_the_commands_files(camtrapr_sample, client, tmp_path):
    client.login(username="alice", password="password")
    query = f"min_delta=60&occasion_start_hour=12&no_problems=on&species={species_id(VTA)}"
    options = ["--user", "alice", "--min-delta", "60", "--occasion-start-hour", "12",
               "--no-problems", "--species", VTA]  # fmt: skip
    assert download(client, "report", query) == command_file(tmp_path, "survey_report", *options)
    assert download(client, "stations", query) == command_file(
        tmp_path, "survey_report", *options, out="--dates-out"
    )
    operation = [option for option in options if option not in ("--min-delta", "60")]
    assert download(client, "camop", query) == command_file(
        tmp_path, "camera_operation", *operation
    )
    assert download(client, "camop", query + "&by_camera=on") == command_file(
        tmp_path, "camera_operation", *operation, "--by-camera"
    )


@pytest.mark.django_db(transaction=True)
def test_the_detection_history_and_effort_are_the_commands_files(camtrapr_sample, client, tmp_path):
    client.login(username="alice", password="password")
    query = (f"history_species={species_id(VTA)}&occasion_length=7&day1=survey&min_delta=60"
             "&include_effort=on&scale_effort=on&output=count&buffer=2")  # fmt: skip
    options = ["--user", "alice", "--species", VTA, "--occasion-length", "7", "--day1", "survey",
               "--min-delta", "60", "--include-effort", "--scale-effort", "--output", "count",
               "--buffer", "2"]  # fmt: skip
    assert download(client, "history", query) == command_file(
        tmp_path, "detection_history", *options
    )
    assert download(client, "effort", query) == command_file(
        tmp_path, "detection_history", *options, out="--effort-out"
    )
    response = client.get(f"/analysis/survey/?{query}")
    assert response.status_code == 200
    assert 'href="/analysis/survey/effort.csv?' in response.content.decode()
    # Without the effort included, there is no effort to download.
    response = client.get(f"/analysis/survey/effort.csv?history_species={species_id(VTA)}"
                          "&occasion_length=7")  # fmt: skip
    assert response.status_code == 400
    assert "only when it is included" in response.json()["errors"]["__all__"][0]


@pytest.mark.django_db(transaction=True)
def test_warnings_are_shown_on_the_page(camtrapr_sample, client):
    client.login(username="alice", password="password")
    query = f"history_species={species_id(VTA)}&occasion_length=7&day1=2009-05-01&min_delta=60"
    response = client.get(f"/analysis/survey/?{query}&no_problems=on")
    assert response.status_code == 200
    # test_detectionHistory.R's warning for this sample (as the command prints it).
    assert "4 records (out of 5) were removed because they were taken before day1" in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    "query,message",
    [
        ("occasion_length=47", "The occasion length must be shorter than the days of operation."),
        ("occasion_length=0", "The occasion length must be at least 1 day."),
        ("occasion_length=7&day1=monday", "day1 is station, survey or a date (YYYY-MM-DD)."),
        ("occasion_length=7&day1=2009-06-01",
         "day1 (2009-06-01) is after the last station's retrieval date (2009-05-17)."),
        ("occasion_length=7&scale_effort=on", "The effort can be scaled only when it is included."),
        ("occasion_length=7&min_active_days=8",
         "The minimum of active days is more than the occasion length."),
        ("occasion_length=7&day1=2009-05-01&buffer=2",
         "A buffer is 1 day or more, and only with day1 station or survey."),
        ("occasion_length=7&buffer=100000000000",
         "At every station the occasions start after retrieval: choose a smaller buffer."),
        ("occasion_length=seven", "Enter a whole number."),
    ],
)  # fmt: skip
@pytest.mark.django_db(transaction=True)
def test_bad_history_options_are_refused_with_the_commands_reasons(
    camtrapr_sample, client, query, message
):
    client.login(username="alice", password="password")
    query = f"history_species={species_id(VTA)}&min_delta=60&{query}"
    page = client.get(f"/analysis/survey/?{query}")
    assert page.status_code == 400
    assert message.replace("'", "&#x27;") in page.content.decode()
    download = client.get(f"/analysis/survey/history.csv?{query}")
    assert download.status_code == 400
    assert message in str(download.json()["errors"])


@pytest.mark.parametrize(
    "query,field",
    [("species=abc", "species"), ("min_delta=-1", "min_delta"),
     ("occasion_start_hour=24", "occasion_start_hour"),
     ("location=99999999999999999999", "location")],
)  # fmt: skip
@pytest.mark.django_db
def test_bad_filters_and_options_are_answered_400(client, alice, query, field):
    client.login(username="alice", password="password")
    assert client.get(f"/analysis/survey/?{query}").status_code == 400
    for url in ["report.csv", "stations.csv", "camop.csv", "history.csv", "map.json"]:
        response = client.get(f"/analysis/survey/{url}?{query}")
        assert response.status_code == 400, url
        assert field in response.json()["errors"], url


@pytest.mark.parametrize(
    "query,field",
    [("occasion_length=7", "history_species"),
     ("history_species=99999999999999999999&occasion_length=7", "history_species"),
     ("history_species=abc&occasion_length=7", "history_species"),
     ("history_species=1", "occasion_length")],
)  # fmt: skip
@pytest.mark.django_db
def test_a_history_without_its_species_or_occasions_is_answered_400(client, alice, query, field):
    client.login(username="alice", password="password")
    page = client.get(f"/analysis/survey/?{query}")
    assert page.status_code == 400
    assert field in page.context["survey"].history_form.errors
    for table in ["history", "effort"]:
        response = client.get(f"/analysis/survey/{table}.csv?{query}")
        assert response.status_code == 400
        assert field in response.json()["errors"]


@pytest.mark.django_db(transaction=True)
def test_other_teams_see_only_approved_shared_data(camtrapr_sample, client, boris):
    client.login(username="boris", password="password")
    page = client.get("/analysis/survey/")
    # Nothing of the Chinese card is approved: no station to report on, and no error.
    assert page.status_code == 200
    assert page.context["survey"].note == "No deployment in this set has a period to work from."
    Sighting.objects.filter(location__name="StationB").update(review_status="approved")
    before = download(client, "report", "")
    assert {line.split(b",")[0] for line in before.splitlines()[1:]} == {b"StationB"}
    client.login(username="alice", password="password")
    own_before = download(client, "report", "")
    # A sighting of the Chinese team still waiting for review changes its own numbers only.
    _pending_sighting("StationB", "Viverra tangalunga")
    assert download(client, "report", "") != own_before
    client.login(username="boris", password="password")
    assert download(client, "report", "") == before


def _station(name: str) -> Location:
    return Location.objects.get(name=name)


def _pending_sighting(station: str, species: str) -> Sighting:
    deployment = _station(station).deployments.get()
    when = deployment.start_at + dt.timedelta(days=3, hours=5)
    event = Event.objects.create(deployment=deployment, start_at=when, end_at=when)
    return Sighting.objects.create(
        event=event, species=Species.objects.get(scientific_name=species),
        review_status="pending", is_independent=True, **event.placement(),
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_protected_station_is_on_its_grid_cell_for_other_teams(camtrapr_sample, client, boris):
    for name, (latitude, longitude) in PLACES.items():
        Location.objects.filter(name=name).update(latitude=latitude, longitude=longitude)
    Location.objects.filter(name="StationB").update(has_sensitive_species=True)
    Sighting.objects.filter(location__name__in=["StationA", "StationB"]).update(
        review_status="approved"
    )
    client.login(username="boris", password="password")
    page = client.get("/analysis/survey/?min_delta=60").content.decode()
    data = client.get("/analysis/survey/map.json?min_delta=60")
    features = {f["properties"]["name"]: f for f in data.json()["features"]}
    grid = protection.generalised(*PLACES["StationB"])
    assert features["StationB"]["geometry"]["coordinates"] == [grid[1], grid[0]]
    assert features["StationB"]["properties"]["generalised"] is True
    assert features["StationA"]["geometry"]["coordinates"] == [130.9564, 43.0853]
    for exact in PLACES["StationB"]:
        assert str(exact) not in page
        assert str(exact).encode() not in data.content
    # RAI as the report counts it: 8 leopard cat events in 43 trap nights at StationB.
    rai = features["StationB"]["properties"]["rai"]["Prionailurus bengalensis"]
    assert rai == pytest.approx(8 / 43 * 100)
    assert set(features) == {"StationA", "StationB"}  # StationC: nothing shared


@pytest.mark.django_db(transaction=True)
def test_the_own_team_sees_its_exact_places_and_stations_without_any(camtrapr_sample, client):
    Location.objects.filter(name="StationB").update(
        latitude=PLACES["StationB"][0], longitude=PLACES["StationB"][1], has_sensitive_species=True
    )
    client.login(username="alice", password="password")
    data = client.get("/analysis/survey/map.json").json()
    assert [f["geometry"]["coordinates"] for f in data["features"]] == [[130.8127, 43.2311]]
    assert data["summary"] == "1 station on the map · 2 stations without coordinates are not on it"
    assert data["features"][0]["properties"]["generalised"] is False
