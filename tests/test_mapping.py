"""The label alphabet: indices <-> text, and how a model's output indices read."""

import pytest

from textrec_core.mapping import BLANK, END, LINE_MAPPING, PAD, SPACE, START, CharacterMapping


def test_encode_then_decode_gives_the_text_back():
    assert LINE_MAPPING.decode(LINE_MAPPING.encode("Hello world 42")) == "Hello world 42"


def test_spell_drops_special_tokens_and_reads_pad_as_asked():
    indices = LINE_MAPPING.encode("ab") + [LINE_MAPPING.index(t) for t in (BLANK, PAD, START)]
    indices += LINE_MAPPING.encode("c") + [LINE_MAPPING.index(t) for t in (PAD, END)]
    assert LINE_MAPPING.spell(indices) == "abc"
    assert LINE_MAPPING.spell(indices, pad=SPACE) == "ab c "
    # the table for one pad reading does not leak into another
    assert LINE_MAPPING.spell(indices) == "abc"


def test_unknown_tokens_and_duplicates_are_named():
    with pytest.raises(KeyError, match="'é' is not in the label alphabet"):
        LINE_MAPPING.encode("é")
    with pytest.raises(ValueError, match="unique"):
        CharacterMapping("aa")
