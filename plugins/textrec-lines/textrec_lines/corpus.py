"""English text for line models: the Brown corpus through NLTK, and UTF-8 text files.

:func:`brown_text` is the corpus's sentences detokenized (Brown writes ``Mr. Gaitskell , ``
tokens; :func:`detokenize` joins them back as ordinary text). NLTK is imported only here, and
only when a corpus is read.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from textrec_core.errors import DataError

_BROWN_RESOURCES = ("corpora/brown", "corpora/brown.zip/brown/")
BROWN_HELP = (
    "set NLTK_DATA to a folder containing corpora/brown.zip (or run `python -m nltk.downloader brown` "
    "on a connected machine), or give the path of a plain-text file instead"
)

# Brown's tokenization, undone: no space before closing punctuation, none after opening quotes and
# brackets; then its quote tokens (`` '' `) become ordinary quotes.
_SPACE_BEFORE_CLOSING = re.compile(r" (''|[,.;:!?')\]}])(?= |$)")
_SPACE_AFTER_OPENING = re.compile(r"(?<!\S)(``|`|[(\[{]) ")


def detokenize(tokens: str) -> str:
    """Brown's space-separated tokens as ordinary text: ``"`` Yes , sir '' ."`` -> ``'"Yes, sir".'``."""
    text = _SPACE_BEFORE_CLOSING.sub(r"\1", tokens)
    text = _SPACE_AFTER_OPENING.sub(r"\1", text)
    return text.replace("``", '"').replace("''", '"').replace("`", "'")


def _brown_root():  # -> nltk.data.PathPointer | None
    """Where NLTK finds the Brown corpus (a folder or inside ``brown.zip``), or None."""
    import nltk

    for resource in _BROWN_RESOURCES:
        try:
            return nltk.data.find(resource)
        except LookupError:
            pass
    return None


@lru_cache(maxsize=1)
def brown_text() -> str:
    """The Brown corpus (about 6 MB) as one string: its sentences, detokenized, joined by spaces.

    Looks the corpus up on ``nltk.data.path`` (which ``$NLTK_DATA`` extends); where it is absent,
    tries ``nltk.download("brown")`` and raises :class:`DataError` saying how to provide it if
    that fails. Cached per process: parsing the corpus takes seconds.
    """
    import nltk
    from nltk.corpus.reader import TaggedCorpusReader

    root = _brown_root()
    if root is None:
        try:
            downloaded = nltk.download("brown", quiet=True)
        except Exception as exc:  # the downloader fails in many ways offline; all mean "not available"
            raise DataError(f"the Brown corpus is not installed and downloading it failed ({exc}): {BROWN_HELP}") \
                from exc
        root = _brown_root() if downloaded else None
        if root is None:
            raise DataError(f"the Brown corpus is not installed and could not be downloaded: {BROWN_HELP}")
    sentences = TaggedCorpusReader(root, r"c[a-z]\d\d", encoding="ascii").sents()
    return detokenize(" ".join(" ".join(sentence) for sentence in sentences))


def read_utf8(path: str | Path) -> str:
    """The text of the UTF-8 file at ``path``; :class:`DataError` naming it when it is missing,
    unreadable or not UTF-8."""
    path = Path(path)
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"text file {path} is not UTF-8: byte {exc.start} cannot be decoded") from exc
    except OSError as exc:
        raise DataError(f"cannot read text file {path}: {exc.strerror or exc}") from exc
