"""``textrec-augment show``: a picture of an experiment's augmenters, or a clear error (exit 2)."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from textrec_augment.cli import main

LINES = {"dataset": "EmnistLinesDataset", "model": "LineModelCtc", "network": "line_lstm_ctc",
         "dataset_args": {"char_source": "synthetic", "text_source": "builtin", "max_length": 12,
                          "num_train": 32, "num_val": 4, "num_test": 4}}


def config(**changes) -> str:
    return json.dumps({**LINES, "augmenters": ["elastic", {"name": "blur", "args": {"max_sigma": 2.0}}], **changes})


def test_show_draws_the_lines_before_after_each_augmenter_and_after_the_pipeline(tmp_path, capsys):
    out = tmp_path / "pictures" / "grid.png"
    assert main(["show", config(), "--out", str(out), "--lines", "3"]) == 0
    with Image.open(out) as picture:
        width, height = picture.size
    assert width > 3 * 100 and height > 4 * 60  # 3 lines a row; as given, elastic, blur, the pipeline
    assert sorted(p.name for p in out.parent.iterdir()) == ["grid.png"]  # written atomically, nothing left over
    assert capsys.readouterr().out == f"wrote {out}\n"


def test_the_same_seed_draws_the_same_picture(tmp_path):
    first, again, other = (tmp_path / f"{name}.png" for name in ("first", "again", "other"))
    assert main(["show", config(), "--out", str(first)]) == 0
    assert main(["show", config(), "--out", str(again)]) == 0
    assert main(["show", config(), "--out", str(other), "--seed", "1"]) == 0
    assert first.read_bytes() == again.read_bytes() != other.read_bytes()


@pytest.mark.parametrize(("arguments", "message"), [
    (["show", config(augmenters=[])], "augmenters: the config names no augmenters to show"),
    (["show", config(augmenters=[{"name": "blur", "args": {"max_sigma": 9}}])],
     "augmenters.0.args.max_sigma: must be in (0, 5], got 9"),
    (["show", config(augmenters=["smudge"])], "smudge"),
    (["show", config(), "--lines", "0"], "--lines: must be 1 to 8, got 0"),
    (["show", "{not json"], "error"),
])
def test_bad_input_exits_2_naming_the_problem_and_writes_nothing(arguments, message, tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main([*arguments, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_an_output_path_that_is_a_folder_is_refused(tmp_path, capsys):
    assert main(["show", config(), "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
