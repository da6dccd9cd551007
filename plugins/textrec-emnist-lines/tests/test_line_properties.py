"""Properties of the line renderer for any valid arguments: layout, labels, pixels, determinism, errors.

Hypothesis settings come from the profile named by ``$HYPOTHESIS_PROFILE``: ``ci`` (60 examples,
derandomized) or ``dev`` (200 examples, the default).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textrec_core.mapping import EMNIST_CHARACTERS, EMNIST_MAPPING, LINE_MAPPING, PAD, CharacterMapping
from textrec_emnist_lines import paste
from textrec_emnist_lines.generator import GlyphPool, draw_choices, reference_render_lines, render_lines

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=200, deadline=None)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

CHARACTERS = "".join(EMNIST_CHARACTERS)
PER_CLASS = 5


def blob_pool(per_class: int, seed: int) -> GlyphPool:
    """``per_class`` distinct random blobs (ink in a random box, values 1-255) for each of the 62 classes."""
    rng = np.random.default_rng(seed)
    images = np.zeros((62 * per_class, 28, 28), dtype=np.uint8)
    for image in images:
        top, left = rng.integers(0, 14, size=2)
        bottom, right = rng.integers(15, 29, size=2)
        ink = rng.random((bottom - top, right - left)) < 0.4
        image[top:bottom, left:right] = np.where(ink, rng.integers(1, 256, size=ink.shape), 0)
    return GlyphPool(images, np.repeat(np.arange(62), per_class))


POOL = blob_pool(PER_CLASS, seed=0)


@st.composite
def line_arguments(draw, min_ink: int = 0) -> dict:
    """Valid keyword arguments of ``render_lines``, with a batch of texts and a seed."""
    max_length = draw(st.integers(max(1, min_ink), 12))
    text = st.text(alphabet=CHARACTERS + " ", min_size=min_ink, max_size=max_length).filter(
        lambda t: sum(ch != " " for ch in t) >= min_ink
    )
    min_overlap = draw(st.floats(0, 1, exclude_max=True))
    return {
        "texts": draw(st.lists(text, min_size=1, max_size=5)),
        "max_length": max_length,
        "min_overlap": min_overlap,
        "max_overlap": draw(st.floats(min_overlap, 1, exclude_max=True)),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


def render(renderer=render_lines, *, texts, seed, pool=POOL, **options):
    return renderer(texts, pool, np.random.default_rng(seed), **options)


def stride(overlap: float) -> int:
    """The documented stride: 28 * (1 - overlap) rounded half to even (Python's round)."""
    return round(28 * (1 - overlap))


def options_of(args: dict) -> dict:
    """The rendering options in ``args`` (without the texts and the seed)."""
    return {key: args[key] for key in ("max_length", "min_overlap", "max_overlap")}


def placed(glyph: np.ndarray, x: int, width: int) -> np.ndarray:
    """``glyph`` alone on a black line of ``width`` columns, its left edge at column ``x``."""
    return np.pad(glyph, ((0, 0), (x, width - x - 28)))


@PROFILE
@given(line_arguments())
def test_layout_labels_and_overlaps_follow_the_documented_rule(args):
    batch = render(**args)
    texts, max_length = args["texts"], args["max_length"]
    assert batch.images.shape == (len(texts), 28, max_length * 28) and batch.images.dtype == np.uint8
    assert batch.labels.shape == (len(texts), max_length) and batch.labels.dtype == np.int64
    assert batch.offsets.shape == (len(texts), max_length)
    pad = LINE_MAPPING.index(PAD)
    for text, labels, overlap, offsets in zip(texts, batch.labels, batch.overlaps, batch.offsets):
        assert LINE_MAPPING.decode([i for i in labels.tolist() if i != pad]) == text
        assert (labels[len(text) :] == pad).all()
        assert args["min_overlap"] <= overlap <= args["max_overlap"]
        assert offsets.tolist() == [k * stride(overlap) for k in range(len(text))] + [-1] * (max_length - len(text))


@PROFILE
@given(line_arguments())
def test_pixels_are_the_max_of_the_glyphs_each_in_its_own_slot(args):
    choices = draw_choices(args["texts"], POOL, np.random.default_rng(args["seed"]), **options_of(args))
    images = render(**args).images
    width = args["max_length"] * 28
    for text, image, offsets, glyphs in zip(args["texts"], images, choices.offsets, choices.glyphs):
        expected = np.zeros((28, width), dtype=np.uint8)
        for ch, x, glyph in zip(text, offsets.tolist(), glyphs.tolist()):
            if ch == " ":
                assert glyph == -1
                continue
            assert POOL.labels[glyph] == EMNIST_MAPPING.index(ch)
            expected = np.maximum(expected, placed(POOL.images[glyph], x, width))
        assert np.array_equal(image, expected)
        assert (glyphs[len(text) :] == -1).all()


@PROFILE
@given(line_arguments())
def test_the_reference_renderer_gives_identical_lines(args):
    fast, slow = render(**args), render(reference_render_lines, **args)
    for field in ("images", "labels", "overlaps", "offsets"):
        assert np.array_equal(getattr(fast, field), getattr(slow, field)), field


NOT_COMPILED = "the compiled paste is not built (the plugin was installed without a C compiler)"
needs_compiled_paste = pytest.mark.skipif(not paste.COMPILED, reason=NOT_COMPILED)
#: Every paste that must equal the reference; the compiled one is built wherever a C compiler is.
PASTES = [pytest.param(paste.compiled_paste, marks=needs_compiled_paste, id="compiled"),
          pytest.param(paste.numpy_paste, id="numpy")]


@pytest.mark.skipif(os.environ.get("TEXTREC_REQUIRE_COMPILED_PASTE") != "1",
                    reason="checked only where TEXTREC_REQUIRE_COMPILED_PASTE=1 (tox sets it)")
def test_the_compiled_paste_is_installed_and_used():
    assert paste.COMPILED, "the plugin was installed without its compiled paste: install a C compiler and reinstall"
    choices = draw_choices(["ab"], POOL, np.random.default_rng(0), max_length=3, min_overlap=0, max_overlap=0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the numpy fallback would warn
        assert np.array_equal(paste.paste(choices, POOL), paste.reference_paste(choices, POOL))


@pytest.mark.parametrize("paste_lines", PASTES)
@PROFILE
@given(line_arguments())
def test_every_paste_equals_the_reference(paste_lines, args):
    choices = draw_choices(args["texts"], POOL, np.random.default_rng(args["seed"]), **options_of(args))
    assert np.array_equal(paste_lines(choices, POOL), paste.reference_paste(choices, POOL))


@pytest.mark.parametrize("paste_lines", PASTES)
@pytest.mark.parametrize("max_overlap", [0.33, 0.999])
def test_every_paste_agrees_on_a_large_batch_of_every_stride(paste_lines, max_overlap):
    # Hundreds of lines of 34 slots: several numpy paste blocks per stride, every stride from 28 down.
    rng = np.random.default_rng(7)
    texts = ["".join(rng.choice(list(CHARACTERS + "  "), size=rng.integers(0, 35))) for _ in range(600)]
    options = {"max_length": 34, "min_overlap": 0.0, "max_overlap": max_overlap}
    choices = draw_choices(texts, POOL, np.random.default_rng(1), **options)
    strides = set(paste.strides(choices.overlaps).tolist())
    assert strides == set(range(19, 29)) if max_overlap == 0.33 else len(strides) > 25
    assert np.array_equal(paste_lines(choices, POOL), paste.reference_paste(choices, POOL))


@needs_compiled_paste
def test_the_compiled_paste_refuses_slots_outside_the_pool_or_the_line():
    choices = draw_choices(["ab", "c"], POOL, np.random.default_rng(0), max_length=2, min_overlap=0, max_overlap=0)
    images = np.zeros((2, 28, 56), np.uint8)

    def kernel(glyphs=choices.glyphs, offsets=choices.offsets, out=images, pool=POOL.images, max_length=2):
        paste._paste.paste_max(out, pool, np.ascontiguousarray(offsets), np.ascontiguousarray(glyphs), max_length)

    for glyph in (len(POOL.images), -2):
        with pytest.raises(ValueError, match="a glyph index is outside the pool"):
            kernel(glyphs=np.where(choices.glyphs == choices.glyphs[0, 1], glyph, choices.glyphs))
    for offset in (-1, 29):
        with pytest.raises(ValueError, match="a slot does not fit the line"):
            kernel(offsets=np.where(choices.offsets == 28, offset, choices.offsets))
    with pytest.raises(ValueError, match="images must be uint8"):
        kernel(out=np.zeros((2, 28, 55), np.uint8))
    with pytest.raises(ValueError, match="offsets and glyphs must both be int64"):
        kernel(offsets=choices.offsets[:1])
    with pytest.raises(ValueError, match="the pool must be uint8"):
        kernel(pool=POOL.images.reshape(-1)[:-1])
    for max_length in (0, 2**62):
        with pytest.raises(ValueError, match="max_length must be at least 1"):
            kernel(max_length=max_length)
    with pytest.raises(TypeError, match="read-write"):
        kernel(out=bytes(images.nbytes))
    assert not images.any()  # nothing was written by a refused call
    kernel()
    assert np.array_equal(images, paste.reference_paste(choices, POOL))


@PROFILE
@given(line_arguments())
def test_the_same_seed_gives_the_same_lines(args):
    first, again = render(**args), render(**args)
    assert np.array_equal(first.images, again.images) and np.array_equal(first.overlaps, again.overlaps)


@PROFILE
@given(line_arguments(min_ink=6), st.integers(0, 2**32 - 1))
def test_different_seeds_give_different_lines(args, other_seed):
    # six drawn characters with five images each: two seeds agree by chance with probability < 1e-4
    if other_seed == args["seed"]:
        other_seed += 1
    first, other = render(**args), render(**{**args, "seed": other_seed})
    assert not np.array_equal(first.images, other.images)


def test_no_overlap_puts_each_glyph_exactly_in_its_slot():
    choices = draw_choices(["ab c"], POOL, np.random.default_rng(0), max_length=5, min_overlap=0, max_overlap=0)
    image = render(texts=["ab c"], seed=0, max_length=5, min_overlap=0, max_overlap=0).images[0]
    glyphs = choices.glyphs[0]
    assert np.array_equal(image[:, 0:28], POOL.images[glyphs[0]])
    assert np.array_equal(image[:, 28:56], POOL.images[glyphs[1]])
    assert not image[:, 56:84].any() and not image[:, 112:].any()
    assert np.array_equal(image[:, 84:112], POOL.images[glyphs[3]])


def test_glyphs_are_drawn_from_every_image_of_the_class():
    choices = draw_choices(["a" * 20] * 10, POOL, np.random.default_rng(0), max_length=20, min_overlap=0, max_overlap=0)
    a = EMNIST_MAPPING.index("a")
    assert set(choices.glyphs.ravel().tolist()) == set(np.flatnonzero(POOL.labels == a).tolist())


def test_an_empty_batch_and_empty_texts_give_black_lines_of_padding():
    assert render(texts=[], seed=0, max_length=3, min_overlap=0, max_overlap=0.5).images.shape == (0, 28, 84)
    batch = render(texts=["", " "], seed=0, max_length=3, min_overlap=0, max_overlap=0.5)
    assert not batch.images.any()
    assert batch.offsets.tolist() == [[-1, -1, -1], [0, -1, -1]]


def test_labels_use_the_given_mapping():
    mapping = CharacterMapping(reversed(LINE_MAPPING.tokens))
    batch = render(texts=["Hi 5"], seed=0, max_length=6, min_overlap=0, max_overlap=0.2, mapping=mapping)
    assert mapping.decode(batch.labels[0].tolist()) == "Hi 5" + PAD * 2


@pytest.mark.parametrize(
    ("options", "texts", "message"),
    [
        ({"max_length": 0}, [""], "max_length must be at least 1"),
        ({"min_overlap": -0.1}, ["a"], "min_overlap must not be negative"),
        ({"max_overlap": 1.0}, ["a"], "max_overlap must be below 1"),
        ({"min_overlap": 0.5, "max_overlap": 0.4}, ["a"], "min_overlap 0.5 is above max_overlap 0.4"),
        ({"max_length": 3}, ["ok", "abcd"], "text 1 has 4 characters, more than max_length 3"),
        ({}, ["semi;colon"], "';' is not in the label alphabet"),
        ({}, ["caf\u00e9"], "'\u00e9' is not in the label alphabet"),
    ],
)
def test_invalid_arguments_are_refused_with_a_clear_message(options, texts, message):
    options = {"max_length": 10, "min_overlap": 0.1, "max_overlap": 0.3, **options}
    for renderer in (render_lines, reference_render_lines):
        with pytest.raises(ValueError, match=message):
            render(renderer, texts=texts, seed=0, **options)


def test_a_character_the_pool_has_no_image_of_is_named():
    digits_only = GlyphPool(POOL.images[: 10 * PER_CLASS], POOL.labels[: 10 * PER_CLASS])
    with pytest.raises(ValueError, match="the character source has no images of 'x'"):
        render(texts=["12 x"], seed=0, pool=digits_only, max_length=5, min_overlap=0, max_overlap=0.1)
    extended = CharacterMapping((*LINE_MAPPING.tokens, "!"))
    with pytest.raises(ValueError, match="the character source has no images of '!'"):
        render(texts=["1!"], seed=0, max_length=5, min_overlap=0, max_overlap=0.1, mapping=extended)


@pytest.mark.parametrize(
    ("images", "labels", "message"),
    [
        (np.zeros((2, 28, 28), np.float32), np.zeros(2, np.int64), "images must be uint8"),
        (np.zeros((2, 28, 27), np.uint8), np.zeros(2, np.int64), "images must be uint8"),
        (np.zeros((2, 28, 28), np.uint8), np.zeros(3, np.int64), "labels must be 2 integers"),
        (np.zeros((2, 28, 28), np.uint8), np.array([0, 62]), "EMNIST class indices"),
    ],
)
def test_a_malformed_pool_is_refused(images, labels, message):
    with pytest.raises(ValueError, match=message):
        GlyphPool(images, labels)
