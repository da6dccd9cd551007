"""Rendering text lines by placing 28x28 character images side by side.

A line of ``max_length`` slots is an image of 28 x ``max_length * 28`` pixels, uint8, bright ink
on black. Each line draws one ``overlap`` uniformly from ``[min_overlap, max_overlap]``; its
characters sit at ``x = k * stride`` for ``k = 0, 1, ...`` with ``stride = round(28 * (1 - overlap))``
(half to even), so a line starts at ``x = 0`` and the width left over on the right stays black.
A space is an empty slot of the same stride. Each other character shows an image of its class
picked at random from a :class:`GlyphPool`; where neighbouring images overlap, the brighter pixel
wins (``np.maximum``).

Randomness is drawn once, by :func:`draw_choices`; :func:`render_lines` (vectorised) and
:func:`reference_render_lines` (one paste at a time) consume the same choices, so with generators
in the same state they return identical lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from textrec_core.mapping import EMNIST_MAPPING, LINE_MAPPING, PAD, CharacterMapping

SIZE = 28  # side of a character image, in pixels
#: Lines :func:`paste` builds at a time: 32 lines of 34 slots are 0.85 MB, twice (within a 2 MB L2 cache).
PASTE_BLOCK_LINES = 32
#: One row of a character image as a single 28-byte item, which numpy copies whole.
_ROW = np.dtype((np.void, SIZE))


class GlyphPool:
    """Character images grouped by class, for drawing a random image of a given character.

    ``images`` is uint8 ``(M, 28, 28)``; ``labels`` is ``(M,)`` integers, the classes' indices in
    :data:`~textrec_core.mapping.EMNIST_MAPPING`. A class may have no images.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        images = np.asarray(images)
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
    offsets = np.where(inside, np.arange(max_length) * _strides(overlaps)[:, None], -1)
    glyphs = np.full(codes.shape, -1, dtype=np.int64)
    glyphs[drawn] = pool.pick(classes[drawn], rng)
    return LineChoices(labels=labels, overlaps=overlaps, offsets=offsets, glyphs=glyphs)


def _strides(overlaps: np.ndarray) -> np.ndarray:
    """Each line's distance between neighbouring slots, in pixels (see the module docstring)."""
    return np.rint(SIZE * (1 - overlaps)).astype(np.int64)


def paste(choices: LineChoices, pool: GlyphPool, block_lines: int = PASTE_BLOCK_LINES) -> np.ndarray:
    """The line images of ``choices``, pasted many lines and glyphs at a time.

    Lines are taken in groups of one stride, at most ``block_lines`` at a time so that a block
    stays in the CPU's cache. Within a group every line has its slots at the same columns, so
    with ``g = ceil(28 / stride)`` the slots ``p, p + g, p + 2g, ...`` (one *residue* ``p``) of
    all the block's lines never share a pixel and form one regular strided view. Each residue is
    copied into a black layer in one numpy assignment, moving whole 28-pixel glyph rows as
    single 28-byte items, and the layers are merged with ``np.maximum`` over whole contiguous
    lines. Spaces and empty slots copy a black image, which changes nothing.
    """
    count, max_length = choices.glyphs.shape
    width = max_length * SIZE
    images = np.zeros((count, SIZE, width), dtype=np.uint8)
    glyph_rows = pool.images_and_black.reshape(-1, SIZE * SIZE).view(_ROW)  # (M + 1, 28) rows; [-1]: black
    layers = np.empty((2, block_lines, SIZE, width), dtype=np.uint8)  # the merged lines, and one residue
    strides = _strides(choices.overlaps)
    order = np.argsort(strides, kind="stable")
    group_starts = np.flatnonzero(np.diff(strides[order], prepend=-1))
    for start, stop in zip(group_starts.tolist(), [*group_starts[1:].tolist(), count]):
        stride = int(strides[order[start]])
        residues = min(-(-SIZE // stride), max_length) if stride else max_length  # stride 0: all slots at x = 0
        for block_start in range(start, stop, block_lines):
            lines = order[block_start : min(stop, block_start + block_lines)]
            glyphs = choices.glyphs[lines]
            merged = layers[0, : len(lines)]
            for residue in range(residues):
                layer = layers[min(residue, 1), : len(lines)]
                layer.fill(0)
                slots = glyphs[:, residue::residues]
                view = np.ndarray(
                    shape=(*slots.shape, SIZE), dtype=_ROW, buffer=layer, offset=residue * stride,
                    strides=(layer.strides[0], residues * stride, layer.strides[1]),
                )
                view[...] = glyph_rows[slots]
                if residue:
                    np.maximum(merged, layer, out=merged)
            images[lines] = merged
    return images


def reference_paste(choices: LineChoices, pool: GlyphPool) -> np.ndarray:
    """The same images as :func:`paste`, pasting one character at a time (a plain oracle)."""
    count, max_length = choices.glyphs.shape
    images = np.zeros((count, SIZE, max_length * SIZE), dtype=np.uint8)
    for line in range(count):
        for x, glyph in zip(choices.offsets[line].tolist(), choices.glyphs[line].tolist()):
            if glyph >= 0:
                window = images[line, :, x : x + SIZE]
                np.maximum(window, pool.images[glyph], out=window)
    return images


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
