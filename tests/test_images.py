"""The contrast and ink-framing rules of ``textrec_core.services.images``: scans' gray paper and
gray ink become the clean levels models train on; a drawing is cut to its ink and given the
training margin; blank and flat images are left alone."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textrec_core.services.images import INK_LEVEL, MIN_CONTRAST, frame_ink, stretch_contrast


def stroke_image(paper: float, ink: float) -> np.ndarray:
    """A 40x200 bright-ink image: background ``paper``, a few strokes of level ``ink``."""
    image = np.full((40, 200), paper, dtype=np.float32)
    image[10:30, 20:24] = ink
    image[18:21, 30:180] = ink
    return image


@settings(deadline=None)  # timing is the benchmarks' business; a loaded CI machine varies
@given(paper=st.floats(0.0, 0.4), contrast=st.floats(MIN_CONTRAST + 0.01, 0.6))
def test_paper_becomes_background_and_ink_full_brightness(paper, contrast):
    stretched = stretch_contrast(stroke_image(paper, paper + contrast))
    assert np.allclose(stretched, stroke_image(0.0, 1.0), atol=1e-5)
    assert stretched.dtype == np.float32


def test_values_beyond_the_levels_are_clipped_to_the_unit_range():
    image = stroke_image(0.2, 0.6)
    image[0, :3] = (0.0, 0.9, 1.0)  # darker than paper, brighter than the ink
    stretched = stretch_contrast(image)
    assert stretched.min() == 0.0 and stretched.max() == 1.0


def test_blank_and_low_contrast_images_are_left_as_they_are():
    blank = np.full((20, 50), 0.3, dtype=np.float32)
    faint = stroke_image(0.2, 0.2 + MIN_CONTRAST / 2)
    assert stretch_contrast(blank) is blank
    assert stretch_contrast(faint) is faint


@settings(deadline=None)  # timing is the benchmarks' business; a loaded CI machine varies
@given(top=st.integers(0, 60), left=st.integers(0, 300), margin=st.sampled_from([0.0, 1 / 16, 0.1, 0.25]))
def test_ink_is_cut_out_and_framed_by_the_margin_wherever_it_was_drawn(top, left, margin):
    canvas = np.zeros((120, 560), dtype=np.float32)
    canvas[top : top + 40, left : left + 200] = stroke_image(0.0, 1.0)
    framed = frame_ink(canvas, margin)
    ink_height, ink_width = 20, 160  # stroke_image's ink: rows 10..29, columns 20..179
    pad = round(ink_height * margin / (1 - 2 * margin))
    assert framed.shape == (ink_height + 2 * pad, ink_width + 2 * pad) and framed.dtype == np.float32
    assert np.array_equal(framed[pad : pad + ink_height, pad : pad + ink_width], stroke_image(0.0, 1.0)[10:30, 20:180])
    assert framed.sum() == canvas.sum()  # only background was cut or added


def test_faint_specks_are_not_ink_and_a_blank_image_is_left_as_it_is():
    canvas = np.zeros((50, 80), dtype=np.float32)
    canvas[0, 0] = INK_LEVEL  # not brighter than the ink level
    canvas[20:30, 30:40] = 1.0
    assert frame_ink(canvas, 0.0).shape == (10, 10)
    blank = np.full((20, 50), 0.2, dtype=np.float32)
    assert frame_ink(blank, 0.1) is blank


@pytest.mark.parametrize("margin", [-0.1, 0.5, 1.0])
def test_a_margin_outside_0_to_one_half_is_refused(margin):
    with pytest.raises(ValueError, match="margin must lie in"):
        frame_ink(np.ones((4, 4), dtype=np.float32), margin)
