from __future__ import annotations

import datetime as dt
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from sightings import (
    access,
    classification,
    crossborder,
    derivatives,
    exif,
    exports,
    folders,
    independence,
    ingest,
    shareable,
    workers,
)
from sightings.access import Action
from sightings.filters import IndividualFilter
from sightings.forms import (
    FolderAnswerForm,
    IndividualForm,
    NamingForm,
    RecordTableForm,
    UploadForm,
)
from sightings.models import (
    BROWSER_FORMATS,
    FORMAT_TYPES,
    Event,
    Individual,
    Media,
    Sighting,
    SkippedFile,
    Species,
    Team,
    UploadBatch,
)

MEDIA_PER_PAGE = 60
FAILED_LISTED = 500


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    viewer = access.viewer(request)
    deployments = (
        access.deployments(viewer)
        .select_related("location__team")
        .annotate(media_count=Count("media"))
        .order_by("location__team__name", "location__name", "-start_at")
    )
    uploadable = set(access.deployments(viewer, Action.UPLOAD).values_list("pk", flat=True))
    context = {
        "deployments": deployments,
        "uploadable": uploadable,
        "batches": _recent_batches(request.user),
        "managed_teams": access.teams(viewer, Action.MANAGE),
        "workers_silent": workers.silent_since(),
    }
    return render(request, "sightings/home.html", context)


def _recent_batches(user) -> list[UploadBatch]:
    """The user's last batches, each with its counts of images, of those still waiting or
    failed, and of files skipped (duplicates included)."""
    batches = list(
        UploadBatch.objects.filter(uploaded_by=user).select_related("deployment__location")[:10]
    )
    # Two grouped queries for the ten, not a join of a card's images with its skipped files.
    states = Media.objects.filter(batch__in=batches).values_list("batch", "state")
    counts = states.order_by().annotate(count=Count("pk"))
    skipped = SkippedFile.objects.filter(batch__in=batches).values_list("batch").order_by()
    skipped_counts = dict(skipped.annotate(count=Count("pk")))
    for batch in batches:
        by_state = {state: count for pk, state, count in counts if pk == batch.pk}
        batch.image_count = sum(by_state.values())
        batch.waiting_count = by_state.get(Media.State.QUEUED, 0) + by_state.get(
            Media.State.PROCESSING, 0
        )
        batch.failed_count = by_state.get(Media.State.FAILED, 0)
        batch.skipped_count = skipped_counts.get(batch.pk, 0)
    return batches


@login_required
def deployment_media(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = access.get_deployment_for_user(request, pk)
    media = deployment.media.order_by("captured_at", "camera_time", "pk")
    shown = request.GET.get("show", "")
    if shown == "failed":
        media = media.filter(state=Media.State.FAILED)
    elif shown == "no_time":
        media = media.filter(state=Media.State.PROCESSED, camera_time="")
    elif shown == "outside":
        media = media.filter(is_outside_deployment=True)
    page = Paginator(media, MEDIA_PER_PAGE).get_page(request.GET.get("page"))
    can_upload = access.may(request, Action.UPLOAD, deployment.location.team_id)
    context = {"deployment": deployment, "page": page, "shown": shown, "can_upload": can_upload}
    return render(request, "sightings/deployment_media.html", context)


@login_required
def upload(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = access.get_deployment_for_user(request, pk, Action.UPLOAD)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        files = zip(form.cleaned_data["files"], form.cleaned_data["paths"], strict=True)
        batch = ingest.receive(request.user, deployment, files, form.cleaned_data["batch"]).batch
        url = reverse("sightings:batch_detail", args=[batch.pk])
        if _wants_json(request):
            return JsonResponse({"batch": batch.pk, "url": url})
        return redirect(url)
    if request.method == "POST" and _wants_json(request):
        return JsonResponse({"errors": form.errors}, status=400)
    context = {
        "deployment": deployment,
        "form": form,
        "resume_days": settings.RESUMABLE_UPLOAD_KEEP_DAYS,
    }
    return render(request, "sightings/upload.html", context)


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = access.get_batch_for_user(request, pk)
    context = {
        "batch": batch,
        "progress": batch.progress(),
        "folders": batch.folders.select_related("species"),
        "unanswered": folders.unanswered(batch),
        "stations": folders.stations(batch),
        "species_labels": _species_labels(),
        "failed": batch.media.filter(state=Media.State.FAILED).order_by("pk")[:FAILED_LISTED],
        "skipped": _skipped(request, batch),
        "can_retry": access.may(request, Action.UPLOAD, batch.deployment.location.team_id),
        "workers_silent": workers.silent_since(),
        "sees_details": access.sees_details(request),
    }
    return render(request, "sightings/batch_detail.html", context)


def _skipped(request: HttpRequest, batch: UploadBatch) -> list[tuple]:
    """The batch's skipped files, each with the media it duplicates where the viewer may see
    that media (else the report only says the file is already in the exchange)."""
    skipped = list(batch.skipped_files.select_related("duplicate_of__deployment__location"))
    duplicates = {file.duplicate_of_id for file in skipped} - {None}
    visible = set(
        access.media(access.viewer(request)).filter(pk__in=duplicates).values_list("pk", flat=True)
    )
    return [
        (file, file.duplicate_of if file.duplicate_of_id in visible else None) for file in skipped
    ]


@login_required
def batch_progress(request: HttpRequest, pk: int) -> JsonResponse:
    batch = access.get_batch_for_user(request, pk)
    failed = batch.media.filter(state=Media.State.FAILED).order_by("pk")[:FAILED_LISTED]
    sees_details = access.sees_details(request)
    return JsonResponse(
        {
            **batch.progress(),
            "workers_silent": workers.silent_since() is not None,
            "failed": [_failure(media, sees_details) for media in failed],
        }
    )


def _failure(media: Media, sees_details: bool) -> dict:
    failure = {
        "id": media.pk,
        "name": media.original_name,
        "folder": media.folder,
        "reason": _(media.failure_reason) if media.failure_reason else "",
    }
    if sees_details:
        failure["detail"] = media.failure_detail
    return failure


@login_required
@require_POST
def retry_batch(request: HttpRequest, pk: int) -> HttpResponse:
    batch = access.get_batch_for_user(request, pk, Action.UPLOAD)
    ingest.retry_failed(batch.media.all())
    return redirect("sightings:batch_detail", batch.pk)


@login_required
def media_detail(request: HttpRequest, pk: int) -> HttpResponse:
    media = access.get_media_for_user(request, pk)
    viewer = access.viewer(request)
    team = media.deployment.location.team_id
    protected = access.place(viewer, media.deployment.location).generalised
    shown = access.sightings(viewer).filter(event=media.event_id) if media.event_id else None
    labelled, technical = exif.labelled_tags(media.exif)
    context = {
        "media": media,
        "own": viewer.may(Action.VIEW, team),
        "can_retry": viewer.may(Action.UPLOAD, team),
        "protected": protected,
        "sees_details": access.sees_details(request),
        "gps": access.image_place(viewer, media),
        # Raw tags, the file's hash and the problems found in it may all say where it was
        # taken: a viewer who may not know the place sees none of them.
        "labelled_tags": [] if protected else labelled,
        "technical_tags": technical if access.sees_details(request) and not protected else [],
        "sightings": shown.select_related("species", "individual") if shown else [],
    }
    return render(request, "sightings/media_detail.html", context)


@login_required
@require_POST
def retry_media(request: HttpRequest, pk: int) -> HttpResponse:
    media = access.get_media_for_user(request, pk, Action.UPLOAD)
    ingest.retry_failed(Media.objects.filter(pk=media.pk))
    return redirect("sightings:media_detail", media.pk)


SUFFIX_OF = {content_type: suffix for content_type, suffix in FORMAT_TYPES.values()}
OTHER_SUFFIXES = {".jpg": {".jpeg", ".jpe"}, ".tif": {".tiff"}, ".heic": {".heif"}}
BROWSER_TYPES = {FORMAT_TYPES[format][0] for format in BROWSER_FORMATS}
# Served files run no script: a browser never takes one for a page, whatever it was named.
FILE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


@login_required
def media_file(request: HttpRequest, pk: int, kind: str) -> FileResponse:
    media = access.get_media_for_user(request, pk)
    if not media.file:
        # Imported by URL alone (camtrapdp_import.py): nothing here to serve, and its URL is
        # not given out, as it may be a protected station's original.
        raise Http404
    if kind != "original":
        derivative = media.preview if kind == "preview" else media.thumbnail
        if not derivative:
            raise Http404
        return _file_response(derivative.open("rb"), "image/jpeg")
    if access.place(access.viewer(request), media.deployment.location).generalised:
        # Rebuilt from an allowlist, once: nothing of the file that could tell the place.
        try:
            name, content_type = shareable.copy_for_others(media)
        except derivatives.ImageError:
            raise Http404 from None  # nothing of it can be shown safely
        file = default_storage.open(name, "rb")
    else:
        file, content_type = media.file.open("rb"), media.content_type
    filename = _served_name(media.original_name, SUFFIX_OF.get(content_type, ""))
    return _file_response(file, content_type, filename)


def _file_response(file, content_type: str, filename: str | None = None) -> FileResponse:
    inline = content_type in BROWSER_TYPES
    response = FileResponse(
        file, content_type=content_type, as_attachment=not inline, filename=filename or ""
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_POLICY
    response["Cache-Control"] = "private, max-age=86400"
    return response


def _served_name(name: str, suffix: str) -> str:
    """The uploader's file name, with the suffix of what is served unless it has it already."""
    path = PurePosixPath(name)
    if path.suffix.lower() in {suffix, *OTHER_SUFFIXES.get(suffix, ())}:
        return name
    return f"{path.stem or 'image'}{suffix}"


def _species_labels() -> list[tuple[str, str]]:
    """(label, other names) of every species, for the species fields' suggestions."""
    return [
        (
            species.label(),
            " · ".join(
                n for n in (species.name_en, species.name_zh, species.name_ru, species.code) if n
            ),
        )
        for species in Species.objects.order_by("kind", "name_en")
    ]


@login_required
@require_POST
def answer_folders(request: HttpRequest, pk: int) -> HttpResponse:
    batch = access.get_batch_for_user(request, pk, Action.UPLOAD)
    # Unanswered folders, and answered ones whose answer is changed (left empty: kept).
    for folder in batch.folders.all():
        form = FolderAnswerForm({
            "answer": request.POST.get(f"folder-{folder.pk}", ""),
            "ignore": request.POST.get(f"folder-{folder.pk}-ignore", ""),
        })  # fmt: skip
        if form.is_valid():
            folders.answer(folder, form.cleaned_data["species"], request.user)
        elif form["answer"].value():
            messages.error(
                request,
                _("%(name)s: no species in the catalogue goes by that name.")
                % {"name": folder.name},
            )
    folders.apply(batch)
    return redirect("sightings:batch_detail", batch.pk)


# Naming events. The scope is a deployment, or one batch of it (?batch=ID).


def _event_scope(event: Event, batch_id: str | None) -> tuple[QuerySet[Event], UploadBatch | None]:
    events = Event.objects.filter(deployment_id=event.deployment_id)
    batch = (
        UploadBatch.objects.filter(pk=batch_id, deployment_id=event.deployment_id).first()
        if batch_id and batch_id.isdigit()
        else None
    )
    if batch is not None:
        events = events.filter(Exists(Media.objects.filter(event=OuterRef("pk"), batch=batch)))
    return events, batch


# The start_at bound repeats what the OR says: it lets the database read the (deployment,
# start_at, id) index from the event on, where the OR alone made it scan the deployment.


def _after(events: QuerySet[Event], event: Event) -> QuerySet[Event]:
    later = Q(start_at__gt=event.start_at) | Q(start_at=event.start_at, pk__gt=event.pk)
    return events.filter(later, start_at__gte=event.start_at).order_by("start_at", "pk")


def _before(events: QuerySet[Event], event: Event) -> QuerySet[Event]:
    earlier = Q(start_at__lt=event.start_at) | Q(start_at=event.start_at, pk__lt=event.pk)
    return events.filter(earlier, start_at__lte=event.start_at).order_by("-start_at", "-pk")


def _event_url(event: Event, batch: UploadBatch | None) -> str:
    url = reverse("sightings:event_detail", args=[event.pk])
    return f"{url}?batch={batch.pk}" if batch else url


def _unnamed(events: QuerySet[Event]) -> QuerySet[Event]:
    """Events with a sighting not named yet (the sighting_species_event index finds them)."""
    return events.filter(Exists(Sighting.objects.filter(event=OuterRef("pk"), species=None)))


def _first_to_name(events: QuerySet[Event]) -> Event | None:
    ordered = events.order_by("start_at", "pk")
    return _unnamed(ordered).first() or ordered.first()


def _next_to_name(events: QuerySet[Event], event: Event) -> Event | None:
    """Where Next and Enter go: the next event not named yet, skipping named ones, from the
    start again past the last; once every event is named, simply the next one."""
    return (
        _unnamed(_after(events, event)).first()
        or _unnamed(events.exclude(pk=event.pk).order_by("start_at", "pk")).first()
        or _after(events, event).first()
    )


@login_required
def annotate_deployment(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = access.get_deployment_for_user(request, pk)
    event = _first_to_name(deployment.events.all())
    if event is None:
        messages.info(request, _("No events yet: images are grouped into events once processed."))
        return redirect("sightings:deployment_media", deployment.pk)
    return redirect(_event_url(event, None))


@login_required
def annotate_batch(request: HttpRequest, pk: int) -> HttpResponse:
    batch = access.get_batch_for_user(request, pk)
    events, _batch = _event_scope(Event(deployment_id=batch.deployment_id), str(batch.pk))
    event = _first_to_name(events)
    if event is None:
        messages.info(request, _("No events yet: images are grouped into events once processed."))
        return redirect("sightings:batch_detail", batch.pk)
    return redirect(_event_url(event, batch))


def _can_name(request: HttpRequest, event: Event) -> bool:
    return access.may(request, Action.NAME, event.deployment.location.team_id)


def _naming_forms(
    event: Event, sightings: list[Sighting], data=None, failed: int | None = None
) -> list:
    forms = []
    for sighting in sightings:
        initial = {
            "species": sighting.species.label() if sighting.species else "",
            "count": sighting.count, "sex": sighting.sex, "life_stage": sighting.life_stage,
            "behaviour": sighting.behaviour, "comment": sighting.comment,
            "individual": sighting.individual.code if sighting.individual else "",
            "version": sighting.version,
        }  # fmt: skip
        bound = data if failed == sighting.pk else None
        forms.append((sighting, NamingForm(bound, initial=initial, auto_id=f"s{sighting.pk}_%s")))
    return forms


def _event_page(request: HttpRequest, event: Event, forms=None, status: int = 200) -> HttpResponse:
    events, batch = _event_scope(event, request.GET.get("batch") or request.POST.get("batch"))
    sightings = list(event.sightings.select_related("species", "individual", "classified_by"))
    neighbours = list(_before(events, event)[:6])[::-1] + [event] + list(_after(events, event)[:6])
    primary = {
        s.event_id: s
        for s in Sighting.objects.filter(event__in=neighbours)
        .select_related("species")
        .order_by("-pk")
    }
    last_species = Species.objects.filter(pk=request.session.get("last_species")).first()
    context = {
        "event": event,
        "batch": batch,
        "media": list(event.media.order_by("captured_at", "pk")),
        "forms": forms or _naming_forms(event, sightings),
        "add_form": NamingForm(auto_id="add_%s"),
        "neighbours": [(e, primary.get(e.pk)) for e in neighbours],
        "previous": neighbours[neighbours.index(event) - 1] if neighbours[0] != event else None,
        "next": _next_to_name(events, event),
        "position": _before(events, event).count() + 1,
        "total": events.count(),
        "can_name": _can_name(request, event),
        "blank": Species.objects.filter(kind=Species.Kind.BLANK).first(),
        "last_species": last_species,
        "species_labels": _species_labels(),
        "individuals": Individual.objects.select_related("species").order_by("code"),
    }
    return render(request, "sightings/event.html", context, status=status)


@login_required
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _event_page(request, access.get_event_for_user(request, pk))


def _go_on(request: HttpRequest, event: Event) -> HttpResponse:
    events, batch = _event_scope(event, request.POST.get("batch"))
    following = _next_to_name(events, event) if request.POST.get("then") == "next" else event
    if following is None:
        messages.info(request, _("That was the last event."))
        following = event
    elif (following.start_at, following.pk) < (event.start_at, event.pk):
        messages.info(request, _("Back to the first event not named yet."))
    return redirect(_event_url(following, batch))


@login_required
@require_POST
def name_sighting(request: HttpRequest, pk: int) -> HttpResponse:
    sighting = access.get_sighting_for_user(request, pk, Action.NAME)
    form = NamingForm(request.POST, auto_id=f"s{sighting.pk}_%s")
    if not form.is_valid():
        forms = _naming_forms(
            sighting.event,
            list(sighting.event.sightings.select_related("species", "individual")),
            request.POST,
            sighting.pk,
        )
        return _event_page(request, sighting.event, forms, status=400)
    try:
        classification.classify(
            sighting, form.cleaned_data["version"] or 0, form.naming(), request.user
        )
    except classification.Conflict as conflict:
        return _conflict(request, sighting, conflict.current)
    _remember(request, form.cleaned_data["species"])
    return _go_on(request, sighting.event)


def _remember(request: HttpRequest, species: Species) -> None:
    # For "the last species again" (r): a blank in between should not make it "blank".
    if species.kind != Species.Kind.BLANK:
        request.session["last_species"] = species.pk


def _conflict(request: HttpRequest, sighting: Sighting, current: Sighting) -> HttpResponse:
    """Say what the other person saved, keep what this one typed, and let them save over it
    knowingly (the form now carries the current version)."""
    when = timezone.localtime(current.classified_at, dt.UTC) if current.classified_at else None
    messages.error(
        request,
        _(
            "%(user)s saved this sighting while you were editing it (as %(species)s, "
            "%(when)s UTC). Your change was not saved: check theirs, then save again."
        )
        % {
            "user": current.classified_by or _("someone"),
            "species": current.species or _("not named yet"),
            "when": f"{when:%Y-%m-%d %H:%M}" if when else "",
        },
    )
    data = request.POST.copy()
    data["version"] = current.version
    event = sighting.event
    sightings = list(event.sightings.select_related("species", "individual"))
    return _event_page(request, event, _naming_forms(event, sightings, data, sighting.pk), 409)


@login_required
@require_POST
def add_sighting(request: HttpRequest, pk: int) -> HttpResponse:
    event = access.get_event_for_user(request, pk, Action.NAME)
    form = NamingForm(request.POST, auto_id="add_%s")
    if form.is_valid():
        classification.add_sighting(event, form.naming(), request.user)
        _remember(request, form.cleaned_data["species"])
    else:
        messages.error(
            request, " ".join(error for errors in form.errors.values() for error in errors)
        )
    return _go_on(request, event)


@login_required
@require_POST
def name_many(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = access.get_deployment_for_user(request, pk, Action.NAME)
    species = Species.objects.all().find(request.POST.get("species", ""))
    versions = dict(_id_and_version(value) for value in request.POST.getlist("sighting"))
    if species is None or not versions:
        messages.error(request, _("Choose events and a species."))
    else:
        chosen = Sighting.objects.filter(pk__in=versions, event__deployment=deployment)
        conflicts = classification.classify_many(
            {s.pk: versions[s.pk] for s in chosen}, classification.Naming(species), request.user
        )
        _remember(request, species)
        named = len(versions) - len(conflicts)
        messages.success(
            request,
            ngettext("%(count)d event named.", "%(count)d events named.", named) % {"count": named},
        )
        if conflicts:
            messages.error(
                request,
                ngettext(
                    "%(count)d event was changed by someone else meanwhile and was not saved.",
                    "%(count)d events were changed by someone else meanwhile and were not saved.",
                    len(conflicts),
                )
                % {"count": len(conflicts)},
            )
    return redirect(
        request.POST.get("back")
        if url_has_allowed_host_and_scheme(request.POST.get("back"), None)
        else reverse("sightings:annotate_deployment", args=[pk])
    )


def _id_and_version(value: str) -> tuple[int, int]:
    sighting, _, version = value.partition(":")
    return int(sighting), int(version or 0)


# Individuals: one catalogue for every team, so an animal seen on both sides is one.


@login_required
def individuals(request: HttpRequest) -> HttpResponse:
    viewer = access.viewer(request)
    found = access.individuals(viewer).select_related("species", "team")
    cross_border = request.GET.get("show") == "cross-border"
    if cross_border:
        found = found.filter(country_count__gte=2)
    search = IndividualFilter(request.GET, queryset=found.order_by("code"), request=request)
    found = list(search.qs) if search.is_valid() else []
    countries = crossborder.countries_of([individual.pk for individual in found], viewer)
    for individual in found:
        individual.country_names = countries.get(individual.pk, [])
    context = {
        "individuals": found,
        "query": request.GET.get("q", ""),
        "cross_border": cross_border,
    }
    status = 200 if search.is_valid() else 400
    return render(request, "sightings/individuals.html", context, status=status)


@login_required
def individual_detail(request: HttpRequest, pk: int) -> HttpResponse:
    individual = access.get_individual_for_user(request, pk)
    viewer = access.viewer(request)
    sightings = crossborder.detections(individual, viewer)
    stations = crossborder.stations(sightings, viewer)
    references = access.media(viewer).filter(pk__in=individual.reference_media.values("pk"))
    context = {
        "individual": individual,
        "sightings": sightings,
        "days": crossborder.by_day(sightings),
        "marks": crossborder.marks(sightings),
        "stations": stations,
        "mapped": any(station.place.latitude is not None for station in stations),
        "recorded_by": crossborder.recorded_by(sightings),
        "first_seen": sightings[0].observed_at if sightings else None,
        "last_seen": sightings[-1].event.end_at if sightings else None,
        "can_edit": viewer.may(Action.NAME, individual.team_id),
        "references": references,
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }
    return render(request, "sightings/individual_detail.html", context)


def _naming_teams(request: HttpRequest) -> QuerySet[Team]:
    """The teams whose individuals this user may create and edit."""
    return Team.objects.filter(pk__in=access.viewer(request).teams(Action.NAME))


@login_required
def individual_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    individual = access.get_individual_for_user(request, pk, Action.NAME) if pk else None
    teams = _naming_teams(request)
    if not teams.exists():
        raise PermissionDenied
    form = IndividualForm(request.POST or None, instance=individual, teams=teams)
    if request.method == "POST" and form.is_valid():
        individual = form.save()
        return redirect("sightings:individual_detail", individual.pk)
    return render(
        request, "sightings/individual_form.html", {"form": form, "individual": individual}
    )


@login_required
@require_POST
def add_reference(request: HttpRequest, pk: int) -> HttpResponse:
    media = access.get_media_for_user(request, pk)
    individual = Individual.objects.filter(
        code__iexact=request.POST.get("code", "").strip()
    ).first()
    if individual is None:
        messages.error(request, _("No individual has that code."))
    elif not access.may(request, Action.NAME, individual.team_id):
        raise PermissionDenied
    else:
        individual.reference_media.add(media)
        messages.success(
            request, _("Added as a reference image of %(code)s.") % {"code": individual.code}
        )
    return redirect("sightings:media_detail", media.pk)


@login_required
def record_table(request: HttpRequest) -> HttpResponse:
    viewer = access.viewer(request)
    locations = access.locations(viewer)
    if "min_delta" in request.GET:
        form = RecordTableForm(request.GET, locations=locations)
    else:  # a first visit, perhaps from a deployment's page (?location=ID)
        form = RecordTableForm(
            initial={"location": request.GET.getlist("location")}, locations=locations
        )
    if not form.is_valid():
        status = 400 if form.is_bound else 200
        return render(request, "sightings/record_table.html", {"form": form}, status=status)
    sightings = access.sightings(viewer)
    if form.cleaned_data["location"]:
        sightings = sightings.filter(location__in=form.cleaned_data["location"])
    if form.cleaned_data["species"]:
        sightings = sightings.filter(species__in=form.cleaned_data["species"])
    detections = independence.independent_detections(
        independence.records(sightings),
        form.cleaned_data["min_delta"],
        form.cleaned_data["compared_to"],
    )
    lines = exports.csv_lines(exports.record_table_rows(detections), bom=form.cleaned_data["excel"])
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="record_table.csv"'
    return response
