"""Sunrise and sunset at a station on a date, for activity in sun time (activity.sun_time).

NOAA's solar calculator equations (Meeus, Astronomical Algorithms), step for step as the R
package suntools computes sunriset() (github.com/adokter/suntools, R/sun.R at 7a1777a), which
overlap's sunTime calls: a first estimate from the date's noon, then one correction at that
time; 0.833° of refraction at the horizon. Our own few lines rather than a library such as
astral: astral's iteration differs in the last seconds, and sun time should come out as
overlap's does.
"""

from __future__ import annotations

import datetime as dt
import math


def sunrise_sunset(
    day: dt.date, utc_offset_hours: float, latitude: float, longitude: float, which: str
) -> float | None:
    """The local clock time of sunrise ("sunrise") or sunset ("sunset") as a fraction of
    the day, for a clock utc_offset_hours ahead of UTC; None where the sun stays up or down."""
    latitude = min(max(latitude, -89.8), 89.8)
    west = -longitude  # the equations count longitude positive to the west
    century = _centuries(_julian_day(day))
    minutes = _utc_minutes(century, latitude, west, which)
    if minutes is None:
        return None
    # Once more, with the sun's place at the first estimate's time.
    minutes = _utc_minutes(_centuries(_julian_day(day) + minutes / 1440), latitude, west, which)
    if minutes is None:
        return None
    return (minutes + 60 * utc_offset_hours) / 1440


def _utc_minutes(century: float, latitude: float, west: float, which: str) -> float | None:
    angle = _hour_angle(latitude, _declination(century))
    if angle is None:
        return None
    if which == "sunset":
        angle = -angle
    return 720 + 4 * (west - math.degrees(angle)) - _equation_of_time(century)


def _julian_day(day: dt.date) -> float:
    """The Julian day of the date's 0h UT (suntools' .julianD)."""
    year, month = day.year, day.month
    if month <= 2:
        year, month = year - 1, month + 12
    a = math.floor(year / 100)
    b = 2 - a + math.floor(a / 4)
    return (
        math.floor(365.25 * (year + 4716))
        + math.floor(30.6001 * (month + 1))
        + day.day
        + b
        - 1524.5
    )


def _centuries(julian_day: float) -> float:
    return (julian_day - 2451545) / 36525


def _mean_longitude(t: float) -> float:
    longitude = 280.46646 + t * (36000.76983 + 0.0003032 * t)
    return longitude % 360 if not 0 <= longitude <= 360 else longitude


def _mean_anomaly(t: float) -> float:
    return 357.52911 + t * (35999.05029 - 1.537e-4 * t)


def _eccentricity(t: float) -> float:
    return 0.016708634 - t * (4.2037e-5 + 1.267e-7 * t)


def _apparent_longitude(t: float) -> float:
    m = math.radians(_mean_anomaly(t))
    centre = (
        math.sin(m) * (1.914602 - t * (4.817e-3 + 1.4e-5 * t))
        + math.sin(2 * m) * (1.9993e-2 - 1.01e-4 * t)
        + math.sin(3 * m) * 2.89e-4
    )
    omega = 125.04 - 1934.136 * t
    return _mean_longitude(t) + centre - 0.00569 - 0.00478 * math.sin(math.radians(omega))


def _obliquity(t: float) -> float:
    seconds = 21.448 - t * (46.815 + t * (5.9e-4 - t * 0.001813))
    mean = 23 + (26 + seconds / 60) / 60
    return mean + 0.00256 * math.cos(math.radians(125.04 - 1934.136 * t))


def _declination(t: float) -> float:
    sine = math.sin(math.radians(_obliquity(t))) * math.sin(math.radians(_apparent_longitude(t)))
    return math.degrees(math.asin(sine))


def _equation_of_time(t: float) -> float:
    """Minutes between true and mean solar time."""
    epsilon, l0 = math.radians(_obliquity(t)), math.radians(_mean_longitude(t))
    e, m = _eccentricity(t), math.radians(_mean_anomaly(t))
    y = math.tan(epsilon / 2) ** 2
    value = (
        y * math.sin(2 * l0)
        - 2 * e * math.sin(m)
        + 4 * e * y * math.sin(m) * math.cos(2 * l0)
        - 0.5 * y * y * math.sin(4 * l0)
        - 1.25 * e * e * math.sin(2 * m)
    )
    return math.degrees(value) * 4


def _hour_angle(latitude: float, declination: float) -> float | None:
    """The sun's hour angle at sunrise, in radians; None in polar day or night."""
    lat, dec = math.radians(latitude), math.radians(declination)
    argument = math.cos(math.radians(90.833)) / (math.cos(lat) * math.cos(dec)) - math.tan(
        lat
    ) * math.tan(dec)
    if abs(argument) >= 1:
        return None
    return math.acos(argument)
