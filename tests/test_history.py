"""A sighting's history reads as sentences in the reader's language, with who and when."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from sightings import classification, folders
from sightings.models import Individual, Membership, Sighting, SightingChange, Species

from .test_events import shoot

MARCH_12 = dt.datetime(2026, 3, 12, 14, 5, tzinfo=dt.UTC)


@pytest.fixture
def reviewer(django_user_model, cn_team):
    user = django_user_model.objects.create_user("cn-reviewer")
    Membership.objects.create(user=user, team=cn_team, role=Membership.Role.REVIEWER)
    return user


@pytest.fixture
def on_march_12(monkeypatch) -> None:
    """History written on 12 March 2026: it is append-only, so it cannot be backdated after."""
    monkeypatch.setattr(
        SightingChange._meta.get_field("changed_at"), "_get_default", lambda: MARCH_12
    )


@pytest.fixture
def tiger(cn_deployment, cn_team, alice, reviewer, on_march_12) -> Sighting:
    """Named an Amur tiger, counted again with its individual, returned, then approved."""
    [image] = shoot(cn_deployment, alice, "2009:04:21 00:40:00")
    sighting = Sighting.objects.get(event=image.event_id)
    amur_tiger = Species.objects.get(name_en="Amur tiger")
    at07 = Individual.objects.create(species=amur_tiger, code="AT-07", team=cn_team)
    naming = classification.Naming(amur_tiger, count=1)
    sighting = classification.classify(sighting, sighting.version, naming, alice)
    naming = classification.Naming(amur_tiger, count=2, individual=at07)
    sighting = classification.classify(sighting, sighting.version, naming, alice)
    classification.review(sighting, "returned", reviewer, sighting.version, "Check the stripes")
    sighting.refresh_from_db()
    classification.review(sighting, "approved", reviewer, sighting.version)
    return sighting


def history(client, sighting: Sighting, language: str) -> list[str]:
    """The text of each item of the page's history, spaces collapsed."""
    page = client.get(f"/sightings/{sighting.pk}/", headers={"Accept-Language": language})
    html = page.content.decode()
    timeline = re.search(r'<ol class="timeline" id="history">(.*?)</ol>', html, re.S).group(1)
    items = re.findall(r"<li>(.*?)</li>", timeline, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


SENTENCES = {
    "en": [
        "Named Amur tiger (Panthera tigris altaica) Count set to 1"
        " alice · March 12, 2026, 2:05 p.m. UTC",
        "Count changed from 1 to 2 Individual set to AT-07 alice · March 12, 2026, 2:05 p.m. UTC",
        "Returned to the uploader Check the stripes cn-reviewer · March 12, 2026, 2:05 p.m. UTC",
        "Approved cn-reviewer · March 12, 2026, 2:05 p.m. UTC",
    ],
    "zh-hans": [
        "鉴定为东北虎 (Panthera tigris altaica) 数量设为 1 alice · 2026年3月12日 14:05 UTC",
        "数量由 1 改为 2 个体设为 AT-07 alice · 2026年3月12日 14:05 UTC",
        "退回上传者 Check the stripes cn-reviewer · 2026年3月12日 14:05 UTC",
        "审核通过 cn-reviewer · 2026年3月12日 14:05 UTC",
    ],
    "ru": [
        "Определён вид: Амурский тигр (Panthera tigris altaica) Указано количество: 1"
        " alice · 12 марта 2026 г. 14:05 UTC",
        "Количество изменено с 1 на 2 Указана особь: AT-07 alice · 12 марта 2026 г. 14:05 UTC",
        "Возвращено загрузчику Check the stripes cn-reviewer · 12 марта 2026 г. 14:05 UTC",
        "Одобрено cn-reviewer · 12 марта 2026 г. 14:05 UTC",
    ],
}


@pytest.mark.parametrize("language", SENTENCES)
def test_the_history_reads_as_sentences_in_the_readers_language(client, alice, tiger, language):
    client.force_login(alice)
    assert history(client, tiger, language) == SENTENCES[language]


def test_an_event_that_took_in_new_images_says_why_it_went_back_to_review(
    client, alice, tiger, cn_deployment
):
    # A late image within the event's gap sends the approved sighting back to review.
    shoot(cn_deployment, alice, "2009:04:21 00:40:30")
    client.force_login(alice)
    last = history(client, tiger, "en")[-1]
    assert last.startswith("Sent back to review: the event took in new images — · ")


def test_a_species_named_from_a_card_folder_says_so(client, alice, cn_deployment):
    [image] = shoot(cn_deployment, alice, "2009:04:21 00:40:00", folder="Station1/Wild boar")
    folders.collect(image.batch)
    sighting = Sighting.objects.get(event=image.event_id)
    client.force_login(alice)
    [entry] = history(client, sighting, "ru")
    assert entry.startswith("Определён вид: Кабан (Sus scrofa) alice · по названию папки · ")


def test_the_history_function_gives_each_change_once(tiger):
    entries = classification.history(tiger)
    assert [entry.who for entry in entries] == ["alice", "alice", "cn-reviewer", "cn-reviewer"]
    assert entries[2].comment == "Check the stripes"
