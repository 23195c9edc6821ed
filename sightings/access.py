"""Who may see and do what: the one place that decides it, for every page, export, command
and the API.

A user holds roles in teams (Membership). With its own team's data a role allows the actions
in OWN_TEAM_ROLES; other teams' data anyone may only view, and only what was approved
(SHARED_STATUSES): approved sightings, the images of their events, and their stations, which
are shown on a grid where a sensitive species lives (protection.py). Site admins see and
manage everything (SITE_ADMIN_ACTIONS). README.md ("Who may do what") shows the same table.

Each team's admins narrow what other teams receive with three sharing rules (_released): an
embargo (Team.embargo_months), stations kept to the team (Location.is_shared), and a list of
the teams it shares with (Team.shares_with, empty: every team). What the rules withhold is
answered 404, as if it did not exist; what only waits for review, 403.

Views fetch objects with the get_<object>_for_user helpers, and lists start from the
querysets here; coordinates reach pages, exports and JSON only through place() and places().
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone

from sightings import protection
from sightings.models import (
    Deployment,
    Event,
    Individual,
    Location,
    Media,
    Membership,
    Sighting,
    Team,
    UploadBatch,
)


class Action(StrEnum):
    VIEW = "view"  # see the data, at any review status
    UPLOAD = "upload"  # add images to a deployment, retry failed ones, answer folder names
    NAME = "name"  # name what events show; create and edit the team's individuals
    REVIEW = "review"  # approve, return or reject sightings
    MANAGE = "manage"  # the team's members, locations, deployments and sharing
    IMPORT = "import"  # import a Camtrap DP package into the team's data


Role = Membership.Role
# The roles that may do each action with their own team's data.
OWN_TEAM_ROLES = {
    Action.VIEW: frozenset({Role.UPLOADER, Role.REVIEWER, Role.ADMIN}),
    Action.UPLOAD: frozenset({Role.UPLOADER}),
    Action.NAME: frozenset({Role.UPLOADER, Role.REVIEWER}),
    Action.REVIEW: frozenset({Role.REVIEWER, Role.ADMIN}),
    Action.MANAGE: frozenset({Role.ADMIN}),
    # A package's images join the team's uploads, so its uploaders import.
    Action.IMPORT: frozenset({Role.UPLOADER}),
}
# Site admins see everything and may manage every team; uploading, naming and reviewing stay
# with each team's own members, so that no approval comes from outside the team.
# Site admins also import packages for a team: bringing a team's data from another
# platform is running the installation, and names no sighting or approval of the team's.
SITE_ADMIN_ACTIONS = frozenset({Action.VIEW, Action.MANAGE, Action.IMPORT})
# What other teams see of a team's sightings (and of their images and stations).
SHARED_STATUSES = frozenset({Sighting.Review.APPROVED})


@dataclass(frozen=True)
class Viewer:
    """A user's roles, read once: {team id: roles}, and whether they run the site."""

    roles: dict[int, frozenset[str]]
    is_site_admin: bool = False

    @classmethod
    def of(cls, user) -> Viewer:
        if not user.is_authenticated or not user.is_active:
            return cls({})
        roles: dict[int, set[str]] = {}
        for team, role in Membership.objects.filter(user=user).values_list("team_id", "role"):
            roles.setdefault(team, set()).add(role)
        return cls({team: frozenset(held) for team, held in roles.items()}, user.is_superuser)

    def teams(self, action: Action = Action.VIEW) -> set[int]:
        """The teams where the viewer holds a role that allows the action."""
        return {team for team, held in self.roles.items() if held & OWN_TEAM_ROLES[action]}

    def everywhere(self, action: Action = Action.VIEW) -> bool:
        """Whether the viewer may do the action with every team's data (a site admin)."""
        return self.is_site_admin and action in SITE_ADMIN_ACTIONS

    def may(self, action: Action, team_id: int) -> bool:
        """Whether the viewer may do this with the data of this team as its own."""
        held = self.roles.get(team_id, frozenset())
        return self.everywhere(action) or bool(held & OWN_TEAM_ROLES[action])

    @cached_property
    def senders(self) -> dict[dt.datetime | None, list[int]]:
        """The teams that share with this viewer, grouped by the time their records must be
        older than (None: no embargo). Read once: there are tens of teams, not thousands."""
        listed = Team.shares_with.through.objects.filter(from_team=OuterRef("pk"))
        teams = Team.objects.filter(
            ~Exists(listed) | Exists(listed.filter(to_team__in=self.teams()))
        ).values_list("pk", "embargo_months")
        now = timezone.now()
        found: dict[dt.datetime | None, list[int]] = {}
        for team, months in teams:
            found.setdefault(_months_before(now, months) if months else None, []).append(team)
        return found


def viewer(request: HttpRequest) -> Viewer:
    """The request's viewer, read once per request."""
    if not hasattr(request, "_viewer"):
        request._viewer = Viewer.of(request.user)
    return request._viewer


# What a viewer may see: the querysets every list, map and export starts from.


def _released(viewer: Viewer, location: str, time: str) -> Q:
    """The sharing rules, on the fields named: at a shared station of a team that shares with
    one of the viewer's teams, and older than that team's embargo."""
    released = Q(pk__in=[])  # no team shares with the viewer: nothing
    for cutoff, teams in viewer.senders.items():
        stations = Location.objects.filter(team__in=teams, is_shared=True)
        rule = Q(**{f"{location}__in": stations})
        if cutoff is not None:
            rule &= Q(**{f"{time}__lt": cutoff})
        released |= rule
    return released


def _months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day and time months earlier (the month's last day where it is shorter)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _shared_sightings(viewer: Viewer) -> QuerySet[Sighting]:
    """Other teams' sightings this viewer receives: approved, and released by their rules.
    Everything else another team sees (images, stations, deployments) follows from these."""
    return Sighting.objects.filter(
        _released(viewer, "location", "observed_at"), review_status__in=SHARED_STATUSES
    )


def sightings(viewer: Viewer) -> QuerySet[Sighting]:
    """The viewer's teams' sightings at any review status, and other teams' shared ones."""
    if viewer.everywhere():
        return Sighting.objects.all()
    own = Location.objects.filter(team__in=viewer.teams())
    shared = Q(review_status__in=SHARED_STATUSES) & _released(viewer, "location", "observed_at")
    return Sighting.objects.filter(Q(location__in=own) | shared)


def to_review(viewer: Viewer) -> QuerySet[Sighting]:
    """Named sightings waiting for review in the teams where the viewer reviews."""
    return Sighting.objects.filter(
        location__team__in=viewer.teams(Action.REVIEW),
        review_status=Sighting.Review.PENDING,
        species__isnull=False,
    )


def returned_to(viewer: Viewer, user) -> QuerySet[Sighting]:
    """What reviewers sent back to this user, in the teams where they may fix it."""
    return Sighting.objects.filter(
        location__team__in=viewer.teams(Action.NAME),
        review_status=Sighting.Review.RETURNED,
        classified_by=user,
    )


def media(viewer: Viewer) -> QuerySet[Media]:
    """The viewer's teams' images, and other teams' images in events with a shared sighting."""
    if viewer.everywhere():
        return Media.objects.all()
    shared = _shared_sightings(viewer).filter(event=OuterRef("event"))
    return Media.objects.filter(Q(deployment__location__team__in=viewer.teams()) | Exists(shared))


def locations(viewer: Viewer) -> QuerySet[Location]:
    """The viewer's teams' stations, and other teams' stations with shared sightings."""
    if viewer.everywhere():
        return Location.objects.all()
    shared = _shared_sightings(viewer).filter(location=OuterRef("pk"))
    return Location.objects.filter(Q(team__in=viewer.teams()) | Exists(shared))


def deployments(viewer: Viewer, action: Action = Action.VIEW) -> QuerySet[Deployment]:
    """The deployments of the viewer's teams where it may do the action. Other teams'
    deployments are seen only through their shared sightings (shared_deployments)."""
    if viewer.everywhere(action):
        return Deployment.objects.all()
    return Deployment.objects.filter(location__team__in=viewer.teams(action))


def shared_deployments(viewer: Viewer) -> QuerySet[Deployment]:
    """The viewer's teams' deployments, and other teams' ones with shared sightings: what the
    browser's deployment filter may name."""
    if viewer.everywhere():
        return Deployment.objects.all()
    shared = _shared_sightings(viewer).filter(event__deployment=OuterRef("pk"))
    return Deployment.objects.filter(Q(location__team__in=viewer.teams()) | Exists(shared))


def teams(viewer: Viewer, action: Action) -> QuerySet[Team]:
    """The teams where the viewer may do the action with the team's own data."""
    if viewer.everywhere(action):
        return Team.objects.all()
    return Team.objects.filter(pk__in=viewer.teams(action))


def individual_sightings(viewer: Viewer) -> QuerySet[Sighting]:
    """The sightings naming an individual this viewer may see, less the rejected ones: a
    reviewer who rejected one said the animal was not (or not surely) that individual."""
    return (
        sightings(viewer)
        .filter(individual__isnull=False)
        .exclude(review_status=Sighting.Review.REJECTED)
    )


def individuals(viewer: Viewer) -> QuerySet[Individual]:
    """The catalogue of individuals, one for all teams, so every viewer sees every one; each
    with the number of its sightings (sighting_count) and of the countries they were in
    (country_count) that this viewer may see."""
    shown = individual_sightings(viewer).filter(individual=OuterRef("pk")).order_by()
    shown = shown.values("individual")
    counted = shown.annotate(n=Count("pk")).values("n")
    countries = shown.annotate(n=Count("location__country", distinct=True)).values("n")
    return Individual.objects.annotate(
        sighting_count=Coalesce(Subquery(counted), 0),
        country_count=Coalesce(Subquery(countries), 0),
    )


# One object, for a view: 404 if there is none, 403 if this viewer may not do the action.


def get_location_for_user(request: HttpRequest, pk: int, action: Action = Action.VIEW) -> Location:
    location = get_object_or_404(Location.objects.select_related("team"), pk=pk)
    _require(request, action, location.team_id)
    return location


def get_deployment_for_user(
    request: HttpRequest, pk: int, action: Action = Action.VIEW
) -> Deployment:
    deployment = get_object_or_404(Deployment.objects.select_related("location__team"), pk=pk)
    _require(request, action, deployment.location.team_id)
    return deployment


def get_batch_for_user(request: HttpRequest, pk: int, action: Action = Action.VIEW) -> UploadBatch:
    batch = get_object_or_404(
        UploadBatch.objects.select_related("deployment__location__team", "uploaded_by"), pk=pk
    )
    _require(request, action, batch.deployment.location.team_id)
    return batch


def get_event_for_user(request: HttpRequest, pk: int, action: Action = Action.VIEW) -> Event:
    """An event page shows everything of the event: for its own team only."""
    event = get_object_or_404(Event.objects.select_related("deployment__location__team"), pk=pk)
    _require(request, action, event.deployment.location.team_id)
    return event


def get_media_for_user(request: HttpRequest, pk: int, action: Action = Action.VIEW) -> Media:
    media = get_object_or_404(
        Media.objects.select_related("deployment__location__team", "batch"), pk=pk
    )
    team, seen = media.deployment.location.team_id, viewer(request)
    if action == Action.VIEW and not seen.may(action, team):
        if _is_shared_media(seen, media):
            return media
        _withheld(Media.objects.filter(pk=pk), seen, "deployment__location", "captured_at")
    _require(request, action, team)
    return media


def get_sighting_for_user(request: HttpRequest, pk: int, action: Action = Action.VIEW) -> Sighting:
    related = (
        "species",
        "individual",
        "location__team",
        "event__deployment__location",
        "classified_by",
    )
    sighting = get_object_or_404(Sighting.objects.select_related(*related), pk=pk)
    team, seen = sighting.location.team_id, viewer(request)
    if action == Action.VIEW and not seen.may(action, team):
        _withheld(Sighting.objects.filter(pk=pk), seen, "location", "observed_at")
        if sighting.review_status in SHARED_STATUSES:
            return sighting
    _require(request, action, team)
    return sighting


def get_team_for_user(request: HttpRequest, pk: int, action: Action = Action.VIEW) -> Team:
    team = get_object_or_404(Team, pk=pk)
    _require(request, action, team.pk)
    return team


def get_individual_for_user(
    request: HttpRequest, pk: int, action: Action = Action.VIEW
) -> Individual:
    """Individuals are one catalogue for all teams; the team that named one edits it."""
    found = individuals(viewer(request)).select_related("species", "team")
    individual = get_object_or_404(found, pk=pk)
    if action != Action.VIEW:
        _require(request, action, individual.team_id)
    return individual


def sees_details(request: HttpRequest) -> bool:
    """Whether the request's user sees the technical side of failures and warnings (the
    library's message, sizes, server paths): site admins only; everyone else reads the
    sentence that says what happened."""
    return viewer(request).is_site_admin


def may(request: HttpRequest, action: Action, team_id: int) -> bool:
    """Whether this request's user may do the action with this team's own data."""
    return viewer(request).may(action, team_id)


def _require(request: HttpRequest, action: Action, team_id: int) -> None:
    if not viewer(request).may(action, team_id):
        raise PermissionDenied


def _is_shared_media(viewer: Viewer, media: Media) -> bool:
    return (
        media.event_id is not None
        and _shared_sightings(viewer).filter(event=media.event_id).exists()
    )


def _withheld(found: QuerySet, viewer: Viewer, location: str, time: str) -> None:
    """404 for another team's object the sharing rules keep from this viewer: not even its
    existence is told."""
    if not found.filter(_released(viewer, location, time)).exists():
        raise Http404


# Where things are, as this viewer may know it.


@dataclass(frozen=True)
class Place:
    """A station's coordinates as a viewer may see them; generalised: on the grid only."""

    latitude: float | None
    longitude: float | None
    generalised: bool = False


def places(viewer: Viewer, among: Iterable[int] | None = None) -> dict[int, Place]:
    """Every station's place (of those among, if given) as this viewer may see it."""
    rows = Location.objects.order_by().values_list(
        "pk", "team_id", "latitude", "longitude", "has_sensitive_species"
    )
    if among is not None:
        rows = rows.filter(pk__in=set(among))
    own = viewer.teams()
    found = {}
    for pk, team, latitude, longitude, sensitive in rows.iterator(chunk_size=10_000):
        found[pk] = _place(viewer, team in own, sensitive, latitude, longitude)
    return found


def place(viewer: Viewer, location: Location) -> Place:
    own = location.team_id in viewer.teams()
    return _place(
        viewer, own, location.has_sensitive_species, location.latitude, location.longitude
    )


def _place(
    viewer: Viewer, own: bool, sensitive: bool, latitude: float | None, longitude: float | None
) -> Place:
    if sensitive and not own and not viewer.everywhere():
        return Place(*protection.generalised(latitude, longitude), generalised=True)
    return Place(latitude, longitude)


def image_place(viewer: Viewer, media: Media) -> tuple[float, float, float | None] | None:
    """The GPS position an image's file states, or None where the viewer may not learn it."""
    if place(viewer, media.deployment.location).generalised or media.gps_latitude is None:
        return None
    return media.gps_latitude, media.gps_longitude, media.gps_altitude
