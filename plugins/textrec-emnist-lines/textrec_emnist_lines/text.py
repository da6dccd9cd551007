"""Text sources for synthetic lines, and sampling line-sized spans from them.

A source is ``"brown"`` (the Brown corpus through NLTK, :func:`textrec_lines.corpus.brown_text`),
``"builtin"`` (a short English text shipped with the package) or the path of a UTF-8 plain-text
file. Loaders return the text as
written; :func:`normalize` then reduces it to what the character source can draw:

1. every run of whitespace (spaces, tabs, newlines...) becomes one space;
2. every other character outside the alphabet (by default the 62 EMNIST characters and the
   space) is removed, without replacement: ``"don't stop, 1-2!"`` becomes ``"dont stop 12"``;
3. runs of spaces left by the removals become one space, and the ends are stripped.

:func:`sample_texts` draws spans of a normalized text that start and end at word boundaries.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import numpy as np

from textrec_core.errors import DataError
from textrec_core.mapping import EMNIST_CHARACTERS, SPACE
from textrec_lines.corpus import brown_text, read_utf8

#: The characters a line can show: the 62 EMNIST classes and the space.
LINE_ALPHABET: frozenset[str] = frozenset((*EMNIST_CHARACTERS, SPACE))

#: Names :func:`load_text` accepts besides a path.
NAMED_SOURCES: tuple[str, ...] = ("brown", "builtin")

_WHITESPACE = re.compile(r"\s+")
_SPACES = re.compile(" {2,}")


def builtin_text() -> str:
    """The short English essay shipped as ``textrec_emnist_lines/data/english.txt`` (about 8 KB)."""
    return (resources.files("textrec_emnist_lines") / "data" / "english.txt").read_text(encoding="utf-8")


def file_text(path: str | Path) -> str:
    """The text of the UTF-8 file at ``path``, as written.

    Raises :class:`DataError` naming the file when it is missing or unreadable, is not UTF-8, or
    keeps no drawable character under :func:`normalize`.
    """
    text = read_utf8(path)
    if not normalize(text):
        raise DataError(f"text file {path} has no characters a line can show (letters, digits)")
    return text


def load_text(source: str) -> str:
    """The text of ``source``: ``"brown"``, ``"builtin"`` or the path of a UTF-8 text file."""
    if source == "brown":
        return brown_text()
    if source == "builtin":
        return builtin_text()
    return file_text(source)


def normalize(text: str, alphabet: frozenset[str] | set[str] = LINE_ALPHABET) -> str:
    """``text`` reduced to single characters of ``alphabet`` by the rule in the module docstring."""
    if not alphabet:
        return ""
    outside = re.compile(f"[^{re.escape(''.join(sorted(alphabet)))}]+")
    text = outside.sub("", _WHITESPACE.sub(" ", text))
    return _SPACES.sub(" ", text).strip()


def word_bounds(corpus: str) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) indices of the words of ``corpus``: its maximal runs without a space."""
    is_space = np.frombuffer(corpus.encode("utf-32-le"), dtype=np.uint32) == ord(SPACE)
    ink = ~is_space
    before = np.concatenate(([True], is_space))[:-1]  # is the previous character a space (or none)?
    after = np.concatenate((is_space, [True]))[1:]
    return np.flatnonzero(ink & before), np.flatnonzero(ink & after) + 1


def sample_texts(corpus: str, rng: np.random.Generator, count: int, max_length: int) -> list[str]:
    """``count`` spans of ``corpus``, each 1 to ``max_length`` characters, cut at word boundaries.

    Each span starts at a word chosen uniformly at random and runs to the end of the last word
    that still fits in ``max_length`` characters, so it neither starts nor ends with a space. A
    word longer than ``max_length`` is cut hard after ``max_length`` characters. ``corpus`` should
    be normalized; a ``ValueError`` says so if it has no word.
    """
    if max_length < 1:
        raise ValueError(f"max_length must be at least 1, got {max_length}")
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    starts, ends = word_bounds(corpus)
    if len(starts) == 0:
        raise ValueError("the corpus has no words to sample from")
    first = rng.integers(0, len(starts), size=count)
    begin = starts[first]
    limit = begin + max_length
    last = np.searchsorted(ends, limit, side="right") - 1  # the last word ending within the limit
    end = np.where(last >= first, ends[np.maximum(last, 0)], limit)
    return [corpus[b:e] for b, e in zip(begin.tolist(), end.tolist())]
