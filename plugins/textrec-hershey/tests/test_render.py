"""Tests of the Hershey-font character renderer: format, placement, determinism and legibility."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textrec_hershey import render
from textrec_hershey.render import CHARACTERS, FONTS, balanced_labels, render_character, render_characters

INK = 128  # pixels at least this bright count as ink


def ink_box(image: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) inclusive pixel bounds of the ink in ``image``."""
    rows = np.flatnonzero((image >= INK).any(axis=1))
    cols = np.flatnonzero((image >= INK).any(axis=0))
    return rows[0], rows[-1], cols[0], cols[-1]


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, np.ndarray]:
    return generate(620, seed=3)


def generate(num_samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    labels = balanced_labels(num_samples, seed)
    return render_characters(labels, seed), labels


def test_generate_gives_uint8_images_and_balanced_labels(sample):
    images, labels = sample
    assert images.shape == (620, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (620,) and np.issubdtype(labels.dtype, np.integer)
    assert np.array_equal(np.bincount(labels, minlength=62), np.full(62, 10))


def test_ink_is_bright_on_a_black_background(sample):
    images, _ = sample
    assert (images.max(axis=(1, 2)) == 255).all()
    assert ((images == 0).mean(axis=(1, 2)) > 0.4).all()  # bold glyphs still leave most of it black
    border = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], axis=1)
    assert border.max() < 16


def test_characters_are_centred_and_scaled_like_emnist(sample):
    images, _ = sample
    for image in images:
        top, bottom, left, right = ink_box(image)
        assert min(top, left) >= 1 and max(bottom, right) <= 26
        assert 18 <= max(bottom - top, right - left) + 1 <= 25
        assert abs((top + bottom) / 2 - 13.5) <= 1 and abs((left + right) / 2 - 13.5) <= 1


def test_images_are_upright_not_transposed():
    seven = render_characters(np.full(40, CHARACTERS.index("7")), seed=0).mean(axis=0)
    ell = render_characters(np.full(40, CHARACTERS.index("L")), seed=0).mean(axis=0)
    assert seven[:8].mean() > 2 * seven[-8:].mean()  # the bar of a 7 is at the top...
    assert seven[:8].mean() > 2 * seven[:, :8].mean()  # ...not at the left
    assert ell[-8:].mean() > 1.5 * ell[:8].mean()  # the foot of an L is at the bottom


@pytest.mark.parametrize("font", FONTS)
def test_every_font_draws_every_character_with_enough_ink(font, monkeypatch):
    monkeypatch.setattr(render, "FONTS", (font,))
    rng = np.random.default_rng(0)
    for char in CHARACTERS:
        image = render_character(char, rng)
        assert 30 <= (image >= INK).sum() <= 0.5 * image.size, (font, char)


def test_render_character_honours_size():
    image = render_character("g", np.random.default_rng(1), size=56)
    assert image.shape == (56, 56) and image.dtype == np.uint8
    top, bottom, left, right = ink_box(image)
    assert 36 <= max(bottom - top, right - left) + 1 <= 50


@pytest.mark.parametrize("char", ["", "ab", "?", "é", " "])
def test_unknown_characters_are_rejected(char):
    with pytest.raises(ValueError, match=re.escape(repr(char))):
        render_character(char, np.random.default_rng(0))


@pytest.mark.parametrize("labels", [[0, 62], [-1], [[1, 2]], [0.5]])
def test_invalid_labels_are_rejected(labels):
    with pytest.raises(ValueError, match="labels"):
        render_characters(np.array(labels), seed=0)


def test_empty_labels_give_no_images():
    assert render_characters(np.array([], dtype=int), seed=0).shape == (0, 28, 28)


def test_same_seed_same_images_other_seed_other_images():
    labels = np.arange(62)
    first = render_characters(labels, seed=7)
    assert np.array_equal(first, render_characters(labels, seed=7))
    assert (first != render_characters(labels, seed=8)).any(axis=(1, 2)).all()
    images, labels = generate(50, seed=7)
    again_images, again_labels = generate(50, seed=7)
    assert np.array_equal(images, again_images) and np.array_equal(labels, again_labels)
    assert not np.array_equal(labels, generate(50, seed=8)[1])


def test_samples_of_one_label_all_differ():
    images = render_characters(np.zeros(10, dtype=int), seed=4).reshape(10, -1)
    assert len(np.unique(images, axis=0)) == 10


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32), split=st.integers(0, 12), data=st.data())
def test_chunks_render_like_the_whole(seed, split, data):
    labels = np.array(data.draw(st.lists(st.integers(0, 61), min_size=12, max_size=12)))
    whole = render_characters(labels, seed)
    chunked = np.concatenate(
        [render_characters(labels[:split], seed), render_characters(labels[split:], seed, start=split)]
    )
    assert np.array_equal(whole, chunked)


def test_image_depends_on_its_own_label_only():
    labels = np.arange(20)
    changed = labels.copy()
    changed[5] = 40
    before, after = render_characters(labels, seed=2), render_characters(changed, seed=2)
    assert np.array_equal(np.delete(before, 5, axis=0), np.delete(after, 5, axis=0))


def test_classes_differ_more_than_samples_of_one_class():
    labels = np.repeat(np.arange(62), 8)
    pixels = render_characters(labels, seed=5).reshape(len(labels), -1) / 255.0
    distances = np.sqrt(((pixels[:, None] - pixels[None]) ** 2).sum(axis=-1))
    same = labels[:, None] == labels[None]
    within = distances[same & ~np.eye(len(labels), dtype=bool)].mean()
    assert within < 0.9 * distances[~same].mean()


def test_class_centroids_recognise_fresh_samples():
    labels = np.repeat(np.arange(62), 8)
    pixels = render_characters(labels, seed=5).reshape(len(labels), -1) / 255.0
    centroids = np.stack([pixels[labels == k].mean(axis=0) for k in range(62)])
    test_labels = np.repeat(np.arange(62), 4)
    test_pixels = render_characters(test_labels, seed=6).reshape(len(test_labels), -1) / 255.0
    predicted = ((test_pixels[:, None] - centroids[None]) ** 2).sum(axis=-1).argmin(axis=1)
    assert (predicted == test_labels).mean() > 0.3  # chance is 1/62
