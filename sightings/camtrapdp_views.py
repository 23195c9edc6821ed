"""The browser's Camtrap DP download: built while the request waits for small sets, by a
worker with a progress page for large ones (CAMTRAP_DP_DIRECT_LIMIT); and the upload of a
package to import into a team's data, imported by a worker, with a progress page that ends
with what it created or why it was refused."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sightings import access, camtrapdp_export, camtrapdp_validation, tasks
from sightings.access import Action
from sightings.forms import ImportForm
from sightings.models import ExportJob, ImportJob

FILENAME = "camtrap-dp.zip"
logger = logging.getLogger(__name__)


@login_required
def export(request: HttpRequest) -> HttpResponse:
    viewer = access.viewer(request)
    query = request.GET.urlencode()
    try:
        sightings = camtrapdp_export.filtered(viewer, query)
    except camtrapdp_export.BadFilters as bad:
        return JsonResponse({"errors": bad.errors}, status=400)
    count = sightings.order_by().count()
    if count > settings.CAMTRAP_DP_DIRECT_LIMIT:
        job = ExportJob.objects.create(owner=request.user, filters=query, total=count)
        transaction.on_commit(lambda: tasks.build_export.delay(str(job.pk)))
        return redirect("sightings:export_job", job.pk)
    folder = Path(settings.MEDIA_ROOT) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{uuid.uuid4()}.zip"
    try:
        camtrapdp_export.build(viewer, sightings, out)
    except camtrapdp_export.NothingToExport:
        messages.info(request, _("Nothing to export: no sighting found has a located station."))
        return redirect(f"{reverse('sightings:browse')}?{query}")
    except camtrapdp_validation.InvalidPackage:
        # A bug of ours, never a download: the reasons go to the log, the user is told.
        logger.exception("Camtrap DP export for %s does not validate", request.user)
        return render(request, "sightings/export_failed.html", status=500)
    file = out.open("rb")
    out.unlink()  # the open file is read to the end; nothing is left behind
    return FileResponse(file, as_attachment=True, filename=FILENAME, content_type="application/zip")


def _own_job(request: HttpRequest, pk: uuid.UUID) -> ExportJob:
    """The job, for its owner only: anyone else is answered as if it did not exist."""
    job = ExportJob.objects.filter(pk=pk, owner=request.user).first()
    if job is None:
        raise Http404
    return job


@login_required
def export_job(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    job = _own_job(request, pk)
    context = {"job": job, "keep_days": settings.EXPORT_KEEP_DAYS, **_progress(job)}
    return render(request, "sightings/export_job.html", context)


@login_required
def export_job_progress(request: HttpRequest, pk: uuid.UUID) -> JsonResponse:
    return JsonResponse(_progress(_own_job(request, pk)))


def _progress(job: ExportJob) -> dict:
    return {
        "state": job.state,
        "state_label": job.get_state_display(),
        "done": job.done,
        "total": job.total,
        "finished": job.state not in ExportJob.ACTIVE,
    }


@login_required
def export_job_download(request: HttpRequest, pk: uuid.UUID) -> FileResponse:
    job = _own_job(request, pk)
    if job.state != ExportJob.State.READY or not job.file:  # not yet, or removed since
        raise Http404
    return FileResponse(
        job.file.open("rb"), as_attachment=True, filename=FILENAME, content_type="application/zip"
    )


# Imports.

# What an import created, table by table, in the order a package is read.
CREATED = {
    "locations": gettext_lazy("Locations"),
    "deployments": gettext_lazy("Deployments"),
    "events": gettext_lazy("Events"),
    "media": gettext_lazy("Images"),
    "sightings": gettext_lazy("Sightings"),
    "media observations": gettext_lazy("Observations of single images"),
    "individuals": gettext_lazy("Individuals"),
    "species": gettext_lazy("Species added to the catalogue"),
}


@login_required
def import_package(request: HttpRequest, pk: int) -> HttpResponse:
    team = access.get_team_for_user(request, pk, Action.IMPORT)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        package = form.cleaned_data["package"]
        job = ImportJob(owner=request.user, team=team, name=package.name[:255])
        # A temporary upload is moved into place, not copied (FILE_UPLOAD_TEMP_DIR).
        job.file.save(f"imports/{job.pk}.zip", package, save=False)
        job.save()
        transaction.on_commit(lambda: tasks.import_camtrapdp.delay(str(job.pk)))
        return redirect("sightings:import_job", job.pk)
    jobs = ImportJob.objects.filter(team=team, owner=request.user)[:10]
    return render(
        request, "sightings/import_package.html", {"team": team, "form": form, "jobs": jobs}
    )


def _own_import(request: HttpRequest, pk: uuid.UUID) -> ImportJob:
    """The job, for its owner only: anyone else is answered as if it did not exist."""
    job = ImportJob.objects.select_related("team").filter(pk=pk, owner=request.user).first()
    if job is None:
        raise Http404
    return job


@login_required
def import_job(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    job = _own_import(request, pk)
    created = [(label, job.counts.get(table, 0)) for table, label in CREATED.items()]
    context = {"job": job, "created": created, **_import_progress(job)}
    return render(request, "sightings/import_job.html", context)


@login_required
def import_job_progress(request: HttpRequest, pk: uuid.UUID) -> JsonResponse:
    return JsonResponse(_import_progress(_own_import(request, pk)))


def _import_progress(job: ImportJob) -> dict:
    return {
        "state": job.state,
        "state_label": job.get_state_display(),
        "finished": job.state not in ImportJob.ACTIVE,
    }
