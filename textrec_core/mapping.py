"""The label alphabet: label index <-> character, owned by the core so every plugin agrees."""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence

#: The 62 EMNIST ``byclass`` classes in label order: digits, upper case, lower case.
EMNIST_CHARACTERS: tuple[str, ...] = tuple(string.digits + string.ascii_uppercase + string.ascii_lowercase)


class CharacterMapping:
    """An ordered list of tokens; the position of a token is its label index.

    Tokens are single characters, or special tokens written in angle brackets (``<blank>``).
    """

    def __init__(self, tokens: Iterable[str]) -> None:
        self.tokens: tuple[str, ...] = tuple(tokens)
        self._index = {token: i for i, token in enumerate(self.tokens)}
        if len(self._index) != len(self.tokens):
            raise ValueError("mapping tokens must be unique")
        self._spellings: dict[str, tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self.tokens)

    def __getitem__(self, index: int) -> str:
        return self.tokens[index]

    def __contains__(self, token: object) -> bool:
        return token in self._index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharacterMapping) and other.tokens == self.tokens

    def __hash__(self) -> int:
        return hash(self.tokens)

    def __repr__(self) -> str:
        return f"CharacterMapping({len(self)} tokens)"

    def index(self, token: str) -> int:
        """The label index of ``token``; ``KeyError`` naming it when absent."""
        try:
            return self._index[token]
        except KeyError:
            raise KeyError(f"{token!r} is not in the label alphabet") from None

    def encode(self, text: str) -> list[int]:
        """Label indices of each character of ``text``."""
        return [self.index(ch) for ch in text]

    def decode(self, indices: Sequence[int]) -> str:
        """The text spelled by ``indices``."""
        return "".join(self.tokens[i] for i in indices)

    def spell(self, indices: Iterable[int], *, pad: str = "") -> str:
        """The text a model's output ``indices`` read as: each character as itself, ``<pad>`` as
        ``pad``, every other special token (``<blank>``, ``<end>``, ...) as nothing."""
        spelling = self._spellings.get(pad)
        if spelling is None:
            spelling = tuple(pad if token == PAD else token if len(token) == 1 else "" for token in self.tokens)
            self._spellings[pad] = spelling
        return "".join(spelling[i] for i in indices)

    def to_list(self) -> list[str]:
        return list(self.tokens)


#: The character alphabet shared by EMNIST and the embedded synthetic characters.
EMNIST_MAPPING = CharacterMapping(EMNIST_CHARACTERS)

SPACE = " "
#: Fills a fixed-length label after the end of the text.
PAD = "<pad>"
#: The CTC blank: "no character in this frame".
BLANK = "<blank>"
#: Delimit a label for autoregressive decoders.
START = "<start>"
END = "<end>"

#: The alphabet of text lines: the 62 characters (same indices as :data:`EMNIST_MAPPING`), the
#: space, then the special tokens sequence models need.
LINE_MAPPING = CharacterMapping((*EMNIST_CHARACTERS, SPACE, PAD, BLANK, START, END))
