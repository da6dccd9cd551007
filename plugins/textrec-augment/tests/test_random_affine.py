"""random_affine: per-image warps, repeatable from the generator, registered as an augmenter."""

from __future__ import annotations

import re

import pytest
import torch

from textrec_augment import random_affine
from textrec_core.errors import ArgumentError
from textrec_core.plugins import components


def block_batch(n: int = 8) -> torch.Tensor:
    images = torch.zeros(n, 28, 28)
    images[:, 8:20, 11:17] = 1.0
    return images


def test_shape_range_and_per_image_warps():
    images = block_batch()
    warped = random_affine()(images, torch.Generator().manual_seed(0))
    assert warped.shape == images.shape and warped.dtype == images.dtype
    assert warped.min() >= 0 and warped.max() <= 1
    assert not torch.equal(warped, images)
    assert not torch.equal(warped[0], warped[1])  # each image its own transform
    # ink is moved, not destroyed: small warps keep roughly the same amount of it
    assert torch.allclose(warped.sum((1, 2)), images.sum((1, 2)), rtol=0.35)


def test_repeatable_from_the_generator():
    images = block_batch()
    first = random_affine()(images, torch.Generator().manual_seed(3))
    again = random_affine()(images, torch.Generator().manual_seed(3))
    other = random_affine()(images, torch.Generator().manual_seed(4))
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_zero_settings_are_the_identity():
    images = block_batch()
    still = random_affine(degrees=0, scale=0, shear=0, shift=0)(images, torch.Generator().manual_seed(0))
    assert torch.allclose(still, images, atol=1e-5)


def test_a_shift_only_moves_ink_by_at_most_the_shift():
    images = block_batch(64)
    moved = random_affine(degrees=0, scale=0, shear=0, shift=2)(images, torch.Generator().manual_seed(0))
    columns = (moved > 0.5).any(dim=1).float().argmax(dim=1)
    assert columns.min() >= 11 - 2 and columns.max() <= 11 + 2 and columns.unique().numel() > 1


@pytest.mark.parametrize(
    ("argument", "value", "problem"),
    [
        ("degrees", -1, "must be in [0, inf), got -1"),
        ("degrees", float("inf"), "got inf"),
        ("scale", 1.0, "must be in [0, 1), got 1.0"),
        ("scale", float("nan"), "got nan"),
        ("shear", 90, "must be in [0, 90), got 90"),
        ("shear", -5.0, "got -5.0"),
        ("shift", -2, "got -2"),
        ("shift", "2", "got '2'"),
        ("shift", None, "got None"),
    ],
)
def test_a_bad_setting_is_an_argument_error_naming_it(argument, value, problem):
    with pytest.raises(ArgumentError, match=re.escape(problem)) as raised:
        random_affine(**{argument: value})
    assert raised.value.argument == argument


def test_registered_as_an_augmenter():
    entry = components()["augmenter"].get("random_affine")
    assert entry.provider == "textrec-augment"
