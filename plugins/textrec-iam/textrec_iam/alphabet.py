"""The label alphabet of IAM lines.

IAM's line transcriptions use 79 characters: the space, the 52 ASCII letters, the 10 digits and
the 16 punctuation marks ``! " # & ' ( ) * + , - . / : ; ?`` (the character set of the published
IAM line-recognition recipes). The mapping is these characters in that order, then the special
tokens every line model needs (``<pad>``, ``<blank>``, ``<start>``, ``<end>``), so a label index
never depends on which lines a folder happens to hold. A character outside this set is dropped
from the label and counted (see :func:`encode_text`).
"""

from __future__ import annotations

import string

from textrec_core.mapping import BLANK, END, PAD, START, CharacterMapping

#: IAM's 79 characters: space, punctuation, digits, upper case, lower case (code point order).
IAM_CHARACTERS: tuple[str, ...] = tuple(sorted(" " + "!\"#&'()*+,-./:;?" + string.digits + string.ascii_letters))

#: The label alphabet of :class:`~textrec_iam.dataset.IamLinesDataset`.
IAM_MAPPING = CharacterMapping((*IAM_CHARACTERS, PAD, BLANK, START, END))


def encode_text(text: str, mapping: CharacterMapping = IAM_MAPPING) -> tuple[list[int], int]:
    """The label indices of ``text``'s characters that are in ``mapping``, and how many were not
    (those are dropped)."""
    indices = [mapping.index(ch) for ch in text if ch in mapping]
    return indices, len(text) - len(indices)


def with_characters(characters: str) -> CharacterMapping:
    """:data:`IAM_MAPPING` with the characters of ``characters`` it lacks added after IAM's, in code
    point order, before the special tokens: the alphabet of a dataset version whose texts go beyond IAM's."""
    extra = sorted(set(characters) - set(IAM_CHARACTERS) - {"\n", "\r", "\t"})
    return CharacterMapping((*IAM_CHARACTERS, *extra, PAD, BLANK, START, END)) if extra else IAM_MAPPING
