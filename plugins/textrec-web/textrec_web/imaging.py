"""Turning request bytes into a checked grayscale image, refusing anything unsafe or unusable.

Order of checks, so that no untrusted image is decoded before its size is known:

1. the bytes are not empty (``empty_image``, 400);
2. Pillow identifies them as one of :data:`FORMATS` from the header alone (``not_an_image``, 400;
   Pillow also refuses headers it finds invalid here, such as a PNG declaring 0x0 pixels);
3. the header's width and height are positive (``empty_image``, 400) and within
   ``max_image_side`` and ``max_image_pixels`` (``image_too_large``, 413): a decompression bomb
   (a small file declaring a huge image) is refused here, before any pixel is decoded;
4. the pixels decode (``invalid_image``, 400: a truncated or corrupt file);
5. the image is not blank, i.e. its intensities span more than :data:`BLANK_RANGE` of 255
   (``blank_image``, 400: nothing to read, such as an untouched canvas).

Transparent images are laid on white first (a canvas or PNG with transparent background and
dark ink reads as dark ink on white paper), then made grayscale; 16- and 32-bit grayscale images
with values above 255 are taken to span 0 to 65535 and scaled to 8 bits; animated images give
their first frame.
"""

from __future__ import annotations

import base64
import binascii
import io
import re

import numpy as np
from PIL import Image, UnidentifiedImageError

from textrec_web.errors import ApiError
from textrec_web.settings import Settings

#: Image formats accepted (Pillow's names); others are refused as ``not_an_image``.
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")
#: An image whose darkest and brightest pixels differ by at most this (of 255) is blank.
BLANK_RANGE = 2
DATA_URL = re.compile(r"data:(?P<type>[^,;]*)(?P<params>(;[^,;]*)*),", re.IGNORECASE)


def decode_base64(text: str) -> bytes:
    """The bytes of a base64 string or a ``data:...;base64,`` URL; whitespace is ignored and
    missing padding forgiven. Raises :class:`ApiError` ``invalid_base64`` (400)."""
    text = text.strip()
    match = DATA_URL.match(text)
    if match:
        if ";base64" not in match.group("params").lower():
            raise ApiError(400, "invalid_base64", "the data URL is not base64-encoded (expected data:...;base64,...)")
        text = text[match.end() :]
    text = "".join(text.split())
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        message = "the image is not valid base64 (standard alphabet A-Z a-z 0-9 + /)"
        raise ApiError(400, "invalid_base64", message) from None


def decode_image(data: bytes, settings: Settings) -> np.ndarray:
    """``data`` as a 2-D uint8 grayscale array, after the checks of the module docstring."""
    if not data:
        raise ApiError(400, "empty_image", "the image is empty (0 bytes)")
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)  # reads the header only
    except Image.DecompressionBombError:  # Pillow's own limit, far above ours by default
        raise ApiError(413, "image_too_large", _too_many_pixels_message(None, settings)) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise ApiError(400, "not_an_image", f"the bytes are not a readable image: expected {', '.join(FORMATS)} "
                       "with a valid header") from None
    with image:
        check_size(image.size, settings)
        try:
            image.load()
            gray = _to_gray(image)
        except (OSError, ValueError, SyntaxError, EOFError, IndexError) as exc:
            raise ApiError(400, "invalid_image", f"the {image.format} image cannot be decoded: {exc}") from None
    array = np.asarray(gray, dtype=np.uint8)
    if int(array.max()) - int(array.min()) <= BLANK_RANGE:
        raise ApiError(400, "blank_image", "the image is blank (one uniform intensity): there is nothing to read")
    return array


def check_size(size: tuple[int, int], settings: Settings) -> None:
    """Refuse a (width, height) that is empty or over the settings' limits."""
    width, height = size
    if width <= 0 or height <= 0:
        raise ApiError(400, "empty_image", f"the image has no pixels ({width}x{height})")
    if max(width, height) > settings.max_image_side:
        raise ApiError(413, "image_too_large", f"the image is {width}x{height} pixels; this server accepts "
                       f"at most {settings.max_image_side} pixels a side")
    if width * height > settings.max_image_pixels:
        raise ApiError(413, "image_too_large", _too_many_pixels_message(size, settings))


def _too_many_pixels_message(size: tuple[int, int] | None, settings: Settings) -> str:
    declared = f"the image is {size[0]}x{size[1]} pixels" if size else "the image declares too many pixels"
    return f"{declared}; this server accepts at most {settings.max_image_pixels} pixels"


def _to_gray(image: Image.Image) -> Image.Image:
    """``image`` (first frame) in mode L, transparent parts laid on white, 16-bit values scaled."""
    if image.mode.startswith("I") or image.mode == "F":  # Pillow's convert("L") would clip at 255
        values = np.asarray(image, dtype=np.float64)
        scale = 255 / 65535 if values.max() > 255 else 1.0
        return Image.fromarray(np.rint(np.clip(values * scale, 0, 255)).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    return image.convert("L")
