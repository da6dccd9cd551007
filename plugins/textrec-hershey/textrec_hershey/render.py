"""Synthetic handwriting-like characters in EMNIST's format, drawn from the Hershey vector fonts.

A character's centre lines come from one of :data:`FONTS` (stroke fonts of the ``Hershey-Fonts``
package), resampled into points about half a pixel apart. Each rendering bends
them with a smooth random displacement field, slants, rotates and stretches them, and fits them
into the frame as EMNIST fits handwriting: centred on the bounding box, whose larger side covers
about 20-24 px of 28 whatever the character. The pen is drawn like EMNIST's blurred strokes: every
point adds a Gaussian blob to the image, which is then saturated, so strokes of a random width get
soft, anti-aliased edges. Images are uint8, bright ink (up to 255) on black.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from HersheyFonts import HersheyFonts

from textrec_core.mapping import EMNIST_CHARACTERS

#: The classes in label order: label ``i`` is ``CHARACTERS[i]``.
CHARACTERS = "".join(EMNIST_CHARACTERS)

#: Default Hershey fonts that draw all 62 characters legibly: sans, roman and script faces, each
#: simplex (one line per stroke) and, bolder, duplex (two); triplex and gothic ones are left out.
FONTS: tuple[str, ...] = ("futural", "futuram", "rowmans", "rowmand", "scripts", "scriptc", "cursive")

_SPACING = 1 / 48  # distance between centre-line points, in glyph units (larger side = 1)
_WARP_WAVES = 3  # sine waves per axis in the smooth displacement field
_HAZE = 0.04  # pen intensities below this are cut to black background


@cache
def _glyph_points(font: str) -> dict[str, np.ndarray]:
    """Every character's centre-line points in ``font``, shape (n, 2) as (x, y) with y down.

    The glyph is centred on its bounding box and scaled so the box's larger side is 1.
    """
    hershey = HersheyFonts()
    hershey.load_default_font(font)
    glyphs = {}
    for char in CHARACTERS:
        strokes = [np.asarray(stroke, dtype=float) for stroke in hershey.strokes_for_text(char)]
        corners = np.concatenate(strokes)
        low, high = corners.min(axis=0), corners.max(axis=0)
        scale = 1 / max(high - low)
        glyphs[char] = np.concatenate([_resample((s - (low + high) / 2) * scale) for s in strokes])
    return glyphs


def _resample(stroke: np.ndarray) -> np.ndarray:
    """Points along the polyline ``stroke`` (m, 2), at most ``_SPACING`` apart, ends included."""
    steps = np.diff(stroke, axis=0)
    counts = np.ceil(np.hypot(*steps.T) / _SPACING).astype(int).clip(min=1)
    segment = np.repeat(np.arange(len(steps)), counts)
    first_of_segment = np.cumsum(counts) - counts
    fraction = (np.arange(counts.sum()) - first_of_segment[segment]) / counts[segment]
    return np.concatenate([stroke[segment] + fraction[:, None] * steps[segment], stroke[-1:]])


def _warp(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``points`` bent by a smooth random displacement field, then slanted, rotated and stretched."""
    frequencies = rng.normal(0.0, 1.5 * np.pi, size=(2, 2 * _WARP_WAVES))
    phases = rng.uniform(0.0, 2 * np.pi, size=2 * _WARP_WAVES)
    amplitudes = rng.uniform(0.0, 0.025, size=2 * _WARP_WAVES)
    waves = amplitudes * np.sin(points @ frequencies + phases)
    bent = points + waves.reshape(len(points), 2, _WARP_WAVES).sum(axis=2)
    angle = rng.uniform(-0.12, 0.12)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    slant = np.array([[1.0, -rng.uniform(-0.2, 0.4)], [0.0, 1.0]])  # y points down: > 0 leans right
    stretch = np.diag([rng.uniform(0.8, 1.2), 1.0])
    return bent @ (rotation @ slant @ stretch).T


def _draw(points: np.ndarray, spacing: float, width: float, softness: float, size: int) -> np.ndarray:
    """A (size, size) float image in [0, 1] of a pen of ``width`` px following ``points`` (pixels).

    Each point adds a Gaussian blob of sigma ``softness`` and height ``spacing`` (the distance
    between neighbouring points); along a line they sum to a ridge of profile
    ``sqrt(2 pi) softness exp(-d**2 / (2 softness**2))`` at distance ``d``, which ``gain`` scales to
    0.5 at ``d = width / 2``. The Gaussian's faint far tails (below ``_HAZE``) become background
    and the result saturates at 1.
    """
    grid = np.arange(size)
    across = np.exp(-((grid - points[:, :1]) ** 2) / (2 * softness**2))  # (n, size): x per point
    down = np.exp(-((grid - points[:, 1:]) ** 2) / (2 * softness**2))  # (n, size): y per point
    gain = np.exp(width**2 / (8 * softness**2)) / (2 * np.sqrt(2 * np.pi) * softness)
    intensity = down.T @ across * (spacing * gain)
    return np.clip((intensity - _HAZE) / (1 - _HAZE), 0.0, 1.0)


def render_character(char: str, rng: np.random.Generator, size: int = 28) -> np.ndarray:
    """One (size, size) uint8 image of ``char`` in a random font, shape, slant, scale and pen width.

    The ink is bright on black, upright (not transposed) and centred on its bounding box, whose
    larger side is about 20-24 px at size 28 (in proportion for other sizes). Raises ValueError
    for anything but one character of :data:`CHARACTERS`.
    """
    glyph = _glyph_points(FONTS[rng.integers(len(FONTS))]).get(char)
    if glyph is None:
        raise ValueError(f"no Hershey glyph for {char!r}: expected one of {CHARACTERS!r}")
    points = _warp(glyph, rng)
    pixel = size / 28
    width = rng.uniform(2.0, 3.4) * pixel
    softness = rng.uniform(0.5, 0.8) * pixel
    low, high = points.min(axis=0), points.max(axis=0)
    scale = (rng.uniform(20.0, 24.0) * pixel - width) / max(high - low)
    centred = (points - (low + high) / 2) * scale + (size - 1) / 2
    image = _draw(centred, _SPACING * scale, width, softness, size)
    return np.round(image * 255).astype(np.uint8)


def render_characters(labels: np.ndarray, seed: int, start: int = 0) -> np.ndarray:
    """Images (n, 28, 28) uint8 of the class indices ``labels`` (n,), see :func:`render_character`.

    ``labels[j]`` is sample number ``i = start + j``, whose image depends only on ``seed``, ``i``
    and the label (its generator is ``default_rng([seed, i])``): rendering ``labels[a:b]`` with
    ``start=a`` gives the same images as rendering all of them and slicing ``[a:b]``.
    Raises ValueError for labels outside [0, 62).
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 1-D integer array, got {labels.dtype} of shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= len(CHARACTERS)):
        raise ValueError(f"labels must lie in [0, {len(CHARACTERS)}), got {labels.min()}..{labels.max()}")
    images = np.empty((len(labels), 28, 28), dtype=np.uint8)
    for j, label in enumerate(labels.tolist()):
        images[j] = render_character(CHARACTERS[label], np.random.default_rng([seed, start + j]))
    return images


def balanced_labels(num_samples: int, seed: int) -> np.ndarray:
    """``num_samples`` int64 class indices cycling through the 62 classes in an order shuffled by
    ``seed``, so class counts differ by at most 1."""
    return np.random.default_rng(seed).permutation(np.arange(num_samples) % len(CHARACTERS))
