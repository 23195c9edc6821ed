"""Upload handling: stream files to storage while hashing, unpack card archives, find
duplicates, create the Media rows and enqueue their processing."""

from __future__ import annotations

import hashlib
import logging
import re
import zipfile
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_noop

from sightings import tasks
from sightings.models import Media, SkippedFile, UploadBatch

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".heic", ".heif", ".webp"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mts", ".m4v", ".3gp", ".wmv"}
CHUNK_SIZE = 1024 * 1024
# ISO base media brands of HEIF still images (HEIC from phones and some cameras).
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
# The bytes sniff_format needs to tell every format apart.
SNIFF_BYTES = 16


class HashingFileUploadHandler(TemporaryFileUploadHandler):
    """Write each uploaded file to a temporary file in chunks, computing its SHA-256 on the way.

    Installed for every upload (FILE_UPLOAD_HANDLERS), so no upload is ever held in memory
    and the worker never has to read an original again to find duplicates.
    """

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.sha256 = hashlib.sha256()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.sha256.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int) -> UploadedFile:
        file = super().file_complete(file_size)
        file.sha256 = self.sha256.hexdigest()
        return file


def add_upload(batch: UploadBatch, upload: UploadedFile, relative_path: str = "") -> None:
    """Add one uploaded file, an image or a ZIP archive of a card, to the batch."""
    folder, name = split_path(relative_path or upload.name)
    if is_zip(upload, name):
        add_archive(batch, upload, name)
    else:
        add_file(batch, upload, name=name, folder=folder, sha256=upload.sha256)


def add_file(
    batch: UploadBatch, file: UploadedFile, *, name: str, folder: str, sha256: str
) -> Media | None:
    """Store a file and queue it for processing, or record it as a duplicate."""
    path = folder + "/" + name if folder else name
    duplicate = Media.objects.filter(sha256=sha256).order_by().first()
    if duplicate is not None:
        _skip_duplicate(batch, path, duplicate)
        return None
    stored = default_storage.save(_original_name(sha256, name), file)
    try:
        with transaction.atomic():
            media = Media.objects.create(
                batch=batch,
                deployment_id=batch.deployment_id,
                sha256=sha256,
                file=stored,
                original_name=name[:255],
                folder=folder[:1024],
                file_size=file.size,
            )
    except IntegrityError:
        # The same file arrived at the same moment in another request.
        _skip_duplicate(batch, path, Media.objects.get(sha256=sha256))
        return None
    tasks.process_media.delay_on_commit(media.pk)
    return media


def add_archive(batch: UploadBatch, upload: UploadedFile, name: str) -> None:
    """Unpack a ZIP archive of a card entry by entry, never whole into memory."""
    try:
        archive = zipfile.ZipFile(upload)
        entries = [entry for entry in archive.infolist() if not entry.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        _skip(batch, name, SkippedFile.Reason.BROKEN_ARCHIVE, str(exc))
        return
    with archive:
        if _within_limits(batch, name, entries):
            for entry in entries:
                _add_entry(batch, archive, entry, name)


def _add_entry(
    batch: UploadBatch, archive: zipfile.ZipFile, entry: zipfile.ZipInfo, archive_name: str
) -> None:
    path = safe_entry_path(entry.filename)
    if path is None:
        _skip(batch, entry.filename, SkippedFile.Reason.UNSAFE_PATH, archive_name)
        return
    reason = not_an_image_reason(path)
    if reason is not None:
        _skip(batch, path, SkippedFile.Reason.NOT_AN_IMAGE, reason)
        return
    try:
        with archive.open(entry) as stream:
            file, sha256 = _unpack(stream, entry)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        _skip(batch, path, SkippedFile.Reason.BROKEN_ARCHIVE, str(exc))
        return
    with file:
        folder, name = split_path(path)
        add_file(batch, file, name=name, folder=folder, sha256=sha256)


def _unpack(stream, entry: zipfile.ZipInfo) -> tuple[TemporaryUploadedFile, str]:
    # zipfile never unpacks more than an entry declares (it stops there and reports a bad
    # CRC), so the declared sizes checked in _within_limits bound what is written here.
    file = TemporaryUploadedFile(entry.filename, "application/octet-stream", 0, None)
    sha256 = hashlib.sha256()
    while chunk := stream.read(CHUNK_SIZE):
        sha256.update(chunk)
        file.write(chunk)
    file.size = file.tell()
    file.seek(0)
    return file, sha256.hexdigest()


def _within_limits(batch: UploadBatch, name: str, entries: list[zipfile.ZipInfo]) -> bool:
    unpacked = sum(entry.file_size for entry in entries)
    if len(entries) > settings.ZIP_MAX_ENTRIES:
        detail = f"{len(entries)} entries, limit {settings.ZIP_MAX_ENTRIES}"
    elif unpacked > settings.ZIP_MAX_UNPACKED_BYTES:
        detail = f"{unpacked} bytes unpacked, limit {settings.ZIP_MAX_UNPACKED_BYTES}"
    else:
        return True
    _skip(batch, name, SkippedFile.Reason.ARCHIVE_LIMIT, detail)
    return False


def safe_entry_path(filename: str) -> str | None:
    """The entry's path inside the archive, or None if it would escape the archive."""
    path = filename.replace("\\", "/")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        return None
    parts = [part for part in PurePosixPath(path).parts if part not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def not_an_image_reason(path: str) -> str | None:
    """Why an archive entry is skipped as not an image, judged by its name; None for images."""
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return None
    if suffix in VIDEO_SUFFIXES:
        return gettext_noop("Videos are not supported yet.")
    if suffix == ".zip":
        return gettext_noop("Archives inside archives are not unpacked.")
    return gettext_noop("Only image files are imported.")


def split_path(path: str) -> tuple[str, str]:
    """Split a relative path such as "StationA/PBE/IMG_0001.JPG" into folder and file name."""
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".", "..")]
    if not parts:
        return "", "unnamed"
    return "/".join(parts[:-1]), parts[-1]


def is_zip(upload: UploadedFile, name: str) -> bool:
    if name.lower().endswith(".zip"):
        return True
    upload.seek(0)
    magic = upload.read(4)
    upload.seek(0)
    return magic == b"PK\x03\x04"


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
    )
    for media_id in ids:
        tasks.process_media.delay_on_commit(media_id)
    logger.info("Queued %s failed media again", len(ids))
    return len(ids)


def _original_name(sha256: str, name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,5}", suffix):
        suffix = ""
    return f"originals/{sha256[:2]}/{sha256[2:4]}/{sha256}{suffix}"


def _skip_duplicate(batch: UploadBatch, path: str, duplicate: Media) -> None:
    SkippedFile.objects.create(
        batch=batch, name=path[:1024], reason=SkippedFile.Reason.DUPLICATE, duplicate_of=duplicate
    )


def _skip(batch: UploadBatch, name: str, reason: str, detail: str = "") -> None:
    SkippedFile.objects.create(batch=batch, name=name[:1024], reason=reason, detail=detail)
