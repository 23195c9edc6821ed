"""Previews and thumbnails of an image, made with one DCT-scaled decode."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext_noop
from PIL import Image

PREVIEW_SIDE = 1600
# A DCT-scaled decode smaller than this is too coarse for a preview; decode one step
# larger and resample down to PREVIEW_SIDE instead.
PREVIEW_MIN_SIDE = 960
THUMBNAIL_SIDE = 320  # roughly: see _thumbnail_factor
BICUBIC = Image.Resampling.BICUBIC
# A JPEG's end-of-image marker.
EOI = b"\xff\xd9"

DAMAGED = gettext_noop("The image data is damaged and cannot be decoded.")
CUT_SHORT = gettext_noop(
    "The image data ends early: the camera may have lost power while writing it. "
    "The preview shows the part that was saved."
)

# EXIF orientation -> the transpose that makes the image upright (as ImageOps.exif_transpose).
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class ImageError(Exception):
    """The pixels cannot be decoded; reason is a fixed sentence, detail is free text."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


@dataclass
class Derivatives:
    preview: bytes  # JPEG, long side at most PREVIEW_SIDE
    thumbnail: bytes  # JPEG, long side about THUMBNAIL_SIDE
    # Set for a JPEG whose file ends before its image data does: what the decoder said.
    cut_short: str = ""


# Pillow reports truncated and corrupt image data as OSError from load().
DECODE_ERRORS = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)


def render_derivatives(file: BinaryIO) -> Derivatives:
    """Decode the image once, reading the file, and encode an upright preview and thumbnail.

    A JPEG cut short (a camera that lost power while writing it) is decoded a second time,
    as far as its data goes; its derivatives then say so in cut_short.
    """
    try:
        return _render_file(file)
    except DECODE_ERRORS as exc:
        failure = exc
    rendered = _render_cut_short(file, str(failure))
    if rendered is None:
        raise ImageError(DAMAGED, str(failure)) from failure
    return rendered


def _render_file(file: BinaryIO) -> Derivatives:
    file.seek(0)
    with Image.open(file) as image:
        return _render(image)


class _EndMarked:
    """A file read as Pillow's truncated loading reads a JPEG, for one decode only.

    With ImageFile.LOAD_TRUNCATED_IMAGES, JpegImageFile.load_read hands libjpeg an
    end-of-image marker where the file ends early, and the decoder finishes the image with
    grey. That switch is a module global, read during every decode of every thread, so
    this reader does the same for the one file that needs it, and never for another.
    """

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.ended_early = False

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        if data or size == 0 or self.ended_early:
            return data
        self.ended_early = True
        return EOI

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.file.seek(offset, whence)

    def tell(self) -> int:
        return self.file.tell()


def _render_cut_short(file: BinaryIO, failure: str) -> Derivatives | None:
    """The derivatives of a JPEG from what its file holds, if it decodes once given an end;
    None if it is no JPEG, or fails for another reason than ending early."""
    reader = _EndMarked(file)
    file.seek(0)
    try:
        with Image.open(reader) as image:
            if image.format != "JPEG":
                return None
            rendered = _render(image)
    except DECODE_ERRORS:
        return None
    if not reader.ended_early:
        return None
    rendered.cut_short = failure
    return rendered


def store_derivatives(derivatives: Derivatives, sha256: str) -> tuple[str, str]:
    """Write the derivatives to storage under names derived from the original's hash."""
    preview = default_storage.save(
        f"previews/{sha256[:2]}/{sha256}.jpg", ContentFile(derivatives.preview)
    )
    thumbnail = default_storage.save(
        f"thumbnails/{sha256[:2]}/{sha256}.jpg", ContentFile(derivatives.thumbnail)
    )
    return preview, thumbnail


def dct_scale(size: tuple[int, int]) -> int:
    """The JPEG DCT reduction (1, 2, 4 or 8) to decode at for a preview of this image."""
    long_side = max(size)
    scale = 1
    while scale < 8 and -(-long_side // scale) > PREVIEW_SIDE:
        scale *= 2
    if scale > 1 and -(-long_side // scale) < PREVIEW_MIN_SIDE:
        scale //= 2
    return scale


def _thumbnail_factor(size: tuple[int, int]) -> int:
    """The whole factor that reduces a preview of this size closest to THUMBNAIL_SIDE."""
    return max(1, round(max(size) / THUMBNAIL_SIDE))


def orientation(image: Image.Image) -> int | None:
    """The EXIF orientation of the pixels Pillow hands out (None if unknown)."""
    # Pillow's view of the file, not the EXIF tag as written: pillow-heif hands out HEIC
    # pixels already upright and reports orientation 1, so they are not turned twice.
    try:
        return image.getexif().get(0x0112)
    except Exception:  # a damaged EXIF block must not cost the image its derivatives
        return None


def _render(image: Image.Image) -> Derivatives:
    # Everything happens while the file is open: closing it frees the decoded pixels.
    turn = orientation(image)
    preview = _decode_preview(image)
    if turn in UPRIGHT:
        preview = preview.transpose(UPRIGHT[turn])
    # From the preview, not the original: no second decode. A whole-factor box reduction
    # averages every pixel, as a good downscale must, at under half the cost of resampling
    # to exactly THUMBNAIL_SIDE.
    thumbnail = preview.reduce(_thumbnail_factor(preview.size))
    return Derivatives(preview=_encode(preview, 85), thumbnail=_encode(thumbnail, 80))


def _decode_preview(image: Image.Image) -> Image.Image:
    # Decoding is most of the cost of an image and resampling most of the rest
    # (PERFORMANCE.md): libjpeg scales while decoding, and a preview at a DCT size needs no
    # resampling at all.
    scale = dct_scale(image.size)
    if image.format == "JPEG" and scale > 1:
        image.draft("RGB", (image.width // scale, image.height // scale))
    image.load()
    preview = image if image.mode in ("RGB", "L") else image.convert("RGB")
    if max(preview.size) > PREVIEW_SIDE:
        preview = preview.resize(_fit(preview.size, PREVIEW_SIDE), BICUBIC, reducing_gap=2.0)
    return preview


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    """The size within side × side with the same aspect ratio; never larger than size."""
    width, height = size
    if max(size) <= side:
        return size
    scale = side / max(size)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _encode(image: Image.Image, quality: int) -> bytes:
    # Derivatives carry no metadata at all. Pillow's JPEG writer takes what it writes from the
    # save() arguments, except the COM comment, which it copies from image.info in every
    # version (and XMP too in 11.0); transposed and reduced images inherit that info. An empty
    # info leaves libjpeg's JFIF header, the tables, the frame and the scan.
    image.info = {}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
