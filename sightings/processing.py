"""The pipeline for one media file: metadata, time correction, derivatives, state."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from sightings import derivatives, events, exif
from sightings.models import Media

logger = logging.getLogger(__name__)

# A file whose processing killed its worker this many times is not tried again.
MAX_ATTEMPTS = 3

MISSING = gettext_noop(
    "The uploaded file is missing from storage: upload it again and it will be processed."
)
UNEXPECTED = gettext_noop(
    "Processing failed because of an unexpected error: try again later, and tell a site admin "
    "if it keeps failing."
)
INTERRUPTED = gettext_noop(
    "Processing stopped several times before it could finish: try again later, and tell a "
    "site admin if it keeps failing."
)

METADATA_FIELDS = (
    "width", "height", "capture_time_source", "camera_offset", "make", "model",
    "serial_number", "orientation", "exposure_time", "iso", "flash", "gps_latitude",
    "gps_longitude", "gps_altitude", "image_description", "temperature", "moon_phase",
    "trigger_mode", "sequence_number", "sequence_length", "event_number", "user_label",
    "warnings",
)  # fmt: skip
# Only what processing sets: other fields (such as the species of the image's folder) may
# have changed since the worker loaded the row.
PROCESSED_FIELDS = (
    *METADATA_FIELDS, "camera_time", "maker_note_time", "exif", "captured_at",
    "is_outside_deployment", "is_truncated", "preview", "thumbnail", "state", "failure_reason",
    "failure_detail", "processed_at",
)  # fmt: skip

# What processing reads of a queued media and its deployment. A worker loads only these:
# the full row and its deployment (some 60 columns) cost about 1 ms more per image
# (bench/ingest.py), a tenth of what the pipeline adds to the decode.
LOADED_FIELDS = (
    "state", "attempt_count", "file", "sha256", "original_name", "deployment_id",
    "captured_at", "event_id", "deployment__time_zone", "deployment__clock_correction_seconds",
    "deployment__start_at", "deployment__end_at",
)  # fmt: skip


@dataclass
class Analysis:
    metadata: exif.Metadata
    derivatives: derivatives.Derivatives


def analyse(file: BinaryIO, name: str) -> Analysis:
    """Read the metadata and render the derivatives of one file, never holding it whole.

    file is a seekable binary file: the metadata come from its header, the derivatives from
    one decode reading it.
    """
    metadata = exif.read_metadata(file, name, max_pixels=settings.MAX_IMAGE_PIXELS)
    rendered = derivatives.render_derivatives(file)
    if rendered.cut_short:
        metadata.warnings.append({"reason": derivatives.CUT_SHORT, "detail": rendered.cut_short})
    return Analysis(metadata, rendered)


def process_media(media: Media) -> None:
    """Process one queued media, leaving it processed or failed with a reason."""
    if media.state == Media.State.PROCESSED:
        # Delivered again: its worker died after saving it, perhaps before it asked for
        # grouping, and then no grouping task would ever come.
        if media.captured_at is not None and media.event_id is None:
            events.request_grouping(media.deployment_id, again=True)
        return
    if not _start(media):
        return
    try:
        with media.file.open("rb") as file:
            analysis = analyse(file, media.original_name)
    except (exif.MetadataError, derivatives.ImageError) as exc:
        logger.info("Media %s failed: %s %s", media.pk, exc.reason, exc.detail)
        media.mark_failed(exc.reason, exc.detail)
        return
    except FileNotFoundError as exc:
        # Not str(exc): it quotes the path as Python does.
        detail = f"{exc.strerror}: {exc.filename}" if exc.filename else str(exc)
        media.mark_failed(MISSING, detail)
        return
    except Exception as exc:
        # Nothing may stay "processing" for ever; Celery logs the traceback.
        media.mark_failed(UNEXPECTED, f"{type(exc).__name__}: {exc}")
        raise
    media.preview, media.thumbnail = derivatives.store_derivatives(
        analysis.derivatives, media.sha256
    )
    media.is_truncated = bool(analysis.derivatives.cut_short)
    _fill(media, analysis.metadata)
    media.save(update_fields=PROCESSED_FIELDS)
    if media.captured_at is not None:
        events.request_grouping(media.deployment_id)


def _start(media: Media) -> bool:
    # PROCESSING is accepted too: the message is delivered again when a worker died on it.
    started = Media.objects.filter(
        pk=media.pk, state__in=[Media.State.QUEUED, Media.State.PROCESSING]
    ).update(
        state=Media.State.PROCESSING,
        attempt_count=F("attempt_count") + 1,
        started_at=timezone.now(),
    )
    if not started:
        return False
    # The row was loaded just before; counting on from it saves a query per image.
    media.state = Media.State.PROCESSING
    media.attempt_count += 1
    if media.attempt_count > MAX_ATTEMPTS:
        media.mark_failed(INTERRUPTED, f"{media.attempt_count - 1} attempts, the worker stopped")
        return False
    return True


def _fill(media: Media, metadata: exif.Metadata) -> None:
    for name in METADATA_FIELDS:
        setattr(media, name, getattr(metadata, name))
    media.camera_time = metadata.camera_time.isoformat() if metadata.camera_time else ""
    media.maker_note_time = metadata.maker_note_time.isoformat() if metadata.maker_note_time else ""
    media.exif = metadata.tags
    media.derive_capture_instant()
    media.state = Media.State.PROCESSED
    media.failure_reason = media.failure_detail = ""
    media.processed_at = timezone.now()
