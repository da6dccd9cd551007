"""The contrast rule of ``textrec_core.services.images``: scans' gray paper and gray ink become the
clean levels models train on; blank and flat images are left alone."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from textrec_core.services.images import MIN_CONTRAST, stretch_contrast


def stroke_image(paper: float, ink: float) -> np.ndarray:
    """A 40x200 bright-ink image: background ``paper``, a few strokes of level ``ink``."""
    image = np.full((40, 200), paper, dtype=np.float32)
    image[10:30, 20:24] = ink
    image[18:21, 30:180] = ink
    return image


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
