"""IAM's alphabet and how texts become labels."""

from __future__ import annotations

import string

from textrec_core.mapping import BLANK, END, PAD, START
from textrec_iam.alphabet import IAM_CHARACTERS, IAM_MAPPING, encode_text


def test_alphabet_is_iam_s_79_characters_then_the_special_tokens():
    assert len(IAM_CHARACTERS) == 79
    assert set(string.ascii_letters + string.digits + " ") <= set(IAM_CHARACTERS)
    assert set(IAM_CHARACTERS) - set(string.ascii_letters + string.digits + " ") == set("!\"#&'()*+,-./:;?")
    assert IAM_MAPPING.tokens == (*IAM_CHARACTERS, PAD, BLANK, START, END)


def test_characters_outside_the_alphabet_are_dropped_and_counted():
    indices, dropped = encode_text("caf\u00e9 [ok]")
    assert IAM_MAPPING.decode(indices) == "caf ok"
    assert dropped == 3
