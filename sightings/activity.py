"""Daily activity: circular kernel densities and the coefficient of overlapping.

Computed as the R package overlap 0.3.9 computes them (Meredith, Ridout & Campbell, CRAN
2024-01-19; read from the CRAN mirror github.com/cran/overlap at fba6b44), and drawn as
camtrapR 3.0.3 draws them (activityDensity, activityOverlap and activityHistogram call
overlap's densityPlot, overlapPlot and R's hist; github.com/jniedballa/camtrapR at e31f2da):

- times are radians of the local clock at the station, 0 to 2π (camtrapR's Time.rad);
- getBandWidth: for k = 1..kmax (3), the von Mises concentration κ_k that solves
  I_k(κ)/I_0(κ) = the k-th trigonometric moment about the circular mean, by R's uniroot on
  [0.0001, 345] (Brent's zeroin, tol = eps^0.25; no root: κ_k = 0); κ = max κ_k, and the
  bandwidth is (3 n κ² I_2(2κ) / (4 √π I_0(κ)²))^(2/5) (Taylor 2008), None if every κ_k is 0;
- densityFit: von Mises kernels of concentration bandwidth / adjust, averaged;
- overlapEst: Dhat1 on a grid of 128 points from 0 to 2π (first point dropped, each curve
  scaled to sum to 1), Dhat4 and Dhat5 at the observations themselves (interpolated from the
  grid once there are more than 1.1 × 128 of them), with adjust 0.8, 1 and 4;
- the estimator to report: Dhat4 when the smaller sample has more than 75 observations,
  else Dhat1 (the overlap vignette's "Summary of recommendations"; its overlapEst help page
  puts the line at 50, the vignette's simulations found Dhat1 best below 50 and Dhat4 above
  75; we take the vignette's summary). camtrapR's activityOverlap reports Dhat1 unless told.
- sunTime: clock time to "sun time", sunrise mapped to π/2 and sunset to 3π/2, each
  observation by the sunrise and sunset of its own date and station (Nouvellet et al. 2012;
  sunrise and sunset by NOAA's algorithm as suntools computes them, sun.py).

Our local times are whole minutes (Sighting.local_minute), where camtrapR reads seconds.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sightings import sun

TWO_PI = 2 * math.pi
MINUTES_PER_DAY = 24 * 60
KMAX = 3
N_GRID = 128
ADJUST = {"Dhat1": 0.8, "Dhat4": 1.0, "Dhat5": 4.0}
# Where getBandWidth looks for κ; overlap before 0.3.2 searched up to 500, and since up to
# 345, so that I_2(2κ) stays below the largest double.
KAPPA_LOWER, KAPPA_UPPER = 0.0001, 345.0
# R's uniroot defaults, as getBandWidth calls it.
UNIROOT_TOL = sys.float_info.epsilon**0.25
UNIROOT_MAXITER = 1000
# Above this smaller sample the overlap vignette recommends Dhat4, else Dhat1.
DHAT4_ABOVE = 75


def clock_radians(local_minute: int) -> float:
    """A local time of day, in minutes after midnight, as radians (0 = midnight)."""
    return local_minute * TWO_PI / MINUTES_PER_DAY


def bessel_i_scaled(order: int, x: float) -> float:
    """I_order(x)·e^-x for x >= 0 and a whole order (R's besselI(x, order, TRUE))."""
    if x <= 20:
        # The power series: every term positive, so nothing cancels; e^20 cannot overflow.
        quarter = x * x / 4
        term = (x / 2) ** order / math.factorial(order)
        total, k = term, 0
        while term > total * 1e-17:
            k += 1
            term *= quarter / (k * (k + order))
            total += term
        return total * math.exp(-x)
    # The trapezoid rule over a whole period of a smooth periodic integrand converges
    # geometrically: with these points the aliased terms (I_{points-order} and beyond) are
    # below 1e-17 of the result up to x = 700, the most getBandWidth asks for (2 × 345).
    points = 16 + 10 * math.ceil(math.sqrt(x))
    total = 0.0
    for j in range(points):
        angle = TWO_PI * j / points
        total += math.exp(x * (math.cos(angle) - 1)) * math.cos(order * angle)
    return total / points


def find_root(
    f: Callable[[float], float],
    lower: float,
    upper: float,
    tol: float = UNIROOT_TOL,
    maxiter: int = UNIROOT_MAXITER,
) -> float:
    """A root of f between lower and upper, where f changes sign, by Brent's method as R's
    uniroot runs it (Forsythe, Malcolm & Moler's zeroin): the same steps, so the same root
    to the last digit, not just within tol."""
    a, b = lower, upper
    fa, fb = f(a), f(b)
    c, fc = a, fa
    if fa == 0:
        return a
    if fb == 0:
        return b
    for _ in range(maxiter + 1):
        previous_step = b - a
        if abs(fc) < abs(fb):  # keep b the best guess so far
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * sys.float_info.epsilon * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0:
            return b
        if abs(previous_step) >= tol_act and abs(fa) > abs(fb):
            new_step = _interpolated_step(a, b, c, fa, fb, fc, new_step, previous_step, tol_act)
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def _interpolated_step(
    a: float,
    b: float,
    c: float,
    fa: float,
    fb: float,
    fc: float,
    bisect: float,
    previous_step: float,
    tol_act: float,
) -> float:
    """zeroin's secant or inverse quadratic step, if it falls well inside [b, c]; else the
    bisection step."""
    cb = c - b
    if a == c:  # two distinct points: the secant
        t1 = fb / fa
        p, q = cb * t1, 1.0 - t1
    else:
        q, t1, t2 = fa / fc, fb / fc, fb / fa
        p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
        q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
    if p > 0:
        q = -q
    else:
        p = -p
    if p < 0.75 * cb * q - abs(tol_act * q) / 2 and p < abs(previous_step * q / 2):
        return p / q
    return bisect


def _trigonometric_moment(times: Sequence[float], p: int) -> float:
    """overlap's TrigMomRad: the length of the p-th moment about the circular mean."""
    mean = math.atan2(sum(math.sin(t) for t in times), sum(math.cos(t) for t in times))
    n = len(times)
    sine = sum(math.sin(p * (t - mean)) for t in times) / n
    cosine = sum(math.cos(p * (t - mean)) for t in times) / n
    return math.sqrt(sine * sine + cosine * cosine)


def _kappa(times: Sequence[float], k: int, upper: float) -> float:
    """The κ where the von Mises k-th moment I_k(κ)/I_0(κ) meets the sample's; 0 if none."""
    moment = _trigonometric_moment(times, k)

    def difference(kappa: float) -> float:
        return bessel_i_scaled(k, kappa) / bessel_i_scaled(0, kappa) - moment

    if difference(KAPPA_LOWER) * difference(upper) > 0:
        return 0.0
    return find_root(difference, KAPPA_LOWER, upper)


def bandwidth(times: Sequence[float], kmax: int = KMAX, upper: float = KAPPA_UPPER) -> float | None:
    """overlap's getBandWidth: the von Mises kernel's concentration for these times, or None
    where no κ can be estimated (then overlap gives NA). upper: where the search for κ ends."""
    kappa = max(_kappa(times, k, upper) for k in range(1, kmax + 1))
    if kappa <= 0:
        return None
    # I_2(2κ)/I_0(κ)² with the e^2κ of both sides cancelled: no overflow up to κ = 345.
    ratio = bessel_i_scaled(2, 2 * kappa) / bessel_i_scaled(0, kappa) ** 2
    return (3 * len(times) * kappa**2 * ratio / (4 * math.sqrt(math.pi))) ** (2 / 5)


def density(times: Sequence[float], at: Sequence[float], concentration: float) -> list[float]:
    """overlap's densityFit: the von Mises kernel density of the times, at each point."""
    # Local times are whole minutes: each distinct time once, weighted by how often it was
    # seen, costs at most 1,440 kernels a point however many detections there are.
    counts = Counter(times)
    scale = len(times) * TWO_PI * bessel_i_scaled(0, concentration)
    values = []
    for point in at:
        total = 0.0
        for time, count in counts.items():
            # overlap's C code: pow(exp(cos(d) - 1), h), which cannot overflow.
            total += count * math.exp(math.cos(point - time) - 1) ** concentration
        values.append(total / scale)
    return values


def grid(points: int = N_GRID) -> list[float]:
    """R's seq(0, 2*pi, length = points): both ends exact."""
    step = TWO_PI / (points - 1)
    return [0.0] + [i * step for i in range(1, points - 1)] + [TWO_PI]


def _interpolate(xs: Sequence[float], ys: Sequence[float], at: float) -> float:
    """R's approx: linear interpolation between the nearest points of an increasing xs."""
    j = min(max(bisect_right(xs, at), 1), len(xs) - 1)
    i = j - 1
    if at == xs[j]:
        return ys[j]
    if at == xs[i]:
        return ys[i]
    return ys[i] + (ys[j] - ys[i]) * ((at - xs[i]) / (xs[j] - xs[i]))


def overlap_estimates(
    a: Sequence[float],
    b: Sequence[float],
    kmax: int = KMAX,
    adjust: dict[str, float] | None = None,
    n_grid: int = N_GRID,
) -> dict[str, float] | None:
    """overlap's overlapEst(A, B) with type "all": {"Dhat1", "Dhat4", "Dhat5"}, or None where
    a bandwidth cannot be estimated (overlap's NA)."""
    adjust = ADJUST | (adjust or {})
    bandwidth_a, bandwidth_b = bandwidth(a, kmax), bandwidth(b, kmax)
    if bandwidth_a is None or bandwidth_b is None:
        return None
    points = grid(n_grid)

    def curves(name: str, at: Sequence[float]) -> tuple[list[float], list[float]]:
        return (
            density(a, at, bandwidth_a / adjust[name]),
            density(b, at, bandwidth_b / adjust[name]),
        )

    on_grid_a, on_grid_b = curves("Dhat1", points)
    # The grid's last point is its first again: drop one, then scale each curve to sum to 1.
    grid_a, grid_b = on_grid_a[1:], on_grid_b[1:]
    sum_a, sum_b = sum(grid_a), sum(grid_b)
    dhat1 = sum(min(x / sum_a, y / sum_b) for x, y in zip(grid_a, grid_b, strict=True))
    at_a, at_b = _at_observations(a, b, points, curves, "Dhat4")
    dhat4 = (
        sum(min(1, y / x) for x, y in at_a) / len(a) + sum(min(1, x / y) for x, y in at_b) / len(b)
    ) / 2
    at_a, at_b = _at_observations(a, b, points, curves, "Dhat5")
    dhat5 = sum(y > x for x, y in at_a) / len(a) + sum(x >= y for x, y in at_b) / len(b)
    return {"Dhat1": dhat1, "Dhat4": dhat4, "Dhat5": dhat5}


def _at_observations(
    a: Sequence[float],
    b: Sequence[float],
    points: list[float],
    curves: Callable[[str, Sequence[float]], tuple[list[float], list[float]]],
    name: str,
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Both densities (A's, B's) at A's observations and at B's, as overlapEst takes them:
    interpolated from the grid when there are more than 1.1 grid's worth of observations."""
    everything = [*a, *b]
    if len(everything) > len(points) * 1.1:
        grid_a, grid_b = curves(name, points)
        density_a = [_interpolate(points, grid_a, t) for t in everything]
        density_b = [_interpolate(points, grid_b, t) for t in everything]
    else:
        density_a, density_b = curves(name, everything)
    pairs = list(zip(density_a, density_b, strict=True))
    return pairs[: len(a)], pairs[len(a) :]


def recommended_estimator(size_a: int, size_b: int) -> str:
    """The estimator the overlap vignette recommends for these sample sizes."""
    return "Dhat4" if min(size_a, size_b) > DHAT4_ABOVE else "Dhat1"


@dataclass(frozen=True)
class Overlap:
    """The coefficient of overlapping as reported: the estimate the sample sizes call for,
    with every estimator's value beside it."""

    estimator: str
    value: float
    estimates: dict[str, float]


def overlap(a: Sequence[float], b: Sequence[float]) -> Overlap | None:
    """The overlap of two samples of times, by the recommended estimator; None if either
    sample's bandwidth cannot be estimated."""
    estimates = overlap_estimates(a, b)
    if estimates is None:
        return None
    estimator = recommended_estimator(len(a), len(b))
    return Overlap(estimator, estimates[estimator], estimates)


def can_fit(times: Sequence[float]) -> bool:
    """Whether a density can be drawn: overlap's checkInput wants two different times."""
    return len(set(times)) >= 2


def hourly_counts(times: Sequence[float]) -> list[int]:
    """camtrapR's activityHistogram: records per hour of the day, 0 to 23."""
    counts = [0] * 24
    for time in times:
        counts[min(int(time / TWO_PI * 24), 23)] += 1
    return counts


def sun_time(
    clock: float, day: dt.date, utc_offset_hours: float, latitude: float, longitude: float
) -> float | None:
    """overlap's sunTime for one observation: its clock time in radians at the station,
    mapped so that sunrise is π/2 and sunset 3π/2 on that date; None where the sun does not
    rise or set that day."""
    sunrise = sun.sunrise_sunset(day, utc_offset_hours, latitude, longitude, "sunrise")
    sunset = sun.sunrise_sunset(day, utc_offset_hours, latitude, longitude, "sunset")
    if sunrise is None or sunset is None:
        return None
    rise, set_ = sunrise * TWO_PI, sunset * TWO_PI
    is_day = rise < clock < set_
    day_length = set_ - rise
    start = rise if is_day else set_
    span = day_length if is_day else TWO_PI - day_length
    start_sun = math.pi / 2 if is_day else 3 * math.pi / 2
    since = (clock - start + TWO_PI) % TWO_PI
    return (start_sun + since / span * math.pi) % TWO_PI
