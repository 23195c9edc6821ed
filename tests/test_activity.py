"""Daily activity: overlap's estimators against the R package's own numbers.

The reference values are what R printed, copied in tests/data/activity/overlap/SOURCE.txt.
"""

from __future__ import annotations

import csv
import datetime as dt
import math

import pytest

from sightings import activity, sun

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
