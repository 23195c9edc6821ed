"""Individuals across the border: an individual's timeline and stations as each viewer may
see them, the list of those recorded in more than one country, and telling both teams when
one is first recorded in a second country. Alice uploads for the Chinese team, Boris reviews
for the Russian team, Charlie has no team; Li reviews for the Chinese team."""

from __future__ import annotations

import datetime as dt
import importlib
import re
import threading
import time

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.db import connection, transaction

from sightings import classification, crossborder, tasks
from sightings.models import (
    CrossBorderNotice,
    Deployment,
    Event,
    Individual,
    IndividualCountry,
    Location,
    Membership,
    NotificationSettings,
    Sighting,
    Species,
)
from sightings.sweep import send_lost_work

from .conftest import wait_until

UTC = dt.UTC
# The stations' exact places (conftest), and their grid cells (LOCATION_GRID_DEGREES 0.1).
HC07 = ("43.0853", "130.9564")
HC07_CELL = ("43.05", "130.95")
KP12 = ("43.1017", "131.4852")
KP12_CELL = ("43.15", "131.45")


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def li(django_user_model, cn_team):
    user = django_user_model.objects.create_user("li", "li@example.org", "password")
    Membership.objects.create(user=user, team=cn_team, role=Membership.Role.REVIEWER)
    return user


@pytest.fixture
def tiger(cn_team) -> Individual:
    return Individual.objects.create(
        species=Species.objects.get(name_en="Amur tiger"), code="PT-CN-001", team=cn_team
    )


def sight(deployment: Deployment, when: dt.datetime, individual: Individual, status: str):
    """A sighting of the individual in an event of one moment (no images)."""
    event = Event.objects.create(deployment=deployment, start_at=when, end_at=when)
    return Sighting.objects.create(
        event=event, species=individual.species, individual=individual, review_status=status,
        classified_at=when, **event.placement(),
    )  # fmt: skip


@pytest.fixture
def seen(tiger, cn_deployment, ru_deployment) -> dict[str, Sighting]:
    """The tiger approved on each side, and once more in China, still waiting for review;
    both stations are protected (a sensitive species lives there)."""
    Location.objects.update(has_sensitive_species=True)
    return {
        "cn": sight(cn_deployment, dt.datetime(2009, 4, 21, 2, tzinfo=UTC), tiger, "approved"),
        "cn_pending": sight(
            cn_deployment, dt.datetime(2009, 5, 17, 3, tzinfo=UTC), tiger, "pending"
        ),
        "ru": sight(ru_deployment, dt.datetime(2021, 4, 11, 20, tzinfo=UTC), tiger, "approved"),
    }


def detail(client, user, individual: Individual) -> str:
    client.force_login(user)
    response = client.get(f"/individuals/{individual.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def detections(page: str) -> list[int]:
    """The sightings the page's timeline lists, in its order."""
    found = re.findall(r'<li class="detection">.*?href="/sightings/(\d+)/"', page, re.S)
    return [int(pk) for pk in found]


def station_places(page: str) -> dict[str, tuple[str, str, str]]:
    """What the map reads: each station's data-latitude, data-longitude, data-generalised."""
    rows = re.findall(
        r'data-latitude="([^"]+)" data-longitude="([^"]+)" data-generalised="(\w+)" '
        r'data-name="([^"]+)"',
        page,
    )
    return {name: (lat, lon, generalised) for lat, lon, generalised, name in rows}


def test_the_team_sees_its_own_pending_sighting_and_its_station_exactly(client, alice, tiger, seen):
    page = detail(client, alice, tiger)
    assert detections(page) == [seen["cn"].pk, seen["cn_pending"].pk, seen["ru"].pk]
    assert "waiting for review" in page
    # Dated by the station's day: 02:00 UTC is 10:00 in Shanghai.
    assert '<span class="when">2009-04-21</span>' in page and "10:00 +0800</a>" in page
    assert station_places(page) == {
        "HC-07": ("43.085300", "130.956400", "false"),
        "KP-12": ("43.150000", "131.450000", "true"),
    }
    assert KP12[0] not in page and KP12[1] not in page
    assert 'id="first-seen">2009-04-21 02:00 UTC' in page
    assert 'id="last-seen">2021-04-11 20:00 UTC' in page


def test_another_team_sees_neither_the_pending_sighting_nor_the_protected_place(
    client, boris, tiger, seen
):
    page = detail(client, boris, tiger)
    assert detections(page) == [seen["cn"].pk, seen["ru"].pk]
    assert f"/sightings/{seen['cn_pending'].pk}/" not in page
    assert "2009-05-17" not in page and "waiting for review" not in page
    assert station_places(page) == {
        "HC-07": ("43.050000", "130.950000", "true"),
        "KP-12": ("43.101700", "131.485200", "false"),
    }
    assert HC07[0] not in page and HC07[1] not in page
    assert "≈ 43.05, 130.95" in page


def test_an_outsider_sees_approved_sightings_on_the_grid_only(client, charlie, tiger, seen):
    page = detail(client, charlie, tiger)
    assert detections(page) == [seen["cn"].pk, seen["ru"].pk]
    assert {name: place[2] for name, place in station_places(page).items()} == {
        "HC-07": "true",
        "KP-12": "true",
    }
    for exact in (*HC07, *KP12):
        assert exact not in page


def test_the_page_names_the_countries_and_teams_that_recorded_it(client, charlie, tiger, seen):
    page = detail(client, charlie, tiger)
    recorded = re.search(r'id="recorded-by">(.*?)</td>', page, re.S).group(1)
    text = " ".join(re.sub(r"<[^>]+>", " ", recorded).split())
    assert text == "China: Hunchun Russia: Land of the Leopard"
    # The timeline's axis: one mark per sighting, the first at its start, the last at its end.
    marks = re.findall(r'<circle class="mark country-(\w\w)" cx="([\d.]+)%"', page)
    assert marks == [("CN", "2.00"), ("RU", "98.00")]


def test_a_rejected_sighting_is_no_record_of_the_individual(client, alice, tiger, seen):
    Sighting.objects.filter(pk=seen["cn_pending"].pk).update(review_status="rejected")
    page = detail(client, alice, tiger)
    assert detections(page) == [seen["cn"].pk, seen["ru"].pk]


def listed(client, user, **query) -> dict[str, str]:
    """The individuals list: each code with the countries shown beside it."""
    client.force_login(user)
    page = client.get("/individuals/", query).content.decode()
    rows = re.findall(r'>([A-Z]{2}-[A-Z]{2}-\d+)</a>.*?<td class="countries">([^<]*)', page, re.S)
    return {code: countries.strip() for code, countries in rows}


@pytest.fixture
def cat_in_china(cn_team, cn_deployment) -> Individual:
    cat = Individual.objects.create(
        species=Species.objects.get(name_en="Leopard cat"), code="PB-CN-007", team=cn_team
    )
    sight(cn_deployment, dt.datetime(2009, 4, 22, tzinfo=UTC), cat, "approved")
    return cat


def test_the_list_shows_each_individuals_countries(client, charlie, seen, cat_in_china):
    assert listed(client, charlie) == {"PB-CN-007": "China", "PT-CN-001": "China, Russia"}


def test_the_cross_border_tab_lists_individuals_of_more_than_one_country(
    client, charlie, seen, cat_in_china
):
    assert listed(client, charlie, show="cross-border") == {"PT-CN-001": "China, Russia"}


def test_countries_are_counted_from_what_the_viewer_may_see(
    client, alice, boris, cat_in_china, ru_deployment
):
    # The Russian team's sighting of the cat still waits for review: Boris sees it, Alice not.
    sight(ru_deployment, dt.datetime(2021, 5, 2, tzinfo=UTC), cat_in_china, "pending")
    assert listed(client, boris, show="cross-border") == {"PB-CN-007": "China, Russia"}
    assert listed(client, alice, show="cross-border") == {}
    assert listed(client, alice) == {"PB-CN-007": "China"}


# Telling the teams.


@pytest.fixture
def people(alice, boris, li, django_user_model, ru_team):
    """Everyone with an address; Oleg, of the Russian team, turned the e-mails off."""
    for user in (alice, boris):
        user.email = f"{user.username}@example.org"
        user.save()
    oleg = django_user_model.objects.create_user("oleg", "oleg@example.org")
    Membership.objects.create(user=oleg, team=ru_team, role=Membership.Role.UPLOADER)
    NotificationSettings.objects.create(user=oleg, cross_border=False)
    return {"alice": alice, "boris": boris, "li": li, "oleg": oleg}


@pytest.fixture
def in_russia(tiger, ru_deployment, boris) -> Sighting:
    """The Chinese team's tiger, approved in Russia first: one country, nobody told."""
    sighting = sight(ru_deployment, dt.datetime(2021, 4, 11, 20, tzinfo=UTC), tiger, "pending")
    classification.review(sighting, "approved", boris, sighting.version)
    return sighting


def approve(client, reviewer, sighting: Sighting) -> None:
    client.force_login(reviewer)
    sighting.refresh_from_db()
    response = client.post(
        f"/sightings/{sighting.pk}/review/", {"status": "approved", "version": sighting.version}
    )
    assert response.status_code == 302
    sighting.refresh_from_db()
    assert sighting.review_status == "approved"


def told() -> set[str]:
    return set(CrossBorderNotice.objects.values_list("user__username", flat=True))


def test_one_country_tells_nobody(people, in_russia, tiger):
    assert list(tiger.countries.values_list("country", flat=True)) == ["RU"]
    assert told() == set()


def test_a_pending_sighting_in_a_second_country_tells_nobody(
    people, in_russia, tiger, cn_deployment
):
    sight(cn_deployment, dt.datetime(2009, 4, 21, 2, tzinfo=UTC), tiger, "pending")
    assert told() == set()
    assert not tiger.countries.filter(country="CN").exists()


def test_approval_in_a_second_country_tells_both_teams_once(
    client, people, in_russia, tiger, cn_deployment
):
    cn = sight(cn_deployment, dt.datetime(2009, 4, 21, 2, tzinfo=UTC), tiger, "pending")
    approve(client, people["li"], cn)
    assert told() == {"alice", "li", "boris", "oleg"}
    record = IndividualCountry.objects.get(individual=tiger, country="CN")
    assert (record.sighting_id, record.observed_on) == (cn.pk, dt.date(2009, 4, 21))
    # Told again of nothing: the same approval once more (a retry), and another in China.
    assert crossborder.note_approval(cn.pk) is None
    again = sight(cn_deployment, dt.datetime(2009, 6, 1, tzinfo=UTC), tiger, "pending")
    approve(client, people["li"], again)
    assert CrossBorderNotice.objects.count() == 4


def test_each_notice_is_e_mailed_once_to_those_who_want_it(
    client, people, in_russia, tiger, cn_deployment
):
    approve(client, people["li"], sight(cn_deployment, dt.datetime(2009, 4, 21, 2, tzinfo=UTC),
                                        tiger, "pending"))  # fmt: skip
    for notice in CrossBorderNotice.objects.all():
        tasks.email_cross_border.apply(args=(notice.pk,))
        tasks.email_cross_border.apply(args=(notice.pk,))  # delivered twice by the broker
    assert sorted(message.to[0] for message in mail.outbox) == [
        "alice@example.org", "boris@example.org", "li@example.org",
    ]  # fmt: skip
    message = mail.outbox[0]
    assert message.subject == "NEASPEC camera-trap exchange: PT-CN-001 recorded in China"
    assert message.body.startswith(
        "PT-CN-001 (Amur tiger, named by Hunchun) was recorded in China for the first time, "
        "on 2009-04-21.\n"
    )
    assert f"/individuals/{tiger.pk}/" in message.body
    assert "HC-07" not in message.body and HC07[0] not in message.body
    assert not CrossBorderNotice.objects.filter(mailed_at=None).exists()


def test_the_notice_tells_the_other_team_nothing_of_the_station(
    client, people, in_russia, tiger, cn_deployment
):
    Location.objects.update(has_sensitive_species=True)
    approve(client, people["li"], sight(cn_deployment, dt.datetime(2009, 4, 21, 2, tzinfo=UTC),
                                        tiger, "pending"))  # fmt: skip
    client.force_login(people["boris"])
    page = client.get("/").content.decode()
    assert re.search(r'id="notifications-link".*?<span class="count"[^>]*>1</span>', page, re.S)
    page = client.get("/account/notifications/").content.decode()
    assert (
        "PT-CN-001 (Amur tiger, named by Hunchun) was recorded in China for the first time, on "
        "2009-04-21." in page
    )
    assert f'href="/individuals/{tiger.pk}/"' in page and "New" in page
    assert "HC-07" not in page and HC07[0] not in page and HC07_CELL[0] not in page
    # Seen once shown: the count is gone, the notice stays.
    page = client.get("/account/notifications/").content.decode()
    assert "was recorded in China" in page and '<span class="count"' not in page


def test_each_person_can_turn_the_e_mails_off(client, boris):
    client.force_login(boris)
    page = client.get("/account/notifications/").content.decode()
    assert re.search(r'name="cross_border"[^>]*checked', page)
    client.post("/account/notifications/", {"review_digest": "on"})
    settings = NotificationSettings.objects.get(user=boris)
    assert (settings.review_digest, settings.cross_border) == (True, False)


def test_an_embargoed_sighting_is_told_only_to_its_own_team(
    client, people, in_russia, tiger, cn_deployment, cn_team
):
    cn_team.embargo_months = 12
    cn_team.save()
    cn = sight(cn_deployment, dt.datetime.now(UTC) - dt.timedelta(days=3), tiger, "pending")
    approve(client, people["li"], cn)
    assert told() == {"alice", "li"}


def test_an_e_mail_whose_task_was_lost_is_sent_again_by_the_sweep(
    client, people, in_russia, tiger, cn_deployment
):
    approve(client, people["li"], sight(cn_deployment, dt.datetime(2009, 4, 21, 2, tzinfo=UTC),
                                        tiger, "pending"))  # fmt: skip
    CrossBorderNotice.objects.filter(user=people["boris"]).update(sent_at=None)
    assert send_lost_work()["cross-border e-mails"] == 1
    assert CrossBorderNotice.objects.get(user=people["boris"]).sent_at is not None


def test_countries_approved_without_review_are_no_news(client, people, tiger, seen):
    # Both countries were approved by direct edits (an import, the shell), never reviewed.
    approve(client, people["li"], seen["cn_pending"])
    assert set(tiger.countries.values_list("country", flat=True)) == {"CN", "RU"}
    assert told() == set()


def test_the_migration_records_the_countries_known_before_it(people, tiger, seen):
    migration = importlib.import_module("sightings.migrations.0020_cross_border")
    migration.record_known_countries(django_apps, None)
    found = tiger.countries.values_list("country", "sighting", "observed_on")
    assert set(found) == {
        ("CN", seen["cn"].pk, dt.date(2009, 4, 21)),
        ("RU", seen["ru"].pk, dt.date(2021, 4, 12)),  # 20:00 UTC is the next day in Vladivostok
    }
    assert told() == set()


@pytest.mark.django_db(transaction=True)
def test_approvals_in_two_countries_at_once_tell_the_teams(
    catalogue, people, tiger, cn_deployment, ru_deployment
):
    """Each approval alone sees one country; the lock makes the later one see both."""
    ru = sight(ru_deployment, dt.datetime(2021, 4, 11, 20, tzinfo=UTC), tiger, "pending")
    cn = sight(cn_deployment, dt.datetime(2009, 4, 21, 2, tzinfo=UTC), tiger, "pending")
    approved_in_russia = threading.Event()

    def approve_in_russia() -> None:
        try:
            with transaction.atomic():
                classification.review(ru, "approved", people["boris"], ru.version)
                approved_in_russia.set()
                time.sleep(1)  # still uncommitted while China's approval starts
        finally:
            connection.close()

    thread = threading.Thread(target=approve_in_russia)
    thread.start()
    approved_in_russia.wait(10)
    classification.review(cn, "approved", people["li"], cn.version)
    thread.join()
    assert set(tiger.countries.values_list("country", flat=True)) == {"RU", "CN"}
    assert told() == {"alice", "li", "boris", "oleg"}


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_the_e_mails_after_the_approval_commits(
    celery_worker, catalogue, client, people, tiger, cn_deployment, ru_deployment
):
    ru = sight(ru_deployment, dt.datetime(2021, 4, 11, 20, tzinfo=UTC), tiger, "pending")
    classification.review(ru, "approved", people["boris"], ru.version)
    approve(client, people["li"], sight(cn_deployment, dt.datetime(2009, 4, 21, 2, tzinfo=UTC),
                                        tiger, "pending"))  # fmt: skip
    wait_until(
        lambda: not CrossBorderNotice.objects.filter(mailed_at=None).exists(), 60,
        celery_worker.text,
    )  # fmt: skip
    assert CrossBorderNotice.objects.count() == 4
