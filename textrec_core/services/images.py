"""Reading images given to predictors: file paths, numpy arrays and PIL images.

The polarity rule: models see bright ink on a dark background (EMNIST's convention). An input
whose border is mostly light (median of the outermost pixels above 0.5) is taken to be dark ink
on light paper and inverted; any other input is used as it is.

The contrast rule (:func:`stretch_contrast`, for line images): the background's level (the
median pixel) becomes 0 and the ink's level (the 99th percentile) becomes 1, values clipped to
[0, 1], so a scan's gray paper and gray ink look like the clean renderings models train on; an
image with less contrast than :data:`MIN_CONTRAST` (blank, or flat) is left as it is.

The ink-framing rule (:func:`frame_ink`, for models whose images are framed by their ink): the
image is cut to the box of its ink (pixels above :data:`INK_LEVEL`) and padded with background
on every side, so that the ink spans the padded height less a given fraction of it at the top
and at the bottom, and the sides get as many pixels as the top. An image without ink is left as
it is.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from textrec_core.errors import InputImageError

ImageInput = Any  # str | os.PathLike | np.ndarray | PIL.Image.Image


def to_grayscale(image: ImageInput) -> np.ndarray:
    """A 2-D float32 array in [0, 1] from a path, a numpy array or a PIL image."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        if not path.is_file():
            raise InputImageError(f"image file {str(path)!r} does not exist")
        try:
            with Image.open(path) as opened:
                image = opened.convert("L")
                image.load()
        except (UnidentifiedImageError, OSError) as exc:
            raise InputImageError(f"cannot read image {str(path)!r}: {exc}") from None
    if isinstance(image, Image.Image):
        image = np.asarray(image.convert("L"))
    if not isinstance(image, np.ndarray):
        raise InputImageError(f"expected a file path, numpy array or PIL image, got {type(image).__name__}")
    array = image
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        gray = array[..., :3].mean(axis=-1)
        array = gray.astype(np.uint8) if array.dtype == np.uint8 else gray
    if array.ndim != 2 or array.size == 0:
        raise InputImageError(f"expected a 2-D grayscale or RGB image, got shape {array.shape}")
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if not np.issubdtype(array.dtype, np.number):
        raise InputImageError(f"image has non-numeric dtype {array.dtype}")
    array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise InputImageError("image contains NaN or infinite values")
    if array.min() < 0 or array.max() > 1:
        if array.min() >= 0 and array.max() <= 255:
            return array / 255.0
        raise InputImageError(f"float image values must lie in [0, 1] or [0, 255], got [{array.min()}, {array.max()}]")
    return array


def ink_bright(image: np.ndarray) -> np.ndarray:
    """Apply the polarity rule (see module docstring): invert light-background images."""
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    return 1.0 - image if np.median(border) > 0.5 else image


#: Ink and background closer than this (on the [0, 1] scale) are not stretched apart.
MIN_CONTRAST = 0.1


def stretch_contrast(image: np.ndarray) -> np.ndarray:
    """Apply the contrast rule (see module docstring) to a bright-ink float image in [0, 1]."""
    background, ink = np.percentile(image, [50, 99])
    if ink - background < MIN_CONTRAST:
        return image
    return np.clip((image - background) / (ink - background), 0.0, 1.0).astype(np.float32)


#: Pixels brighter than this, after the contrast rule, are ink to :func:`frame_ink`.
INK_LEVEL = 0.5


def frame_ink(image: np.ndarray, margin: float) -> np.ndarray:
    """Apply the ink-framing rule (see module docstring) to a bright-ink float image, ``margin``
    being the fraction of the framed height left blank above the ink and below it."""
    if not 0 <= margin < 0.5:
        raise ValueError(f"margin must lie in [0, 0.5), got {margin!r}")
    rows = np.flatnonzero((image > INK_LEVEL).any(axis=1))
    if rows.size == 0:
        return image
    cols = np.flatnonzero((image > INK_LEVEL).any(axis=0))
    ink = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    pad = round(ink.shape[0] * margin / (1 - 2 * margin))
    return np.pad(ink, pad).astype(np.float32, copy=False)
