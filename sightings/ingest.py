"""Upload handling: stream files to storage while hashing, type them by their content,
unpack card archives, hold every file to the limits, find duplicates, create the Media rows
and enqueue their processing."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_noop

from sightings import access, folders, tasks
from sightings.models import Deployment, Media, SkippedFile, UploadBatch

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
# ISO base media brands of HEIF still images (HEIC from phones and some cameras).
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
# The bytes sniff_format needs to tell every format apart.
SNIFF_BYTES = 16
# A ZIP archive starts with the header of its first entry.
ZIP_SIGNATURE = b"PK\x03\x04"

# What the uploader is told of a file that was not stored (SkippedFile.message).
EMPTY = gettext_noop("The file is empty: the camera may have lost power while writing it.")
VIDEO = gettext_noop("Videos are not supported yet.")
NOT_AN_IMAGE = gettext_noop(
    "The file is not an image: only JPEG, PNG, TIFF, HEIF and WebP images are imported."
)
NESTED_ARCHIVE = gettext_noop(
    "Archives inside archives are not unpacked: upload the inner archive on its own."
)
DUPLICATE = gettext_noop("The same file was uploaded before, so it is not stored again.")
RETRIED = gettext_noop(
    "The same file was uploaded before and could not be processed then: it was queued to be "
    "processed again."
)
TOO_LARGE = gettext_noop("The file is larger than this site accepts.")
BATCH_FULL = gettext_noop(
    "The batch already holds as many files as allowed: upload the rest in a new batch."
)
TOO_MANY_ENTRIES = gettext_noop(
    "The archive holds more files than may be unpacked at once: split the card into "
    "several archives."
)
UNPACKS_TOO_LARGE = gettext_noop(
    "The archive unpacks to more than may be unpacked at once: split the card into "
    "several archives."
)
UNPACKS_TOO_FAR = gettext_noop(
    "The archive unpacks to many times its own size, which camera images never do: the "
    "rest of it was not unpacked."
)
UNSAFE_PATH = gettext_noop(
    "The archive would place this file outside the folder it is unpacked to, so it was "
    "not unpacked."
)
BROKEN_ARCHIVE = gettext_noop("The archive is damaged and could not be unpacked.")
BROKEN_ENTRY = gettext_noop("This file could not be unpacked: the archive is damaged.")
ENCRYPTED = gettext_noop(
    "This file is protected by a password in the archive: pack the card again without one."
)


class HashingFileUploadHandler(TemporaryFileUploadHandler):
    """Write each uploaded file to a temporary file in chunks, computing its SHA-256 on the way.

    Installed for every upload (FILE_UPLOAD_HANDLERS), so no upload is ever held in memory
    and the worker never has to read an original again to find duplicates. A file past its
    size limit is dropped as soon as it passes it: the rest of it is read and counted, never
    written, and the view receives an OversizeUpload in its place.
    """

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.sha256 = hashlib.sha256()
        self.head = b""
        self.is_dropped = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if len(self.head) < SNIFF_BYTES:
            self.head += raw_data[: SNIFF_BYTES - len(self.head)]
        if start + len(raw_data) > upload_limit(self.head):
            self._drop()
            return None
        self.sha256.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int) -> UploadedFile:
        if self.is_dropped:
            limit = upload_limit(self.head)
            return OversizeUpload(self.file_name, self.content_type, file_size, limit)
        file = super().file_complete(file_size)
        file.sha256 = self.sha256.hexdigest()
        return file

    def _drop(self) -> None:
        if not self.is_dropped:
            self.file.close()  # a temporary file: closing it deletes what was written
            self.is_dropped = True


class OversizeUpload(UploadedFile):
    """An upload past its size limit: its name and size, none of its bytes."""

    def __init__(self, name: str, content_type: str, size: int, limit: int) -> None:
        super().__init__(io.BytesIO(), name, content_type, size)
        self.limit = limit
        self.sha256 = ""


def upload_limit(head: bytes) -> int:
    """The size an uploaded file may have, by what its first bytes say it is."""
    # A card's archive may be as large as what may be unpacked from it: camera images are
    # compressed already, so an archive of them is hardly smaller than its content.
    if head.startswith(ZIP_SIGNATURE):
        return settings.ZIP_MAX_UNPACKED_BYTES
    return settings.UPLOAD_MAX_FILE_BYTES


def get_or_create_batch(user, deployment: Deployment, batch_id: int | None) -> UploadBatch:
    """The uploader's batch the files join: a new one, or one of theirs for the deployment
    (404 for any other)."""
    if batch_id is None:
        return UploadBatch.objects.create(deployment=deployment, uploaded_by=user)
    return get_object_or_404(UploadBatch, pk=batch_id, deployment=deployment, uploaded_by=user)


@dataclass
class Received:
    """What one upload request did: its batch, the images it stored, the files it skipped."""

    batch: UploadBatch
    media_ids: list[int]
    skipped: list[SkippedFile]


def receive(
    user, deployment: Deployment, files: Iterable[tuple[UploadedFile, str]], batch_id: int | None
) -> Received:
    """Add uploaded files (each with its path in the card, or "") to a batch of the user's,
    new unless batch_id names one, then read the card's folder names: the upload page and
    the API send files this one way."""
    batch = get_or_create_batch(user, deployment, batch_id)
    # What the batch held before: another request adding to the same batch at the same
    # moment (the same uploader's) may have its files counted here too.
    media_mark = batch.media.order_by("-pk").values_list("pk", flat=True).first() or 0
    skipped_mark = batch.skipped_files.order_by("-pk").values_list("pk", flat=True).first() or 0
    for file, path in files:
        add_upload(batch, file, path)
    folders.collect(batch)
    media = batch.media.filter(pk__gt=media_mark).order_by("pk").values_list("pk", flat=True)
    skipped = batch.skipped_files.filter(pk__gt=skipped_mark).order_by("pk")
    return Received(batch, list(media), list(skipped))


def add_upload(batch: UploadBatch, upload: UploadedFile, relative_path: str = "") -> None:
    """Add one uploaded file, an image or a ZIP archive of a card, to the batch."""
    folder, name = split_path(relative_path or upload.name)
    if isinstance(upload, OversizeUpload):
        detail = f"{upload.size} bytes, limit {upload.limit} bytes"
        _skip(batch, _join(folder, name), SkippedFile.Reason.TOO_LARGE, TOO_LARGE, detail)
    elif read_head(upload).startswith(ZIP_SIGNATURE):
        add_archive(batch, upload, name)
    else:
        add_file(batch, upload, name=name, folder=folder, sha256=upload.sha256)


def add_file(
    batch: UploadBatch, file: UploadedFile, *, name: str, folder: str, sha256: str
) -> Media | None:
    """Store an image and queue it for processing; record anything else as skipped."""
    path = _join(folder, name)
    head = read_head(file)
    media_format = sniff_format(head)
    if not media_format:
        reason = not_an_image_reason(head)
        _skip(batch, path, SkippedFile.Reason.NOT_AN_IMAGE, reason, head_detail(head))
        return None
    if file.size > settings.UPLOAD_MAX_FILE_BYTES:
        detail = f"{file.size} bytes, limit {settings.UPLOAD_MAX_FILE_BYTES} bytes"
        _skip(batch, path, SkippedFile.Reason.TOO_LARGE, TOO_LARGE, detail)
        return None
    duplicate = Media.objects.filter(sha256=sha256).order_by().first()
    if duplicate is not None:
        _add_duplicate(batch, file, path, duplicate)
        return None
    if not _has_room(batch):
        _skip(batch, path, SkippedFile.Reason.BATCH_LIMIT, BATCH_FULL, _batch_limit_detail())
        return None
    return _store(batch, file, name=name, folder=folder, sha256=sha256, media_format=media_format)


def _store(
    batch: UploadBatch,
    file: UploadedFile,
    *,
    name: str,
    folder: str,
    sha256: str,
    media_format: str,
) -> Media | None:
    media = Media(
        batch=batch,
        deployment_id=batch.deployment_id,
        sha256=sha256,
        original_name=name[:255],
        folder=folder[:1024],
        file_size=file.size,
        format=media_format,
        sent_at=timezone.now(),
    )
    # The suffix of what the file is, never of what the uploader named it.
    media.file = default_storage.save(_original_name(sha256, media.suffix), file)
    try:
        with transaction.atomic():
            media.save(force_insert=True)
    except IntegrityError:
        # The same file arrived at the same moment in another request.
        _skip_duplicate(batch, _join(folder, name), Media.objects.get(sha256=sha256))
        return None
    batch.stored_count += 1
    send_processing(media.pk)
    return media


def add_archive(batch: UploadBatch, upload: UploadedFile, name: str) -> None:
    """Unpack a ZIP archive of a card entry by entry, never whole into memory."""
    try:
        archive = zipfile.ZipFile(upload)
        entries = [entry for entry in archive.infolist() if not entry.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        _skip(batch, name, SkippedFile.Reason.BROKEN_ARCHIVE, BROKEN_ARCHIVE, str(exc))
        return
    with archive:
        if len(entries) > settings.ZIP_MAX_ENTRIES:
            detail = f"{len(entries)} entries, limit {settings.ZIP_MAX_ENTRIES}"
            _skip(batch, name, SkippedFile.Reason.ARCHIVE_LIMIT, TOO_MANY_ENTRIES, detail)
            return
        allowance = Allowance(archive_size=upload.size)
        for entry in entries:
            _add_entry(batch, archive, entry, name, allowance)


class LimitReached(Exception):
    """Unpacking an entry would pass a limit; reason is a SkippedFile.Reason, message the
    sentence for the uploader."""

    def __init__(self, reason: str, message: str, detail: str) -> None:
        super().__init__(reason, message, detail)
        self.reason = reason
        self.message = message
        self.detail = detail


@dataclass
class Allowance:
    """What unpacking one archive may still write to disk.

    Counted on the bytes actually written, those of entries dropped on the way included, so
    a ZIP bomb writes at most ZIP_MAX_RATIO times its own size however it is built
    (overlapping entries, false sizes), and nothing is written past a limit.
    """

    archive_size: int
    written: int = 0

    def take(self, size: int, entry_written: int, entry_size: int) -> None:
        """Count size more bytes of an entry, or raise LimitReached before they are written."""
        file_limit = settings.UPLOAD_MAX_FILE_BYTES
        if entry_written + size > file_limit:
            detail = f"{entry_size} bytes, limit {file_limit} bytes"
            raise LimitReached(SkippedFile.Reason.TOO_LARGE, TOO_LARGE, detail)
        if self.written + size > settings.ZIP_MAX_UNPACKED_BYTES:
            detail = f"over {settings.ZIP_MAX_UNPACKED_BYTES} bytes unpacked, the limit"
            raise LimitReached(SkippedFile.Reason.ARCHIVE_LIMIT, UNPACKS_TOO_LARGE, detail)
        if self.written + size > settings.ZIP_MAX_RATIO * self.archive_size:
            detail = (
                f"unpacks to over {settings.ZIP_MAX_RATIO} times the archive's "
                f"{self.archive_size} bytes, the limit"
            )
            raise LimitReached(SkippedFile.Reason.ARCHIVE_LIMIT, UNPACKS_TOO_FAR, detail)
        self.written += size


def _add_entry(
    batch: UploadBatch,
    archive: zipfile.ZipFile,
    entry: zipfile.ZipInfo,
    archive_name: str,
    allowance: Allowance,
) -> None:
    path = safe_entry_path(entry.filename)
    if path is None:
        _skip(batch, entry.filename, SkippedFile.Reason.UNSAFE_PATH, UNSAFE_PATH, archive_name)
        return
    try:
        unpacked = _unpack_entry(batch, archive, entry, path, allowance)
    except LimitReached as exc:
        _skip(batch, path, exc.reason, exc.message, exc.detail)
        return
    except RuntimeError:  # zipfile's word for an encrypted entry
        detail = "encrypted, password required"
        _skip(batch, path, SkippedFile.Reason.BROKEN_ARCHIVE, ENCRYPTED, detail)
        return
    # An unknown compression method raises NotImplementedError.
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        _skip(batch, path, SkippedFile.Reason.BROKEN_ARCHIVE, BROKEN_ENTRY, str(exc))
        return
    if unpacked is not None:
        file, sha256 = unpacked
        with file:
            folder, name = split_path(path)
            add_file(batch, file, name=name, folder=folder, sha256=sha256)


def _unpack_entry(
    batch: UploadBatch,
    archive: zipfile.ZipFile,
    entry: zipfile.ZipInfo,
    path: str,
    allowance: Allowance,
) -> tuple[TemporaryUploadedFile, str] | None:
    """The entry unpacked to a temporary file with its SHA-256; None if it was skipped."""
    with archive.open(entry) as stream:
        # Typed by its first bytes, before anything of it is written.
        head = stream.read(SNIFF_BYTES)
        reason = _entry_not_an_image_reason(head)
        if reason is not None:
            _skip(batch, path, SkippedFile.Reason.NOT_AN_IMAGE, reason, head_detail(head))
            return None
        if not _has_room(batch):
            _skip(batch, path, SkippedFile.Reason.BATCH_LIMIT, BATCH_FULL, _batch_limit_detail())
            return None
        return _unpack(head, stream, entry, allowance)


def _unpack(
    head: bytes, stream: BinaryIO, entry: zipfile.ZipInfo, allowance: Allowance
) -> tuple[TemporaryUploadedFile, str]:
    # zipfile never unpacks more than an entry declares (it stops there and reports a bad
    # CRC); the allowance holds the bytes written to the limits whatever it declares.
    file = TemporaryUploadedFile(entry.filename, "application/octet-stream", 0, None)
    sha256 = hashlib.sha256()
    chunk = head
    try:
        while chunk:
            allowance.take(len(chunk), file.tell(), entry.file_size)
            sha256.update(chunk)
            file.write(chunk)
            chunk = stream.read(CHUNK_SIZE)
    except BaseException:
        file.close()  # a temporary file: closing it deletes what was written
        raise
    file.size = file.tell()
    file.seek(0)
    return file, sha256.hexdigest()


def safe_entry_path(filename: str) -> str | None:
    """The entry's path inside the archive, or None if it would escape the archive."""
    path = filename.replace("\\", "/")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        return None
    parts = [part for part in PurePosixPath(path).parts if part not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def read_head(file: BinaryIO) -> bytes:
    """The first bytes of a file, as many as sniff_format needs; the file is left at its start."""
    file.seek(0)
    head = file.read(SNIFF_BYTES)
    file.seek(0)
    return head


def not_an_image_reason(head: bytes) -> str | None:
    """Why a file is skipped as not an image, judged by its first bytes; None for images."""
    if sniff_format(head):
        return None
    # An empty file (a camera whose battery died while writing) is not kept as media: it
    # has nothing to process, and as an original it would make every later empty file
    # anywhere in the exchange a "duplicate" of it.
    if not head:
        return EMPTY
    if _is_video(head):
        return VIDEO
    return NOT_AN_IMAGE


def head_detail(head: bytes) -> str:
    """What a file skipped for its content starts with, for site admins."""
    return f"starts with {head.hex(' ')}" if head else "0 bytes"


def _entry_not_an_image_reason(head: bytes) -> str | None:
    if head.startswith(ZIP_SIGNATURE):
        return NESTED_ARCHIVE
    return not_an_image_reason(head)


def _is_video(head: bytes) -> bool:
    """Whether the first bytes are those of a video container that cameras write."""
    # MP4, MOV, 3GP: ISO base media boxes (sniff_format has taken the HEIF brands).
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide") and head[8:12] not in (b"avif", b"avis"):
        return True
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return True
    # ASF (WMV) header object GUID; MPEG program stream pack header.
    return head.startswith((b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", b"\x00\x00\x01\xba"))


def split_path(path: str) -> tuple[str, str]:
    """Split a relative path such as "StationA/PBE/IMG_0001.JPG" into folder and file name."""
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".", "..")]
    if not parts:
        return "", "unnamed"
    return "/".join(parts[:-1]), parts[-1]


def sniff_format(head: bytes) -> str:
    """The image format the first bytes of a file announce (Media.Format), or "" for none.

    Files are typed by their content only: a name says what the uploader called a file,
    not what a browser would make of it.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return Media.Format.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Media.Format.PNG
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return Media.Format.TIFF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return Media.Format.WEBP
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return Media.Format.HEIF
    return ""


def retry_failed(media: QuerySet[Media]) -> int:
    """Queue failed media for processing again; return how many."""
    ids = list(media.filter(state=Media.State.FAILED).values_list("pk", flat=True))
    Media.objects.filter(pk__in=ids, state=Media.State.FAILED).update(
        state=Media.State.QUEUED,
        failure_reason="",
        failure_detail="",
        attempt_count=0,
        processed_at=None,
        sent_at=timezone.now(),
    )
    for media_id in ids:
        send_processing(media_id)
    logger.info("Queued %s failed media again", len(ids))
    return len(ids)


def send_processing(media_id: int) -> None:
    """Have a queued media processed once the transaction commits (the sweep sends it again
    if the broker cannot take it now)."""
    tasks.send_on_commit(tasks.process_media, media_id, pending=Media.objects.filter(pk=media_id))


def _original_name(sha256: str, suffix: str) -> str:
    return f"originals/{sha256[:2]}/{sha256[2:4]}/{sha256}{suffix}"


def _join(folder: str, name: str) -> str:
    return folder + "/" + name if folder else name


def _has_room(batch: UploadBatch) -> bool:
    """Whether one more image may join the batch (UPLOAD_MAX_BATCH_FILES)."""
    # Counted once per batch object (one request, one import run), then kept up to date by
    # _store: a count per file would grow with the batch, to more than the file's own cost.
    # Requests sent at the same time to one batch may pass the limit by a request's files.
    if not hasattr(batch, "stored_count"):
        batch.stored_count = batch.media.count()
    return batch.stored_count < settings.UPLOAD_MAX_BATCH_FILES


def _batch_limit_detail() -> str:
    return f"limit {settings.UPLOAD_MAX_BATCH_FILES} files per batch"


def _add_duplicate(batch: UploadBatch, file: UploadedFile, path: str, duplicate: Media) -> None:
    """Report a file the exchange has already; if its media failed and is the uploader's
    to retry, restore its stored copy where that is broken and queue it again."""
    if duplicate.state == Media.State.FAILED and _may_retry(batch, duplicate):
        _restore_original(duplicate, file)
        if retry_failed(Media.objects.filter(pk=duplicate.pk)):
            SkippedFile.objects.create(
                batch=batch, name=path[:1024], reason=SkippedFile.Reason.RETRIED,
                message=RETRIED, duplicate_of=duplicate,
            )  # fmt: skip
            return
    _skip_duplicate(batch, path, duplicate)


def _may_retry(batch: UploadBatch, media: Media) -> bool:
    """Whether the batch's uploader may retry the media: only its own team's uploaders may,
    so that an upload neither changes another team's images nor tells of their state (a
    failed copy of another team's stays a plain duplicate)."""
    teams = Deployment.objects.filter(pk=media.deployment_id).values_list("location__team_id")
    return access.Viewer.of(batch.uploaded_by).may(access.Action.UPLOAD, teams.get()[0])


def _restore_original(media: Media, file: UploadedFile) -> None:
    """Put the upload in place of a stored original that is missing, or that no longer holds
    the bytes its hash names: processing it again would fail again."""
    name = media.file.name
    if default_storage.exists(name) and _stored_sha256(name) == media.sha256:
        return
    logger.warning("Media %s: stored original missing or damaged, restored", media.pk)
    default_storage.delete(name)
    file.seek(0)
    stored = default_storage.save(name, file)
    if stored != name:  # restored by another request at the same moment
        Media.objects.filter(pk=media.pk).update(file=stored)


def _stored_sha256(name: str) -> str:
    sha256 = hashlib.sha256()
    with default_storage.open(name, "rb") as stored:
        for chunk in stored.chunks(CHUNK_SIZE):
            sha256.update(chunk)
    return sha256.hexdigest()


def _skip_duplicate(batch: UploadBatch, path: str, duplicate: Media) -> None:
    SkippedFile.objects.create(
        batch=batch, name=path[:1024], reason=SkippedFile.Reason.DUPLICATE, message=DUPLICATE,
        duplicate_of=duplicate,
    )  # fmt: skip


def _skip(batch: UploadBatch, name: str, reason: str, message: str, detail: str = "") -> None:
    SkippedFile.objects.create(
        batch=batch, name=name[:1024], reason=reason, message=message, detail=detail
    )
