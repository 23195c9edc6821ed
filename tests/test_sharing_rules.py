"""The sharing rules a team's admins set (access.py, README "Who may do what"): an embargo,
stations kept to the team, and sharing with chosen teams only. Each rule on every surface
another team reads; the team itself and the site admin still see everything.

The Chinese team has an approved boar of 2009 at HC-07 and an approved boar of ten days ago
at HC-08, both the known individual SS-CN-007. Boris reviews for the Russian team; Dorj
reviews for a Mongolian team."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.utils import timezone

from sightings import access
from sightings.models import Country, Deployment, Individual, Location, Membership, Species, Team

from .test_events import shoot
from .test_sharing import approved, named


@pytest.fixture
def mn_team(db) -> Team:
    return Team.objects.create(name="Khan Khentii", country=Country.MN)


@pytest.fixture
def dorj(django_user_model, mn_team):
    user = django_user_model.objects.create_user("dorj")
    Membership.objects.create(user=user, team=mn_team, role=Membership.Role.REVIEWER)
    return user


@pytest.fixture
def cn_admin(django_user_model, cn_team):
    user = django_user_model.objects.create_user("wang")
    Membership.objects.create(user=user, team=cn_team, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def world(cn_team, mn_team, cn_deployment, alice, cn_admin) -> dict:
    reviewer = cn_admin  # admins review too
    ten_days_ago = timezone.now() - dt.timedelta(days=10)
    recent_deployment = Deployment.objects.create(
        location=Location.objects.create(
            team=cn_team, name="HC-08", latitude=43.2, longitude=131.1, country=Country.CN
        ),
        start_at=ten_days_ago - dt.timedelta(days=30),
        time_zone="UTC",
    )
    individual = Individual.objects.create(
        species=Species.objects.get(name_en="Wild boar"), code="SS-CN-007", team=cn_team
    )
    found = {"individual": individual}
    for name, deployment, taken in (
        ("old", cn_deployment, "2009:04:21 00:40:00"),
        ("recent", recent_deployment, ten_days_ago.strftime("%Y:%m:%d %H:%M:%S")),
    ):
        [image] = shoot(deployment, alice, taken)
        sighting = named(image.event.sightings.get(), "Wild boar", alice)
        sighting.individual = individual
        sighting.save(update_fields=["individual"])
        found[name] = {"image": image, "sighting": approved(sighting, reviewer)}
    return found


def embargo(world) -> None:
    Team.objects.filter(name="Hunchun").update(embargo_months=6)


def station_kept(world) -> None:
    Location.objects.filter(name="HC-07").update(is_shared=False)


def chosen_teams(world) -> None:
    Team.objects.get(name="Hunchun").shares_with.set(Team.objects.filter(name="Khan Khentii"))


# Each rule, and what it leaves another team (the boars it shows, by name in world).
RULES = {
    "embargo": (embargo, ["old"]),
    "station not shared": (station_kept, ["recent"]),
    "chosen teams only": (chosen_teams, []),
}
STATIONS = {"old": "HC-07", "recent": "HC-08"}


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def check_browse(client, world, shown):
    page = client.get("/sightings/").content.decode()
    for name in ("old", "recent"):
        link = f'href="/sightings/{world[name]["sighting"].pk}/"'
        assert (link in page) == (name in shown), name


def check_count(client, world, shown):
    assert client.get("/sightings/count/").json()["count"] == len(shown)


def check_csv(client, world, shown):
    rows = _csv(client.get("/sightings.csv"))
    assert sorted(row["location"] for row in rows) == sorted(STATIONS[n] for n in shown)


def check_geojson(client, world, shown):
    features = client.get("/map.geojson").json()["features"]
    assert sorted(f["properties"]["name"] for f in features) == sorted(STATIONS[n] for n in shown)


def check_record_table(client, world, shown):
    rows = _csv(client.get("/record-table/", {"min_delta": 60, "compared_to": "last"}))
    assert sorted(row["Station"] for row in rows) == sorted(STATIONS[n] for n in shown)


def check_sighting_page(client, world, shown):
    for name in ("old", "recent"):
        status = client.get(f"/sightings/{world[name]['sighting'].pk}/").status_code
        assert status == (200 if name in shown else 404), name


def check_media(client, world, shown):
    for name in ("old", "recent"):
        image = world[name]["image"].pk
        for url in (f"/media/{image}/", f"/media/{image}/preview/", f"/media/{image}/original/"):
            assert client.get(url).status_code == (200 if name in shown else 404), url


def check_individual(client, world, shown):
    individual = world["individual"]
    listing = client.get("/individuals/").content.decode()
    assert f'<td class="number">{len(shown)}</td>' in listing
    page = client.get(f"/individuals/{individual.pk}/").content.decode()
    for name in ("old", "recent"):
        assert (f"<strong>{STATIONS[name]}</strong>" in page) == (name in shown), name
    # First and last seen, and the countries, come from what is shown only.
    for name in ("old", "recent"):
        when = world[name]["sighting"].observed_at.strftime("%Y-%m-%d %H:%M UTC")
        assert (when in page) == (name in shown), name
    assert ('<td id="countries">China</td>' in page) == bool(shown)


def check_filters(client, world, shown):
    for name in ("old", "recent"):
        station = Location.objects.get(name=STATIONS[name])
        deployment = station.deployments.get()
        for url, query in (
            ("/sightings/", {"location": station.pk}),
            ("/map/", {"location": station.pk}),
            ("/sightings/", {"deployment": deployment.pk}),
            ("/sightings.csv", {"location": station.pk}),
        ):
            response = client.get(url, query)
            assert response.status_code == (200 if name in shown else 400), (url, name)
        chip = client.get("/sightings/", {"location": station.pk}).content.decode()
        assert (f"Location: {STATIONS[name]}" in chip) == (name in shown), name
        choices = client.get("/record-table/").content.decode()
        assert (STATIONS[name] in choices) == (name in shown), name


SURFACES = [
    check_browse, check_count, check_csv, check_geojson, check_record_table,
    check_sighting_page, check_media, check_individual, check_filters,
]  # fmt: skip


@pytest.mark.parametrize("surface", SURFACES, ids=[s.__name__[6:] for s in SURFACES])
@pytest.mark.parametrize("rule", RULES)
def test_another_team_sees_only_what_the_rule_shares(client, world, boris, rule, surface):
    client.force_login(boris)
    surface(client, world, ["old", "recent"])  # before: everything approved
    apply, shown = RULES[rule]
    apply(world)
    surface(client, world, shown)


@pytest.mark.parametrize("surface", SURFACES, ids=[s.__name__[6:] for s in SURFACES])
def test_a_chosen_team_sees_everything_shared(client, world, dorj, surface):
    chosen_teams(world)
    client.force_login(dorj)
    surface(client, world, ["old", "recent"])


@pytest.mark.parametrize("who", ["alice", "cn_admin", "site_admin"])
@pytest.mark.parametrize("surface", SURFACES, ids=[s.__name__[6:] for s in SURFACES])
def test_the_team_and_the_site_admin_still_see_everything(
    request, client, world, site_admin, who, surface
):
    for apply, _shown in RULES.values():
        apply(world)
    client.force_login(request.getfixturevalue(who))
    surface(client, world, ["old", "recent"])


def test_no_team_is_not_a_chosen_team(client, world, charlie):
    client.force_login(charlie)
    check_count(client, world, ["old", "recent"])
    chosen_teams(world)
    check_count(client, world, [])


def test_a_pending_record_of_a_shared_station_is_still_refused_not_hidden(
    client, world, boris, cn_deployment, alice
):
    [image] = shoot(cn_deployment, alice, "2009:05:01 10:00:00")
    client.force_login(boris)
    assert client.get(f"/sightings/{image.event.sightings.get().pk}/").status_code == 403
    assert client.get(f"/media/{image.pk}/").status_code == 403
    station_kept(world)
    assert client.get(f"/sightings/{image.event.sightings.get().pk}/").status_code == 404
    assert client.get(f"/media/{image.pk}/").status_code == 404


def test_the_embargo_counts_calendar_months():
    at = dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC)
    assert access._months_before(at, 1) == dt.datetime(2026, 2, 28, 12, tzinfo=dt.UTC)
    assert access._months_before(at, 3) == dt.datetime(2025, 12, 31, 12, tzinfo=dt.UTC)
    assert access._months_before(at, 24) == dt.datetime(2024, 3, 31, 12, tzinfo=dt.UTC)


def test_the_rules_are_read_in_a_fixed_number_of_queries(
    client, world, boris, django_assert_max_num_queries
):
    embargo(world)
    station_kept(world)
    client.force_login(boris)
    client.get("/sightings/count/")  # the session, once
    with django_assert_max_num_queries(6):
        assert client.get("/sightings/count/").json()["count"] == 0


# The team admin's page.


def test_a_team_admin_sets_the_rules(client, world, cn_team, cn_admin, ru_team, mn_team):
    client.force_login(cn_admin)
    home = client.get("/").content.decode()
    assert f'href="/teams/{cn_team.pk}/sharing/"' in home
    page = client.get(f"/teams/{cn_team.pk}/sharing/").content.decode()
    assert 'class="field' in page and "HC-07" in page and "Khan Khentii" in page
    assert "Hunchun</label>" not in page  # not a team to share with itself
    hc08 = Location.objects.get(name="HC-08")
    response = client.post(
        f"/teams/{cn_team.pk}/sharing/",
        {"embargo_months": 12, "shares_with": [mn_team.pk], "shared_locations": [hc08.pk]},
    )
    assert response.status_code == 302
    cn_team.refresh_from_db()
    assert cn_team.embargo_months == 12
    assert list(cn_team.shares_with.all()) == [mn_team]
    assert dict(cn_team.locations.values_list("name", "is_shared")) == {
        "HC-07": False, "HC-08": True,
    }  # fmt: skip
    # Shown as saved.
    page = client.get(f"/teams/{cn_team.pk}/sharing/").content.decode()
    assert 'value="12"' in page
    ticked = re.findall(r'<input type="checkbox" name="(\w+)" value="(\d+)"[^>]* checked>', page)
    assert sorted(ticked) == [("shared_locations", str(hc08.pk)), ("shares_with", str(mn_team.pk))]


def test_a_bad_embargo_is_refused(client, world, cn_team, cn_admin):
    client.force_login(cn_admin)
    response = client.post(f"/teams/{cn_team.pk}/sharing/", {"embargo_months": -1})
    assert response.status_code == 400
    cn_team.refresh_from_db()
    assert cn_team.embargo_months == 0


@pytest.mark.parametrize("who", ["alice", "boris", "charlie", "ru_admin"])
def test_only_the_teams_admins_set_its_rules(request, client, world, cn_team, ru_team, who):
    if who == "ru_admin":
        user = request.getfixturevalue("django_user_model").objects.create_user("ivan")
        Membership.objects.create(user=user, team=ru_team, role=Membership.Role.ADMIN)
    else:
        user = request.getfixturevalue(who)
    client.force_login(user)
    url = f"/teams/{cn_team.pk}/sharing/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"embargo_months": 600}).status_code == 403
    cn_team.refresh_from_db()
    assert cn_team.embargo_months == 0
    assert f'href="{url}"' not in client.get("/").content.decode()


def test_no_such_team(client, cn_admin):
    client.force_login(cn_admin)
    assert client.get("/teams/999999/sharing/").status_code == 404


def test_the_admin_shows_the_rules(client, world, cn_team, site_admin):
    client.force_login(site_admin)
    team = client.get(f"/admin/sightings/team/{cn_team.pk}/change/").content.decode()
    assert 'name="embargo_months"' in team and 'name="shares_with"' in team
    station = Location.objects.get(name="HC-07")
    page = client.get(f"/admin/sightings/location/{station.pk}/change/").content.decode()
    assert 'name="is_shared"' in page
