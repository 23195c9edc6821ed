"""Card habits (sightings/folders.py): a team's answers for folder names are remembered and
answer its next cards; a card of several stations put into one deployment is warned about."""

from __future__ import annotations

import io

import pytest

from sightings.models import BatchFolder, FolderAnswer, Location, Media, Membership, UploadBatch

from .test_events import camera_jpeg

_taken = iter(f"2009:04:21 00:{minute:02d}:00" for minute in range(60))


def upload(client, deployment, *paths: str) -> UploadBatch:
    """Upload one image per path, as the upload page sends a chosen folder."""
    files = []
    for path in paths:
        file = io.BytesIO(camera_jpeg(next(_taken)))
        file.name = path.rsplit("/", 1)[-1]
        files.append(file)
    client.post(f"/deployments/{deployment.pk}/upload/", {"files": files, "paths": list(paths)})
    return deployment.batches.order_by("pk").last()


def answer(client, batch: UploadBatch, name: str, text: str = "", ignore: bool = False) -> None:
    folder = batch.folders.get(name=name)
    data = {f"folder-{folder.pk}": text} | ({f"folder-{folder.pk}-ignore": "on"} if ignore else {})
    client.post(f"/batches/{batch.pk}/folders/", data)


def test_an_answer_is_remembered_and_applied_to_the_next_card(client, alice, cn_deployment):
    client.force_login(alice)
    first = upload(client, cn_deployment, "StationA/PBE/a.jpg")
    answer(client, first, "PBE", "Leopard cat")
    remembered = FolderAnswer.objects.get()
    assert (remembered.team, remembered.species.name_en, remembered.answered_by) == (
        cn_deployment.location.team,
        "Leopard cat",
        alice,
    )
    # The next card, with the name in another case: answered without asking.
    second = upload(client, cn_deployment, "card/StationA/pbe/b.jpg")
    folder = second.folders.get()
    assert (folder.species.name_en, folder.is_remembered, folder.is_answered) == (
        "Leopard cat",
        True,
        True,
    )
    assert Media.objects.get(original_name="b.jpg").folder_species.name_en == "Leopard cat"
    page = client.get(f"/batches/{second.pk}/").content.decode()
    assert "answered from your team's earlier answer: pbe → Leopard cat (" in page


def test_a_remembered_answer_can_be_changed_on_the_batch_page(client, alice, cn_deployment):
    client.force_login(alice)
    FolderAnswer.objects.create(
        team=cn_deployment.location.team, name="PBE", species=_species("Leopard cat")
    )
    batch = upload(client, cn_deployment, "StationA/PBE/a.jpg")
    answer(client, batch, "PBE", ignore=True)
    folder = batch.folders.get()
    assert (folder.species, folder.is_ignored, folder.is_remembered) == (None, True, False)
    # The images lose the species the remembered answer gave them, and the team's answer changes.
    assert Media.objects.get().folder_species is None
    assert FolderAnswer.objects.get().species is None


def test_an_empty_field_keeps_an_answer(client, alice, cn_deployment):
    client.force_login(alice)
    FolderAnswer.objects.create(
        team=cn_deployment.location.team, name="PBE", species=_species("Leopard cat")
    )
    batch = upload(client, cn_deployment, "StationA/PBE/a.jpg")
    answer(client, batch, "PBE", "")
    assert batch.folders.get().species.name_en == "Leopard cat"


def test_another_teams_answers_are_not_applied(client, alice, cn_deployment, ru_team):
    FolderAnswer.objects.create(team=ru_team, name="PBE", species=_species("Leopard cat"))
    client.force_login(alice)
    batch = upload(client, cn_deployment, "StationA/PBE/a.jpg")
    assert not batch.folders.get().is_answered


def _species(name: str):
    from sightings.models import Species

    return Species.objects.get(name_en=name)


# Several stations on one card


@pytest.mark.parametrize(
    ("paths", "stations"),
    [
        (["StationA/PBE/a.jpg", "StationB/PBE/b.jpg", "StationB/VTA/c.jpg"], "StationA, StationB"),
        (["card/StationA/PBE/a.jpg", "card/StationC/MNE/b.jpg"], "StationA, StationC"),
    ],
)
def test_a_card_of_several_stations_is_warned_about(client, alice, cn_deployment, paths, stations):
    client.force_login(alice)
    batch = upload(client, cn_deployment, *paths)
    page = client.get(f"/batches/{batch.pk}/").content.decode()
    assert 'id="several-stations"' in page
    assert f"<strong>{stations}</strong>" in page
    assert f'href="/teams/{cn_deployment.location.team_id}/"' in page


def test_station_folders_named_as_the_teams_locations_count(client, alice, cn_deployment):
    Location.objects.create(team=cn_deployment.location.team, name="HC-09", country="CN")
    client.force_login(alice)
    batch = upload(client, cn_deployment, "HC-07/a.jpg", "HC-09/b.jpg")
    assert "<strong>HC-07, HC-09</strong>" in client.get(f"/batches/{batch.pk}/").content.decode()


@pytest.mark.parametrize(
    "paths",
    [
        ["StationA/PBE/a.jpg", "StationA/VTA/b.jpg"],
        ["PBE/a.jpg", "VTA/b.jpg"],
        ["a.jpg"],
    ],
)
def test_a_card_of_one_station_is_not_warned_about(client, alice, cn_deployment, paths):
    client.force_login(alice)
    batch = upload(client, cn_deployment, *paths)
    assert 'id="several-stations"' not in client.get(f"/batches/{batch.pk}/").content.decode()


def test_only_uploaders_answer_and_so_teach_their_team(client, cn_deployment, django_user_model):
    reviewer = django_user_model.objects.create_user("li")
    team = cn_deployment.location.team
    Membership.objects.create(user=reviewer, team=team, role=Membership.Role.REVIEWER)
    batch = cn_deployment.batches.create(uploaded_by=reviewer)
    folder = BatchFolder.objects.create(batch=batch, name="PBE")
    client.force_login(reviewer)
    response = client.post(f"/batches/{batch.pk}/folders/", {f"folder-{folder.pk}": "Leopard cat"})
    assert response.status_code == 403
    assert not FolderAnswer.objects.exists()
