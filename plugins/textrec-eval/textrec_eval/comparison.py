"""Is one reader better than another on these lines? A paired bootstrap over lines.

Two readers read the same lines; each line has both readers' edit counts and its truth's length.
The difference of their corpus CERs is measured once on the lines as they are, then on
``resamples`` sets of as many lines drawn with replacement from them (both readers on the same
drawn lines: paired). The central ``level`` of those differences is the interval: a difference
whose interval excludes 0 would likely hold on other lines drawn the same way; one that includes
0 cannot be told from the luck of which lines were read. Resampling lines measures the lines'
variation only, not a retrained model's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Resamples drawn per comparison unless told otherwise.
RESAMPLES = 10_000
#: The share of resampled differences the interval spans.
LEVEL = 0.95
#: Lines per resample block: bounds the index matrix's memory (block x lines integers).
BLOCK_ELEMENTS = 2_000_000


@dataclass(frozen=True)
class Comparison:
    """One reader against a baseline reader on the same lines: both corpus CERs, their
    ``difference`` (reader minus baseline: below 0, the reader makes fewer errors), the
    ``low``..``high`` interval of the resampled differences, the share of resamples in which the
    reader's CER is lower (``better_share``), and the lines on which it makes fewer or more edits."""

    cer: float
    baseline_cer: float
    difference: float
    low: float
    high: float
    better_share: float
    lines_better: int
    lines_worse: int


@dataclass(frozen=True)
class Comparisons:
    """A bundle's decoders, by name, each against the same decoder of the ``baseline`` bundle."""

    baseline: str
    decoders: dict[str, Comparison]


def compare(edits: np.ndarray, baseline_edits: np.ndarray, lengths: np.ndarray, *, resamples: int = RESAMPLES,
            level: float = LEVEL, seed: int = 0) -> Comparison:
    """The paired bootstrap of the module docstring over per-line ``edits`` of the reader and of the
    baseline and the truths' ``lengths`` (three equal-length arrays of counts); a resample whose
    truths are all empty counts its edits over 1 character. Deterministic for a ``seed``.

    Raises ValueError for arrays of different or zero lengths, ``resamples`` below 1 or a ``level``
    outside (0, 1).
    """
    edits, baseline_edits, lengths = (np.asarray(a, dtype=np.int64) for a in (edits, baseline_edits, lengths))
    if not edits.shape == baseline_edits.shape == lengths.shape or edits.ndim != 1 or edits.size == 0:
        raise ValueError(f"expected three equal, non-empty 1-D arrays, got shapes {edits.shape}, "
                         f"{baseline_edits.shape}, {lengths.shape}")
    if resamples < 1 or not 0 < level < 1:
        raise ValueError(f"expected resamples >= 1 and 0 < level < 1, got {resamples} and {level}")
    gaps = edits - baseline_edits
    total = max(1, int(lengths.sum()))
    differences = np.empty(resamples)
    rng = np.random.default_rng(seed)
    block = max(1, BLOCK_ELEMENTS // edits.size)
    for start in range(0, resamples, block):
        drawn = rng.integers(0, edits.size, size=(min(block, resamples - start), edits.size))
        differences[start : start + len(drawn)] = gaps[drawn].sum(axis=1) / np.maximum(1, lengths[drawn].sum(axis=1))
    low, high = np.quantile(differences, [(1 - level) / 2, (1 + level) / 2])
    return Comparison(
        cer=float(edits.sum() / total), baseline_cer=float(baseline_edits.sum() / total),
        difference=float(gaps.sum() / total), low=float(low), high=float(high),
        better_share=float((differences < 0).mean()),
        lines_better=int((gaps < 0).sum()), lines_worse=int((gaps > 0).sum()),
    )
