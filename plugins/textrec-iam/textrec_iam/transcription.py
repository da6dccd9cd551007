"""Turning the word tokens of an IAM transcription into the line's text.

IAM writes a line's words separated by ``|`` (``Mr.|Gaitskell|,|the``); a token may itself hold a
space (``M Ps``). The text is spelled by textrec-lines' shared rule for real handwriting
(:func:`textrec_lines.transcription.normalize_transcription`), the one IAM-OnDB and evaluation use:
``Mr. Gaitskell, the``.
"""

from __future__ import annotations

from collections.abc import Sequence

from textrec_lines.transcription import normalize_transcription


def line_text(tokens: Sequence[str]) -> str:
    """The normalised text of a line from its word tokens."""
    return normalize_transcription(" ".join(tokens))
