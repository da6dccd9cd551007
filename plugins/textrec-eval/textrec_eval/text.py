"""The one text normalisation applied to truths and readings before they are compared.

It is ``textrec_lines.transcription.normalize_transcription``, the spelling the datasets give
their labels (issue 12: "applied the same way everywhere a text is compared"): whitespace runs
collapsed, ends stripped, no spaces before punctuation, contractions joined, quotes at the ends
attached. It only ever removes spaces, so it cannot hide a misread character.
"""

from __future__ import annotations

from textrec_lines.transcription import normalize_transcription

#: How texts are normalised, for reports.
NORMALIZATION = "textrec_lines.transcription.normalize_transcription"


def normalize(text: str) -> str:
    """``text`` normalised for comparison (see the module docstring)."""
    return normalize_transcription(text)
