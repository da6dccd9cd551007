"""``textrec-data verify``: every file digest and the manifest digest are recomputed; any mismatch
exits 1 naming the file, a folder that is no dataset version exits 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from textrec_data.cli import main


@pytest.fixture
def version(lab, tmp_path) -> Path:
    lab.draw_page(tmp_path / "a.png")
    export = lab.write_json(tmp_path / "export.json", [lab.ls_task(1, "a.png", lab.three_lines())])
    assert main(["import", str(export), str(tmp_path / "ds")]) == 0
    return tmp_path / "ds" / "v1"


def test_an_untouched_version_verifies(version, capsys):
    assert main(["verify", str(version)]) == 0
    assert "OK, 8 files match" in capsys.readouterr().out  # 3 crops, lines.txt, 3 split lists, sources.jsonl


@pytest.mark.parametrize("tamper, expected", [
    (lambda v: (v / "lines/p00/p00-000/p00-000-01.png").write_bytes(b"edited"),
     "changed: lines/p00/p00-000/p00-000-01.png"),
    (lambda v: (v / "ascii/lines.txt").unlink(), "missing: ascii/lines.txt"),
    (lambda v: (v / "splits/extra.lst").write_text("p00-000-00\n"), "not in the manifest: splits/extra.lst"),
    (lambda v: (v / "metadata.toml").write_text((v / "metadata.toml").read_text().replace(
        '"splits/test.lst" = "', '"splits/test.lst" = "0')), "metadata.toml was edited"),
])
def test_any_mismatch_exits_1_naming_it(version, capsys, tamper, expected):
    tamper(version)
    assert main(["verify", str(version)]) == 1
    assert expected in capsys.readouterr().err


def test_a_folder_that_is_no_version_exits_2(tmp_path, capsys):
    assert main(["verify", str(tmp_path)]) == 2
    assert "is not a textrec dataset version (no metadata.toml)" in capsys.readouterr().err
    (tmp_path / "metadata.toml").write_text('format = "something else"\n')
    assert main(["verify", str(tmp_path)]) == 2
    assert "is not a textrec dataset's metadata" in capsys.readouterr().err
