"""``SyntheticCharactersDataset``: split sizes, format, balance, determinism and its render cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from textrec_core import EMNIST_MAPPING, DataShapes, TensorSplit
from textrec_core.errors import ArgumentError
from textrec_hershey import SyntheticCharactersDataset

SIZES = {"num_train": 200, "num_val": 62, "num_test": 70}


def prepared(data_dir: Path, monkeypatch, **args) -> SyntheticCharactersDataset:
    """A prepared dataset whose cache lives in ``data_dir``."""
    monkeypatch.setenv("TEXTREC_DATA_DIR", str(data_dir))
    dataset = SyntheticCharactersDataset(**{**SIZES, **args})
    dataset.prepare()
    return dataset


def arrays(split: TensorSplit) -> tuple[np.ndarray, np.ndarray]:
    return split.images.numpy(), split.labels.numpy()


@pytest.fixture
def dataset(tmp_path, monkeypatch) -> SyntheticCharactersDataset:
    return prepared(tmp_path / "data", monkeypatch)


def test_splits_have_the_requested_sizes_and_emnist_format(dataset):
    assert dataset.shapes == DataShapes((28, 28), (), EMNIST_MAPPING)
    for name, size in zip(("train", "val", "test"), SIZES.values()):
        split = getattr(dataset, name)
        assert len(split) == size
        assert split.images.shape == (size, 28, 28) and split.images.dtype == torch.uint8
        assert split.labels.shape == (size,) and split.labels.dtype == torch.int64
        assert split.images.max() == 255  # bright ink on black


def test_labels_are_balanced_over_the_62_classes(dataset):
    for name in ("train", "val", "test"):
        counts = np.bincount(getattr(dataset, name).labels.numpy(), minlength=62)
        assert len(counts) == 62
        assert counts.max() - counts.min() <= 1
    assert (np.bincount(dataset.val.labels.numpy()) == 1).all()  # 62 samples: one of each


def test_same_seed_renders_the_same_data_in_another_cache(tmp_path, monkeypatch):
    """Two separate caches, so both instances really render."""
    first = prepared(tmp_path / "a", monkeypatch, seed=5)
    second = prepared(tmp_path / "b", monkeypatch, seed=5)
    for name in ("train", "val", "test"):
        for x, y in zip(arrays(getattr(first, name)), arrays(getattr(second, name))):
            assert np.array_equal(x, y)


def test_different_seeds_render_different_data(tmp_path, monkeypatch):
    first = prepared(tmp_path / "data", monkeypatch, seed=0)
    second = prepared(tmp_path / "data", monkeypatch, seed=1)
    assert not np.array_equal(first.train.images.numpy(), second.train.images.numpy())
    assert not np.array_equal(first.train.labels.numpy(), second.train.labels.numpy())


def test_splits_differ_from_each_other(dataset):
    n = SIZES["num_val"]
    train, val, test = (getattr(dataset, name).images[:n].numpy() for name in ("train", "val", "test"))
    assert not np.array_equal(train, val)
    assert not np.array_equal(val, test)
    assert not np.array_equal(train, test)
    # not even one image is shared between the first samples of train and val
    assert not any(np.array_equal(t, v) for t in train for v in val)


def test_rendered_splits_are_cached_under_the_data_dir(tmp_path, monkeypatch):
    prepared(tmp_path, monkeypatch)
    files = sorted(p.name for p in (tmp_path / "synthetic").iterdir())
    assert len(files) == 3 and all(name.endswith(".npz") for name in files)
    for split, size in (("train", 200), ("val", 62), ("test", 70)):
        assert sum(f"-{split}-{size}-" in name for name in files) == 1


def test_a_second_instance_reads_the_cache(tmp_path, monkeypatch):
    """Replace the cached train split with other valid data: the next instance must serve it."""
    prepared(tmp_path, monkeypatch)
    (train_file,) = (tmp_path / "synthetic").glob("*-train-*.npz")
    stand_in = np.zeros((200, 28, 28), np.uint8), np.arange(200, dtype=np.int64) % 62
    np.savez(train_file, images=stand_in[0], labels=stand_in[1])
    again = prepared(tmp_path, monkeypatch)
    assert np.array_equal(again.train.images.numpy(), stand_in[0])
    assert np.array_equal(again.train.labels.numpy(), stand_in[1])


def test_a_corrupt_cache_file_is_rendered_again_and_replaced(tmp_path, monkeypatch):
    first = prepared(tmp_path, monkeypatch)
    (train_file,) = (tmp_path / "synthetic").glob("*-train-*.npz")
    train_file.write_bytes(b"not an npz file" * 100)
    again = prepared(tmp_path, monkeypatch)
    for x, y in zip(arrays(first.train), arrays(again.train)):
        assert np.array_equal(x, y)
    with np.load(train_file) as cached:
        assert np.array_equal(cached["images"], first.train.images.numpy())
        assert np.array_equal(cached["labels"], first.train.labels.numpy())


def test_a_truncated_cache_file_is_rendered_again(tmp_path, monkeypatch):
    first = prepared(tmp_path, monkeypatch)
    (train_file,) = (tmp_path / "synthetic").glob("*-train-*.npz")
    train_file.write_bytes(train_file.read_bytes()[: train_file.stat().st_size // 2])
    again = prepared(tmp_path, monkeypatch)
    assert np.array_equal(again.train.images.numpy(), first.train.images.numpy())


@pytest.mark.parametrize("name", ["train", "val", "test"])
def test_reading_a_split_before_prepare_is_an_error(name):
    with pytest.raises(RuntimeError, match=r"call prepare\(\) before reading the .* split"):
        getattr(SyntheticCharactersDataset(**SIZES), name)


@pytest.mark.parametrize(
    ("argument", "value", "problem"),
    [
        ("num_train", 0, "must be at least 1, got 0"),
        ("num_val", -5, "must be at least 1, got -5"),
        ("num_test", 2.5, "must be an integer, got 2.5"),
        ("num_train", True, "must be an integer, got True"),
        ("seed", -1, "must be at least 0, got -1"),
        ("seed", "7", "must be an integer, got '7'"),
    ],
)
def test_a_bad_argument_is_an_argument_error_naming_it(argument, value, problem):
    with pytest.raises(ArgumentError, match=problem) as raised:
        SyntheticCharactersDataset(**{**SIZES, argument: value})
    assert raised.value.argument == argument


def test_construction_and_shapes_render_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTREC_DATA_DIR", str(tmp_path))
    dataset = SyntheticCharactersDataset()
    assert dataset.shapes.input_shape == (28, 28) and dataset.shapes.num_classes == 62
    assert not any(tmp_path.iterdir())
