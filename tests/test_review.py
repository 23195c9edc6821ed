"""Review rules, whichever path a change takes: only a named sighting is approved, an edit
sends an approved sighting back to review, and a decision is on the version looked at."""

from __future__ import annotations

import pytest

from sightings import classification
from sightings.models import Membership, Sighting, Species

from .test_events import shoot
from .test_sharing import approved, named


@pytest.fixture
def li(django_user_model, cn_team):
    """Reviewer of the Chinese team."""
    user = django_user_model.objects.create_user("li")
    Membership.objects.create(user=user, team=cn_team, role=Membership.Role.REVIEWER)
    return user


@pytest.fixture
def draft(cn_deployment, alice) -> Sighting:
    [image] = shoot(cn_deployment, alice, "2009:04:21 00:40:00")
    return Sighting.objects.get(event=image.event_id)


def review(client, sighting: Sighting, status: str, version: int | None = None):
    data = {"status": status, "version": sighting.version if version is None else version}
    return client.post(f"/sightings/{sighting.pk}/review/", data, follow=True)


def test_a_sighting_not_named_yet_cannot_be_approved(client, li, draft):
    client.force_login(li)
    page = review(client, draft, "approved").content.decode()
    assert "Only a named sighting can be approved" in page
    draft.refresh_from_db()
    assert (draft.review_status, draft.version) == ("pending", 1)
    assert not draft.changes.exists()
    with pytest.raises(classification.Refused):
        classification.review(draft, "approved", li, draft.version)


def test_it_can_be_returned_or_rejected_unnamed(client, li, draft):
    client.force_login(li)
    review(client, draft, "returned")
    draft.refresh_from_db()
    assert draft.review_status == "returned"


def test_renaming_an_approved_sighting_sends_it_back_to_review(client, alice, li, draft):
    boar = approved(named(draft, "Wild boar", alice), li)
    client.force_login(alice)
    client.post(f"/sightings/{boar.pk}/name/", {"species": "Sika deer", "version": boar.version})
    boar.refresh_from_db()
    assert (boar.species.name_en, boar.review_status) == ("Sika deer", "pending")
    assert boar.changes.last().changes == {
        "species": ["Sus scrofa", "Cervus nippon"],
        "review_status": ["approved", "pending"],
    }


def test_a_returned_sighting_fixed_goes_back_to_the_queue(alice, li, draft):
    boar = named(draft, "Wild boar", alice)
    classification.review(boar, "returned", li, boar.version, "it is a deer")
    boar = named(Sighting.objects.get(pk=boar.pk), "Sika deer", alice)
    assert boar.review_status == "pending"


def test_a_decision_on_an_older_version_is_refused(client, alice, li, draft):
    boar = named(draft, "Wild boar", alice)
    looked_at = boar.version
    named(boar, "Amur tiger", alice)  # renamed while the reviewer was looking
    client.force_login(li)
    page = review(client, boar, "approved", version=looked_at).content.decode()
    assert "changed after you opened it" in page
    boar.refresh_from_db()
    assert (boar.species.name_en, boar.review_status) == ("Amur tiger", "pending")


def test_approving_keeps_who_when_and_the_comment(client, alice, li, draft):
    boar = named(draft, "Wild boar", alice)
    client.force_login(li)
    client.post(
        f"/sightings/{boar.pk}/review/",
        {"status": "approved", "version": boar.version, "comment": "clear tusks"},
    )
    boar.refresh_from_db()
    change = boar.changes.last()
    assert boar.review_status == "approved" and boar.version == 3
    assert (change.changed_by, change.changes) == (
        li,
        {"review_status": ["pending", "approved"], "review_comment": ["", "clear tusks"]},
    )


def test_a_review_without_a_version_is_refused(client, alice, li, draft):
    boar = named(draft, "Wild boar", alice)
    client.force_login(li)
    client.post(f"/sightings/{boar.pk}/review/", {"status": "approved"})
    boar.refresh_from_db()
    assert boar.review_status == "pending"


def test_naming_a_sensitive_species_protects_the_station(alice, draft):
    named(draft, "Amur leopard", alice)
    assert draft.location.__class__.objects.get(pk=draft.location_id).has_sensitive_species
    assert Species.objects.get(name_en="Amur leopard").is_sensitive
