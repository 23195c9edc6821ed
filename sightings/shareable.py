"""The copy of an original that other teams may download (placeholder until the allowlist
rebuild lands: GPS blanked by protection.without_gps)."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from sightings import protection
from sightings.models import Media


def copy_for_others(media: Media) -> tuple[str, str]:
    name = f"shareable/{media.sha256[:2]}/{media.sha256}.jpg"
    if not default_storage.exists(name):
        with media.file.open("rb") as file:
            data = protection.without_gps(file.read())
        default_storage.save(name, ContentFile(data))
    return name, "image/jpeg"
