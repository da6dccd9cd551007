"""Rendering strokes: fixed height, own ink extent, aspect ratio kept, max_width respected, styles."""

from __future__ import annotations

import numpy as np

from textrec_core.services.images import frame_ink
from textrec_iam_ondb.rendering import (
    FIXED_STYLE,
    INK_LEVELS,
    MAX_BLUR,
    MAX_JITTER,
    MAX_NOISE,
    MAX_SLANT,
    PEN_WIDTHS,
    Style,
    margin,
    natural_width,
    random_style,
    render_strokes,
)

BOX = [np.array([[0, 0], [400, 0], [400, 100], [0, 100], [0, 0]], dtype=np.int32), np.array([[200, 50]])]


def test_ink_spans_the_height_less_the_margins_aspect_kept():
    image = render_strokes(BOX, 40, 1000)
    rows, columns = np.nonzero(image)
    assert image.shape == (40, natural_width((400, 100), 40, 1000)) and image.dtype == np.uint8
    assert rows.min() <= margin(40) + 1 and rows.max() >= 40 - margin(40) - 2
    assert abs((columns.max() - columns.min()) / (rows.max() - rows.min()) - 4) < 0.3
    assert image[0].max() == 0 and image[:, 0].max() == 0 and image[20, image.shape[1] // 2] == 255  # the dot


def test_a_predictor_framing_a_rendered_line_by_its_ink_gets_it_back():
    """The ink-framing rule with the dataset's margin undoes only the pen's overhang past the strokes."""
    image = render_strokes(BOX, 64, 1000, Style(pen_width=0.05))
    framed = frame_ink(image / 255.0, margin(64) / 64)
    pen = round(0.05 * 64)
    assert abs(framed.shape[0] - 64) <= 2 * pen and abs(framed.shape[1] - image.shape[1]) <= 2 * pen


def test_wide_lines_are_scaled_down_to_max_width():
    image = render_strokes(BOX, 40, 60)
    assert image.shape == (40, 60) and np.count_nonzero(image) > 0


def test_fixed_style_is_deterministic_random_styles_differ():
    assert np.array_equal(render_strokes(BOX, 32, 500), render_strokes(BOX, 32, 500, FIXED_STYLE))
    rng = np.random.default_rng(0)
    first, second = (render_strokes(BOX, 32, 500, random_style(rng), rng) for _ in range(2))
    assert first.shape != second.shape or not np.array_equal(first, second)


def test_pen_width_thickens_the_ink():
    thin, thick = (np.count_nonzero(render_strokes(BOX, 64, 500, Style(pen_width=w))) for w in (0.02, 0.08))
    assert thick > 2 * thin


def test_scan_like_styles_dim_the_ink_soften_its_edges_and_speckle_the_paper():
    clean = render_strokes(BOX, 64, 500)
    dim = render_strokes(BOX, 64, 500, Style(ink=0.6))
    assert dim.max() == round(0.6 * 255) and np.array_equal(dim > 0, clean > 0)
    blurred = render_strokes(BOX, 64, 500, Style(blur=1.5))
    assert np.count_nonzero(blurred) > np.count_nonzero(clean)  # ink spreads past its edges
    assert 0 < np.count_nonzero((blurred > 0) & (blurred < 255))  # into grays
    noisy_a, noisy_b = (render_strokes(BOX, 64, 500, Style(noise=0.05), np.random.default_rng(3)) for _ in range(2))
    assert np.array_equal(noisy_a, noisy_b)  # drawn from the rng: a seed repeats it
    paper = noisy_a[clean == 0]
    assert 0 < paper.mean() < 0.05 * 255 and noisy_a.dtype == np.uint8


def test_random_styles_stay_within_the_documented_ranges():
    rng = np.random.default_rng(1)
    for style in (random_style(rng) for _ in range(200)):
        assert PEN_WIDTHS[0] <= style.pen_width <= PEN_WIDTHS[1] and abs(style.slant) <= MAX_SLANT
        assert INK_LEVELS[0] <= style.ink <= INK_LEVELS[1] and 0 <= style.blur <= MAX_BLUR
        assert 0 <= style.noise <= MAX_NOISE and 0 <= style.jitter <= MAX_JITTER
