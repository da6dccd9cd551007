"""IamLinesDataset on generated IAM folders: arguments, splits, images, labels, skips and errors."""

from __future__ import annotations

import logging

import pytest
import torch

import textrec_iam.plugin
from textrec_core import Split
from textrec_core.errors import ArgumentError, DataError
from textrec_core.mapping import PAD
from textrec_core.plugins import components
from textrec_iam import IamLinesDataset
from textrec_iam.alphabet import IAM_MAPPING
from textrec_iam.split_lists import read_list


def texts(split) -> dict[str, str]:
    """Line id -> the text its label spells, over a whole split."""
    spelled = [IAM_MAPPING.spell(row.tolist()) for _, labels in split.batches(64) for row in labels]
    return dict(zip(split.ids, spelled))


def test_registered_as_iam_lines(bare_host, textrec_plugin):
    textrec_plugin(textrec_iam.plugin, name="textrec-iam")
    assert components().get("dataset", "iam_lines") is IamLinesDataset


@pytest.mark.parametrize(("kwargs", "argument"), [
    ({"split": "rwth"}, "split"),
    ({"height": 4}, "height"),
    ({"height": 64.0}, "height"),
    ({"max_width": True}, "max_width"),
    ({"max_length": 0}, "max_length"),
    ({"path": ""}, "path"),
    ({"path": 3}, "path"),
])
def test_bad_arguments_are_argument_errors(kwargs, argument):
    with pytest.raises(ArgumentError) as raised:
        IamLinesDataset(**kwargs)
    assert raised.value.argument == argument


def test_construction_reads_nothing_and_knows_its_shapes(tmp_path, cache_dir):
    dataset = IamLinesDataset(path=str(tmp_path / "does-not-exist"), height=48, max_width=900, max_length=70)
    assert dataset.shapes.input_shape == (48, 900)
    assert dataset.shapes.output_shape == (70,)
    assert dataset.shapes.mapping == IAM_MAPPING
    assert not cache_dir.exists()
    with pytest.raises(RuntimeError, match="call prepare"):
        len(dataset.test)


def test_all_puts_every_line_in_test_with_its_text(iam, cache_dir):
    dataset = IamLinesDataset(path=str(iam.folder()), split="all", height=32, max_length=40)
    dataset.prepare()
    assert (len(dataset.train), len(dataset.val), len(dataset.test)) == (0, 0, 3)
    assert all(isinstance(split, Split) for split in (dataset.train, dataset.val, dataset.test))
    assert texts(dataset.test) == {
        "a01-000u-00": "A MOVE to stop Mr. Gaitskell",
        "a01-000u-01": "from nominating any more Labour",  # an `err` segmentation is kept
        "a01-000x-00": "M Ps, he said.",  # normalised by textrec-lines
    }


def test_batches_are_bright_ink_on_dark_padded_to_the_widest_line(iam, cache_dir):
    dataset = IamLinesDataset(path=str(iam.folder()), split="all", height=32, max_length=40)
    dataset.prepare()
    (images, labels), = dataset.test.batches(8)
    # widths at height 32: 90x40 -> 72, 160x30 -> 171, 200x30 -> 213; sorted by width
    assert dataset.test.ids == ["a01-000x-00", "a01-000u-01", "a01-000u-00"]
    assert images.dtype == torch.float32 and images.shape == (3, 32, 213)
    assert labels.dtype == torch.int64 and labels.shape == (3, 40)
    assert 0 <= images.min() and images.max() <= 1
    narrow = images[0]
    assert narrow[16, :30].mean() > 0.8  # the ink bar, inverted to bright
    assert narrow[1, 40:70].mean() < 0.15  # the paper, inverted to dark
    assert narrow[:, 72:].abs().sum() == 0  # padding is background 0
    assert (labels[0, len("M Ps, he said."):] == IAM_MAPPING.index(PAD)).all()


def test_wide_lines_are_squeezed_to_max_width(iam, cache_dir, caplog):
    folder = iam.folder([iam.Line("a01-000u-00", ("wide",), width=1000, height=20)])
    dataset = IamLinesDataset(path=str(folder), split="all", height=40, max_width=300)
    with caplog.at_level(logging.WARNING, logger="textrec.iam"):
        dataset.prepare()
    (images, _), = dataset.test.batches(1)
    assert images.shape == (1, 40, 300)
    assert "1 lines were wider than max_width=300" in caplog.text


def test_shuffled_batches_cover_every_line_once_bucketed_and_reproducibly(iam, cache_dir):
    lines = [iam.Line(f"a01-{form:03d}-{n:02d}", ("x",) * (n + 1), width=40 + 37 * ((form * 7 + n) % 23))
             for form in range(6) for n in range(5)]
    dataset = IamLinesDataset(path=str(iam.folder(lines)), split="all", height=16)
    dataset.prepare()

    def widths_and_labels(seed):
        out = []
        for images, labels in dataset.test.batches(4, shuffle=True, generator=torch.Generator().manual_seed(seed)):
            out.append((images.shape[2], labels.sum(1).tolist()))
        return out

    first = widths_and_labels(1)
    assert first == widths_and_labels(1)
    assert first != widths_and_labels(2)
    assert sum(len(labels) for _, labels in first) == 30
    plain = [images.shape[2] for images, _ in dataset.test.batches(4)]
    assert plain == sorted(plain)


def test_missing_images_and_empty_texts_are_skipped_with_counted_warnings(iam, cache_dir, caplog):
    folder = iam.folder([
        *iam.LINES,
        iam.Line("a01-003-00", ("no", "image"), image=False),
        iam.Line("a01-003-01", ("no", "picture"), image=False),
        iam.Line("a01-004-00", ()),
    ])
    dataset = IamLinesDataset(path=str(folder), split="all")
    with caplog.at_level(logging.WARNING, logger="textrec.iam"):
        dataset.prepare()
    assert sorted(dataset.test.ids) == sorted(line.line_id for line in iam.LINES)
    assert "2 lines have no image" in caplog.text and "a01-003-00" in caplog.text
    assert "1 lines have an empty transcription" in caplog.text


def test_unknown_characters_are_dropped_and_long_lines_skipped(iam, cache_dir, caplog):
    folder = iam.folder([
        iam.Line("a01-000u-00", ("caf\u00e9", "[ok]")),
        iam.Line("a01-000u-01", ("a" * 12,)),
    ])
    dataset = IamLinesDataset(path=str(folder), split="all", max_length=10)
    with caplog.at_level(logging.WARNING, logger="textrec.iam"):
        dataset.prepare()
    assert texts(dataset.test) == {"a01-000u-00": "caf ok"}
    assert "3 characters outside IAM's alphabet were dropped" in caplog.text
    assert "1 lines are longer than max_length=10" in caplog.text


def test_a_malformed_row_is_a_data_error_naming_the_file_and_nothing_is_cached(iam, cache_dir):
    folder = iam.folder(extra_rows=["a01-000x-01 ok 154 19 408 746 1661 A|MOVE"])
    with pytest.raises(DataError, match=r"ascii/lines.txt, line 19: expected 9 space-separated fields"):
        IamLinesDataset(path=str(folder), split="all").prepare()
    assert iam.files(cache_dir) == []


def test_an_unreadable_image_is_a_data_error_naming_it_and_nothing_is_cached(iam, cache_dir):
    folder = iam.folder()
    (folder / "lines/a01/a01-000x/a01-000x-00.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(DataError, match="cannot read the line image lines/a01/a01-000x/a01-000x-00.png"):
        IamLinesDataset(path=str(folder), split="all").prepare()
    assert iam.files(cache_dir) == []


def test_a_path_that_is_not_iam_is_a_data_error(tmp_path, cache_dir):
    with pytest.raises(DataError, match="neither a folder in IAM's layout"):
        IamLinesDataset(path=str(tmp_path), split="all").prepare()


def test_prepared_lines_are_cached_and_rebuilt_when_a_file_changes(iam, cache_dir, monkeypatch):
    folder = iam.folder()
    IamLinesDataset(path=str(folder), split="all").prepare()
    cached = iam.files(cache_dir)
    assert len(cached) == 1 and cached[0].startswith("processed/lines-")

    def no_reading(*args, **kwargs):
        raise AssertionError("read an image despite the cache")

    with monkeypatch.context() as patch:
        patch.setattr("textrec_iam.stores.decode_image", no_reading)
        again = IamLinesDataset(path=str(folder), split="all")
        again.prepare()
    assert len(again.test) == 3
    (folder / "lines/a01/a01-000x/a01-000x-00.png").write_bytes(iam.png(300, 40))
    changed = IamLinesDataset(path=str(folder), split="all", height=40)
    changed.prepare()
    assert max(changed.test.widths.tolist()) == 300


def test_named_splits_take_their_lines_from_the_shipped_lists(iam, cache_dir, caplog):
    train_id, val_id, test_id = (read_list(f"lwitlrt/{name}")[0] for name in ("tr.lst", "va2.lst", "te.lst"))
    folder = iam.folder([
        iam.Line(train_id, ("train",)), iam.Line(val_id, ("val",)), iam.Line(test_id, ("test",)),
        iam.Line("z99-999-00", ("unlisted",)),
    ])
    dataset = IamLinesDataset(path=str(folder), split="lwitlrt")
    with caplog.at_level(logging.WARNING, logger="textrec.iam"):
        dataset.prepare()
    assert (dataset.train.ids, dataset.val.ids, dataset.test.ids) == ([train_id], [val_id], [test_id])
    assert f"{6161 + 900 + 940 + 1861 - 3} lines of the lwitlrt split are not in this copy of IAM" in caplog.text


def test_writers_in_two_splits_are_reported_where_forms_txt_names_them(iam, cache_dir, caplog):
    train_id, test_id = read_list("aachen/tr.lst")[0], read_list("aachen/te.lst")[0]
    lines = [iam.Line(train_id, ("train",)), iam.Line(test_id, ("test",))]
    forms = [line_id.rsplit("-", 1)[0] for line_id in (train_id, test_id)]
    with caplog.at_level(logging.WARNING, logger="textrec.iam"):
        IamLinesDataset(path=str(iam.folder(lines, writers=dict.fromkeys(forms, "000"))), split="aachen").prepare()
        assert "1 writers have lines in more than one split (e.g. 000)" in caplog.text
        caplog.clear()
        disjoint = dict(zip(forms, ("000", "001")))
        IamLinesDataset(path=str(iam.folder(lines, writers=disjoint)), split="aachen").prepare()
        assert "writers" not in caplog.text


def test_the_real_sample_gives_eleven_lines_in_test(mirror, cache_dir):
    dataset = IamLinesDataset(path=str(mirror / "iam-sample"), split="all")
    dataset.prepare()
    assert (len(dataset.train), len(dataset.val), len(dataset.test)) == (0, 0, 11)
    read = texts(dataset.test)
    assert read["r06-137-00"] == "The doorman turned his attention"
    assert read["r06-137-06"] == "absolutely beastly, and I can't bear to think"
    assert read["r06-137-10"] == "you see?'"
    for images, labels in dataset.test.batches(4):
        assert images.shape[1] == 64 and images.shape[2] <= 2048 and labels.shape[1] == 100
        assert images.mean() < 0.2  # mostly dark background: ink is bright
