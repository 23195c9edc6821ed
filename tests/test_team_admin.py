"""A team's own pages (sightings/teams.py): who may change members, locations, deployments and
card habits; what each change does."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from sightings import folders
from sightings.models import (
    Deployment,
    FolderAnswer,
    Location,
    Membership,
    PendingGrouping,
    Species,
)

from .conftest import EVERYONE, OWN, SITE, wait_until

MANAGERS = ["cn-admin", "site-admin"]

LOCATION = {"name": "HC-08", "latitude": "43.1", "longitude": "130.9", "country": "CN"}
DEPLOYMENT = {
    "camera_make": "RECONYX", "camera_model": "HC500", "camera_serial": "H500-1",
    "start_at": "2009-04-01T00:00", "end_at": "2009-06-01T00:00", "time_zone": "Asia/Shanghai",
    "clock_correction_seconds": "0", "event_gap_seconds": "60",
}  # fmt: skip

# (what, method, URL, data, who may). The URLs name the Chinese team and its data.
CELLS = [
    ("see the team page", "get", "/teams/{team}/", {}, OWN + SITE),
    ("see regrouping", "get", "/teams/{team}/grouping/", {}, OWN + SITE),
    ("add a member", "post", "/teams/{team}/members/", "add", MANAGERS),
    ("invite", "post", "/teams/{team}/invitations/", "invite", MANAGERS),
    ("change roles", "post", "/teams/{team}/members/{uploader}/", "roles", MANAGERS),
    ("remove a member", "post", "/teams/{team}/members/{uploader}/", "remove", MANAGERS),
    ("open a new location", "get", "/teams/{team}/locations/new/", {}, MANAGERS),
    ("create a location", "post", "/teams/{team}/locations/new/", "location", MANAGERS),
    ("open a location", "get", "/locations/{location}/edit/", {}, MANAGERS),
    ("edit a location", "post", "/locations/{location}/edit/", "location", MANAGERS),
    ("open a new deployment", "get", "/teams/{team}/deployments/new/", {}, MANAGERS),
    ("create a deployment", "post", "/teams/{team}/deployments/new/", "deployment", MANAGERS),
    ("open a deployment", "get", "/deployments/{deployment}/edit/", {}, MANAGERS),
    ("edit a deployment", "post", "/deployments/{deployment}/edit/", "deployment", MANAGERS),
    ("change a folder answer", "post", "/teams/{team}/folder-answers/{answer}/", "answer",
     MANAGERS),
    ("forget a folder answer", "post", "/teams/{team}/folder-answers/{answer}/", "forget",
     MANAGERS),
]  # fmt: skip


@pytest.fixture
def world(viewers, cn_team, ru_team, cn_deployment, alice, site_admin) -> dict:
    users = dict(viewers)
    answer = FolderAnswer.objects.create(team=cn_team, name="PBE", species=None)
    return {
        "users": users,
        "team": cn_team.pk,
        "uploader": alice.pk,
        "location": cn_deployment.location_id,
        "deployment": cn_deployment.pk,
        "answer": answer.pk,
    }


def _data(kind, world: dict) -> dict:
    if not isinstance(kind, str):
        return kind
    return {
        "add": {"user": "ru-uploader", "role": "reviewer"},
        "invite": {"email": "new@example.org", "role": "uploader"},
        "roles": {"roles": ["uploader", "reviewer"]},
        "remove": {"remove": "1"},
        "location": LOCATION,
        "deployment": {**DEPLOYMENT, "location": world["location"], "event_gap_seconds": "90"},
        "answer": {"answer": "Leopard cat"},
        "forget": {"forget": "1"},
    }[kind]


def _state() -> tuple:
    """What any of the actions would change."""
    return (
        sorted(Membership.objects.values_list("user", "team", "role")),
        get_user_model().objects.count(),
        sorted(Location.objects.values_list("pk", "name", "latitude")),
        sorted(Deployment.objects.values_list("pk", "event_gap_seconds", "camera_model")),
        sorted(FolderAnswer.objects.values_list("pk", "species")),
        len(mail.outbox),
    )


@pytest.mark.parametrize("who", EVERYONE)
@pytest.mark.parametrize(
    ("what", "method", "url", "data", "allowed"), CELLS, ids=[cell[0] for cell in CELLS]
)
def test_who_may_do_what(client, world, who, what, method, url, data, allowed):
    client.force_login(world["users"][who])
    before = _state()
    response = getattr(client, method)(url.format(**world), _data(data, world))
    if who in allowed:
        assert response.status_code in (200, 302), (who, what)
        if method == "post":
            assert _state() != before, (who, what)
    else:
        assert response.status_code == 403, (who, what)
        assert _state() == before


@pytest.mark.parametrize("who", EVERYONE)
def test_the_team_list_shows_the_viewers_own_teams(client, world, who):
    client.force_login(world["users"][who])
    page = client.get("/teams/").content.decode()
    assert ("Hunchun" in page) == (who in OWN + SITE)
    assert ("Land of the Leopard" in page) == (who.startswith("ru-") or who in SITE)


def test_uploaders_see_locations_and_deployments_read_only(client, world):
    client.force_login(world["users"]["cn-uploader"])
    page = client.get(f"/teams/{world['team']}/").content.decode()
    assert "HC-07" in page
    assert "/edit/" not in page
    assert 'id="members"' not in page


def test_the_nav_links_members_to_their_team(client, world):
    client.force_login(world["users"]["cn-uploader"])
    assert 'href="/teams/"' in client.get("/").content.decode()
    client.force_login(world["users"]["no-team"])
    assert 'href="/teams/"' not in client.get("/").content.decode()


# Members


@pytest.fixture
def cn_admin(world):
    return world["users"]["cn-admin"]


def _roles(user, team_id: int) -> set[str]:
    return set(Membership.objects.filter(user=user, team=team_id).values_list("role", flat=True))


def test_an_existing_user_is_added_by_name_or_e_mail(client, world, cn_admin):
    client.force_login(cn_admin)
    client.post(
        f"/teams/{world['team']}/members/", {"user": "ru-admin@example.org", "role": "uploader"}
    )
    # Someone may belong to several teams, with different roles in each.
    assert _roles(world["users"]["ru-admin"], world["team"]) == {"uploader"}
    assert Membership.objects.filter(user=world["users"]["ru-admin"]).count() == 2
    response = client.post(
        f"/teams/{world['team']}/members/", {"user": "nobody", "role": "uploader"}, follow=True
    )
    assert "Nobody has that user name" in response.content.decode()


def test_an_invitation_mails_a_link_that_opens_the_account(client, world, cn_admin):
    client.force_login(cn_admin)
    client.post(
        f"/teams/{world['team']}/invitations/", {"email": "Li@Example.org", "role": "reviewer"}
    )
    invited = get_user_model().objects.get(email="Li@Example.org")
    assert (invited.is_active, invited.has_usable_password()) == (False, False)
    assert _roles(invited, world["team"]) == {"reviewer"}
    [message] = mail.outbox
    assert message.to == ["Li@Example.org"]
    assert "Hunchun" in message.subject
    link = re.search(r"http://testserver(/invitation/\S+/)", message.body).group(1)
    client.logout()
    form_url = client.get(link).url  # Django's view hides the token behind a redirect
    response = client.post(
        form_url, {"new_password1": "tiger-stripes-9", "new_password2": "tiger-stripes-9"}
    )
    assert response.status_code == 302
    invited.refresh_from_db()
    assert invited.is_active and invited.check_password("tiger-stripes-9")
    # The link works once.
    assert "no longer works" in client.get(link, follow=True).content.decode()


def test_inviting_someone_with_an_account_adds_them_without_mail(client, world, cn_admin):
    client.force_login(cn_admin)
    client.post(
        f"/teams/{world['team']}/invitations/",
        {"email": "ru-admin@example.org", "role": "reviewer"},
    )
    assert _roles(world["users"]["ru-admin"], world["team"]) == {"reviewer"}
    assert mail.outbox == []


def test_roles_are_changed_and_members_removed(client, world, cn_admin):
    client.force_login(cn_admin)
    alice = world["users"]["cn-uploader"]
    url = f"/teams/{world['team']}/members/{alice.pk}/"
    client.post(url, {"roles": ["reviewer", "admin"]})
    assert _roles(alice, world["team"]) == {"reviewer", "admin"}
    client.post(url, {"remove": "1"})
    assert _roles(alice, world["team"]) == set()


def test_the_last_team_admin_stays(client, world, cn_admin):
    client.force_login(cn_admin)
    url = f"/teams/{world['team']}/members/{cn_admin.pk}/"
    response = client.post(url, {"remove": "1"}, follow=True)
    assert "needs a team admin" in response.content.decode()
    client.post(url, {"roles": ["uploader"]})
    assert _roles(cn_admin, world["team"]) == {"admin"}
    # With a second admin, the first may go.
    alice = world["users"]["cn-uploader"]
    client.post(f"/teams/{world['team']}/members/{alice.pk}/", {"roles": ["admin"]})
    client.post(url, {"remove": "1"})
    assert _roles(cn_admin, world["team"]) == set()


def test_a_user_of_another_team_cannot_be_changed_through_this_one(client, world, cn_admin):
    client.force_login(cn_admin)
    ru_admin = world["users"]["ru-admin"]
    response = client.post(f"/teams/{world['team']}/members/{ru_admin.pk}/", {"remove": "1"})
    assert response.status_code == 404
    assert _roles(ru_admin, ru_admin.memberships.get().team_id) == {"admin"}


# Locations and deployments


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"latitude": "91"}, "less than or equal to 90"),
        ({"longitude": "-181"}, "greater than or equal to -180"),
        ({"name": "hc-07"}, "has a location of that name"),
    ],
)
def test_locations_are_validated(client, world, cn_admin, change, error):
    client.force_login(cn_admin)
    response = client.post(f"/teams/{world['team']}/locations/new/", {**LOCATION, **change})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert Location.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"time_zone": "Mars/Olympus"}, "is not an IANA time zone name"),
        ({"end_at": "2009-03-01T00:00"}, "The end must come after the start."),
        ({"event_gap_seconds": "0"}, "greater than or equal to 1"),
    ],
)
def test_deployments_are_validated(client, world, cn_admin, change, error):
    client.force_login(cn_admin)
    data = {**DEPLOYMENT, "location": world["location"], **change}
    response = client.post(f"/teams/{world['team']}/deployments/new/", data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert Deployment.objects.count() == 1


def test_a_deployment_goes_only_to_the_teams_own_locations(client, world, cn_admin, ru_deployment):
    client.force_login(cn_admin)
    data = {**DEPLOYMENT, "location": ru_deployment.location_id}
    response = client.post(f"/teams/{world['team']}/deployments/new/", data)
    assert response.status_code == 200
    assert not Deployment.objects.filter(location=ru_deployment.location, camera_model="HC500")


def test_a_camera_change_does_not_regroup(client, world, cn_admin):
    client.force_login(cn_admin)
    deployment = Deployment.objects.get(pk=world["deployment"])
    data = {**DEPLOYMENT, "location": world["location"], "start_at": "2009-04-01T00:00"}
    client.post(f"/deployments/{deployment.pk}/edit/", data)
    deployment.refresh_from_db()
    assert deployment.camera_model == "HC500"
    assert not PendingGrouping.objects.exists()


# Card habits


def test_the_team_page_lists_and_edits_folder_answers(client, world, cn_admin):
    client.force_login(cn_admin)
    answer_url = f"/teams/{world['team']}/folder-answers/{world['answer']}/"
    client.post(answer_url, {"answer": "Leopard cat"})
    assert FolderAnswer.objects.get().species.name_en == "Leopard cat"
    assert "Leopard cat" in client.get(f"/teams/{world['team']}/").content.decode()
    response = client.post(answer_url, {"answer": "PBE-not-a-species"}, follow=True)
    assert "No species in the catalogue goes by that name." in response.content.decode()
    assert FolderAnswer.objects.get().species.name_en == "Leopard cat"
    client.post(answer_url, {"answer": "", "ignore": "on"})
    assert FolderAnswer.objects.get().species is None
    client.post(answer_url, {"forget": "1"})
    assert not FolderAnswer.objects.exists()


def test_remembered_names_are_one_per_team_whatever_their_case(cn_team):
    folders.remember(cn_team, "PBE", None)
    folders.remember(cn_team, "pbe", Species.objects.get(name_en="Leopard cat"))
    [answer] = FolderAnswer.objects.all()
    assert (answer.name, answer.species.name_en) == ("pbe", "Leopard cat")


def test_deployment_times_are_read_as_utc(client, world, cn_admin):
    client.force_login(cn_admin)
    client.post(
        f"/teams/{world['team']}/deployments/new/",
        {**DEPLOYMENT, "location": world["location"], "camera_serial": "new"},
    )
    created = Deployment.objects.get(camera_serial="new")
    assert created.start_at == dt.datetime(2009, 4, 1, tzinfo=dt.UTC)


# A change of clock or gap regroups the deployment's events, through events.deployment_changed.


def _edit(client, deployment, **change) -> None:
    data = {**DEPLOYMENT, "location": deployment.location_id, **change}
    response = client.post(f"/deployments/{deployment.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[-3000:]


def test_the_team_page_says_a_regrouping_is_pending(client, world, cn_admin):
    client.force_login(cn_admin)
    deployment = Deployment.objects.get(pk=world["deployment"])
    _edit(client, deployment, clock_correction_seconds="3600")
    assert PendingGrouping.objects.filter(deployment=deployment, everything=True).exists()
    page = client.get(f"/teams/{world['team']}/", follow=True).content.decode()
    assert "being worked out again" in page
    status = client.get(f"/teams/{world['team']}/grouping/").json()
    assert status == {"regrouping": [deployment.pk]}


@pytest.mark.django_db(transaction=True)
def test_a_new_gap_from_the_team_page_regroups_with_the_worker(
    client, cn_team, cn_deployment, alice, celery_worker
):
    from .test_events import partition, shoot

    admin = get_user_model().objects.create_user("cn-admin")
    Membership.objects.create(user=admin, team=cn_team, role=Membership.Role.ADMIN)
    shoot(cn_deployment, alice, "2009:04:21 00:40:00", "2009:04:21 00:41:30")
    assert len(partition(cn_deployment)) == 2
    client.force_login(admin)
    _edit(client, cn_deployment, event_gap_seconds="120")
    wait_until(
        lambda: len(partition(cn_deployment)) == 1 and not PendingGrouping.objects.exists(),
        60,
        celery_worker.text,
    )
    assert client.get(f"/teams/{cn_team.pk}/grouping/").json() == {"regrouping": []}
    # A new time zone moves the events' instants: Vladivostok was UTC+11 in April 2009.
    _edit(client, cn_deployment, event_gap_seconds="120", time_zone="Asia/Vladivostok")
    wait_until(
        lambda: (
            cn_deployment.events.get().start_at == dt.datetime(2009, 4, 20, 13, 40, tzinfo=dt.UTC)
        ),
        60,
        celery_worker.text,
    )
