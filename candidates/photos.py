"""Uploaded pictures: recognised by content, bounded, re-encoded as a clean JPEG (reference-defects V6, S5).

Generic on purpose (any app storing a picture a person uploaded can use it):

    jpeg = photos.reencode_upload(uploaded_file)            # raises photos.InvalidImage with a user message
    key = photos.store_jpeg("candidates/photos/<id>", jpeg)  # content-addressed: <folder>/<sha256>.jpg

The output is a new RGB JPEG of at most ``max_side`` px a side with the EXIF orientation applied and no EXIF,
ICC, XMP or comment kept, so camera metadata (GPS position, device) never reaches storage.
"""

import hashlib
import io
import threading
import warnings
from contextlib import contextmanager

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # larger images are refused before decoding (decompression bombs)
MAX_SIDE = 600
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
JPEG_QUALITY = 88


class InvalidImage(ValueError):
    """The upload is not an acceptable picture; ``str(exc)`` is safe to show to the user."""


_strict_lock = threading.Lock()


@contextmanager
def _strict_decoding():
    """Refuse truncated images while decoding. WeasyPrint switches Pillow's process-wide
    ``LOAD_TRUNCATED_IMAGES`` on when imported; an upload must still be complete to be accepted."""
    with _strict_lock:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _read(upload, max_bytes: int) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise InvalidImage(f"The picture is larger than {max_bytes // (1024 * 1024)} MB.")
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InvalidImage(f"The picture is larger than {max_bytes // (1024 * 1024)} MB.")
    if not data:
        raise InvalidImage("The submitted picture is empty.")
    return data


def reencode(
    data: bytes,
    *,
    max_side: int = MAX_SIDE,
    formats: tuple[str, ...] = ACCEPTED_FORMATS,
    max_pixels: int = MAX_PIXELS,
) -> bytes:
    """Decode ``data`` (type by content, never by name) and return a fresh metadata-free JPEG."""
    names = ", ".join("WebP" if f == "WEBP" else f for f in formats)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(formats))
            if image.width * image.height > max_pixels:
                raise InvalidImage("The picture has too many pixels.")
            if image.format == "JPEG":
                image.draft("RGB", (max_side, max_side))  # decode at a reduced scale: much faster
            with _strict_decoding():
                image.load()
            image = ImageOps.exif_transpose(image)
    except InvalidImage:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage(f"Upload a valid image ({names}).")
    except (OSError, SyntaxError, ValueError):  # truncated or corrupt data
        raise InvalidImage(f"Upload a valid image ({names}); this one is damaged.")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, (255, 255, 255))
        image.paste(rgba, mask=rgba.getchannel("A"))
    image = image.convert("RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)  # a new image: no EXIF, ICC or comments
    return buffer.getvalue()


def reencode_upload(upload, *, max_bytes: int = MAX_BYTES, max_side: int = MAX_SIDE) -> bytes:
    """Validate an uploaded file (size, then content) and return the re-encoded JPEG bytes."""
    return reencode(_read(upload, max_bytes), max_side=max_side)


def jpeg_key(folder: str, jpeg: bytes) -> str:
    return f"{folder.rstrip('/')}/{hashlib.sha256(jpeg).hexdigest()}.jpg"


def store_jpeg(folder: str, jpeg: bytes) -> str:
    """Store the JPEG at ``<folder>/<sha256>.jpg`` (idempotent: the same picture gets the same key)."""
    key = jpeg_key(folder, jpeg)
    if default_storage.exists(key):
        return key
    return default_storage.save(key, ContentFile(jpeg))
