from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SightingsConfig(AppConfig):
    name = "sightings"
    verbose_name = _("Sightings")

    def ready(self) -> None:
        import pillow_heif
        from django.conf import settings
        from PIL import Image

        # Phones send HEIC; Pillow reads it through libheif once the opener is registered.
        pillow_heif.register_heif_opener()
        # Pillow refuses images above twice this size by itself; our own, exact limit is
        # checked in exif.read_metadata, so Pillow's ceiling must never be the lower one.
        Image.MAX_IMAGE_PIXELS = settings.MAX_IMAGE_PIXELS
