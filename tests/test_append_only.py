"""A sighting's history is append-only: no model call, queryset, admin page or SQL statement
changes or deletes it, and it outlives its sighting."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from sightings import classification
from sightings.models import Sighting, SightingChange

from .test_events import shoot
from .test_sharing import named


@pytest.fixture
def change(cn_deployment, alice) -> SightingChange:
    [image] = shoot(cn_deployment, alice, "2009:04:21 00:40:00")
    return named(Sighting.objects.get(event=image.event_id), "Wild boar", alice).changes.get()


def test_every_naming_and_decision_is_kept(cn_deployment, alice, change, boris):
    sighting = change.sighting
    classification.review(sighting, "returned", alice, sighting.version, "look again")
    assert [c.changes for c in sighting.changes.order_by("pk")] == [
        {"species": ["", "Sus scrofa"]},
        {"review_status": ["pending", "returned"], "review_comment": ["", "look again"]},
    ]


def test_a_saved_change_cannot_be_saved_again(change):
    change.changes = {"species": ["", "Panthera tigris altaica"]}
    with pytest.raises(IntegrityError):
        change.save()
    assert SightingChange.objects.get(pk=change.pk).changes == {"species": ["", "Sus scrofa"]}


def test_a_change_cannot_be_deleted(change):
    with pytest.raises(IntegrityError):
        change.delete()
    assert SightingChange.objects.filter(pk=change.pk).exists()


def test_querysets_cannot_update_or_delete_it(change):
    with pytest.raises(IntegrityError):
        SightingChange.objects.filter(pk=change.pk).update(changes={})
    with pytest.raises(IntegrityError):
        SightingChange.objects.all().delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        SightingChange.objects.bulk_update([change], ["changes"])
    assert SightingChange.objects.filter(pk=change.pk).exists()


def test_the_admin_only_shows_it(client, site_admin, change):
    client.force_login(site_admin)
    assert client.get("/admin/sightings/sightingchange/").status_code == 200
    page = client.get(f"/admin/sightings/sightingchange/{change.pk}/change/")
    assert page.status_code == 200 and b'name="changes"' not in page.content
    data = {"changes": "{}", "_save": "Save"}
    client.post(f"/admin/sightings/sightingchange/{change.pk}/change/", data)
    assert client.get(f"/admin/sightings/sightingchange/{change.pk}/delete/").status_code == 403
    client.post(f"/admin/sightings/sightingchange/{change.pk}/delete/", {"post": "yes"})
    actions = {"action": "delete_selected", "_selected_action": [change.pk], "post": "yes"}
    client.post("/admin/sightings/sightingchange/", actions)
    assert SightingChange.objects.get(pk=change.pk).changes == {"species": ["", "Sus scrofa"]}
    # And the sighting's admin page shows it, to read.
    page = client.get(f"/admin/sightings/sighting/{change.sighting_id}/change/").content.decode()
    assert "Sus scrofa" in page


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE sightings_sightingchange SET changes = '{}' WHERE id = %s",
        "DELETE FROM sightings_sightingchange WHERE id = %s",
    ],
)
def test_postgresql_refuses_update_and_delete_in_sql(change, statement):
    with pytest.raises(IntegrityError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [change.pk])
    assert SightingChange.objects.get(pk=change.pk).changes == {"species": ["", "Sus scrofa"]}


def test_it_outlives_a_sighting_the_pipeline_deletes(change, alice):
    # Naming a second species beside a draft deletes the draft; a deleted folder sighting
    # goes the same way. Whatever was said about them stays.
    sighting = change.sighting
    Sighting.objects.filter(pk=sighting.pk).delete()
    assert SightingChange.objects.filter(pk=change.pk).exists()


def test_people_who_changed_history_are_not_deleted(change, alice):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        alice.delete()
