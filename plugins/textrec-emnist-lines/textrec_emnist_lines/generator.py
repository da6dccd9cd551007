"""Rendering text lines by placing 28x28 character images side by side.

A line of ``max_length`` slots is an image of 28 x ``max_length * 28`` pixels, uint8, bright ink
on black. Each line draws one ``overlap`` uniformly from ``[min_overlap, max_overlap]``; its
characters sit at ``x = k * stride`` for ``k = 0, 1, ...`` with ``stride = round(28 * (1 - overlap))``
(half to even), so a line starts at ``x = 0`` and the width left over on the right stays black.
A space is an empty slot of the same stride. Each other character shows an image of its class
picked at random from a :class:`GlyphPool`; where neighbouring images overlap, the brighter pixel
wins (``np.maximum``).

Randomness is drawn once, by :func:`draw_choices`; :func:`render_lines` (all glyphs of a batch in
one pass, :mod:`textrec_emnist_lines.paste`) and :func:`reference_render_lines` (one paste at a
time in Python) consume the same choices, so with generators in the same state they return
identical lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from textrec_core.mapping import EMNIST_MAPPING, LINE_MAPPING, PAD, CharacterMapping
from textrec_emnist_lines.paste import SIZE, paste, reference_paste, strides


class GlyphPool:
    """Character images grouped by class, for drawing a random image of a given character.

    ``images`` is uint8 ``(M, 28, 28)``; ``labels`` is ``(M,)`` integers, the classes' indices in
    :data:`~textrec_core.mapping.EMNIST_MAPPING`. A class may have no images.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        images = np.ascontiguousarray(images)
        labels = np.asarray(labels)
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (SIZE, SIZE):
            raise ValueError(f"images must be uint8 (M, {SIZE}, {SIZE}), got {images.dtype} {images.shape}")
        if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be {len(images)} integers, got {labels.dtype} {labels.shape}")
        if len(labels) and not (0 <= labels.min() and labels.max() < len(EMNIST_MAPPING)):
            raise ValueError(f"labels must be EMNIST class indices in [0, {len(EMNIST_MAPPING)})")
        self.images = images
        self.labels = labels.astype(np.int64)
        self._by_class = np.argsort(self.labels, kind="stable")  # image indices, grouped by class
        self.counts = np.bincount(self.labels, minlength=len(EMNIST_MAPPING))
        self._first = np.concatenate([[0], np.cumsum(self.counts)[:-1]])

    def pick(self, classes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A random image index of each class in ``classes`` (any shape; every class must have images)."""
        within = (rng.random(classes.shape) * self.counts[classes]).astype(np.int64)  # uniform in [0, count)
        return self._by_class[self._first[classes] + within]

    @cached_property
    def images_and_black(self) -> np.ndarray:
        """``images`` followed by one black image, which index ``-1`` picks."""
        return np.concatenate([self.images, np.zeros((1, SIZE, SIZE), dtype=np.uint8)])


@dataclass(frozen=True)
class LineChoices:
    """Every random choice behind a batch of ``N`` lines of ``max_length`` slots.

    ``labels`` int64 ``(N, max_length)``: the texts' indices in the mapping, then PAD.
    ``overlaps`` float64 ``(N,)``: the overlap of each line. ``offsets`` int64 ``(N, max_length)``:
    the x of each character's slot, ``-1`` after the text. ``glyphs`` int64 ``(N, max_length)``:
    the pool image shown in each slot, ``-1`` (nothing) for spaces and after the text.
    """

    labels: np.ndarray
    overlaps: np.ndarray
    offsets: np.ndarray
    glyphs: np.ndarray


@dataclass(frozen=True)
class LineBatch:
    """Rendered lines: ``images`` uint8 ``(N, 28, max_length * 28)``, and as in :class:`LineChoices`
    ``labels`` ``(N, max_length)``, ``overlaps`` ``(N,)`` and ``offsets`` ``(N, max_length)``."""

    images: np.ndarray
    labels: np.ndarray
    overlaps: np.ndarray
    offsets: np.ndarray


def _check_arguments(max_length: int, min_overlap: float, max_overlap: float) -> None:
    if max_length < 1:
        raise ValueError(f"max_length must be at least 1, got {max_length}")
    if min_overlap < 0:
        raise ValueError(f"min_overlap must not be negative, got {min_overlap}")
    if max_overlap >= 1:
        raise ValueError(f"max_overlap must be below 1 (1 stacks every character in one place), got {max_overlap}")
    if min_overlap > max_overlap:
        raise ValueError(f"min_overlap {min_overlap} is above max_overlap {max_overlap}")


def _encode(texts: Sequence[str], max_length: int) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, inside)``: the characters of ``texts`` as code points ``(N, max_length)``, 0 after
    the text, and where the texts are (``(N, max_length)`` booleans)."""
    lengths = np.array([len(text) for text in texts], dtype=np.int64)
    too_long = np.flatnonzero(lengths > max_length)
    if len(too_long):
        i = too_long[0]
        raise ValueError(f"text {i} has {lengths[i]} characters, more than max_length {max_length}: {texts[i]!r}")
    flat = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    inside = np.arange(max_length) < lengths[:, None]
    codes = np.zeros((len(texts), max_length), dtype=np.int64)
    codes[inside] = flat
    return codes, inside


def _code_table(mapping: CharacterMapping, size: int) -> np.ndarray:
    """A lookup table ``(size,)``: each code point's index in ``mapping``, ``-1`` where it has none."""
    table = np.full(size, -1, dtype=np.int64)
    for index, token in enumerate(mapping.tokens):
        if len(token) == 1 and ord(token) < size:
            table[ord(token)] = index
    return table


def draw_choices(
    texts: Sequence[str],
    pool: GlyphPool,
    rng: np.random.Generator,
    *,
    max_length: int,
    min_overlap: float,
    max_overlap: float,
    mapping: CharacterMapping = LINE_MAPPING,
) -> LineChoices:
    """Check the arguments and draw the overlaps, then the glyphs, of one line per text.

    Raises ``ValueError`` for ``max_length < 1``, ``min_overlap < 0``, ``max_overlap >= 1``,
    ``min_overlap > max_overlap``, a text longer than ``max_length``, a character outside
    ``mapping`` and a character (other than the space) of which ``pool`` has no image.
    """
    _check_arguments(max_length, min_overlap, max_overlap)
    codes, inside = _encode(texts, max_length)
    size = int(codes.max()) + 1 if codes.size else 1
    labels = _code_table(mapping, size)[codes]
    unknown = inside & (labels < 0)
    if unknown.any():
        raise ValueError(f"{chr(codes[unknown][0])!r} is not in the label alphabet")
    labels[~inside] = mapping.index(PAD)
    classes = _code_table(EMNIST_MAPPING, size)[codes]
    drawn = inside & (codes != ord(" "))
    missing = drawn & ((classes < 0) | (pool.counts[np.maximum(classes, 0)] == 0))
    if missing.any():
        raise ValueError(f"the character source has no images of {chr(codes[missing][0])!r}")

    overlaps = rng.uniform(min_overlap, max_overlap, size=len(texts))
    offsets = np.where(inside, np.arange(max_length) * strides(overlaps)[:, None], -1)
    glyphs = np.full(codes.shape, -1, dtype=np.int64)
    glyphs[drawn] = pool.pick(classes[drawn], rng)
    return LineChoices(labels=labels, overlaps=overlaps, offsets=offsets, glyphs=glyphs)


def render_lines(
    texts: Sequence[str],
    pool: GlyphPool,
    rng: np.random.Generator,
    *,
    max_length: int,
    min_overlap: float,
    max_overlap: float,
    mapping: CharacterMapping = LINE_MAPPING,
) -> LineBatch:
    """One line image per text, as the module docstring lays out (arguments as :func:`draw_choices`)."""
    choices = draw_choices(
        texts, pool, rng, max_length=max_length, min_overlap=min_overlap, max_overlap=max_overlap, mapping=mapping
    )
    return LineBatch(paste(choices, pool), choices.labels, choices.overlaps, choices.offsets)


def reference_render_lines(
    texts: Sequence[str],
    pool: GlyphPool,
    rng: np.random.Generator,
    *,
    max_length: int,
    min_overlap: float,
    max_overlap: float,
    mapping: CharacterMapping = LINE_MAPPING,
) -> LineBatch:
    """:func:`render_lines` pasting one character at a time in Python loops; identical output."""
    choices = draw_choices(
        texts, pool, rng, max_length=max_length, min_overlap=min_overlap, max_overlap=max_overlap, mapping=mapping
    )
    return LineBatch(reference_paste(choices, pool), choices.labels, choices.overlaps, choices.offsets)
