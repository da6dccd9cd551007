"""Line images as the dataset serves them: bright ink on a dark background, a fixed height.

IAM's crops are dark ink on light paper. :func:`prepare_line` inverts a crop, stretches its
contrast (the contrast rule of :mod:`textrec_core.services.images`), scales it to
``height`` rows keeping its aspect ratio, and squeezes it horizontally to ``max_width`` columns
when it would be wider (the only case where the aspect ratio changes).
"""

from __future__ import annotations

import io

import numpy as np

from textrec_core.errors import DataError
from textrec_core.services.images import stretch_contrast


def decode_image(data: bytes, origin: str) -> np.ndarray:
    """A grayscale uint8 array from an encoded image (PNG, JPEG, ...); :class:`DataError` naming
    ``origin`` when it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(image.convert("L"))
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise DataError(f"cannot read the line image {origin}: {exc}") from None


def prepare_line(gray: np.ndarray, *, height: int, max_width: int) -> tuple[np.ndarray, bool]:
    """The crop ``gray`` (uint8, dark ink on light paper) inverted, contrast-stretched and resized to
    ``(height, width)`` with ``1 <= width <= max_width``, and whether it had to be squeezed to fit ``max_width``."""
    from PIL import Image

    rows, cols = gray.shape
    width = max(1, round(cols * height / max(rows, 1)))
    squeezed = width > max_width
    bright = np.round(stretch_contrast((255 - gray).astype(np.float32) / 255.0) * 255.0).astype(np.uint8)
    image = Image.fromarray(bright).resize((min(width, max_width), height), Image.Resampling.BILINEAR,
                                               reducing_gap=2.0)
    return np.asarray(image, dtype=np.uint8), squeezed
