"""IamOnDbDataset on archives the tests write: arguments, pairing and skips, splits, batches, caching."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

import textrec_iam_ondb.plugin
from textrec_core.errors import ArgumentError
from textrec_core.mapping import PAD
from textrec_core.plugins import components
from textrec_iam_ondb import IamOnDbDataset
from textrec_iam_ondb.alphabet import CHARACTERS, IAM_ONDB_MAPPING
from textrec_iam_ondb.splits import bucketed_batches


def prepared(path, **args) -> IamOnDbDataset:
    dataset = IamOnDbDataset(path=str(path), height=32, max_width=256, max_length=40, **args)
    dataset.prepare()
    return dataset


def all_batches(split, **kwargs) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return list(split.batches(4, **kwargs))


def test_registered_with_shapes_before_prepare(bare_host, textrec_plugin, tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTREC_DATA_DIR", str(tmp_path / "empty"))
    textrec_plugin(textrec_iam_ondb.plugin, name="textrec-iam-ondb")
    dataset = components().get("dataset", "iam_ondb")(height=48, max_width=800, max_length=50)
    assert dataset.shapes.input_shape == (48, 800) and dataset.shapes.output_shape == (50,)
    assert dataset.shapes.mapping == IAM_ONDB_MAPPING
    assert dataset.shapes.ink_margin == 3 / 48  # rendering's margin: height // 16 pixels, for predictors
    assert len(CHARACTERS) == 81 and IAM_ONDB_MAPPING.tokens[81:] == (PAD, "<blank>", "<start>", "<end>")
    assert not (tmp_path / "empty").exists()
    with pytest.raises(RuntimeError, match="call prepare"):
        _ = dataset.train


@pytest.mark.parametrize(("args", "argument"), [
    ({"height": 8}, "height"), ({"height": 64.0}, "height"), ({"max_width": 30}, "max_width"),
    ({"max_length": 0}, "max_length"), ({"val_fraction": 0}, "val_fraction"),
    ({"test_fraction": 0.7}, "test_fraction"), ({"seed": -1}, "seed"), ({"fresh_train_lines": 1}, "fresh_train_lines"),
    ({"path": "/no/such/folder"}, "path"),
])
def test_bad_arguments(args, argument):
    with pytest.raises(ArgumentError) as raised:
        IamOnDbDataset(**args)
    assert raised.value.argument == argument


def test_pairs_lines_and_skips_broken_forms_with_warnings(archives, facts, caplog):
    with caplog.at_level(logging.INFO):
        dataset = prepared(archives)
    assert sum(len(dataset.splits[name]) for name in ("train", "val", "test")) == facts["kept_lines"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum(facts["mismatched"] in message for message in warnings) == 1
    assert any("h01-001-02.xml" in message and "XML" in message for message in warnings)
    assert any("1 lines with a character outside the alphabet" in message for message in warnings)
    assert any("1 lines longer than max_length (40)" in message for message in warnings)
    assert any(f"{facts['kept_lines'] + 2} lines kept" in r.getMessage() for r in caplog.records)


def test_splits_by_form_deterministic_by_seed(archives):
    first, again, other = prepared(archives), prepared(archives), prepared(archives, seed=1)
    forms = {name: set(first.splits[name].lines.forms) for name in ("train", "val", "test")}
    assert not (forms["train"] & forms["val"] or forms["train"] & forms["test"] or forms["val"] & forms["test"])
    assert all(forms.values())
    assert {n: set(again.splits[n].lines.forms) for n in forms} == forms
    assert {n: set(other.splits[n].lines.forms) for n in forms} != forms


def test_batches_are_padded_bright_on_dark_with_text_labels(archives):
    dataset = prepared(archives)
    for images, labels in all_batches(dataset.val) + all_batches(dataset.train, shuffle=True):
        assert images.dtype == torch.float32 and images.shape[1] == 32 and images.shape[2] <= 256
        assert 0 <= images.min() and images.max() <= 1 and images.mean() < 0.5
        assert labels.dtype == torch.int64 and labels.shape == (len(images), 40)
    texts = {IAM_ONDB_MAPPING.spell(row) for _, labels in all_batches(dataset.train) for row in labels.tolist()}
    assert "Mr. Gaitskell, the 0 a" in texts or "Mr. Gaitskell, the 0 a" in {
        IAM_ONDB_MAPPING.spell(row) for split in ("val", "test") for _, labels in all_batches(dataset.splits[split])
        for row in labels.tolist()}


def test_train_lines_change_every_epoch_val_and_test_do_not(archives):
    dataset = prepared(archives)
    generator = torch.Generator().manual_seed(0)
    epochs = [torch.cat([b.flatten() for b, _ in all_batches(dataset.train, generator=generator)]) for _ in range(2)]
    assert not torch.equal(epochs[0], epochs[1])
    for name in ("val", "test"):
        first, second = all_batches(dataset.splits[name]), all_batches(dataset.splits[name])
        assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(first, second))
    seeded = [torch.cat([b.flatten() for b, _ in all_batches(prepared(archives).train,
                                                              generator=torch.Generator().manual_seed(5))])
              for _ in range(2)]
    assert torch.equal(seeded[0], seeded[1])


def test_batches_cover_every_line_once_grouped_by_width():
    widths = np.random.default_rng(0).integers(50, 1000, 1000)
    batches = bucketed_batches(widths, 8, shuffle=True, generator=torch.Generator().manual_seed(0))
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    padding = sum(len(b) * widths[b].max() - widths[b].sum() for b in batches)
    unsorted = sum(8 * widths[i : i + 8].max() - widths[i : i + 8].sum() for i in range(0, 1000, 8))
    assert padding < unsorted / 10


def test_extracted_folders_read_like_archives(archives, folders):
    from_archives = prepared(archives)
    from_folders = prepared(folders)
    for name in ("train", "val", "test"):
        assert sorted(from_archives.splits[name].lines.texts) == sorted(from_folders.splits[name].lines.texts)


def test_second_prepare_reads_the_cache_not_the_archives(archives, monkeypatch):
    prepared(archives)
    monkeypatch.setattr("textrec_iam_ondb.dataset.read_lines", lambda source: pytest.fail("parsed again"))
    assert len(prepared(archives).train) > 0


def test_folder_without_data_is_a_data_error(tmp_path):
    from textrec_core.errors import DataError
    with pytest.raises(DataError, match="neither lineStrokes-all.tar.gz"):
        IamOnDbDataset(path=str(tmp_path)).prepare()


def test_fixed_split_images_match_their_widths(archives):
    split = prepared(archives).val
    assert [image.shape[1] for image in split.images] == list(split.widths)
    assert np.all([image.shape[0] == 32 for image in split.images])
