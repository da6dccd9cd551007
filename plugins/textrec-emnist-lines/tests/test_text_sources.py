"""Tests of the text sources: the normalization rule, span sampling, the built-in text, user files, Brown."""

from __future__ import annotations

import os
import string

import nltk
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textrec_core.errors import DataError
from textrec_emnist_lines.text import (
    LINE_ALPHABET,
    brown_text,
    builtin_text,
    file_text,
    load_text,
    normalize,
    sample_texts,
)
from textrec_lines.corpus import detokenize

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=200, deadline=None)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("one\ttwo\n\nthree  four", "one two three four"),
        ("don't stop, 1-2!", "dont stop 12"),
        ("a - b", "a b"),
        ("  \n Hello.\n", "Hello"),
        ("caf\u00e9 \u00fcber na\u00efve", "caf ber nave"),
        ("?!", ""),
        ("", ""),
    ],
)
def test_normalize_keeps_drawable_characters_and_single_spaces(raw, normalized):
    assert normalize(raw) == normalized


def test_normalize_takes_another_alphabet():
    assert normalize("Abc 1-2 cab", set("abc -")) == "bc - cab"


@PROFILE
@given(st.text())
def test_normalize_output_is_clean_and_stable(raw):
    clean = normalize(raw)
    assert set(clean) <= LINE_ALPHABET
    assert "  " not in clean and clean == clean.strip()
    assert normalize(clean) == clean


def test_detokenize_undoes_brown_tokenization():
    assert detokenize("`` Yes , sir '' .") == '"Yes, sir".'
    assert detokenize("a ( b ) c ; d : e ! f ?") == "a (b) c; d: e! f?"
    assert detokenize("the boys ' toys , ` quoted '") == "the boys' toys, 'quoted'"
    assert detokenize("give 'em the 1960's") == "give 'em the 1960's"


WORD = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=8)


def longest_span(words: list[str], first: int, max_length: int) -> str:
    """The words from ``first`` on that fit in ``max_length`` characters; a hard cut of a longer first word."""
    span = words[first][:max_length]
    for word in words[first + 1 :]:
        if len(span) + 1 + len(word) > max_length:
            break
        span += " " + word
    return span


@PROFILE
@given(st.lists(WORD, min_size=1, max_size=30), st.integers(1, 20), st.integers(0, 2**32 - 1))
def test_samples_are_the_longest_whole_word_spans_that_fit(words, max_length, seed):
    spans = {longest_span(words, first, max_length) for first in range(len(words))}
    for sample in sample_texts(" ".join(words), np.random.default_rng(seed), 50, max_length):
        assert 1 <= len(sample) <= max_length and sample == sample.strip()
        assert sample in spans


def test_sampling_is_deterministic_per_seed():
    corpus = normalize(builtin_text())
    first = sample_texts(corpus, np.random.default_rng(7), 100, 34)
    assert sample_texts(corpus, np.random.default_rng(7), 100, 34) == first
    assert sample_texts(corpus, np.random.default_rng(8), 100, 34) != first


def test_a_corpus_of_one_long_word_gives_hard_cuts():
    assert sample_texts("abcdefghij", np.random.default_rng(0), 5, 4) == ["abcd"] * 5
    assert set(sample_texts("x verylongword y", np.random.default_rng(0), 200, 4)) == {"x", "very", "y"}


@pytest.mark.parametrize(
    ("corpus", "count", "max_length", "message"),
    [
        ("", 1, 5, "no words"),
        ("   ", 1, 5, "no words"),
        ("ab", 1, 0, "max_length must be at least 1"),
        ("ab", -1, 5, "count must not be negative"),
    ],
)
def test_sampling_refuses_impossible_requests(corpus, count, max_length, message):
    with pytest.raises(ValueError, match=message):
        sample_texts(corpus, np.random.default_rng(0), count, max_length)


def test_sampling_nothing_gives_nothing():
    assert sample_texts("a b", np.random.default_rng(0), 0, 5) == []


def test_the_builtin_text_is_english_with_every_character_and_mostly_drawable():
    raw = builtin_text()
    assert 6000 <= len(raw.encode("utf-8")) <= 10000
    assert load_text("builtin") == raw
    clean = normalize(raw)
    assert len(clean) / len(raw) > 0.95
    assert set(clean) == LINE_ALPHABET  # every digit and letter, upper and lower case, appears


def test_a_user_file_is_read_as_written(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("Caf\u00e9 au lait,\nplease.", encoding="utf-8")
    assert file_text(path) == "Caf\u00e9 au lait,\nplease."
    assert load_text(str(path)) == "Caf\u00e9 au lait,\nplease."


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read text file"),
        (b"ok \xff\xfe bytes", "is not UTF-8"),
        ("\u00bf... \u2014 !?\n".encode(), "has no characters a line can show"),
        (b"", "has no characters a line can show"),
    ],
)
def test_an_unusable_user_file_is_a_data_error_naming_it(tmp_path, content, message):
    path = tmp_path / "mine.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message) as error:
        load_text(str(path))
    assert str(path) in str(error.value)


def test_a_folder_is_not_a_text_file(tmp_path):
    with pytest.raises(DataError, match="cannot read text file"):
        file_text(tmp_path)


@pytest.fixture
def fresh_brown():
    """``brown_text`` with an empty cache before and after the test."""
    brown_text.cache_clear()
    yield
    brown_text.cache_clear()


def test_the_brown_corpus_loads_from_the_mirror(mirror, monkeypatch, fresh_brown):
    nltk_data = mirror / "nltk_data"
    if not (nltk_data / "corpora" / "brown.zip").is_file():
        pytest.skip(f"the mirror has no {nltk_data}/corpora/brown.zip")
    monkeypatch.setenv("NLTK_DATA", str(nltk_data))
    monkeypatch.setattr(nltk.data, "path", [str(nltk_data)])
    corpus = load_text("brown")
    assert brown_text() is corpus  # cached: loading takes seconds
    assert corpus.startswith("The Fulton County Grand Jury said Friday an investigation of Atlanta's")
    assert 'produced "no evidence" that' in corpus
    assert len(corpus) > 5_000_000 and " , " not in corpus and " ." not in corpus
    clean = normalize(corpus)
    assert len(clean) / len(corpus) > 0.95
    assert all(1 <= len(s) <= 34 for s in sample_texts(clean, np.random.default_rng(0), 1000, 34))


def test_a_missing_brown_corpus_says_how_to_provide_it(tmp_path, monkeypatch, fresh_brown):
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    calls = []
    monkeypatch.setattr(nltk, "download", lambda *args, **kwargs: calls.append(args) or False)
    with pytest.raises(DataError) as error:
        load_text("brown")
    assert calls == [("brown",)]
    message = str(error.value)
    assert "NLTK_DATA" in message and "corpora/brown.zip" in message and "plain-text file" in message
    assert "python -m nltk.downloader brown" in message


def test_a_failing_download_is_a_data_error_too(tmp_path, monkeypatch, fresh_brown):
    def refuse(*args, **kwargs):
        raise OSError("no route to host")

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    monkeypatch.setattr(nltk, "download", refuse)
    with pytest.raises(DataError, match="no route to host.*NLTK_DATA"):
        brown_text()
