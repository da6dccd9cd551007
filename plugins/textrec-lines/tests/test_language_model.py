"""The character n-gram model: a distribution over the alphabet after any history, learnt from
the text, saved and cached; built from the real Brown corpus where the mirror has it."""

from __future__ import annotations

import os
from pathlib import Path

import nltk
import numpy as np
import pytest

from textrec_core.errors import DataError
from textrec_lines.corpus import brown_text
from textrec_lines.language_model import CharNgramModel, load_language_model

ALPHABET = list("abc ")


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("TEXTREC_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.mark.parametrize("history", ["", "a", "ab", "abc a", "zzz", "c c c c c c"])
def test_every_history_gives_a_distribution_with_no_zero(history):
    model = CharNgramModel.fit("abc abc cab\tbca  a b", ALPHABET, 3)
    probs = np.exp(model.log_probs(history))
    assert probs.shape == (4,) and probs.sum() == pytest.approx(1.0) and (probs > 0).all()


def test_the_counts_shape_the_prediction_longer_contexts_first():
    model = CharNgramModel.fit("ab " * 200 + "ac", ALPHABET, 3)
    after_a = np.exp(model.log_probs("a"))
    assert after_a[ALPHABET.index("b")] > 0.95
    after_space_a = np.exp(model.log_probs(" a"))
    assert after_space_a.argmax() == ALPHABET.index("b")
    # a history ending in a character outside the alphabet climbs no further than the unigram
    assert np.allclose(model.log_probs("az"), model.log_probs(""))


def test_outside_characters_are_dropped_and_whitespace_runs_become_one_space():
    model = CharNgramModel.fit("a!\n\t b", ALPHABET, 2)
    assert model.codes[1].tolist() == sorted([1 * 5 + 4, 4 * 5 + 2])  # "a " and " b" in base 5
    with pytest.raises(ValueError, match="no character of the alphabet"):
        CharNgramModel.fit("xyz!", ALPHABET, 2)
    with pytest.raises(ValueError, match="distinct single characters"):
        CharNgramModel.fit("ab", ["ab", "c"], 2)


def test_saved_models_load_equal_and_a_damaged_file_is_none(tmp_path):
    model = CharNgramModel.fit("abc cab bca " * 10, ALPHABET, 4)
    path = model.save(tmp_path / "lm.npz")
    loaded = CharNgramModel.load(path)
    assert loaded.alphabet == model.alphabet and loaded.order == 4
    for history in ("", "c", "ab", "cab b"):
        assert np.array_equal(loaded.log_probs(history), model.log_probs(history))
    path.write_bytes(b"not an npz")
    assert CharNgramModel.load(path) is None


def test_a_text_file_model_is_built_once_then_read_from_the_cache(tmp_path, data_dir):
    text = tmp_path / "corpus.txt"
    text.write_text("a cab, a bac. " * 50, encoding="utf-8")
    first = load_language_model(str(text), ALPHABET, 3)
    cached = list((data_dir / "lm").glob("*.npz"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    again = load_language_model(str(text), ALPHABET, 3)
    assert cached[0].stat().st_mtime_ns == stamp and np.array_equal(again.log_probs("a c"), first.log_probs("a c"))
    load_language_model(str(text), ALPHABET, 2)  # another order: another model
    assert len(list((data_dir / "lm").glob("*.npz"))) == 2
    with pytest.raises(DataError, match="cannot read text file"):
        load_language_model(str(tmp_path / "missing.txt"), ALPHABET, 3)


MIRROR = Path(os.environ.get("TEXTREC_DATA_MIRROR", Path(__file__).resolve().parents[3] / ".." / "shared" / "mirror"))


@pytest.mark.skipif(not (MIRROR / "nltk_data" / "corpora" / "brown.zip").is_file(), reason="no Brown corpus mirror")
def test_the_brown_model_finds_english_more_probable_than_its_letters_scrambled(data_dir, monkeypatch):
    monkeypatch.setattr(nltk.data, "path", [str(MIRROR / "nltk_data")])
    brown_text.cache_clear()
    alphabet = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,'")
    model = load_language_model("brown", alphabet, 5)
    brown_text.cache_clear()

    def log_prob(text: str) -> float:
        return sum(model.log_probs(text[:i])[alphabet.index(c)] for i, c in enumerate(text))

    sentence = "the doorman turned his attention to the next man"
    scrambled = "".join(np.random.default_rng(0).permutation(list(sentence)))
    assert log_prob(sentence) / len(sentence) > -2.0  # under 2 nats a character: English is predictable
    assert log_prob(sentence) > log_prob(scrambled) + 40
