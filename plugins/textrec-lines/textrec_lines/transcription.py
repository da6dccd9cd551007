"""One spelling for the transcriptions of real handwriting, whatever the corpus tokenised.

IAM-OnDB's CSR texts separate every token by a space, punctuation included (``Mr . Gaitskell ,
the``, ``Britain ' s``), and IAM's ``lines.txt`` joins its ``|``-separated tokens the same way
(``Mr.|Gaitskell|,|the``, ``we|'ve``). A writer puts no such spaces on the page, so a model
should neither learn them nor be scored against them. :func:`normalize_transcription` gives
every text the spelling of ordinary English, and is applied wherever a text becomes a label or
is compared with a reading (datasets, evaluation).

The rule, applied in this order:

1. whitespace runs (spaces, tabs, newlines) become one space, and the ends are stripped;
2. no space before ``, . ; : ! ? ) ]`` and none after ``( [``: ``Mr . Gaitskell , the`` ->
   ``Mr. Gaitskell, the``;
3. contractions are joined: a lone ``'`` between a word and ``s t d m ll ve re`` loses its spaces
   (``Britain ' s`` -> ``Britain's``), and ``we 've`` / ``it 'll`` / ``do n't`` -> ``we've`` /
   ``it'll`` / ``don't``;
4. quotes (``"`` and ``'``) lose their spaces only where their side is unambiguous: at the start
   of the text a quote followed by a space opens (``" Fifty`` -> ``"Fifty``), at the end one
   preceded by a space closes (``see ? '`` -> ``see?'``). A quote with a space on both sides
   inside the text is left as it is: whether it opens or closes cannot be told from one line
   (a quote opened on the previous line closes on this one), and guessing by counting quotes
   would spell the same handwriting two ways.

Characters are never changed, added or removed other than spaces: a writer's misspellings and
the corpora's own marks (IAM-OnDB's ``#``) are kept.
"""

from __future__ import annotations

import re

_WHITESPACE = re.compile(r"\s+")
_SPACE_BEFORE = re.compile(r" (?=[,.;:!?)\]])")
_SPACE_AFTER = re.compile(r"(?<=[(\[]) ")
_SPLIT_APOSTROPHE = re.compile(r"(?<=\w) ' (?=(?:s|t|d|m|ll|ve|re)\b)")
_CONTRACTION = re.compile(r"(?<=\w) (?=(?:'(?:s|t|d|m|ll|ve|re)|n't)\b)")
_OPENING_QUOTE = re.compile(r"""^(["']) """)
_CLOSING_QUOTE = re.compile(r""" (["'])$""")


def normalize_transcription(text: str) -> str:
    """``text`` spelled as ordinary English, by the rule of the module docstring.

    >>> normalize_transcription("Mr . Gaitskell , the")
    'Mr. Gaitskell, the'
    >>> normalize_transcription("activists of Nkrumah ' s Convention")
    "activists of Nkrumah's Convention"
    >>> normalize_transcription("if we don't it 'll just go on and on , don't")
    "if we don't it'll just go on and on, don't"
    """
    text = _WHITESPACE.sub(" ", text).strip()
    text = _SPACE_BEFORE.sub("", text)
    text = _SPACE_AFTER.sub("", text)
    text = _SPLIT_APOSTROPHE.sub("'", text)
    text = _CONTRACTION.sub("", text)
    text = _OPENING_QUOTE.sub(r"\1", text)
    return _CLOSING_QUOTE.sub(r"\1", text)


def iam_tokens_text(tokens: str) -> str:
    """The normalised text of an IAM ``lines.txt`` transcription, tokens joined by ``|``.

    >>> iam_tokens_text("Mr.|Gaitskell|,|the")
    'Mr. Gaitskell, the'
    """
    return normalize_transcription(tokens.replace("|", " "))
