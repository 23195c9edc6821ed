from __future__ import annotations

import hashlib
import json
from pathlib import Path

from django.core.management.base import BaseCommand

from sightings import derivatives, exif, processing

KEYS = (
    "file", "sha256", "captured_at", "offset", "make", "model", "serial", "width", "height",
    "orientation", "gps_lat", "gps_lon", "gps_alt", "error",
)  # fmt: skip


class Command(BaseCommand):
    help = """Print the metadata the worker reads from each file, one JSON object per line.

    Uses the worker's own code path (processing.analyse), so an image that would fail in the
    worker reports the same reason here. Never writes anything."""

    def add_arguments(self, parser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args, **options) -> None:
        for name in options["files"]:
            self.stdout.write(json.dumps(inspect_file(Path(name)), ensure_ascii=False))


def inspect_file(path: Path) -> dict:
    """The stable JSON record of one file: metadata, or the reason it cannot be read."""
    record = dict.fromkeys(KEYS)
    record["file"] = str(path)
    try:
        with path.open("rb") as file:
            record["sha256"] = hashlib.file_digest(file, "sha256").hexdigest()
            metadata = processing.analyse(file, path.name).metadata
    except OSError as exc:
        record["error"] = f"{exc.strerror or exc}"
        return record
    except (exif.MetadataError, derivatives.ImageError) as exc:
        record["error"] = f"{exc.reason} ({exc.detail})" if exc.detail else exc.reason
        return record
    record.update(
        captured_at=metadata.camera_time.isoformat() if metadata.camera_time else None,
        offset=metadata.camera_offset or None,
        make=metadata.make,
        model=metadata.model,
        serial=metadata.serial_number,
        width=metadata.width,
        height=metadata.height,
        orientation=metadata.orientation,
        gps_lat=metadata.gps_latitude,
        gps_lon=metadata.gps_longitude,
        gps_alt=metadata.gps_altitude,
    )
    return record
