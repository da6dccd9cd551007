"""EmnistLinesDataset: arguments checked before any work, splits, caching, fresh lines per epoch, and
glyphs kept to their split."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from textrec_core import EMNIST_MAPPING, DataShapes, TensorSplit
from textrec_core.errors import ArgumentError
from textrec_core.mapping import LINE_MAPPING, PAD
from textrec_emnist import EmnistDataset
from textrec_emnist_lines import EmnistLinesDataset
from textrec_emnist_lines.dataset import CHARACTER_SOURCES
from textrec_hershey import SyntheticCharactersDataset

#: Pixel value of every glyph of each split of the tagged character dataset.
TAGS = {"train": 100, "val": 150, "test": 200}


class TaggedCharacters:
    """A character dataset whose glyphs are solid blocks, a different brightness per split."""

    shapes = DataShapes((28, 28), (), EMNIST_MAPPING)
    prepared = 0

    def prepare(self) -> None:
        TaggedCharacters.prepared += 1
        labels = torch.arange(62).repeat(2)
        self.splits = {}
        for name, value in TAGS.items():
            images = torch.zeros((len(labels), 28, 28), dtype=torch.uint8)
            images[:, 4:24, 8:20] = value
            self.splits[name] = TensorSplit(images, labels)

    @property
    def train(self):
        return self.splits["train"]

    @property
    def val(self):
        return self.splits["val"]

    @property
    def test(self):
        return self.splits["test"]


@pytest.fixture
def tagged(monkeypatch):
    """``char_source="TaggedCharacters"`` for one test."""
    monkeypatch.setitem(CHARACTER_SOURCES, "TaggedCharacters", TaggedCharacters)
    monkeypatch.setattr(TaggedCharacters, "prepared", 0)


def small(**overrides) -> EmnistLinesDataset:
    args = {"max_length": 12, "num_train": 40, "num_val": 16, "num_test": 16, "char_source": "TaggedCharacters",
            "text_source": "builtin"}
    return EmnistLinesDataset(**{**args, **overrides})


def texts_of(labels: torch.Tensor) -> list[str]:
    pad = LINE_MAPPING.index(PAD)
    return [LINE_MAPPING.decode([i for i in row if i != pad]) for row in labels.tolist()]


def test_shapes_and_splits(tagged):
    dataset = small()
    dataset.prepare()
    assert dataset.shapes == DataShapes((28, 12 * 28), (12,), LINE_MAPPING)
    for split, size in (("train", 40), ("val", 16), ("test", 16)):
        images, labels = next(iter(getattr(dataset, split).batches(100)))
        assert images.shape == (size, 28, 12 * 28) and images.dtype == torch.float32
        assert labels.shape == (size, 12)
        assert all(0 < len(t) <= 12 and t == t.strip() for t in texts_of(labels))


def test_each_split_draws_glyphs_only_from_its_own_character_split(tagged):
    dataset = small()
    dataset.prepare()
    for split, value in TAGS.items():
        images, _ = next(iter(getattr(dataset, split).batches(100)))
        assert set((images * 255).round().unique().tolist()) == {0.0, float(value)}


def test_fresh_training_lines_differ_per_epoch_and_repeat_per_seed(tagged):
    dataset = small()
    dataset.prepare()
    generator = torch.Generator().manual_seed(0)
    epoch1 = next(iter(dataset.train.batches(40, shuffle=True, generator=generator)))[1]
    epoch2 = next(iter(dataset.train.batches(40, shuffle=True, generator=generator)))[1]
    assert texts_of(epoch1) != texts_of(epoch2)
    again = next(iter(dataset.train.batches(40, shuffle=True, generator=torch.Generator().manual_seed(0))))[1]
    assert texts_of(again) == texts_of(epoch1)


def test_validation_and_test_lines_are_cached_and_reused(tagged, tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTREC_DATA_DIR", str(tmp_path))
    first = small(fresh_train_lines=False)
    first.prepare()
    files = sorted((tmp_path / "emnist_lines").iterdir())
    assert [f.name.split("-")[0] for f in files] == ["test", "train", "val"]
    stamps = [f.stat().st_mtime_ns for f in files]
    second = small(fresh_train_lines=False)
    second.prepare()
    assert [f.stat().st_mtime_ns for f in sorted((tmp_path / "emnist_lines").iterdir())] == stamps
    for split in ("train", "val", "test"):
        assert torch.equal(getattr(first, split).images, getattr(second, split).images)
    other_seed = small(fresh_train_lines=False, seed=1)
    other_seed.prepare()
    assert not torch.equal(first.test.images, other_seed.test.images)


def test_a_damaged_cache_is_generated_again(tagged, tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTREC_DATA_DIR", str(tmp_path))
    first = small()
    first.prepare()
    for path in (tmp_path / "emnist_lines").iterdir():
        path.write_bytes(b"not an npz file")
    second = small()
    second.prepare()
    assert torch.equal(first.test.images, second.test.images)


BAD_ARGUMENTS = [
    ("max_length", 0, "must be at least 1, got 0"),
    ("max_length", 8.0, "must be an integer, got 8.0"),
    ("min_overlap", -0.1, r"must be in \[0, 1\), got -0.1"),
    ("min_overlap", float("nan"), "got nan"),
    ("max_overlap", 1.0, r"must be in \[0, 1\), got 1.0"),
    ("max_overlap", "0.2", "got '0.2'"),
    ("num_train", -5, "must be at least 1, got -5"),
    ("num_val", 0, "must be at least 1, got 0"),
    ("num_test", None, "must be an integer, got None"),
    ("seed", -1, "must be at least 0, got -1"),
    ("seed", 0.5, "must be an integer, got 0.5"),
    ("char_source", "digits", "unknown character dataset 'digits'; expected one of EmnistDataset, emnist, "
                              "SyntheticCharactersDataset, synthetic"),
    ("char_source", ["emnist"], "unknown character dataset"),
    ("text_source", "no/such/file.txt", "expected 'brown' or 'builtin' or the path of a UTF-8 text file, "
                                        "got 'no/such/file.txt'"),
    ("text_source", 3, "got 3"),
    ("fresh_train_lines", "yes", "must be true or false, got 'yes'"),
]


@pytest.mark.parametrize(("argument", "value", "problem"), BAD_ARGUMENTS)
def test_a_bad_argument_is_an_argument_error_naming_it(argument, value, problem):
    with pytest.raises(ArgumentError, match=problem) as raised:
        EmnistLinesDataset(**{argument: value})
    assert raised.value.argument == argument


def test_max_overlap_below_min_overlap_names_max_overlap():
    with pytest.raises(ArgumentError, match=r"must be at least min_overlap \(0.5\), got 0.2") as raised:
        EmnistLinesDataset(min_overlap=0.5, max_overlap=0.2)
    assert raised.value.argument == "max_overlap"


@pytest.mark.parametrize(
    ("char_source", "dataset_class"),
    [("emnist", EmnistDataset), ("EmnistDataset", EmnistDataset), ("synthetic", SyntheticCharactersDataset),
     ("SyntheticCharactersDataset", SyntheticCharactersDataset)],
)
def test_char_source_names_a_character_dataset_by_name_or_alias(char_source, dataset_class):
    assert isinstance(EmnistLinesDataset(char_source=char_source).characters, dataset_class)


def test_a_text_file_is_a_text_source(tagged, tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("many happy words " * 20, encoding="utf-8")
    dataset = small(text_source=str(path), num_val=4)
    dataset.prepare()
    _, labels = next(iter(dataset.val.batches(4)))
    assert set(" ".join(texts_of(labels)).split()) <= {"many", "happy", "words"}


def test_construction_and_shapes_prepare_nothing(tagged, tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTREC_DATA_DIR", str(tmp_path))
    for char_source in CHARACTER_SOURCES:
        dataset = EmnistLinesDataset(char_source=char_source, max_length=5)
        assert dataset.shapes == DataShapes((28, 140), (5,), LINE_MAPPING)
    assert TaggedCharacters.prepared == 0
    assert not any(tmp_path.iterdir())


def test_real_emnist_characters_and_brown_sentences(mirror, monkeypatch):
    import nltk

    from textrec_emnist_lines.text import brown_text

    monkeypatch.setattr(nltk.data, "path", [str(mirror / "nltk_data")])
    brown_text.cache_clear()
    dataset = EmnistLinesDataset(max_length=34, num_train=64, num_val=32, num_test=32)
    dataset.prepare()
    images, labels = next(iter(dataset.test.batches(32)))
    texts = texts_of(labels)
    assert images.shape == (32, 28, 34 * 28)
    assert sum(len(t) for t in texts) > 32 * 20  # real sentences fill most of the line
    assert np.mean([t.count(" ") for t in texts]) > 2
    brown_text.cache_clear()
