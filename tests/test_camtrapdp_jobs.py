"""Exports and imports run by workers, tidied up (sightings/camtrapdp_jobs.py): packages
removed EXPORT_KEEP_DAYS after they were asked for, a job whose worker died sent again once
and then failed with its reason on its page, a job waiting behind a card left waiting; on
rows and files shifted back in time, and a real worker finishing what was sent again."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import uuid
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from neaspec_traps.celery import app as celery_app
from sightings import camtrapdp_jobs
from sightings.models import Event, ExportJob, ImportJob, Media, Sighting, Species

from .conftest import TESTDATA, wait_until, wait_until_quiet

EXAMPLE = TESTDATA / "camera-trap" / "camtrap-dp-example"
DAYS_AGO = timezone.now() - dt.timedelta(days=settings.EXPORT_KEEP_DAYS + 1)
STALLED = timezone.now() - dt.timedelta(minutes=settings.EXPORT_STALL_MINUTES + 1)


def package(name: str, days_ago: int = 0) -> str:
    """A file under MEDIA_ROOT, last changed days_ago; its storage name."""
    path = Path(settings.MEDIA_ROOT) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip
    when = (timezone.now() - dt.timedelta(days=days_ago)).timestamp()
    os.utime(path, (when, when))
    return name


def export_job(owner, created_at=None, **fields) -> ExportJob:
    job = ExportJob.objects.create(owner=owner, **fields)
    ExportJob.objects.filter(pk=job.pk).update(created_at=created_at or job.created_at)
    return ExportJob.objects.get(pk=job.pk)


def test_old_packages_are_removed_and_their_jobs_say_so(client, boris, alice, cn_team):
    old = export_job(boris, DAYS_AGO, state="ready", file=package(f"exports/{uuid.uuid4()}.zip"))
    new = export_job(boris, state="ready", file=package(f"exports/{uuid.uuid4()}.zip"))
    upload = ImportJob.objects.create(
        owner=alice, team=cn_team, state="done", counts={"media": 3},
        file=package("imports/old.zip", 8),
    )  # fmt: skip
    ImportJob.objects.filter(pk=upload.pk).update(created_at=DAYS_AGO)
    killed = package(f"exports/{uuid.uuid4()}.zip", days_ago=8)  # a request killed mid-way
    recent = package(f"exports/{uuid.uuid4()}.zip", days_ago=1)
    removed = [old.file.name, "imports/old.zip", killed]
    assert camtrapdp_jobs.tidy()["files removed"] == 3
    for name in removed:
        assert not (Path(settings.MEDIA_ROOT) / name).exists(), name
    for name in (new.file.name, recent):
        assert (Path(settings.MEDIA_ROOT) / name).exists(), name
    old.refresh_from_db()
    upload.refresh_from_db()
    assert (old.state, old.file.name, upload.file.name, upload.counts) == (
        "ready",
        "",
        "",
        {"media": 3},
    )
    client.force_login(boris)
    assert (
        "The package was removed 7 days after" in client.get(f"/exports/{old.pk}/").content.decode()
    )
    assert client.get(f"/exports/{old.pk}/download/").status_code == 404
    assert client.get(f"/exports/{new.pk}/download/").status_code == 200


def test_a_job_lost_twice_fails_with_its_reason_on_its_page(
    client, alice, cn_team, django_capture_on_commit_callbacks
):
    export = export_job(alice, state="validating", attempt_count=1)
    job = ImportJob.objects.create(owner=alice, team=cn_team, state="importing", attempt_count=1)
    ExportJob.objects.update(progress_at=STALLED)
    ImportJob.objects.update(progress_at=STALLED)
    with django_capture_on_commit_callbacks() as sent:
        assert camtrapdp_jobs.tidy()["jobs failed"] == 2
    assert not sent
    export.refresh_from_db()
    job.refresh_from_db()
    assert (export.state, job.state) == ("failed", "failed")
    assert export.failure_reason == job.failure_reason == camtrapdp_jobs.STALLED
    client.force_login(alice)
    for url in (f"/exports/{export.pk}/", f"/imports/{job.pk}/"):
        assert "stopped twice before it could finish" in client.get(url).content.decode()


def test_a_job_heard_from_lately_or_finished_is_left_alone(alice, cn_team):
    running = export_job(alice, state="building")  # progress_at: now
    done = ImportJob.objects.create(owner=alice, team=cn_team, state="done")
    ImportJob.objects.filter(pk=done.pk).update(progress_at=STALLED)
    assert camtrapdp_jobs.tidy() == {"files removed": 0, "jobs sent again": 0, "jobs failed": 0}
    assert ExportJob.objects.get(pk=running.pk).state == "building"
    assert ImportJob.objects.get(pk=done.pk).state == "done"


def test_a_queued_job_behind_a_card_waits_its_turn(
    alice, cn_deployment, django_capture_on_commit_callbacks
):
    batch = cn_deployment.batches.create(uploaded_by=alice)
    image = Media.objects.create(
        batch=batch, deployment=cn_deployment, sha256="c" * 64, file="c.jpg", file_size=1,
        original_name="c.jpg", sent_at=STALLED - dt.timedelta(minutes=5),
    )  # fmt: skip
    job = export_job(alice)
    ExportJob.objects.update(progress_at=STALLED)
    assert camtrapdp_jobs.tidy()["jobs sent again"] == 0
    Media.objects.filter(pk=image.pk).update(state="processed")
    with django_capture_on_commit_callbacks() as sent:
        assert camtrapdp_jobs.tidy()["jobs sent again"] == 1
    job.refresh_from_db()
    assert (job.state, job.attempt_count, len(sent)) == ("queued", 1, 1)


@pytest.mark.django_db(transaction=True)
def test_a_worker_finishes_the_jobs_sent_again(
    client, catalogue, ru_deployment, cn_team, alice, boris, tmp_path, celery_worker
):
    moment = dt.datetime(2021, 4, 11, tzinfo=dt.UTC)
    event = Event.objects.create(deployment=ru_deployment, start_at=moment, end_at=moment)
    Sighting.objects.create(event=event, species=Species.objects.get(name_en="Sika deer"),
                            review_status="approved", **event.placement())  # fmt: skip
    export = export_job(boris, state="building", total=1)
    job = ImportJob.objects.create(owner=alice, team=cn_team, state="validating")
    shutil.make_archive(str(tmp_path / "example"), "zip", EXAMPLE)
    job.file.save(f"imports/{job.pk}.zip", ContentFile((tmp_path / "example.zip").read_bytes()))
    ExportJob.objects.update(progress_at=STALLED)
    ImportJob.objects.update(progress_at=STALLED)
    assert camtrapdp_jobs.tidy()["jobs sent again"] == 2
    wait_until(lambda: ExportJob.objects.get().state == "ready" and
               ImportJob.objects.get().state == "done", 180, celery_worker.text)  # fmt: skip
    export.refresh_from_db()
    job.refresh_from_db()
    assert (export.attempt_count, job.attempt_count, job.counts["deployments"]) == (1, 1, 4)
    client.force_login(boris)
    download = b"".join(client.get(f"/exports/{export.pk}/download/").streaming_content)
    assert "observations.csv" in zipfile.ZipFile(io.BytesIO(download)).namelist()
    wait_until_quiet(celery_worker)  # the package's images


@pytest.mark.django_db(transaction=True)
def test_a_running_job_is_heard_from_while_it_runs(alice):
    job = export_job(alice, state="validating")
    ExportJob.objects.update(progress_at=STALLED)
    with camtrapdp_jobs.Heartbeat(ExportJob.objects.filter(pk=job.pk), seconds=0.05):
        wait_until(lambda: ExportJob.objects.get().progress_at > STALLED, 10)
    assert camtrapdp_jobs.tidy()["jobs sent again"] == 0


def test_beat_tidies_every_minute_and_the_command_does_it_once(alice):
    entry = settings.CELERY_BEAT_SCHEDULE["camtrapdp-jobs"]
    assert entry["task"] in celery_app.tasks and entry["schedule"] == 60
    export_job(alice, state="building", attempt_count=1)
    ExportJob.objects.update(progress_at=STALLED)
    out = io.StringIO()
    call_command("tidy_camtrapdp_jobs", stdout=out)
    assert "jobs failed: 1" in out.getvalue()


@pytest.mark.parametrize("model", ["exportjob", "importjob", "mediaobservation"])
def test_the_admin_shows_jobs_read_only(client, site_admin, alice, cn_team, model):
    objects = {
        "exportjob": lambda: export_job(alice, state="ready"),
        "importjob": lambda: ImportJob.objects.create(owner=alice, team=cn_team),
    }
    client.force_login(site_admin)
    assert client.get(f"/admin/sightings/{model}/?q=alice").status_code == 200
    assert client.get(f"/admin/sightings/{model}/add/").status_code == 403
    if model in objects:
        url = f"/admin/sightings/{model}/{objects[model]().pk}/"
        assert client.get(f"{url}change/").status_code == 200
        assert client.post(f"{url}change/", {"state": "queued"}).status_code == 403
        assert client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
