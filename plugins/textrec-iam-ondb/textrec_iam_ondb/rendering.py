"""Drawing a line's pen strokes as a grayscale image: bright ink on a dark (0) background.

Each line is normalised by its own ink extent: its strokes are scaled so that the ink spans the
image height less a margin of ``height // 16`` pixels (at least 2) at top and bottom, keeping the
aspect ratio, so the width follows from the line's own proportions; a line that would be wider
than ``max_width`` is scaled down to fit it, centred vertically. Strokes are drawn as connected
segments of the style's pen width (PIL's ``ImageDraw``), a single-point stroke as a dot.

A :class:`Style` perturbs the strokes before the normalisation: a shear (``slant``: x moves by
``slant`` times the height above the ink's vertical centre, positive leaning right), Gaussian
jitter of every point (``jitter``, a fraction of the ink's height) and the pen width (a fraction
of the image height); and the image after drawing, as a scan would: the ink's brightness
(``ink``), a Gaussian blur (``blur``, its standard deviation in pixels, a separable 5-tap kernel)
and Gaussian paper noise (``noise``, its standard deviation on the [0, 1] scale, clipped; cut at
a random place from one fixed field of standard normal noise, which costs a training step far
less than drawing fresh noise for every pixel). :data:`FIXED_STYLE` draws the
strokes as recorded, clean; :func:`random_style` draws a training style.
"""

from __future__ import annotations

import math
from functools import cache

import attrs
import numpy as np
from PIL import Image, ImageDraw


@attrs.frozen
class Style:
    """How a line is drawn: ``pen_width`` (fraction of the image height), ``slant`` (shear
    factor), ``jitter`` (standard deviation of each point's displacement, fraction of the ink
    height), ``ink`` (brightness in (0, 1]), ``blur`` (pixels), ``noise`` (standard deviation)."""

    pen_width: float = 0.05
    slant: float = 0.0
    jitter: float = 0.0
    ink: float = 1.0
    blur: float = 0.0
    noise: float = 0.0


FIXED_STYLE = Style()
#: Ranges of the training styles: pen width in [0.03, 0.08] of the height, slant (shear) within
#: +-0.25 (about 14 degrees), jitter up to 0.006 of the ink height, ink brightness in [0.6, 1],
#: blur up to 1.5 pixels and paper noise up to 0.06, each uniform.
PEN_WIDTHS = (0.03, 0.08)
MAX_SLANT = 0.25
MAX_JITTER = 0.006
INK_LEVELS = (0.6, 1.0)
MAX_BLUR = 1.5
MAX_NOISE = 0.06


def random_style(rng: np.random.Generator) -> Style:
    """A training style drawn from the ranges above."""
    return Style(pen_width=float(rng.uniform(*PEN_WIDTHS)), slant=float(rng.uniform(-MAX_SLANT, MAX_SLANT)),
                 jitter=float(rng.uniform(0, MAX_JITTER)), ink=float(rng.uniform(*INK_LEVELS)),
                 blur=float(rng.uniform(0, MAX_BLUR)), noise=float(rng.uniform(0, MAX_NOISE)))


def margin(height: int) -> int:
    """The blank rows above and below the ink, and columns left and right of it."""
    return max(2, height // 16)


def natural_width(extent: tuple[float, float], height: int, max_width: int) -> int:
    """The width :func:`render_strokes` gives a line of ink ``extent`` ``(width, height)`` in
    :data:`FIXED_STYLE`, for ordering lines by width before they are drawn."""
    inner = height - 2 * margin(height)
    return min(max_width, int(math.ceil(extent[0] * inner / max(extent[1], 1.0))) + 2 * margin(height))


def render_strokes(strokes: list[np.ndarray], height: int, max_width: int, style: Style = FIXED_STYLE,
                   rng: np.random.Generator | None = None) -> np.ndarray:
    """The line image ``(height, width)`` uint8 of ``strokes`` (each ``(n, 2)`` x, y), ``width <= max_width``.

    ``rng`` draws the jitter and the noise and is needed only when either is not 0.
    """
    lengths = [len(s) for s in strokes]
    points = np.concatenate(strokes).astype(np.float64)
    low, high = points.min(axis=0), points.max(axis=0)
    if style.slant:
        points[:, 0] -= style.slant * (points[:, 1] - (low[1] + high[1]) / 2)
    if style.jitter or style.noise:
        assert rng is not None, "a jittered or noisy style needs an rng"
    if style.jitter:
        points += rng.normal(0.0, style.jitter * max(high[1] - low[1], 1.0), points.shape)
    if style.slant or style.jitter:
        low, high = points.min(axis=0), points.max(axis=0)
    edge = margin(height)
    extent = np.maximum(high - low, 1.0)
    scale = (height - 2 * edge) / extent[1]
    width = int(math.ceil(extent[0] * scale)) + 2 * edge
    if width > max_width:
        scale, width = (max_width - 2 * edge) / extent[0], max_width
    offset = np.array([edge, (height - extent[1] * scale) / 2]) - low * scale
    points = points * scale + offset
    pen = max(1, round(style.pen_width * height))
    ink = max(1, round(style.ink * 255))
    image = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(image)
    start = 0
    for length in lengths:
        stroke = points[start : start + length]
        start += length
        if length == 1:
            x, y = stroke[0]
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=ink)
        else:
            draw.line(stroke.ravel().tolist(), fill=ink, width=pen)
    pixels = np.asarray(image)
    if not (style.blur or style.noise):
        return pixels
    scanned = _blurred(pixels, style.blur) if style.blur else pixels.astype(np.float32)
    if style.noise:
        scanned += (style.noise * 255) * _noise(scanned.shape, rng)
    return np.clip(scanned, 0, 255, out=scanned).astype(np.uint8)


def _blurred(pixels: np.ndarray, sigma: float) -> np.ndarray:
    """``pixels`` convolved with a separable 5-tap Gaussian of standard deviation ``sigma``, float32."""
    taps = np.exp(-0.5 * (np.arange(-2, 3) / sigma) ** 2).astype(np.float32)
    taps /= taps.sum()
    rows, columns = pixels.shape
    padded = np.zeros((rows + 4, columns + 4), dtype=np.float32)
    padded[2:-2, 2:-2] = pixels
    across = taps[0] * padded[:, :columns]
    for k in range(1, 5):
        across += taps[k] * padded[:, k : k + columns]
    blurred = taps[0] * across[:rows]
    for k in range(1, 5):
        blurred += taps[k] * across[k : k + rows]
    return blurred


@cache
def _noise_field() -> np.ndarray:
    """Standard normal noise ``(256, 4096)`` float32, the same in every process (seed 0)."""
    return np.random.default_rng(0).standard_normal((256, 4096), dtype=np.float32)


def _noise(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Standard normal noise of ``shape``: a patch of :func:`_noise_field` at a place ``rng`` draws
    (drawn afresh from ``rng`` for a shape larger than the field)."""
    field = _noise_field()
    if shape[0] > field.shape[0] or shape[1] > field.shape[1]:
        return rng.standard_normal(shape, dtype=np.float32)
    top = int(rng.integers(0, field.shape[0] - shape[0] + 1))
    left = int(rng.integers(0, field.shape[1] - shape[1] + 1))
    return field[top : top + shape[0], left : left + shape[1]]
