"""Individuals across the border: where each was recorded, as a viewer may see it, and telling
the teams when one is first recorded in another country.

A country counts once an approved sighting there names the individual (IndividualCountry,
one row per individual and country). Its teams are told by a notice on their notifications
page and an e-mail: the members of every team whose approved sightings recorded it, and of
the team that named it. A notice says the individual, its species, the country and the date,
and links to the individual's page, where each reader sees only what the access layer lets
them: never a protected station's place, nor what waits for review.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from sightings import access
from sightings.models import (
    Country,
    CrossBorderNotice,
    Individual,
    IndividualCountry,
    Location,
    NotificationSettings,
    Sighting,
)

logger = logging.getLogger(__name__)


# What a viewer sees of individuals: counted from the sightings it may see.


def countries_of(individual_ids: list[int], viewer: access.Viewer) -> dict[int, list[str]]:
    """Each individual's countries (their names) as this viewer sees its records."""
    labels = dict(Country.choices)
    pairs = (
        access.individual_sightings(viewer)
        .filter(individual__in=individual_ids)
        .order_by()
        .values_list("individual_id", "location__country")
        .distinct()
    )
    found: dict[int, set[str]] = {}
    for individual, country in pairs:
        found.setdefault(individual, set()).add(str(labels[country]))
    return {individual: sorted(names) for individual, names in found.items()}


# An individual's page: its detections by date, its stations, who recorded it and where.


@dataclass
class Station:
    location: Location
    place: access.Place
    count: int = 0


@dataclass
class Day:
    date: dt.date
    sightings: list[Sighting] = field(default_factory=list)


@dataclass
class Mark:
    """A detection on the timeline's axis: where, in percent of the span from the first
    detection to the last, and x, the same within the axis drawn (its ends leave room)."""

    percent: float
    sighting: Sighting

    @property
    def x(self) -> float:
        return 2 + 0.96 * self.percent


@dataclass
class Recorder:
    """A country that recorded the individual, and its teams that did."""

    country: str  # the code, e.g. "CN"
    label: str
    teams: list[str]


def detections(individual: Individual, viewer: access.Viewer) -> list[Sighting]:
    """The individual's sightings this viewer may see, oldest first."""
    return list(
        access.individual_sightings(viewer)
        .filter(individual=individual)
        .select_related("event__deployment", "location__team", "species")
        .order_by("observed_at", "pk")
    )


def by_day(sightings: list[Sighting]) -> list[Day]:
    """The sightings grouped by their local date (the station's), oldest first."""
    days: list[Day] = []
    for sighting in sightings:
        if not days or days[-1].date != sighting.local_date:
            days.append(Day(sighting.local_date))
        days[-1].sightings.append(sighting)
    return days


def marks(sightings: list[Sighting]) -> list[Mark]:
    """Each sighting's position between the first and the last, in percent (a lone one, or
    several at one instant, in the middle)."""
    if not sightings:
        return []
    start, end = sightings[0].observed_at, sightings[-1].observed_at
    span = (end - start).total_seconds()
    return [
        Mark(round(100 * (s.observed_at - start).total_seconds() / span, 2) if span else 50.0, s)
        for s in sightings
    ]


def stations(sightings: list[Sighting], viewer: access.Viewer) -> list[Station]:
    """The stations of these sightings with their places as this viewer may see them."""
    places = access.places(viewer, {s.location_id for s in sightings})
    found: dict[int, Station] = {}
    for sighting in sightings:
        station = found.setdefault(
            sighting.location_id, Station(sighting.location, places[sighting.location_id])
        )
        station.count += 1
    return sorted(found.values(), key=lambda station: station.location.name)


def recorded_by(sightings: list[Sighting]) -> list[Recorder]:
    """The countries that recorded the individual, each with the names of its teams."""
    teams: dict[str, set[str]] = {}
    for sighting in sightings:
        teams.setdefault(sighting.location.country, set()).add(sighting.location.team.name)
    labels = dict(Country.choices)
    found = [Recorder(code, str(labels[code]), sorted(names)) for code, names in teams.items()]
    return sorted(found, key=lambda recorder: recorder.label)


# Telling the teams.


def note_approval(sighting_id: int) -> IndividualCountry | None:
    """Record the country of a sighting just approved, if it names an individual not yet
    recorded there, and tell the teams if it was recorded in another country before.

    Called by classification.review inside the approving transaction, not by a task after
    it: the country is claimed and the notices written by the approval itself, so none is
    lost with a message, none sent for an approval that rolled back, and approvals of one
    individual in two countries at once are ordered by a row lock instead of each missing
    the other. Only the e-mails wait for the commit (send_email, by a task).
    """
    found = Sighting.objects.filter(
        pk=sighting_id, review_status=Sighting.Review.APPROVED, individual__isnull=False
    ).values_list("individual_id", "location__country")
    if not found:
        return None
    individual_id, country = found[0]
    # The later of two such approvals waits here for the earlier to commit; READ COMMITTED
    # then shows it that approval and the country it recorded.
    individual = Individual.objects.select_for_update().get(pk=individual_id)
    known = set(individual.countries.values_list("country", flat=True))
    if country in known:
        return None
    earlier = _approved(individual).exclude(pk=sighting_id)
    approved = set(earlier.values_list("location__country", flat=True))
    _record_quietly(individual, approved - known)
    if country in approved:
        return None  # approved here before, through no review: no news
    record = _record(individual, country)
    if known | approved:
        _tell(record)
    return record


def _approved(individual: Individual) -> QuerySet[Sighting]:
    return Sighting.objects.filter(individual=individual, review_status=Sighting.Review.APPROVED)


def _record(individual: Individual, country: str) -> IndividualCountry:
    first = (
        _approved(individual)
        .filter(location__country=country)
        .order_by("observed_at", "pk")
        .values_list("pk", "local_date")[0]
    )
    return IndividualCountry.objects.create(
        individual=individual, country=country, sighting_id=first[0], observed_on=first[1]
    )


def _record_quietly(individual: Individual, countries: set[str]) -> None:
    """Record countries whose approvals did not come through review (direct edits): they
    are not news, and a later approval there must not be told as if it were."""
    for country in countries:
        _record(individual, country)


def _tell(record: IndividualCountry) -> None:
    """A notice for every member of the teams concerned who may see the sighting that
    recorded it (an embargo or a station kept to its team may hide it from some), and its
    e-mail, sent once the approval commits."""
    from sightings import tasks  # tasks run this module's functions

    individual = record.individual
    recorders = Location.objects.filter(sightings__in=_approved(individual))
    teams = set(recorders.values_list("team", flat=True)) | {individual.team_id}
    people = get_user_model().objects.filter(is_active=True, memberships__team__in=teams)
    for user in people.distinct().order_by("pk"):
        if not access.sightings(access.Viewer.of(user)).filter(pk=record.sighting_id).exists():
            continue
        notice = CrossBorderNotice.objects.create(record=record, user=user)
        pending = CrossBorderNotice.objects.filter(pk=notice.pk)
        tasks.send_on_commit(tasks.email_cross_border, notice.pk, pending=pending)


def send_email(notice: CrossBorderNotice) -> bool:
    """E-mail one notice, unless its reader turned these off or has no address; return
    whether it was sent. Marked before it is sent, so that a task delivered twice sends it
    once; unmarked again if the mail server refused it."""
    claimed = CrossBorderNotice.objects.filter(pk=notice.pk, mailed_at=None)
    if not claimed.update(mailed_at=timezone.now()):
        return False
    user = notice.user
    wanted = not NotificationSettings.objects.filter(user=user, cross_border=False).exists()
    if not (wanted and user.email and user.is_active):
        return False
    try:
        send_mail(_subject(notice.record), _body(notice.record), None, [user.email])
    except (smtplib.SMTPException, OSError):
        # Not sent: unmarked, so the sweep sends its task again once the mail server answers.
        claimed.update(mailed_at=None)
        raise
    return True


def _subject(record: IndividualCountry) -> str:
    return _("NEASPEC camera-trap exchange: %(code)s recorded in %(country)s") % {
        "code": record.individual.code,
        "country": record.get_country_display(),
    }


def _body(record: IndividualCountry) -> str:
    individual = record.individual
    url = reverse("sightings:individual_detail", args=[individual.pk])
    return "\n".join([
        _("%(code)s (%(species)s, named by %(team)s) was recorded in %(country)s for the "
          "first time, on %(date)s.") % {
            "code": individual.code, "species": individual.species.common_name,
            "team": individual.team.name, "country": record.get_country_display(),
            "date": record.observed_on.isoformat(),
        },
        _("Its sightings: %(url)s") % {"url": settings.SITE_URL + url},
        "",
        _("To stop these e-mails: %(url)s")
        % {"url": settings.SITE_URL + reverse("sightings:notifications")},
    ])  # fmt: skip


def notices(user) -> QuerySet[CrossBorderNotice]:
    """A person's notices, newest first."""
    return CrossBorderNotice.objects.filter(user=user).select_related(
        "record__individual__species", "record__individual__team"
    )


def unseen_count(user) -> int:
    return CrossBorderNotice.objects.filter(user=user, seen_at=None).count()


def mark_seen(user) -> int:
    """Mark a person's notices seen (they have been shown); return how many were new."""
    return CrossBorderNotice.objects.filter(user=user, seen_at=None).update(seen_at=timezone.now())
