"""The augmenter library: every augmenter keeps shapes, the value range and each line's padding,
repeats under a seed, applies with its probability, keeps the ink within bounds, and does what
its name says; bad arguments are errors naming them."""

from __future__ import annotations

import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from textrec_augment import (
    blur,
    contrast,
    elastic,
    ink_thickness,
    paper_noise,
    perspective,
    random_affine,
    random_erasing,
    width_stretch,
)
from textrec_augment.plugin import AUGMENTERS
from textrec_core.errors import ArgumentError
from textrec_core.plugins import components
from textrec_lines import content_widths

HEIGHT, WIDTH = 32, 240


def lines(widths: list[int], seed: int = 0) -> torch.Tensor:
    """A padded batch: per line, pen strokes (bright, 2-3 px thick) over its first ``width`` columns."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.zeros(len(widths), HEIGHT, WIDTH)
    for image, width in zip(images, widths):
        for left in range(4, width - 8, 10):
            top = int(torch.randint(6, 12, (1,), generator=generator))
            image[top : HEIGHT - 6, left : left + 3] = 1.0  # a down stroke
            image[top : top + 2, left : left + 8] = 0.8  # a cross bar
    return images


def every(name: str, **args):
    """The registered augmenter ``name`` with its defaults, applied to every image."""
    return {factory.__name__: factory for factory in AUGMENTERS}[name](**{"p": 1.0, **args})


NAMES = [factory.__name__ for factory in AUGMENTERS]


@settings(deadline=None, max_examples=15)
@given(name=st.sampled_from(NAMES), widths=st.lists(st.integers(24, WIDTH), min_size=1, max_size=5),
       seed=st.integers(0, 2**16))
def test_shape_range_padding_and_ink_are_kept(name, widths, seed):
    images = lines(widths, seed)
    out = every(name)(images, torch.Generator().manual_seed(seed))
    assert out.shape == images.shape and out.dtype == images.dtype
    assert out.min() >= 0 and out.max() <= 1
    frames = content_widths(images) + HEIGHT // 8
    reach = (frames.float() * 1.2).ceil().long() + 1 if name == "width_stretch" else frames
    assert (content_widths(out) <= reach.clamp(max=WIDTH)).all()  # padding stays background
    kept = out.sum(dim=(1, 2)) / images.sum(dim=(1, 2))
    assert ((kept > 0.15) & (kept < 4.0)).all(), f"{name} changed the ink by {kept.tolist()}"


@pytest.mark.parametrize("name", NAMES)
def test_repeatable_from_the_generator_and_different_across_seeds(name):
    images = lines([200, 120, 90, 240])
    first = every(name)(images, torch.Generator().manual_seed(1))
    again = every(name)(images, torch.Generator().manual_seed(1))
    other = every(name)(images, torch.Generator().manual_seed(2))
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert not torch.equal(first, images)


@pytest.mark.parametrize("name", NAMES)
def test_probability_zero_leaves_the_batch_and_a_half_changes_about_half(name):
    images = lines([160] * 200)
    assert every(name, p=0.0)(images, torch.Generator().manual_seed(0)) is images
    half = every(name, p=0.5)(images, torch.Generator().manual_seed(0))
    changed = int((half != images).flatten(1).any(dim=1).sum())
    assert 70 <= changed <= 130  # binomial(200, 0.5) within 4.2 standard deviations, less the no-ops


def test_zero_strengths_are_the_identity():
    images = lines([200, 90])
    identities = [elastic(alpha=0, p=1), perspective(distortion=0, p=1), width_stretch(stretch=0, p=1),
                  random_affine(degrees=0, scale=0, shear=0, shift=0),
                  paper_noise(noise=0, texture=0, p=1), contrast(contrast=0, brightness=0, p=1)]
    for augmenter in identities:
        assert torch.allclose(augmenter(images, torch.Generator().manual_seed(0)), images, atol=1e-4), augmenter


def test_ink_thickness_dilates_and_erodes():
    images = lines([200] * 16)
    out = every("ink_thickness")(images, torch.Generator().manual_seed(0))
    ink, after = (images > 0.5).sum(dim=(1, 2)), (out > 0.5).sum(dim=(1, 2))
    assert (after > ink).any() and (after < ink).any()


def test_blur_spreads_ink_without_losing_it():
    images = lines([150] * 8)
    out = blur(max_sigma=2.0, p=1.0)(images, torch.Generator().manual_seed(0))
    assert torch.allclose(out.sum(dim=(1, 2)), images.sum(dim=(1, 2)), rtol=0.02)
    assert ((out > 0) & (out < 0.8)).sum() > ((images > 0) & (images < 0.8)).sum()


def test_paper_noise_greys_the_paper_inside_each_frame_only():
    images = lines([100] * 8)
    out = paper_noise(noise=0.05, texture=0.2, p=1.0)(images, torch.Generator().manual_seed(0))
    paper = images[:, :, : 100 + HEIGHT // 8] == 0
    assert out[:, :, : 100 + HEIGHT // 8][paper].mean() > 0.01
    assert out[:, :, 100 + HEIGHT // 8 :].max() == 0


def test_contrast_maps_paper_and_ink_onto_the_drawn_levels():
    images = lines([120] * 32)
    out = contrast(contrast=0.4, brightness=0.2, p=1.0)(images, torch.Generator().manual_seed(0))
    inside = slice(0, 120)
    paper, ink = out[:, :, inside][images[:, :, inside] == 0], out[images == 1.0]
    assert paper.min() >= 0 and paper.max() <= 0.2 + 1e-6 and ink.min() >= 0.6 - 1e-6 and ink.max() <= 1.0
    assert out[:, :, inside].amax(dim=(1, 2)).std() > 0.05  # each line its own levels


def test_width_stretch_moves_each_lines_end_by_its_factor():
    images = lines([160] * 16)
    out = width_stretch(stretch=0.2, p=1.0)(images, torch.Generator().manual_seed(0))
    ends = content_widths((out > 0.5).float()).float()
    start = float(content_widths((images > 0.5).float())[0])
    assert (ends >= start * 0.8 - 2).all() and (ends <= start * 1.2 + 2).all()
    assert ends.max() - ends.min() > 10


def test_random_erasing_only_sets_pixels_to_paper():
    images = lines([200] * 16)
    out = random_erasing(max_count=3, size=0.5, p=1.0)(images, torch.Generator().manual_seed(0))
    changed = out != images
    assert changed.any() and (out[changed] == 0).all()


@pytest.mark.parametrize(("factory", "argument", "value", "problem"), [
    (elastic, "alpha", -1.0, "must be in [0, inf), got -1.0"),
    (elastic, "spacing", 0.5, "must be in [1, inf), got 0.5"),
    (perspective, "distortion", 0.25, "must be in [0, 0.25), got 0.25"),
    (width_stretch, "stretch", 1.0, "must be in [0, 1), got 1.0"),
    (ink_thickness, "max_radius", 0, "must be at least 1, got 0"),
    (ink_thickness, "max_radius", 1.5, "must be an integer, got 1.5"),
    (blur, "max_sigma", 0, "must be in (0, 5], got 0"),
    (paper_noise, "noise", 1.0, "must be in [0, 1), got 1.0"),
    (paper_noise, "grain", 0, "must be in [1, inf), got 0"),
    (contrast, "brightness", 0.7, "plus contrast must be below 1"),
    (random_erasing, "size", 0, "must be in (0, 1], got 0"),
    (random_erasing, "max_count", 0, "must be at least 1, got 0"),
    (blur, "p", 1.5, "must be in [0, 1], got 1.5"),
    (random_affine, "p", -0.1, "must be in [0, 1], got -0.1"),
])
def test_a_bad_argument_is_an_argument_error_naming_it(factory, argument, value, problem):
    with pytest.raises(ArgumentError, match=re.escape(problem)) as raised:
        factory(**{argument: value})
    assert raised.value.argument == argument


def test_every_augmenter_is_registered_by_its_name():
    table = components()["augmenter"]
    assert {entry.name for entry in table if entry.provider == "textrec-augment"} == set(NAMES)
