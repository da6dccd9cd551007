"""Edit-distance sums of read texts against their truths, from which corpus-level error rates follow.

The sums add over batches: a model's ``evaluation_step`` returns them for its batch and
``TorchModel.evaluate`` divides the totals as :data:`TEXT_ERROR_RATIOS` says, so ``cer`` is the
total character edit distance over the total truth length of the whole split (as
:func:`textrec_core.services.metrics.character_error_rate`), not a mean of per-line or
per-batch rates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textrec_core.services.metrics import edit_distance

#: metric -> (numerator, denominator) among :func:`text_error_sums`' keys: the character and word error rates.
TEXT_ERROR_RATIOS: Mapping[str, tuple[str, str]] = {
    "cer": ("char_edits", "truth_chars"),
    "wer": ("word_edits", "truth_words"),
}


def text_error_sums(texts: Sequence[str], truths: Sequence[str]) -> dict[str, int]:
    """The summed character and word edit distances of ``texts`` against ``truths`` and the truths' lengths.

    Keys: ``char_edits`` and ``truth_chars`` (characters: Unicode code points), ``word_edits``
    and ``truth_words`` (whitespace-separated words). ``ValueError`` when the two differ in length.
    """
    if len(texts) != len(truths):
        raise ValueError(f"{len(texts)} texts but {len(truths)} truths")
    pairs = list(zip(texts, truths))
    return {
        "char_edits": sum(edit_distance(text, truth) for text, truth in pairs),
        "truth_chars": sum(len(truth) for truth in truths),
        "word_edits": sum(edit_distance(text.split(), truth.split()) for text, truth in pairs),
        "truth_words": sum(len(truth.split()) for truth in truths),
    }
