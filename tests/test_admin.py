from __future__ import annotations

import pytest

from sightings.models import Location, Media, PendingIndependence, Sighting, Species

MODELS = [
    "team",
    "membership",
    "species",
    "location",
    "deployment",
    "uploadbatch",
    "media",
    "skippedfile",
    "sighting",
    "event",
    "batchfolder",
    "folderanswer",
    "individual",
    "malfunctionperiod",
    "mediaobservation",
    "exportjob",
    "importjob",
]


@pytest.fixture
def failed_media(cn_deployment, alice) -> Media:
    batch = cn_deployment.batches.create(uploaded_by=alice)
    return Media.objects.create(
        batch=batch, deployment=cn_deployment, sha256="b" * 64, file="x.jpg", file_size=1,
        original_name="x.jpg", state="failed", failure_reason="Not an image.", attempt_count=1,
    )  # fmt: skip


@pytest.mark.parametrize("model", MODELS)
def test_every_model_has_a_searchable_changelist(client, site_admin, failed_media, model):
    client.force_login(site_admin)
    assert client.get(f"/admin/sightings/{model}/").status_code == 200
    assert client.get(f"/admin/sightings/{model}/?q=x").status_code == 200


def test_the_media_page_shows_a_file(client, site_admin, failed_media):
    client.force_login(site_admin)
    response = client.get(f"/admin/sightings/media/{failed_media.pk}/change/")
    assert response.status_code == 200
    assert b"x.jpg" in response.content


def test_the_retry_action_queues_failed_media_again(
    client, site_admin, failed_media, django_capture_on_commit_callbacks
):
    client.force_login(site_admin)
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(
            "/admin/sightings/media/",
            {"action": "retry_processing", "_selected_action": [failed_media.pk]},
        )
    failed_media.refresh_from_db()
    assert (failed_media.state, failed_media.failure_reason, failed_media.attempt_count) == (
        "queued",
        "",
        0,
    )
    assert len(callbacks) == 1


def test_team_members_are_not_let_into_the_admin(client, alice):
    client.force_login(alice)
    assert client.get("/admin/sightings/media/").status_code == 302


# The admin changes data through the same functions as the pages.


@pytest.fixture
def approved_boar(cn_deployment, alice, django_user_model, cn_team):
    from sightings.models import Membership

    from .test_events import shoot
    from .test_sharing import approved, named

    li = django_user_model.objects.create_user("li")
    Membership.objects.create(user=li, team=cn_team, role=Membership.Role.REVIEWER)
    [image] = shoot(cn_deployment, alice, "2009:04:21 00:40:00")
    return approved(named(Sighting.objects.get(event=image.event_id), "Wild boar", alice), li)


def change_sighting(client, sighting, **fields):
    data = {
        "species": sighting.species_id or "", "count": sighting.count or "",
        "sex": sighting.sex, "life_stage": sighting.life_stage,
        "behaviour": sighting.behaviour, "individual": sighting.individual_id or "",
        "comment": sighting.comment, "review_status": sighting.review_status,
    } | _history_inline(sighting) | fields  # fmt: skip
    return client.post(f"/admin/sightings/sighting/{sighting.pk}/change/", data)


def _history_inline(sighting) -> dict:
    """The management form of the read-only history inline, as the browser sends it."""
    count = sighting.changes.count()
    return {"changes-TOTAL_FORMS": count, "changes-INITIAL_FORMS": count,
            "changes-MIN_NUM_FORMS": 0, "changes-MAX_NUM_FORMS": 1000}  # fmt: skip


def test_renaming_in_the_admin_keeps_every_rule(
    client, site_admin, approved_boar, django_capture_on_commit_callbacks
):
    leopard = Species.objects.get(name_en="Amur leopard")
    client.force_login(site_admin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = change_sighting(client, approved_boar, species=leopard.pk)
    assert response.status_code == 302
    sighting = Sighting.objects.get(pk=approved_boar.pk)
    assert (sighting.species, sighting.review_status) == (leopard, "pending")
    assert sighting.version == approved_boar.version + 1
    assert sighting.location.has_sensitive_species
    change = sighting.changes.last()
    assert (change.changed_by, change.changes) == (
        site_admin,
        {"species": ["Sus scrofa", "Panthera pardus orientalis"],
         "review_status": ["approved", "pending"]},
    )  # fmt: skip
    assert PendingIndependence.objects.filter(species=leopard).exists()
    assert callbacks  # the independence task goes out on commit


def test_the_admin_approves_only_named_sightings(client, site_admin, cn_deployment, alice):
    from .test_events import shoot

    [image] = shoot(cn_deployment, alice, "2009:04:21 00:40:00")
    draft = Sighting.objects.get(event=image.event_id)
    client.force_login(site_admin)
    response = change_sighting(client, draft, review_status="approved")
    assert response.status_code == 200  # the form again, with the error
    draft.refresh_from_db()
    assert draft.review_status == "pending" and not draft.changes.exists()


def test_a_species_turned_sensitive_protects_the_stations_holding_it(
    client, site_admin, approved_boar
):
    boar = Species.objects.get(name_en="Wild boar")
    assert not approved_boar.location.has_sensitive_species
    client.force_login(site_admin)
    data = {
        name: getattr(boar, name)
        for name in ("kind", "scientific_name", "code", "rank", "name_en", "name_zh", "name_ru",
                     "iucn_status")
    } | {"is_sensitive": "on"}  # fmt: skip
    assert client.post(f"/admin/sightings/species/{boar.pk}/change/", data).status_code == 302
    assert Location.objects.get(pk=approved_boar.location_id).has_sensitive_species


def test_a_clock_change_in_the_admin_regroups_the_deployment(
    client, site_admin, cn_deployment, alice, django_capture_on_commit_callbacks
):
    client.force_login(site_admin)
    data = {
        "location": cn_deployment.location_id, "start_at_0": "2009-04-01", "start_at_1": "00:00",
        "end_at_0": "2009-06-01", "end_at_1": "00:00", "time_zone": "Asia/Vladivostok",
        "clock_correction_seconds": 0, "event_gap_seconds": 60,
        # Its malfunction periods (the inline): none.
        "malfunctions-TOTAL_FORMS": 0, "malfunctions-INITIAL_FORMS": 0,
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(f"/admin/sightings/deployment/{cn_deployment.pk}/change/", data)
    assert response.status_code == 302
    assert len(callbacks) == 1


@pytest.mark.parametrize("model", ["event", "media", "uploadbatch", "skippedfile"])
def test_what_the_pipeline_keeps_is_read_only(client, site_admin, approved_boar, model):
    objects = {
        "event": approved_boar.event, "media": approved_boar.event.media.first(),
        "uploadbatch": approved_boar.event.media.first().batch,
    }  # fmt: skip
    client.force_login(site_admin)
    obj = objects.get(model)
    if obj is not None:
        url = f"/admin/sightings/{model}/{obj.pk}/"
        assert client.post(f"{url}change/", {}).status_code == 403
        assert client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    assert client.get(f"/admin/sightings/{model}/add/").status_code == 403
    assert (
        client.post(
            f"/admin/sightings/sighting/{approved_boar.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert Sighting.objects.filter(pk=approved_boar.pk).exists()


def test_sightings_are_not_edited_in_the_event_page_of_the_admin(client, site_admin, approved_boar):
    client.force_login(site_admin)
    page = client.get(f"/admin/sightings/event/{approved_boar.event_id}/change/").content.decode()
    assert 'name="sightings-0-species"' not in page


# Site admins' tools: history, links, bulk actions through the domain functions.


def test_a_sightings_history_is_shown_read_only(client, site_admin, approved_boar):
    client.force_login(site_admin)
    page = client.get(f"/admin/sightings/sighting/{approved_boar.pk}/change/").content.decode()
    assert "Sus scrofa" in page and "approved" in page
    assert 'name="changes-0-changes"' not in page  # shown, not editable
    assert f'href="/admin/sightings/event/{approved_boar.event_id}/change/"' in page


def test_lists_link_related_objects(client, site_admin, failed_media):
    client.force_login(site_admin)
    deployment = failed_media.deployment
    page = client.get("/admin/sightings/deployment/").content.decode()
    assert f'href="/admin/sightings/location/{deployment.location_id}/change/"' in page
    assert (
        f'href="/admin/sightings/media/?deployment__id__exact={deployment.pk}&amp;state__exact=failed"'
        in page
    )
    page = client.get("/admin/sightings/media/").content.decode()
    assert f'href="/admin/sightings/uploadbatch/{failed_media.batch_id}/change/"' in page


@pytest.mark.parametrize(("model", "action"), [("uploadbatch", "retry_failed_media"),
                                               ("deployment", "retry_failed_media")])  # fmt: skip
def test_failed_media_are_retried_in_bulk(
    client, site_admin, failed_media, model, action, django_capture_on_commit_callbacks
):
    selected = failed_media.batch_id if model == "uploadbatch" else failed_media.deployment_id
    client.force_login(site_admin)
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(
            f"/admin/sightings/{model}/", {"action": action, "_selected_action": [selected]}
        )
    failed_media.refresh_from_db()
    assert failed_media.state == "queued"
    assert len(callbacks) == 1


@pytest.mark.parametrize("model", ["deployment", "event"])
def test_grouping_is_run_again_in_bulk(
    client, site_admin, approved_boar, model, django_capture_on_commit_callbacks
):
    from sightings.models import PendingGrouping

    deployment = approved_boar.event.deployment
    selected = deployment.pk if model == "deployment" else approved_boar.event_id
    client.force_login(site_admin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            f"/admin/sightings/{model}/",
            {"action": "rerun_grouping", "_selected_action": [selected]},
        )
    assert response.status_code == 302
    assert PendingGrouping.objects.filter(deployment=deployment, everything=True).exists()
    assert len(callbacks) == 1
    # Run as the worker would: the events come out the same, the names stay.
    from sightings import tasks

    tasks.regroup_deployment.apply(args=(deployment.pk,))
    assert Sighting.objects.get(pk=approved_boar.pk).event_id == approved_boar.event_id
    assert not PendingGrouping.objects.exists()


def test_a_folder_answer_added_in_the_admin_is_the_teams_one(client, site_admin, cn_team):
    from sightings.models import FolderAnswer

    FolderAnswer.objects.create(team=cn_team, name="PBE")
    leopard_cat = Species.objects.get(name_en="Leopard cat")
    client.force_login(site_admin)
    data = {"team": cn_team.pk, "name": "pbe", "species": leopard_cat.pk}
    assert client.post("/admin/sightings/folderanswer/add/", data).status_code == 302
    [answer] = FolderAnswer.objects.all()
    assert (answer.species, answer.answered_by) == (leopard_cat, site_admin)


def test_the_admin_keeps_a_team_admin_in_every_team(client, site_admin, cn_team, alice):
    from sightings.models import Membership

    ada = Membership.objects.create(
        user=site_admin.__class__.objects.create_user("ada"), team=cn_team, role="admin"
    )
    uploader = Membership.objects.get(team=cn_team, user=alice)
    client.force_login(site_admin)

    def save(rows: list[tuple[Membership, str, bool]]):
        data = {"name": cn_team.name, "country": cn_team.country, "embargo_months": 0,
                "memberships-TOTAL_FORMS": len(rows), "memberships-INITIAL_FORMS": len(rows),
                "memberships-MIN_NUM_FORMS": 0, "memberships-MAX_NUM_FORMS": 1000}  # fmt: skip
        for i, (membership, role, delete) in enumerate(rows):
            row = {
                "id": membership.pk,
                "team": cn_team.pk,
                "user": membership.user_id,
                "role": role,
            }
            data |= {f"memberships-{i}-{name}": value for name, value in row.items()}
            if delete:
                data[f"memberships-{i}-DELETE"] = "on"
        return client.post(f"/admin/sightings/team/{cn_team.pk}/change/", data)

    refused = save([(ada, "admin", True), (uploader, "uploader", False)])
    assert "The team needs a team admin" in refused.content.decode()
    assert Membership.objects.filter(pk=ada.pk).exists()
    refused = save([(ada, "reviewer", False), (uploader, "uploader", False)])
    assert Membership.objects.get(pk=ada.pk).role == "admin"
    saved = save([(ada, "reviewer", False), (uploader, "admin", False)])
    assert saved.status_code == 302
    assert Membership.objects.get(pk=uploader.pk).role == "admin"
