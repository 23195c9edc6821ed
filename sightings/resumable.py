"""Resumable uploads: our server side of the tus protocol 1.0.0, core, creation and
termination (https://tus.io/protocols/resumable-upload).

Field teams send cards of thousands of images over slow links that drop. The upload page
(static/js/upload.js, through tus-js-client) creates one upload per file, sends it in chunks
of a few MB and, after a dropped connection or a closed browser, asks how much arrived (HEAD)
and sends only the rest. The bytes go to a file on disk as they arrive, never whole into
memory. When the last one arrives, the file joins its batch through the same path as a plain
upload (ingest.add_upload: typed by content, duplicates, ZIP archives, limits, processing).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import logging
import os
from pathlib import Path
from uuid import UUID

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from sightings import access, folders, ingest
from sightings.access import Action
from sightings.models import ResumableUpload, UploadBatch

logger = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
CHUNK_TYPE = "application/offset+octet-stream"


class ProtocolError(Exception):
    """A request that breaks the protocol: the status to answer and why, for the client
    library (the upload page shows its own sentence per status, never this text)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def max_size() -> int:
    """The largest file an upload may announce before any of its bytes are seen."""
    # A card's archive may be as large as what may be unpacked from it (ingest.upload_limit);
    # an image is held to its own, smaller limit once its first bytes say what it is.
    return max(settings.UPLOAD_MAX_FILE_BYTES, settings.ZIP_MAX_UNPACKED_BYTES)


def parse_metadata(header: str) -> dict[str, str]:
    """Upload-Metadata: comma-separated pairs of a key and its value in Base64."""
    metadata = {}
    for pair in header.split(","):
        key, _, value = pair.strip().partition(" ")
        if not key:
            continue
        try:
            metadata[key] = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ProtocolError(400, f"Upload-Metadata: {key} is not Base64 of UTF-8") from None
    return metadata


def partial_path(upload: ResumableUpload) -> Path:
    # Beside the other uploads' temporary files, on MEDIA_ROOT's filesystem: storing the
    # finished file is a rename, not a copy.
    return Path(settings.FILE_UPLOAD_TEMP_DIR) / "resumable" / upload.pk.hex


def start(user, batch: UploadBatch, path: str, size: int) -> ResumableUpload:
    """A new upload of size bytes into the batch, with an empty file for its bytes."""
    upload = ResumableUpload(
        owner=user, deployment_id=batch.deployment_id, batch=batch, path=path[:1024], size=size
    )
    partial_path(upload).parent.mkdir(parents=True, exist_ok=True)
    partial_path(upload).touch()
    upload.save(force_insert=True)
    if upload.is_complete:  # an empty file: no chunk follows
        complete(upload)
    return upload


def receive(upload: ResumableUpload, request: HttpRequest) -> int:
    """Write the request's body at the upload's offset, chunk by chunk; return how many
    bytes arrived. What arrived before a dropped connection is kept."""
    written = 0
    # No O_CREAT: an upload the sweep removed meanwhile must not leave its file behind.
    descriptor = os.open(partial_path(upload), os.O_WRONLY)
    try:
        while written < upload.size - upload.offset:
            chunk = request.read(min(ingest.CHUNK_SIZE, upload.size - upload.offset - written))
            if not chunk:
                break
            os.pwrite(descriptor, chunk, upload.offset + written)
            written += len(chunk)
    except UnreadablePostError:
        logger.info("Resumable upload %s: connection lost after %s bytes", upload.pk, written)
    finally:
        os.close(descriptor)
    return written


def advance(upload: ResumableUpload, written: int) -> bool:
    """Move the offset past the bytes written, unless another request moved it first."""
    # Two requests for the same offset (a retry while the first still runs) write the same
    # bytes to the same place; the first to finish moves the offset, the other gets 409.
    offset = upload.offset + written
    moved = ResumableUpload.objects.filter(pk=upload.pk, offset=upload.offset).update(
        offset=offset, updated_at=timezone.now()
    )
    if moved:
        upload.offset = offset
    return bool(moved)


def is_over_limit(upload: ResumableUpload) -> bool:
    """Whether the file is larger than allowed for what its first bytes say it is."""
    with open(partial_path(upload), "rb") as stream:
        return upload.size > ingest.upload_limit(ingest.read_head(stream))


def refuse_too_large(upload: ResumableUpload, limit: int) -> None:
    """Report the file in its batch as too large, as a plain upload is, and drop it."""
    oversize = ingest.OversizeUpload(upload.path, "", upload.size, limit)
    ingest.add_upload(upload.batch, oversize, upload.path)
    remove(upload)


def complete(upload: ResumableUpload) -> None:
    """Hand the finished file to its batch, as the plain upload does."""
    path = partial_path(upload)
    with open(path, "rb") as stream:
        ingest.add_upload(upload.batch, ReceivedFile(stream, path, upload.size), upload.path)
    folders.collect(upload.batch)
    path.unlink(missing_ok=True)  # a duplicate or a skipped file was not moved into storage
    logger.info("Resumable upload %s complete: %s in batch %s", upload.pk, upload.path,
                upload.batch_id)  # fmt: skip


class ReceivedFile(UploadedFile):
    """A finished upload's file, as ingest takes files: with its SHA-256, and stored by
    moving it (the storage moves files that have a temporary_file_path)."""

    def __init__(self, stream, path: Path, size: int) -> None:
        super().__init__(stream, path.name, "application/octet-stream", size)
        self.path = path
        self.sha256 = _sha256(stream)

    def temporary_file_path(self) -> str:
        return str(self.path)


def _sha256(stream) -> str:
    # Read once at the end: hashlib's state cannot be kept from one request to the next.
    # The chunks were just written, so this reads from the page cache, not the disk.
    sha256 = hashlib.sha256()
    while chunk := stream.read(ingest.CHUNK_SIZE):
        sha256.update(chunk)
    stream.seek(0)
    return sha256.hexdigest()


def remove(upload: ResumableUpload) -> None:
    """Forget an upload and delete its bytes."""
    ResumableUpload.objects.filter(pk=upload.pk).delete()
    partial_path(upload).unlink(missing_ok=True)


def remove_stale(now: dt.datetime | None = None) -> int:
    """Remove the uploads left alone for RESUMABLE_UPLOAD_KEEP_DAYS; return how many."""
    before = (now or timezone.now()) - dt.timedelta(days=settings.RESUMABLE_UPLOAD_KEEP_DAYS)
    stale = list(ResumableUpload.objects.filter(updated_at__lt=before)[:1000])
    for upload in stale:
        remove(upload)
    if stale:
        logger.info("Removed %s stale resumable uploads", len(stale))
    return len(stale)


# The protocol over HTTP. Creation may only be asked by who may upload to the deployment;
# an upload answers only its owner (404 to anyone else, as if it did not exist).


@login_required
@require_POST
def new_batch(request: HttpRequest, pk: int) -> JsonResponse:
    """A batch for the files the page is about to send (they name it in their metadata)."""
    deployment = access.get_deployment_for_user(request, pk, Action.UPLOAD)
    batch = ingest.get_or_create_batch(request.user, deployment, None)
    url = reverse("sightings:batch_detail", args=[batch.pk])
    return JsonResponse({"batch": batch.pk, "url": url}, status=201)


@login_required
@require_http_methods(["OPTIONS", "POST"])
def create(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "OPTIONS":
        return _capabilities()
    deployment = access.get_deployment_for_user(request, pk, Action.UPLOAD)
    try:
        _check_version(request)
        size = _header_int(request, "Upload-Length")
        metadata = parse_metadata(request.headers.get("Upload-Metadata", ""))
        batch_id = _batch_id(metadata)
    except ProtocolError as error:
        return _response(error.status, error.reason)
    batch = ingest.get_or_create_batch(request.user, deployment, batch_id)
    path = metadata.get("path") or metadata.get("filename") or ""
    if size > max_size():
        ingest.add_upload(batch, ingest.OversizeUpload(path, "", size, max_size()), path)
        return _response(413, "Upload-Length is larger than this site accepts")
    upload = start(request.user, batch, path, size)
    location = reverse("sightings:resumable_upload", args=[upload.pk])
    return _response(201, headers={"Location": location, "Upload-Offset": str(upload.offset)})


@login_required
@require_http_methods(["OPTIONS", "HEAD", "PATCH", "DELETE"])
def upload(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    if request.method == "OPTIONS":
        return _capabilities()
    upload = get_object_or_404(
        ResumableUpload.objects.select_related("batch", "deployment__location"),
        pk=upload_id,
        owner=request.user,
    )
    if not access.may(request, Action.UPLOAD, upload.deployment.location.team_id):
        raise Http404  # its owner may no longer upload there: as if it were gone
    try:
        _check_version(request)
        if request.method == "HEAD":
            # The offset changes with every chunk: never answered from a cache.
            return _response(200, headers={**_position(upload), "Cache-Control": "no-store"})
        if request.method == "DELETE":
            remove(upload)
            return _response(204)
        return _patch(request, upload)
    except ProtocolError as error:
        return _response(error.status, error.reason)


def _patch(request: HttpRequest, upload: ResumableUpload) -> HttpResponse:
    if request.content_type != CHUNK_TYPE:
        raise ProtocolError(415, f"Content-Type must be {CHUNK_TYPE}")
    if _header_int(request, "Upload-Offset") != upload.offset:
        return _response(409, "Upload-Offset is not the upload's offset", _position(upload))
    if upload.offset + _header_int(request, "Content-Length") > upload.size:
        raise ProtocolError(400, "The chunk goes past Upload-Length")
    started_at = upload.offset
    if not advance(upload, receive(upload, request)):
        return _response(409, "Another request moved the offset", _position(upload))
    if started_at < ingest.SNIFF_BYTES <= upload.offset and is_over_limit(upload):
        refuse_too_large(upload, settings.UPLOAD_MAX_FILE_BYTES)
        return _response(413, "The file is larger than this site accepts")
    if upload.is_complete:
        complete(upload)
    return _response(204, headers={"Upload-Offset": str(upload.offset)})


def _check_version(request: HttpRequest) -> None:
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        raise ProtocolError(412, f"Tus-Resumable must be {TUS_VERSION}")


def _header_int(request: HttpRequest, name: str) -> int:
    value = request.headers.get(name, "")
    if not value.isascii() or not value.isdigit():
        raise ProtocolError(400, f"{name} must be a whole number of bytes")
    return int(value)


def _batch_id(metadata: dict[str, str]) -> int | None:
    value = metadata.get("batch", "")
    if value and not (value.isascii() and value.isdigit()):
        raise ProtocolError(400, "Upload-Metadata: batch must be a batch's number")
    return int(value) if value else None


def _position(upload: ResumableUpload) -> dict[str, str]:
    return {"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.size)}


def _capabilities() -> HttpResponse:
    return _response(204, headers={
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": "creation,termination",
        "Tus-Max-Size": str(max_size()),
    })  # fmt: skip


def _response(status: int, reason: str = "", headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(reason, status=status, content_type="text/plain; charset=utf-8")
    response["Tus-Resumable"] = TUS_VERSION
    if status == 412:
        response["Tus-Version"] = TUS_VERSION
    for name, value in (headers or {}).items():
        response[name] = value
    return response
