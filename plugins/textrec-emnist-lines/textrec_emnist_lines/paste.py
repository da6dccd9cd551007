"""Pasting drawn glyphs into line images (the layout rules are in :mod:`textrec_emnist_lines.generator`).

:func:`paste` is what rendering uses: the compiled kernel of ``_paste.c`` where the plugin was
built with a C compiler (:data:`COMPILED`), else :func:`numpy_paste`. Both return exactly the
images of :func:`reference_paste`, which pastes one glyph at a time in a Python loop and is the
tests' oracle.
"""

from __future__ import annotations

import functools
import warnings
from typing import TYPE_CHECKING

import numpy as np

try:
    from textrec_emnist_lines import _paste
except ImportError:  # installed without a C compiler: pyproject.toml declares the kernel optional
    _paste = None

if TYPE_CHECKING:
    from textrec_emnist_lines.generator import GlyphPool, LineChoices

SIZE = 28  # side of a character image, in pixels
#: Whether the compiled kernel is installed (:func:`paste` uses it).
COMPILED = _paste is not None
#: Lines :func:`numpy_paste` builds at a time: 32 lines of 34 slots are 0.85 MB, twice (within a 2 MB L2 cache).
PASTE_BLOCK_LINES = 32
#: One row of a character image as a single 28-byte item, which numpy copies whole.
_ROW = np.dtype((np.void, SIZE))


def strides(overlaps: np.ndarray) -> np.ndarray:
    """Each line's distance between neighbouring slots, in pixels: ``28 * (1 - overlap)``, rounded half to even."""
    return np.rint(SIZE * (1 - overlaps)).astype(np.int64)


def paste(choices: LineChoices, pool: GlyphPool) -> np.ndarray:
    """The line images ``(N, 28, max_length * 28)`` of ``choices``, with the compiled kernel if installed."""
    if _paste is None:
        _warn_numpy_paste()
        return numpy_paste(choices, pool)
    return compiled_paste(choices, pool)


@functools.cache
def _warn_numpy_paste() -> None:
    warnings.warn(
        "textrec-emnist-lines was installed without its compiled paste (no C compiler?): lines are pasted"
        " with numpy, about half as fast. Reinstall the plugin where a C compiler is available to speed it up.",
        RuntimeWarning,
        stacklevel=3,
    )


def compiled_paste(choices: LineChoices, pool: GlyphPool) -> np.ndarray:
    """:func:`paste` with the compiled kernel: one pass over the slots of all lines, merging each
    glyph row into place, prefetching the next line's glyphs (see ``_paste.c``)."""
    if _paste is None:
        raise RuntimeError("the compiled paste is not installed (the plugin was built without a C compiler)")
    count, max_length = choices.glyphs.shape
    images = np.zeros((count, SIZE, max_length * SIZE), dtype=np.uint8)
    offsets = np.ascontiguousarray(choices.offsets, dtype=np.int64)
    glyphs = np.ascontiguousarray(choices.glyphs, dtype=np.int64)
    _paste.paste_max(images, pool.images, offsets, glyphs, max_length)
    return images


def numpy_paste(choices: LineChoices, pool: GlyphPool, block_lines: int = PASTE_BLOCK_LINES) -> np.ndarray:
    """:func:`paste` in numpy, many lines and glyphs at a time.

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
    line_strides = strides(choices.overlaps)
    order = np.argsort(line_strides, kind="stable")
    group_starts = np.flatnonzero(np.diff(line_strides[order], prepend=-1))
    for start, stop in zip(group_starts.tolist(), [*group_starts[1:].tolist(), count]):
        stride = int(line_strides[order[start]])
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
