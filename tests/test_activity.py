"""Daily activity: overlap's estimators against the R package's own numbers, and the page.

The reference values are what R printed, copied in tests/data/activity/overlap/SOURCE.txt.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import xml.etree.ElementTree as ET
import zoneinfo

import pytest
from PIL import Image

from sightings import activity, sun
from sightings.models import Event, Sighting, Species

from .conftest import TESTDATA

OVERLAP_DATA = TESTDATA / "activity" / "overlap"


def simulated(series: str) -> list[float]:
    with open(OVERLAP_DATA / "simulatedData.csv", newline="") as data:
        return [float(row["value"]) for row in csv.DictReader(data) if row["series"] == series]


def kerinci(zone: int, species: str) -> list[float]:
    """overlap's vignette: timeRad <- kerinci$Time * 2 * pi, one zone's one species."""
    with open(OVERLAP_DATA / "kerinci.csv", newline="") as data:
        rows = csv.DictReader(data)
        return [
            float(row["Time"]) * 2 * math.pi
            for row in rows
            if row["Zone"] == str(zone) and row["Sps"] == species
        ]


# The mathematics, against R.


@pytest.mark.parametrize(
    "order,x,expected",
    [  # Abramowitz and Stegun, table 9.8, and R's besselI
        (0, 1.0, 1.2660658777520082),
        (1, 1.0, 0.5651591039924851),
        (0, 10.0, 2815.716628466254),
        (2, 5.0, 17.505614966624236),
    ],
)
def test_bessel_functions_match_the_tables(order, x, expected):
    assert activity.bessel_i_scaled(order, x) * math.exp(x) == pytest.approx(expected, rel=1e-13)


def test_bessel_series_and_quadrature_agree_where_they_meet():
    for order in range(4):
        below, above = activity.bessel_i_scaled(order, 20), activity.bessel_i_scaled(order, 20.0001)
        assert above == pytest.approx(below, rel=1e-5)


def test_bandwidth_is_overlaps_getbandwidth():
    # test-all.R: equals(29.90650, tolerance = 1e-5) and equals(10.42076, tolerance = 1e-5).
    assert activity.bandwidth(simulated("tigerObs")) == pytest.approx(29.90650, rel=1e-5)
    assert activity.bandwidth(simulated("pigObs")) == pytest.approx(10.42076, rel=1e-5)


def test_the_root_search_takes_r_uniroots_steps():
    # With the κ search ending at 500 (overlap < 0.3.2) R printed 29.90645 and 10.42065 at
    # 1e-7: only the same steps as uniroot's land that close, its tolerance is 1.2e-4 in κ.
    assert activity.bandwidth(simulated("tigerObs"), upper=500) == pytest.approx(29.90645, 1e-7)
    assert activity.bandwidth(simulated("pigObs"), upper=500) == pytest.approx(10.42065, 1e-7)


def test_density_is_overlaps_densityfit():
    points = [0, math.pi / 2, math.pi, 3 * math.pi / 2, 2 * math.pi]
    tiger = [0.02440435, 0.44522913, 0.02179983, 0.50513539, 0.02440435]
    pig = [7.877244e-06, 4.522317e-02, 4.622752e-01, 1.216268e-01, 7.877244e-06]
    assert activity.density(simulated("tigerObs"), points, 30) == pytest.approx(tiger, rel=1e-6)
    assert activity.density(simulated("pigObs"), points, 10) == pytest.approx(pig, rel=1e-6)


def test_overlap_estimates_are_overlaps_overlapest():
    tiger, pig = simulated("tigerObs"), simulated("pigObs")
    estimates = activity.overlap_estimates(tiger, pig)
    assert [round(estimates[name], 5) for name in ("Dhat1", "Dhat4", "Dhat5")] == [
        0.29086, 0.26920, 0.22750,
    ]  # fmt: skip
    adjusted = activity.overlap_estimates(
        tiger, pig, adjust={"Dhat1": 1.2, "Dhat4": 1.5, "Dhat5": 1}
    )
    assert [round(adjusted[name], 5) for name in ("Dhat1", "Dhat4", "Dhat5")] == [
        0.31507, 0.28849, 0.23750,
    ]  # fmt: skip


def test_tigers_and_macaques_of_kerinci_zone_2_as_in_overlaps_vignette():
    tigers, macaques = kerinci(2, "tiger"), kerinci(2, "macaque")
    assert min(len(tigers), len(macaques)) == 83
    found = activity.overlap(tigers, macaques)
    assert (found.estimator, round(found.value, 7)) == ("Dhat4", 0.4205464)


@pytest.mark.parametrize(
    "sizes,estimator",
    [((75, 400), "Dhat1"), ((76, 76), "Dhat4"), ((400, 12), "Dhat1"), ((3, 3), "Dhat1")],
)
def test_dhat4_only_where_the_smaller_sample_has_more_than_75(sizes, estimator):
    assert activity.recommended_estimator(*sizes) == estimator


def test_no_bandwidth_where_no_concentration_fits():
    # Two opposite times: every moment is 0 or 1, and no κ gives either (overlap: NA).
    opposite = [0.0, math.pi]
    assert activity.bandwidth(opposite) is None
    assert activity.overlap(opposite, simulated("pigObs")) is None


def test_sun_time_is_overlaps_suntime():
    total = 0.0
    with open(OVERLAP_DATA / "simCalls.csv", newline="") as data:
        for row in csv.DictReader(data):
            day = dt.date.fromisoformat(row["dates"])
            total += activity.sun_time(float(row["time"]), day, 0, 56, -3)
    assert round(total, 4) == 207.0542


def test_sunrise_is_suntools_sunriset():
    # suntools' tests: sunriset(Helsinki 24.97°E 60.17°N, 2004-12-24 Europe/Helsinki).
    sunrise = sun.sunrise_sunset(dt.date(2004, 12, 24), 2, 60.17, 24.97, "sunrise")
    assert sunrise == pytest.approx(0.392424945734093, abs=1e-12)


def test_no_sun_time_in_polar_night():
    assert sun.sunrise_sunset(dt.date(2021, 12, 21), 3, 78.2, 15.6, "sunrise") is None
    assert activity.sun_time(math.pi, dt.date(2021, 12, 21), 3, 78.2, 15.6) is None


def test_clock_minutes_as_radians_and_hours():
    assert [activity.clock_radians(m) for m in (0, 360, 720)] == [0, math.pi / 2, math.pi]
    times = [activity.clock_radians(m) for m in (0, 59, 60, 1439)]
    assert activity.hourly_counts(times) == [2, 1] + [0] * 21 + [1]


# The page, its downloads, and who sees what.

LEOPARD, BOAR = "Amur leopard", "Wild boar"
# Local clock times (hour, minute) at each team's station.
CN_TIMES = [(20, 10), (22, 40), (23, 55), (1, 30), (3, 5), (4, 45), (21, 0)]
RU_TIMES = [(19, 30), (21, 15), (0, 20), (2, 50), (5, 10), (18, 10)]


def species(name: str) -> Species:
    return Species.objects.get(name_en=name)


def sight(deployment, day: dt.date, hour: int, minute: int, name=LEOPARD, **fields) -> Sighting:
    """An independent, approved sighting at this local time of the deployment's clock."""
    zone = zoneinfo.ZoneInfo(deployment.time_zone)
    when = dt.datetime.combine(day, dt.time(hour, minute, 30), zone).astimezone(dt.UTC)
    event = Event.objects.create(deployment=deployment, start_at=when, end_at=when)
    fields = {"review_status": "approved", "is_independent": True, **fields}
    return Sighting.objects.create(
        event=event, species=species(name), **event.placement(), **fields
    )


def minutes(times: list[tuple[int, int]]) -> list[float]:
    return [activity.clock_radians(h * 60 + m) for h, m in times]


@pytest.fixture
def leopards(cn_deployment, ru_deployment) -> dict:
    """Approved leopards on both sides, and one CN leopard still waiting for review."""
    for n, (hour, minute) in enumerate(CN_TIMES):
        sight(cn_deployment, dt.date(2009, 4, 10 + n), hour, minute)
    for n, (hour, minute) in enumerate(RU_TIMES):
        sight(ru_deployment, dt.date(2021, 5, 10 + n), hour, minute)
    pending = sight(cn_deployment, dt.date(2009, 5, 2), 12, 0, review_status="pending")
    return {"pending": pending}


def query(**extra) -> dict:
    return {"species": species(LEOPARD).pk, **extra}


def countries() -> dict:
    return query(compare="countries", country=["CN", "RU"])


@pytest.mark.parametrize(
    "url",
    ["/analysis/activity/", "/analysis/activity/chart.svg", "/analysis/activity/times.csv"],
)
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_page_says_what_to_choose_first(client, alice):
    client.force_login(alice)
    response = client.get("/analysis/activity/")
    assert response.status_code == 200
    assert "Choose a species in the filters, or two species to compare." in response.text


def test_one_species_draws_its_own_teams_and_shared_detections(client, alice, leopards):
    client.force_login(alice)
    response = client.get("/analysis/activity/", query())
    assert response.status_code == 200
    # Alice's team's pending leopard counts for her: 7 + 6 approved and 1 pending.
    assert "14 independent detections" in response.text
    assert response.text.count("<svg xmlns=") == 1


def test_boris_curve_does_not_change_with_a_pending_cn_sighting(client, alice, boris, leopards):
    client.force_login(boris)
    with_pending = client.get("/analysis/activity/chart.svg", query(chart="0")).content
    client.force_login(alice)
    alices = client.get("/analysis/activity/chart.svg", query(chart="0")).content
    Sighting.objects.filter(pk=leopards["pending"].pk).delete()
    assert client.get("/analysis/activity/chart.svg", query(chart="0")).content != alices
    client.force_login(boris)
    assert client.get("/analysis/activity/chart.svg", query(chart="0")).content == with_pending
    assert b"13 independent detections" in with_pending


def test_only_independent_detections_count(client, boris, cn_deployment, leopards):
    sight(cn_deployment, dt.date(2009, 5, 20), 13, 0, is_independent=False)
    client.force_login(boris)
    assert "13 independent detections" in client.get("/analysis/activity/", query()).text


def test_china_and_russia_overlap_with_the_estimator_named(client, boris, leopards):
    client.force_login(boris)
    response = client.get("/analysis/activity/", countries())
    assert response.status_code == 200
    expected = activity.overlap(minutes(CN_TIMES), minutes(RU_TIMES))
    assert expected.estimator == "Dhat1"  # 6 and 7 detections: far fewer than 75
    assert f"<strong>{expected.value:.2f}</strong> (estimator Dhat1)" in response.text
    # In the chart too, rounded (0.788…: 0.79), not cut as number_format alone would.
    assert f"Coefficient of overlapping Dhat1 = {expected.value:.2f}" in response.text
    assert "Amur leopard in China" in response.text and "Amur leopard in Russia" in response.text
    assert response.text.count("<svg xmlns=") == 3  # the overlap, and each country's


def test_two_species_overlap(client, alice, cn_deployment, leopards):
    for n, (hour, minute) in enumerate([(9, 0), (11, 30), (14, 15), (16, 45)]):
        sight(cn_deployment, dt.date(2009, 4, 20 + n), hour, minute, name=BOAR)
    client.force_login(alice)
    response = client.get(
        "/analysis/activity/", {"species": [species(LEOPARD).pk, species(BOAR).pk]}
    )
    assert "Activity overlap: Amur leopard and Wild boar" in response.text
    assert "4 independent detections" in response.text


def test_only_one_country_with_detections_is_said(client, boris, ru_deployment):
    for hour in (1, 3, 22):
        sight(ru_deployment, dt.date(2021, 6, hour), hour, 0)
    client.force_login(boris)
    response = client.get("/analysis/activity/", countries())
    assert "No independent detections of Amur leopard in China match these filters." in (
        response.text
    )
    assert "Only Amur leopard in Russia can be drawn here" in response.text
    assert response.text.count("<svg xmlns=") == 1


def test_more_than_two_species_are_refused_kindly(client, alice, leopards):
    client.force_login(alice)
    chosen = [s.pk for s in Species.objects.filter(name_en__in=[LEOPARD, BOAR, "Sika deer"])]
    response = client.get("/analysis/activity/", {"species": chosen})
    assert response.status_code == 200
    assert "Choose at most two species to compare." in response.text


def test_the_svg_download_is_an_svg_document(client, boris, leopards):
    client.force_login(boris)
    response = client.get("/analysis/activity/chart.svg", countries() | {"chart": "overlap"})
    assert response["Content-Type"] == "image/svg+xml"
    assert 'filename="activity-overlap.svg"' in response["Content-Disposition"]
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    title = root.find("{http://www.w3.org/2000/svg}title").text
    assert title == "Activity overlap: Amur leopard in China and Amur leopard in Russia"


def test_the_png_download_is_a_png_image(client, boris, leopards):
    client.force_login(boris)
    response = client.get("/analysis/activity/chart.png", countries() | {"chart": "1"})
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.size) == ("PNG", (1600, 960))


def test_the_times_download_lists_each_detection(client, boris, leopards):
    client.force_login(boris)
    response = client.get("/analysis/activity/times.csv", countries())
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == [
        "group", "sighting_id", "species", "country", "local_date", "local_time",
        "clock_time_radians",
    ]  # fmt: skip
    assert len(rows) == 1 + len(CN_TIMES) + len(RU_TIMES)
    first = rows[1]
    assert first[0] == "Amur leopard in China" and first[2] == "Panthera pardus orientalis"
    assert (first[5], float(first[6])) == ("20:10", activity.clock_radians(20 * 60 + 10))


def test_sun_time_uses_only_the_place_the_viewer_may_know(client, boris, cn_deployment, leopards):
    cn_deployment.location.has_sensitive_species = True
    cn_deployment.location.save()
    client.force_login(boris)
    page = client.get("/analysis/activity/", countries() | {"time": "sun"})
    assert page.status_code == 200
    assert "sunrise at 6:00, sunset at 18:00" in page.text
    response = client.get("/analysis/activity/times.csv", countries() | {"time": "sun"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert all(0 <= float(row["sun_time_radians"]) < 2 * math.pi for row in rows)
    for exact in ("43.0853", "130.9564"):  # the protected CN station
        assert exact not in page.text and exact not in text


def test_sun_time_is_each_days_at_the_station_to_the_minute(client, alice, leopards):
    client.force_login(alice)
    response = client.get("/analysis/activity/times.csv", countries() | {"time": "sun"})
    first = next(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert (first["local_date"], first["local_time"]) == ("2009-04-10", "20:10")
    # HC-07 (43.0853°N 130.9564°E) keeps Beijing time, UTC+8; alice's own station: exact.
    clock = activity.clock_radians(20 * 60 + 10)
    exact = activity.sun_time(clock, dt.date(2009, 4, 10), 8, 43.0853, 130.9564)
    minute = round(exact / (2 * math.pi) * 1440)
    assert float(first["sun_time_radians"]) == activity.clock_radians(minute)


@pytest.mark.parametrize(
    "url,params",
    [
        ("/analysis/activity/", {"species": "leopard"}),
        ("/analysis/activity/", {"compare": "everything"}),
        ("/analysis/activity/", {"time": "moon"}),
        ("/analysis/activity/", {"date_from": "yesterday"}),
        ("/analysis/activity/", {"species": str(2**70)}),
        ("/analysis/activity/chart.svg", {"species": "x", "chart": "0"}),
        ("/analysis/activity/chart.png", {"time": "moon", "chart": "0"}),
        ("/analysis/activity/times.csv", {"country": "XX"}),
    ],
)
def test_bad_queries_are_answered_400(client, alice, leopards, url, params):
    client.force_login(alice)
    assert client.get(url, params).status_code == 400


def test_a_chart_that_is_not_drawn_is_404(client, alice, leopards):
    client.force_login(alice)
    assert client.get("/analysis/activity/chart.svg", query(chart="overlap")).status_code == 404
    assert client.get("/analysis/activity/chart.png", query(chart="../x")).status_code == 404
