"""``EmnistDataset``: arguments checked at construction before any file is touched, and the splits
``prepare()`` builds (from a small mirror written here, and from the real data mirror)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from textrec_core import EMNIST_MAPPING, DataShapes
from textrec_core.errors import ArgumentError
from textrec_emnist import EmnistDataset
from textrec_emnist.files import member_name, split_characters
from textrec_emnist.idx import write_idx

NUM_TRAIN, NUM_TEST = 40, 6


def write_mirror(root: Path) -> dict[str, np.ndarray]:
    """A data mirror holding a small byclass split (train images of value ``i`` for sample ``i``)."""
    arrays = {
        "train-images": np.repeat(np.arange(NUM_TRAIN, dtype=np.uint8), 28 * 28).reshape(NUM_TRAIN, 28, 28),
        "train-labels": (np.arange(NUM_TRAIN) % 62).astype(np.uint8),
        "test-images": np.full((NUM_TEST, 28, 28), 200, np.uint8),
        "test-labels": np.arange(NUM_TEST, dtype=np.uint8),
    }
    sums = []
    for part, array in arrays.items():
        name = member_name("byclass", part)
        path = root / "emnist" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_idx(path, array)
        sums.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {name}\n")
    (root / "emnist" / "SHA256SUMS").write_text("".join(sums))
    return arrays


@pytest.fixture
def small_mirror(tmp_path, monkeypatch) -> dict[str, np.ndarray]:
    """The small mirror as ``TEXTREC_DATA_MIRROR``, with an empty ``TEXTREC_DATA_DIR``."""
    arrays = write_mirror(tmp_path / "mirror")
    monkeypatch.setenv("TEXTREC_DATA_MIRROR", str(tmp_path / "mirror"))
    monkeypatch.setenv("TEXTREC_DATA_DIR", str(tmp_path / "data"))
    return arrays


BAD_ARGUMENTS = [
    ("split", "bogus", "unknown EMNIST split 'bogus'; expected one of balanced, byclass"),
    ("split", None, "unknown EMNIST split None"),
    ("subsample_fraction", 0, r"must be in \(0, 1\], got 0"),
    ("subsample_fraction", 1.5, "got 1.5"),
    ("subsample_fraction", float("nan"), "got nan"),
    ("subsample_fraction", "half", "got 'half'"),
    ("val_fraction", 0.0, r"must be in \(0, 1\), got 0.0"),
    ("val_fraction", 1, r"must be in \(0, 1\), got 1"),
    ("val_fraction", -0.1, "got -0.1"),
    ("val_fraction", True, "got True"),
    ("seed", -1, "must be at least 0, got -1"),
    ("seed", 1.5, "must be an integer, got 1.5"),
    ("seed", "0", "must be an integer, got '0'"),
]


@pytest.mark.parametrize(("argument", "value", "problem"), BAD_ARGUMENTS)
def test_a_bad_argument_is_an_argument_error_naming_it(small_mirror, tmp_path, argument, value, problem):
    with pytest.raises(ArgumentError, match=problem) as raised:
        EmnistDataset(**{argument: value})
    assert raised.value.argument == argument
    assert not (tmp_path / "data").exists()


def test_construction_and_shapes_read_no_data(small_mirror, tmp_path):
    dataset = EmnistDataset(split="digits", subsample_fraction=0.5, val_fraction=0.2, seed=3)
    assert dataset.shapes == DataShapes((28, 28), (), dataset.mapping)
    assert dataset.shapes.mapping.to_list() == list(split_characters("digits"))
    assert EmnistDataset().shapes.mapping == EMNIST_MAPPING
    assert not (tmp_path / "data").exists()


def test_prepare_splits_the_official_train_split_by_val_fraction(small_mirror):
    dataset = EmnistDataset(val_fraction=0.25, seed=1)
    dataset.prepare()
    assert (len(dataset.train), len(dataset.val), len(dataset.test)) == (30, 10, NUM_TEST)
    # each train image holds its own index: together train and val are every official train sample once
    seen = torch.cat([dataset.train.images[:, 0, 0], dataset.val.images[:, 0, 0]]).sort().values
    assert seen.tolist() == list(range(NUM_TRAIN))
    for split in (dataset.train, dataset.val):
        indices = split.images[:, 0, 0].long()
        assert torch.equal(split.labels, indices % 62) and split.labels.dtype == torch.int64
    assert torch.equal(dataset.test.images, torch.from_numpy(small_mirror["test-images"]))


def test_the_split_is_repeatable_per_seed_and_subsampling_keeps_the_validation_split(small_mirror):
    def split_of(**args) -> tuple[list[int], list[int]]:
        dataset = EmnistDataset(**args)
        dataset.prepare()
        return dataset.train.images[:, 0, 0].tolist(), dataset.val.images[:, 0, 0].tolist()

    assert split_of(seed=4) == split_of(seed=4) != split_of(seed=5)
    train, val = split_of(seed=4)
    sub_train, sub_val = split_of(seed=4, subsample_fraction=0.5)
    assert sub_val == val
    assert len(sub_train) == len(train) // 2 and set(sub_train) < set(train)


def test_real_data_splits(mirror):
    dataset = EmnistDataset()
    dataset.prepare()
    assert (len(dataset.train), len(dataset.val), len(dataset.test)) == (81_000, 9_000, 10_000)
    assert dataset.train.images.shape[1:] == (28, 28) and dataset.train.images.dtype == torch.uint8
    assert set(dataset.train.labels.unique().tolist()) == set(range(62))
