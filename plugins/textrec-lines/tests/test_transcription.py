"""normalize_transcription: one spelling for IAM-OnDB's CSR lines and IAM's lines.txt tokens."""

from __future__ import annotations

import pytest

from textrec_lines.transcription import iam_tokens_text, normalize_transcription

# Real IAM-OnDB CSR lines (shared/mirror/iam-ondb, ascii-all.tar.gz) and their normalised text.
ONDB = [
    ("MR . Macmillan has", "MR. Macmillan has"),
    ("way . General de Gaulle's", "way. General de Gaulle's"),
    ("activists of Nkrumah ' s Convention", "activists of Nkrumah's Convention"),
    ("General De Gaulle ' s official welcome ", "General De Gaulle's official welcome"),
    ("Adamafio ,\" and others . Strong", "Adamafio,\" and others. Strong"),
    ("of emergency\" was declared ,", "of emergency\" was declared,"),
    ("\" Fifty committee members will appear at Bow-street", "\"Fifty committee members will appear at Bow-street"),
    ("picked a strong \" brains", "picked a strong \" brains"),
    ("neutrals ' conference in Bel- ", "neutrals ' conference in Bel-"),
    ("week will # show perhaps how far ", "week will # show perhaps how far"),
]

# Real IAM lines (shared/mirror/iam-sample/ascii/lines.txt, form r06-137).
IAM = [
    ("dark|;|and|we|went|on|together|to", "dark; and we went on together to"),
    ("the|station|,|the|children|silent|because", "the station, the children silent because"),
    ("said|,|her|eyes|wet|again|:|'|I|think|its|all", "said, her eyes wet again: ' I think its all"),
    ("about|it|.|'|And|Philip|said|:|'|But|we|'ve|got", "about it. ' And Philip said: ' But we've got"),
    ("if|we|don't|it|'ll|just|go|on|and|on|,|don't", "if we don't it'll just go on and on, don't"),
    ("you|see|?|'", "you see?'"),
]


@pytest.mark.parametrize(("raw", "expected"), ONDB)
def test_iam_ondb_csr_lines(raw, expected):
    assert normalize_transcription(raw) == expected


@pytest.mark.parametrize(("tokens", "expected"), IAM)
def test_iam_lines_tokens(tokens, expected):
    assert iam_tokens_text(tokens) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("  a \t b\n c  ", "a b c"),
    ("( see below ) and [ 3 ]", "(see below) and [3]"),
    ("wait . . . what ?", "wait... what?"),
    ("we do n't", "we don't"),
    ("' Quoted '", "'Quoted'"),
    ("", ""),
])
def test_rule(raw, expected):
    assert normalize_transcription(raw) == expected


@pytest.mark.parametrize("raw", [text for text, _ in ONDB] + [t.replace("|", " ") for t, _ in IAM])
def test_idempotent_and_only_spaces_change(raw):
    once = normalize_transcription(raw)
    assert normalize_transcription(once) == once
    assert once.replace(" ", "") == raw.replace(" ", "").replace("\t", "").replace("\n", "")
