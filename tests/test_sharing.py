"""What other teams receive: approved records only, on every surface, and nothing of a
protected station's place. Alice uploads for the Chinese team; Boris reviews for the
Russian team and is the other team here."""

from __future__ import annotations

import pytest

from sightings import access, classification
from sightings.models import Individual, Location, Membership, Sighting, SkippedFile, Species

from .test_events import shoot, upload
from .test_processing import add, process
from .test_protection import GPS_PHOTO


@pytest.fixture
def cn_reviewer(django_user_model, cn_team):
    user = django_user_model.objects.create_user("li")
    Membership.objects.create(user=user, team=cn_team, role=Membership.Role.REVIEWER)
    return user


def named(sighting: Sighting, species: str, user) -> Sighting:
    sighting = Sighting.objects.select_related("event__deployment").get(pk=sighting.pk)
    naming = classification.Naming(Species.objects.get(name_en=species))
    return classification.classify(sighting, sighting.version, naming, user)


def approved(sighting: Sighting, reviewer) -> Sighting:
    classification.review(sighting, "approved", reviewer, sighting.version)
    return Sighting.objects.get(pk=sighting.pk)


@pytest.fixture
def approved_event(cn_deployment, alice, cn_reviewer):
    """An approved boar at 00:40 and, in the same event, a second sighting still pending."""
    [image] = shoot(cn_deployment, alice, "2009:04:21 00:40:00")
    boar = approved(
        named(Sighting.objects.get(event=image.event_id), "Wild boar", alice), cn_reviewer
    )
    deer = classification.add_sighting(
        image.event, classification.Naming(Species.objects.get(name_en="Sika deer")), alice
    )
    return {"image": image, "boar": boar, "deer": deer}


def test_an_image_joining_an_approved_event_sends_it_back_to_review(
    client, cn_deployment, alice, boris, approved_event
):
    client.force_login(boris)
    boar = approved_event["boar"]
    assert client.get(f"/sightings/{boar.pk}/").status_code == 200
    # 30 s later, within the 60 s gap: it joins the approved event.
    [late] = shoot(cn_deployment, alice, "2009:04:21 00:40:30")
    assert late.event_id == boar.event_id
    boar.refresh_from_db()
    assert boar.review_status == "pending"
    assert boar.changes.last().changes == {"review_status": ["approved", "pending"]}
    # Nobody approved the new image: the other team sees neither it nor the event.
    assert client.get(f"/media/{late.pk}/").status_code == 403
    assert client.get(f"/media/{late.pk}/preview/").status_code == 403
    assert client.get(f"/sightings/{boar.pk}/").status_code == 403
    assert client.get("/sightings/count/").json()["count"] == 0


def test_merging_two_approved_events_sends_both_back_to_review(cn_deployment, alice, cn_reviewer):
    early, late = shoot(cn_deployment, alice, "2009:04:21 00:40:00", "2009:04:21 00:41:40")
    for image in (early, late):
        approved(named(Sighting.objects.get(event=image.event_id), "Wild boar", alice), cn_reviewer)
    shoot(cn_deployment, alice, "2009:04:21 00:40:50")  # within the gap of both
    assert set(Sighting.objects.values_list("review_status", flat=True)) == {"pending"}


def test_images_of_a_new_event_leave_approved_events_alone(cn_deployment, alice, approved_event):
    shoot(cn_deployment, alice, "2009:04:21 03:00:00")
    approved_event["boar"].refresh_from_db()
    assert approved_event["boar"].review_status == "approved"


def test_other_teams_see_only_approved_sightings_of_an_event(client, boris, approved_event):
    client.force_login(boris)
    boar, deer = approved_event["boar"], approved_event["deer"]
    page = client.get(f"/sightings/{boar.pk}/").content.decode()
    assert "Also in this event" not in page and f"/sightings/{deer.pk}/" not in page
    media = client.get(f"/media/{approved_event['image'].pk}/").content.decode()
    assert "Wild boar" in media and "Sika deer" not in media
    # Nor the team's own pages of the event, deployment or batch.
    assert f"/events/{boar.event_id}/" not in media
    assert "/batches/" not in media and "/deployments/" not in media


def test_the_team_sees_every_sighting_of_its_event(client, alice, approved_event):
    client.force_login(alice)
    page = client.get(f"/sightings/{approved_event['boar'].pk}/").content.decode()
    assert f"/sightings/{approved_event['deer'].pk}/" in page


def test_individuals_count_and_list_only_what_the_viewer_may_see(
    client, cn_team, alice, boris, cn_reviewer, approved_event, cn_deployment
):
    boar_of_note = Individual.objects.create(
        species=Species.objects.get(name_en="Wild boar"), code="SS-CN-007", team=cn_team
    )
    Sighting.objects.filter(pk=approved_event["boar"].pk).update(individual=boar_of_note)
    [other] = shoot(cn_deployment, alice, "2009:05:01 10:00:00")
    pending = named(Sighting.objects.get(event=other.event_id), "Wild boar", alice)
    Sighting.objects.filter(pk=pending.pk).update(individual=boar_of_note)
    for user, expected in ((boris, 1), (alice, 2)):
        client.force_login(user)
        listing = client.get("/individuals/").content.decode()
        assert f'<td class="number">{expected}</td>' in listing
        page = client.get(f"/individuals/{boar_of_note.pk}/").content.decode()
        assert page.count('<li class="detection">') == expected


def test_filters_name_no_station_another_team_shares_nothing_of(
    client, boris, cn_deployment, alice
):
    shoot(cn_deployment, alice, "2009:04:21 00:40:00")  # pending only
    client.force_login(boris)
    location = cn_deployment.location_id
    for url in ("/sightings/", "/map/"):
        response = client.get(url, {"location": location})
        assert response.status_code == 400
        assert "HC-07" not in response.content.decode()
    response = client.get("/sightings/", {"deployment": cn_deployment.pk})
    assert response.status_code == 400 and "HC-07" not in response.content.decode()
    assert client.get("/sightings.csv", {"location": location}).status_code == 400


def test_filters_name_a_station_once_it_shares_something(client, boris, approved_event):
    client.force_login(boris)
    location = Location.objects.get(name="HC-07")
    page = client.get("/sightings/", {"location": location.pk}).content.decode()
    assert "Location: HC-07" in page


def test_a_duplicate_report_names_only_what_the_uploader_may_see(
    client, cn_deployment, ru_deployment, alice, boris, ru_team
):
    Membership.objects.create(user=boris, team=ru_team, role=Membership.Role.UPLOADER)
    [theirs] = upload(cn_deployment, alice, "2009:04:21 00:40:00")  # pending, Chinese
    process(theirs)
    with theirs.file.open("rb") as file:
        data = file.read()
    add(ru_deployment, boris, GPS_PHOTO, data=data, name="mine.jpg")
    skipped = SkippedFile.objects.get(reason="duplicate")
    client.force_login(boris)
    page = client.get(f"/batches/{skipped.batch_id}/").content.decode()
    assert "The same file was uploaded before, so it is not stored again." in page
    assert "HC-07" not in page and f"/media/{theirs.pk}/" not in page
    assert theirs.original_name not in page


def test_a_protected_image_page_tells_nothing_of_its_place(client, alice, boris, ru_deployment):
    from .test_protection import name as approve_as

    Membership.objects.create(
        user=boris, team=ru_deployment.location.team, role=Membership.Role.UPLOADER
    )
    deer = process(add(ru_deployment, boris, GPS_PHOTO))
    deer.warnings = [{"reason": "A metadata value is not valid and was ignored.",
                      "detail": "GPS GPSAltitude = 43.4679"}]  # fmt: skip
    deer.image_description = "Ridge camera 43.4679 N"
    deer.save()
    approve_as(Sighting.objects.get(event=deer.event_id), "Sika deer", boris)
    [tiger] = shoot(ru_deployment, boris, "2021:04:11 20:43:09")
    approve_as(Sighting.objects.get(event=tiger.event_id), "Amur tiger", boris)
    client.force_login(alice)
    page = client.get(f"/media/{deer.pk}/").content.decode()
    assert "withheld: a sensitive species lives here" in page
    # DSCN0010.jpg was taken at 43.467448 N, 11.885127 E.
    for trace in ("43.467", "11.885", "43.4679", "GPS GPS", deer.sha256, "Ridge camera"):
        assert trace not in page, trace
    assert "A metadata value is not valid and was ignored." in page
    client.force_login(boris)
    own = client.get(f"/media/{deer.pk}/").content.decode()
    assert "43.467448" in own and deer.sha256 in own


def test_the_viewer_is_read_once_per_request(rf, alice, cn_team):
    request = rf.get("/")
    request.user = alice
    assert access.viewer(request) is access.viewer(request)
    assert access.viewer(request).teams() == {cn_team.pk}
