from __future__ import annotations

import csv
import io

import pytest

from sightings import folders
from sightings.forms import FolderAnswerForm
from sightings.models import Individual, Membership, PendingIndependence, Sighting, Species

from .test_events import shoot

TIMES = ["2009:04:21 00:40:00", "2009:04:21 01:40:00", "2009:04:21 02:40:00"]


@pytest.fixture
def drafts(cn_deployment, alice) -> list[Sighting]:
    """Three events of Alice's deployment, not named yet, in time order."""
    media = shoot(cn_deployment, alice, *TIMES)
    return [Sighting.objects.get(event=item.event_id) for item in media]


def species(name: str) -> Species:
    return Species.objects.get(name_en=name)


def name(client, sighting: Sighting, text: str, **fields) -> object:
    data = {"species": text, "version": sighting.version, "then": "next", **fields}
    return client.post(f"/sightings/{sighting.pk}/name/", data)


def test_the_deployment_opens_at_its_first_event_to_name(client, alice, cn_deployment, drafts):
    Sighting.objects.filter(pk=drafts[0].pk).update(species=species("Blank"))
    client.force_login(alice)
    response = client.get(f"/deployments/{cn_deployment.pk}/annotate/")
    assert response.url == f"/events/{drafts[1].event_id}/"


def test_the_event_page_shows_its_images_and_place_in_the_run(client, alice, drafts):
    client.force_login(alice)
    text = client.get(f"/events/{drafts[1].event_id}/").content.decode()
    assert "Event 2 of 3" in text
    media = drafts[1].event.media.get()
    assert f'src="/media/{media.pk}/preview/"' in text
    assert f'id="next" href="/events/{drafts[2].event_id}/"' in text
    assert (
        'value="Amur tiger (Panthera tigris altaica)">Amur tiger · 东北虎 · Амурский тигр' in text
    )


def test_the_event_list_gives_each_event_its_year(client, alice, drafts):
    client.force_login(alice)
    text = client.get(f"/events/{drafts[0].event_id}/").content.decode()
    # Asia/Shanghai, the deployment's zone: the camera's own clock.
    assert f'<a href="/events/{drafts[1].event_id}/">2009-04-21 01:40:00</a>' in text


def test_next_and_enter_skip_the_events_already_named(client, alice, drafts):
    Sighting.objects.filter(pk=drafts[1].pk).update(species=species("Blank"))
    client.force_login(alice)
    text = client.get(f"/events/{drafts[0].event_id}/").content.decode()
    assert f'id="next" href="/events/{drafts[2].event_id}/"' in text
    assert "Enter saves and goes to the next event not named yet" in text
    assert name(client, drafts[0], "Wild boar").url == f"/events/{drafts[2].event_id}/"


def test_past_the_last_event_next_goes_back_to_the_first_not_named(client, alice, drafts):
    client.force_login(alice)
    text = client.get(f"/events/{drafts[2].event_id}/").content.decode()
    assert f'id="next" href="/events/{drafts[0].event_id}/"' in text
    response = name(client, drafts[2], "Wild boar")
    assert response.url == f"/events/{drafts[0].event_id}/"
    assert "Back to the first event not named yet." in client.get(response.url).content.decode()


def test_once_all_are_named_next_is_the_following_event(client, alice, drafts):
    Sighting.objects.filter(pk__in=[d.pk for d in drafts[1:]]).update(species=species("Blank"))
    client.force_login(alice)
    assert name(client, drafts[0], "Wild boar").url == f"/events/{drafts[1].event_id}/"
    response = name(client, Sighting.objects.get(pk=drafts[2].pk), "Wild boar")
    assert response.url == f"/events/{drafts[2].event_id}/"
    assert "That was the last event." in client.get(response.url).content.decode()


@pytest.mark.parametrize(
    "typed",
    [
        "东北豹",
        "дальневосточный леопард",
        "Panthera pardus orientalis",
        "Amur leopard (Panthera pardus orientalis)",
    ],
)
def test_a_species_can_be_typed_in_any_language(client, alice, drafts, typed):
    client.force_login(alice)
    response = name(client, drafts[0], typed, count="2", sex="female", individual="")
    assert response.url == f"/events/{drafts[1].event_id}/"  # and on to the next event
    sighting = Sighting.objects.get(pk=drafts[0].pk)
    assert (sighting.species, sighting.count, sighting.sex) == (
        species("Amur leopard"),
        2,
        "female",
    )
    assert (sighting.classified_by, sighting.classification_method, sighting.version) == (
        alice,
        "human",
        2,
    )
    assert sighting.classified_at is not None


def test_an_unknown_species_is_refused(client, alice, drafts):
    client.force_login(alice)
    response = name(client, drafts[0], "Amur lion")
    assert response.status_code == 400
    assert "No species in the catalogue goes by that name." in response.content.decode()
    assert Sighting.objects.get(pk=drafts[0].pk).species is None


def test_saving_never_loses_another_users_edit(client, alice, cn_team, drafts, django_user_model):
    ling = django_user_model.objects.create_user("ling")
    Membership.objects.create(user=ling, team=cn_team, role=Membership.Role.REVIEWER)
    client.force_login(ling)
    name(client, drafts[0], "Wild boar")
    client.force_login(alice)
    # Alice still has the page from before Ling's save: version 1.
    response = name(client, drafts[0], "Sika deer")
    assert response.status_code == 409
    text = response.content.decode()
    assert "ling saved this sighting while you were editing it (as Wild boar" in text
    assert 'value="Sika deer"' in text  # what she typed is kept
    sighting = Sighting.objects.get(pk=drafts[0].pk)
    assert (sighting.species, sighting.classified_by, sighting.version) == (
        species("Wild boar"),
        ling,
        2,
    )
    # Saving again, knowingly, works.
    assert name(client, sighting, "Sika deer").status_code == 302
    assert Sighting.objects.get(pk=drafts[0].pk).species == species("Sika deer")


def test_blank_and_the_last_species_again(client, alice, drafts):
    client.force_login(alice)
    name(client, drafts[0], "Raccoon dog")
    page = client.get(f"/events/{drafts[1].event_id}/").content.decode()
    assert 'id="repeat-form"' in page and "Again: Raccoon dog" in page
    name(client, drafts[1], "Blank")
    # A blank in between does not change what "again" means.
    assert "Again: Raccoon dog" in client.get(f"/events/{drafts[2].event_id}/").content.decode()
    name(client, drafts[2], "Raccoon dog (Nyctereutes procyonoides)")
    named = [Sighting.objects.get(pk=d.pk).species.name_en for d in drafts]
    assert named == ["Raccoon dog", "Blank", "Raccoon dog"]


def test_several_events_are_named_at_once(client, alice, cn_deployment, drafts):
    client.force_login(alice)
    chosen = [f"{d.pk}:{d.version}" for d in drafts[:2]]
    response = client.post(
        f"/deployments/{cn_deployment.pk}/annotate/many/",
        {"sighting": chosen, "species": "Blank", "back": f"/events/{drafts[0].event_id}/"},
    )
    assert response.url == f"/events/{drafts[0].event_id}/"
    assert [Sighting.objects.get(pk=d.pk).species for d in drafts] == [species("Blank")] * 2 + [
        None
    ]


def test_naming_needs_the_uploader_or_reviewer_role(client, boris, charlie, drafts):
    for user in (boris, charlie):
        client.force_login(user)
        assert name(client, drafts[0], "Blank").status_code == 403
        assert client.get(f"/events/{drafts[0].event_id}/").status_code == 403
    assert Sighting.objects.get(pk=drafts[0].pk).species is None


def test_naming_queues_the_independence_of_the_species(
    client, alice, cn_deployment, drafts, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks() as callbacks:
        name(client, drafts[0], "Wild boar")
    assert list(PendingIndependence.objects.values_list("location", "species")) == [
        (cn_deployment.location_id, species("Wild boar").pk)
    ]
    assert len(callbacks) == 1


def test_another_species_can_be_added_to_an_event(client, alice, drafts):
    client.force_login(alice)
    name(client, drafts[0], "Sika deer")
    client.post(
        f"/events/{drafts[0].event_id}/sightings/",
        {"species": "Amur tiger", "count": "1", "then": "stay"},
    )
    named = drafts[0].event.sightings.order_by("pk").values_list("species__name_en", flat=True)
    assert list(named) == ["Sika deer", "Amur tiger"]


# Individuals: one catalogue across the border.


@pytest.fixture
def tiger_042(ru_team) -> Individual:
    return Individual.objects.create(
        species=species("Amur tiger"), code="PT-RU-042", name="Пятнистый", sex="male", team=ru_team
    )


def test_a_sighting_can_name_another_teams_individual(
    client, alice, drafts, tiger_042, ru_deployment, boris
):
    client.force_login(alice)
    name(client, drafts[0], "Amur tiger", individual="pt-ru-042")
    [russian] = shoot(ru_deployment, boris, "2021:04:11 20:43:09")
    russian_sighting = Sighting.objects.filter(event=russian.event_id)
    russian_sighting.update(species=species("Amur tiger"), individual=tiger_042)
    # Not yet approved: the other team does not see it.
    assert "1 sighting" in client.get(f"/individuals/{tiger_042.pk}/").content.decode()
    russian_sighting.update(review_status="approved")
    text = client.get(f"/individuals/{tiger_042.pk}/").content.decode()
    assert "2 sightings" in text
    assert "Seen in" in text and "China, Russia" in text
    assert "Hunchun" in text and "Land of the Leopard" in text
    assert "2009-04-20 16:40 UTC" in text  # first seen
    assert "2021-04-11 10:43 UTC" in text  # last seen


def test_an_individual_must_be_of_the_named_species(client, alice, drafts, tiger_042):
    client.force_login(alice)
    response = name(client, drafts[0], "Amur leopard", individual="PT-RU-042")
    assert response.status_code == 400
    assert "PT-RU-042 is a Amur tiger (Panthera tigris altaica)." in response.content.decode()


def test_members_create_individuals_for_their_team(client, alice, cn_team):
    client.force_login(alice)
    response = client.post(
        "/individuals/new/",
        {
            "species": species("Amur leopard").pk,
            "code": "PP-CN-007",
            "name": "",
            "sex": "female",
            "team": cn_team.pk,
            "notes": "Left ear torn",
        },
    )
    individual = Individual.objects.get(code="PP-CN-007")
    assert response.url == f"/individuals/{individual.pk}/"
    assert (individual.team, individual.sex) == (cn_team, "female")


def test_only_the_naming_team_edits_an_individual(client, alice, tiger_042):
    client.force_login(alice)
    assert client.get(f"/individuals/{tiger_042.pk}/edit/").status_code == 403


def test_reference_images_come_from_media(client, boris, ru_deployment, tiger_042):
    [media] = shoot(ru_deployment, boris, "2021:04:11 20:43:09")
    client.force_login(boris)
    client.post(f"/media/{media.pk}/reference/", {"code": "PT-RU-042"})
    assert list(tiger_042.reference_media.all()) == [media]


# Answering folder names on the batch page.


def test_the_batch_page_asks_about_unknown_folders_once(client, alice, cn_deployment):
    media = shoot(cn_deployment, alice, "2009:04:21 00:40:00", folder="StationA/PBE")
    batch = media[0].batch
    folders.collect(batch)  # as the upload does
    client.force_login(alice)
    page = client.get(f"/batches/{batch.pk}/").content.decode()
    assert "These names are not in the catalogue" in page
    folder = batch.folders.get()
    client.post(f"/batches/{batch.pk}/folders/", {f"folder-{folder.pk}": "豹猫"})
    sighting = media[0].event.sightings.get()
    assert (sighting.species.name_en, sighting.classification_method) == ("Leopard cat", "folder")
    assert (
        "These names are not in the catalogue"
        not in client.get(f"/batches/{batch.pk}/").content.decode()
    )


def test_a_folder_is_ignored_with_a_checkbox_not_an_english_word(client, alice, cn_deployment):
    media = shoot(cn_deployment, alice, "2009:04:21 00:40:00", folder="StationA/Misc")
    batch = media[0].batch
    folders.collect(batch)
    client.force_login(alice)
    page = client.get(f"/batches/{batch.pk}/", headers={"Accept-Language": "ru"}).content.decode()
    folder = batch.folders.get()
    assert f'name="folder-{folder.pk}-ignore"' in page and "ignore" not in page.replace(
        f"folder-{folder.pk}-ignore", ""
    )
    client.post(f"/batches/{batch.pk}/folders/", {f"folder-{folder.pk}-ignore": "on"})
    folder.refresh_from_db()
    assert folder.is_ignored and folder.species is None
    # The English word is a species name like any other now: nothing goes by it.
    assert not FolderAnswerForm({"answer": "ignore"}).is_valid()


def test_the_record_table_downloads_for_a_filtered_set(client, alice, cn_deployment, drafts):
    client.force_login(alice)
    for draft in drafts:
        name(client, draft, "Wild boar")
    response = client.get(
        "/record-table/",
        {"location": cn_deployment.location_id, "min_delta": "90", "compared_to": "last"},
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    # 00:40, 01:40 (60 min after: not independent at 90 min), 02:40 (60 min after 01:40: no).
    assert [(r["Station"], r["Species"], r["DateTimeOriginal"], r["n_images"]) for r in rows] == [
        ("HC-07", "Sus scrofa", "2009-04-21 00:40:00", "3")
    ]
