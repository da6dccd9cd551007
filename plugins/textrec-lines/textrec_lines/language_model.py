"""A character n-gram language model, for beam searches that weigh readings by how English they look.

:class:`CharNgramModel` counts the n-grams of a text over an alphabet (single characters) and
gives the probability of the next character after a history by interpolated Witten-Bell
smoothing: from the uniform distribution over the alphabet up through the longer contexts the
history ends with, each context ``h`` seen in the text mixes its counts with the shorter
context's estimate, ``P(c | h) = (n(h c) + t(h) P(c | h')) / (n(h) + t(h))``, ``t(h)`` the
number of distinct characters seen after ``h``; an unseen context stops the climb. Every
character of the alphabet keeps a probability above zero.

The text is first reduced to the alphabet: runs of whitespace become one space and other
characters outside the alphabet are dropped. A history shorter than a context (the start of a
line) climbs only as far as its length allows.

Counts are kept as sorted integer codes (a context and its next character in base
``len(alphabet) + 1``) with their counts, one array pair per order, so building from the Brown
corpus's 6 million characters takes seconds and the model is saved as one ``.npz``.
:func:`load_language_model` builds a model from a text source (``"brown"`` or a UTF-8 file) and
caches it in ``$TEXTREC_DATA_DIR/lm/``, keyed by the source, the alphabet and the order.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from textrec_core.services.download import data_dir, sha256_file
from textrec_core.services.fileio import load_arrays, save_arrays
from textrec_lines.corpus import brown_text, read_utf8

CACHE_VERSION = 1
_WHITESPACE = re.compile(r"\s+")


class CharNgramModel:
    """Character n-grams of order ``order`` over ``alphabet`` (see the module docstring)."""

    def __init__(self, alphabet: Sequence[str], order: int, codes: list[np.ndarray], counts: list[np.ndarray]) -> None:
        if order < 1 or len(codes) != order or len(counts) != order:
            raise ValueError(f"an order-{order} model needs one code and count array per order")
        self.alphabet = tuple(alphabet)
        self.order = order
        self.codes, self.counts = codes, counts
        self.index = {character: i for i, character in enumerate(self.alphabet)}
        self.base = len(self.alphabet) + 1  # code 0 is "no character", before a text's start
        self.log_probs = lru_cache(maxsize=1 << 16)(self._log_probs)

    @classmethod
    def fit(cls, text: str, alphabet: Sequence[str], order: int) -> CharNgramModel:
        """Count the n-grams, orders 1 to ``order``, of ``text`` reduced to ``alphabet``."""
        if order < 1 or (len(alphabet) + 1) ** order >= 2**62:
            raise ValueError(f"order must be at least 1 and small enough for the alphabet, got {order}")
        if any(len(character) != 1 for character in alphabet) or len(set(alphabet)) != len(alphabet):
            raise ValueError("the alphabet must be distinct single characters")
        index = {character: i + 1 for i, character in enumerate(alphabet)}
        clean = _WHITESPACE.sub(" ", text)
        symbols = np.array([index[c] for c in clean if c in index], dtype=np.int64)
        if not len(symbols):
            raise ValueError("the text has no character of the alphabet")
        base = len(alphabet) + 1
        codes, counts = [], []
        for length in range(order):  # context length
            grams = symbols[length:].copy()
            for back in range(1, length + 1):
                grams += symbols[length - back : len(symbols) - back] * base**back
            unique, count = np.unique(grams, return_counts=True)
            codes.append(unique)
            counts.append(count.astype(np.int64))
        return cls(alphabet, order, codes, counts)

    def _log_probs(self, history: str) -> np.ndarray:
        """Natural-log probabilities ``(len(alphabet),)`` of each character following ``history``
        (its last ``order - 1`` characters count; characters outside the alphabet end it)."""
        size = len(self.alphabet)
        probs = np.full(size, 1.0 / size)
        context = 0
        for length in range(self.order):
            if length:
                if length > len(history) or history[-length] not in self.index:
                    break
                context += (self.index[history[-length]] + 1) * self.base ** (length - 1)
            low, high = np.searchsorted(self.codes[length], [context * self.base, (context + 1) * self.base])
            if low == high:
                break
            seen = np.zeros(size)
            seen[self.codes[length][low:high] - context * self.base - 1] = self.counts[length][low:high]
            types = high - low
            probs = (seen + types * probs) / (seen.sum() + types)
        return np.log(probs)

    def save(self, path: Path) -> Path:
        """Write the model as one ``.npz``, atomically."""
        arrays = {f"codes{k}": self.codes[k] for k in range(self.order)}
        arrays |= {f"counts{k}": self.counts[k] for k in range(self.order)}
        return save_arrays(path, alphabet=np.array(self.alphabet), order=np.array(self.order), **arrays)

    @classmethod
    def load(cls, path: Path) -> CharNgramModel | None:
        """The model saved at ``path``, or None when the file is missing or damaged."""
        arrays = load_arrays(path)
        try:
            order = int(arrays["order"])
            return cls([str(c) for c in arrays["alphabet"]], order, [arrays[f"codes{k}"] for k in range(order)],
                       [arrays[f"counts{k}"] for k in range(order)])
        except (TypeError, KeyError, ValueError):
            return None


def load_language_model(source: str, alphabet: Sequence[str], order: int) -> CharNgramModel:
    """The model of ``source`` (``"brown"``, or the path of a UTF-8 text file) over ``alphabet``,
    from the cache or built and cached. Raises :class:`~textrec_core.errors.DataError` when the
    source cannot be read."""
    origin = "brown" if source == "brown" else sha256_file(source) if Path(source).is_file() else source
    key = hashlib.sha256(f"{CACHE_VERSION} {origin} {order} {''.join(alphabet)}".encode()).hexdigest()[:24]
    path = data_dir() / "lm" / f"char-{order}-{key}.npz"
    cached = CharNgramModel.load(path)
    if cached is not None:
        return cached
    text = brown_text() if source == "brown" else read_utf8(source)
    model = CharNgramModel.fit(text, alphabet, order)
    model.save(path)
    return model
