"""``textrec-data import``: both export formats round-trip into a dataset that IamLinesDataset reads;
every quality gate counts what it excludes; bad exports are clear errors that write nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from textrec_data.cli import main
from textrec_data.shapes import Box
from textrec_iam import IamLinesDataset
from textrec_iam.alphabet import IAM_MAPPING

TEXTS = ("A MOVE to stop", "Mr. Gaitskell", "from")


def run(*args: str | Path) -> int:
    return main([str(a) for a in args])


def metadata(version: Path) -> dict:
    import tomllib

    return tomllib.loads((version / "metadata.toml").read_text(encoding="utf-8"))


def texts_read_back(version: Path) -> dict[str, str]:
    """Line id -> text, as IamLinesDataset reads the whole version."""
    dataset = IamLinesDataset(path=str(version), split="all", height=32)
    dataset.prepare()
    spelled = [dataset.mapping.spell(row.tolist()) for _, labels in dataset.test.batches(64) for row in labels]
    return dict(zip(dataset.test.ids, spelled))


def crops(version: Path) -> dict[str, np.ndarray]:
    return {p.stem: np.asarray(Image.open(p)) for p in sorted((version / "lines").rglob("*.png"))}


def test_label_studio_round_trip_cuts_level_rotated_and_polygon_lines(lab, tmp_path, capsys):
    lab.draw_page(tmp_path / "media" / "upload" / "1" / "page.png")
    export = lab.write_json(tmp_path / "export.json", [lab.ls_task(1, "/data/upload/1/page.png", lab.three_lines())])
    assert run("import", export, tmp_path / "ds", "--images", tmp_path / "media") == 0
    version = tmp_path / "ds" / "v1"
    assert sorted(texts_read_back(version).values()) == sorted(TEXTS)
    level, rotated, polygon = crops(version).values()
    assert level.shape == (30, 200) and (level == lab.INK).all()
    assert rotated.shape == (30, 240)  # sampled along the box: level, its own width and height
    assert (rotated[3:-3, 3:-3] == lab.INK).mean() > 0.99
    assert polygon.shape == (50, 260)
    assert polygon[0, 0] == lab.PAPER and polygon[0, -1] == lab.PAPER  # outside the polygon: paper
    assert polygon[2, 25] == lab.INK and polygon[-2, 5] == lab.INK and polygon[25, 130] == lab.INK
    out = capsys.readouterr().out
    assert "3 lines from 1 pages" in out and "nothing excluded" in out and "dataset version v1" in out


def test_dataturks_round_trip(lab, tmp_path):
    lab.draw_page(tmp_path / "page.png")
    regions = [lab.dt_rectangle(lab.LEVEL, TEXTS[0]), lab.dt_polygon(lab.POLYGON, TEXTS[2])]
    page = lab.dataturks_page("page.png", regions)
    export = tmp_path / "export.jsonl"
    export.write_text(json.dumps(page) + "\n", encoding="utf-8")
    assert run("import", export, tmp_path / "ds") == 0
    version = tmp_path / "ds" / "v1"
    assert sorted(texts_read_back(version).values()) == sorted([TEXTS[0], TEXTS[2]])
    assert metadata(version)["source"]["format"] == "dataturks"
    umask = os.umask(0)
    os.umask(umask)
    assert version.stat().st_mode & 0o777 == 0o777 & ~umask  # readable by others, not mkdtemp's 0700


def test_every_gate_counts_what_it_excludes(lab, tmp_path, http_file_server, capsys):
    for name in ("a", "b", "c", "d"):
        lab.draw_page(tmp_path / f"{name}.png", seed=ord(name))
    (tmp_path / "broken.png").write_bytes(b"not an image")
    lab.draw_page(tmp_path / "copy-of-a.png", seed=ord("a"))
    served = http_file_server.serve("d.png", (tmp_path / "d.png").read_bytes(), mode="unavailable_once")
    tasks = [
        lab.ls_task(1, "a.png", [
            lab.ls_box("ok", lab.LEVEL), lab.ls_text("ok", "kept"),
            lab.ls_box("dup", lab.LEVEL), lab.ls_text("dup", "the same outline again"),
            lab.ls_box("empty", lab.ROTATED), lab.ls_text("empty", "   "),
            lab.ls_polygon("two", ((10.0, 10.0), (50.0, 50.0))), lab.ls_text("two", "two points"),
            lab.ls_box("off", Box(580, 380, 100, 100)), lab.ls_text("off", "mostly off the page"),
            lab.ls_box("flat", Box(10, 10, 100, 1)), lab.ls_text("flat", "one pixel high"),
            lab.ls_box("nolink", POLYGON_BOX), lab.ls_text("elsewhere", "linked to no outline"),
            lab.ls_box("bar", Box(300, 40, 100, 30)), lab.ls_text("bar", "a|b"),
            lab.ls_box("euro", Box(300, 330, 100, 30)), lab.ls_text("euro", "5 €"),
            {"id": "bad", "type": "rectanglelabels", "value": {"x": "left"}},
        ]),
        lab.ls_task(2, "b.png", None),  # not annotated yet
        lab.ls_task(3, http_file_server.url("404.png"), lab.three_lines()),
        lab.ls_task(4, "missing.png", lab.three_lines()),
        lab.ls_task(5, "broken.png", lab.three_lines()),
        lab.ls_task(6, "copy-of-a.png", lab.three_lines()),
        lab.ls_task(7, served, lab.three_lines("d")),
    ]
    export = lab.write_json(tmp_path / "export.json", tasks)
    assert run("import", export, tmp_path / "ds", "--alphabet", "iam", "--retries", "2") == 0
    meta = metadata(tmp_path / "ds" / "v1")
    assert meta["gates"] == {
        "missing_image": 6, "unreadable_image": 3, "duplicate_page": 3, "not_reviewed": 1, "malformed_region": 1,
        "degenerate_shape": 2, "out_of_image": 1, "duplicate_region": 1, "empty_transcription": 2,
        "unwritable_text": 1, "outside_alphabet": 1, "unlinked_transcription": 1,
    }
    assert meta["counts"]["lines"] == 1 + 3  # "kept" on a.png, and d.png's three once its server answered
    assert meta["counts"]["unlabeled"] == 2  # the whitespace text and the outline whose text is linked elsewhere
    assert http_file_server.requests.count("/d.png") == 2  # a 503, then the page: tried again
    assert http_file_server.requests.count("/404.png") == 1  # a 404 is final
    out = capsys.readouterr().out
    assert "missing_image: 6" in out and "HTTP 404" in out and "task 1, region euro: '5 €'" in out


#: An outline whose transcription has another id (so it has none, and the transcription is unlinked).
POLYGON_BOX = Box(60, 250, 260, 50)


def test_dataturks_review_status_and_rejections_are_gates(lab, tmp_path):
    for name in ("a", "b", "c"):
        lab.draw_page(tmp_path / f"{name}.png", seed=ord(name))
    pages = [lab.dataturks_page("a.png", [lab.dt_rectangle(lab.LEVEL, "reviewed")]),
             lab.dataturks_page("b.png", [lab.dt_rectangle(lab.LEVEL, "x"), lab.dt_polygon(lab.POLYGON, "y")],
                                status="skipped"),
             lab.dataturks_page("c.png", [lab.dt_rectangle(lab.LEVEL, "z")], evaluation="INCORRECT")]
    export = tmp_path / "export.jsonl"
    export.write_text("".join(json.dumps(p) + "\n" for p in pages), encoding="utf-8")
    assert run("import", export, tmp_path / "ds") == 0
    meta = metadata(tmp_path / "ds" / "v1")
    assert meta["gates"] == {"not_reviewed": 2, "rejected_in_review": 1}
    assert meta["counts"]["lines"] == 1


@pytest.mark.parametrize("content, problem", [
    ("[{\"id\": 1, \"data\": ", "neither a Label Studio JSON export"),
    ("{\"tasks\": []}", "its top level is a dict"),
    ("\"just a string\"", "its top level is a str"),
    ("{\"content\": \"a.png\"}\n{broken\n", "line 2"),
    ("{\"no\": \"content\"}\n", "'content'"),
    ("{\"content\": \"a.png\"}\n{\"no\": \"content\"}\n", "line 2: a Dataturks page is an object with 'content'"),
])
def test_an_export_in_neither_format_is_a_clear_error_that_writes_nothing(tmp_path, capsys, content, problem):
    export = tmp_path / "export.json"
    export.write_text(content, encoding="utf-8")
    assert run("import", export, tmp_path / "ds") == 2
    assert problem in capsys.readouterr().err
    assert not (tmp_path / "ds").exists()


def test_a_failed_import_leaves_no_version_and_no_temporary_folder(lab, tmp_path, monkeypatch):
    lab.draw_page(tmp_path / "a.png")
    export = lab.write_json(tmp_path / "export.json", [lab.ls_task(1, "a.png", lab.three_lines())])

    def disk_full(path, image):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("textrec_data.versions._write_png", disk_full)
    with pytest.raises(OSError):
        run("import", export, tmp_path / "ds")
    assert list((tmp_path / "ds").iterdir()) == []


def test_new_versions_say_what_changed_and_leave_the_old_ones_as_they_were(lab, tmp_path, capsys):
    for name in ("a", "b", "c"):
        lab.draw_page(tmp_path / f"{name}.png", seed=ord(name))
    first = lab.write_json(tmp_path / "one.json",
                           [lab.ls_task(1, "a.png", lab.three_lines()), lab.ls_task(2, "b.png", lab.three_lines())])
    assert run("import", first, tmp_path / "ds") == 0
    v1 = tmp_path / "ds" / "v1"
    before = {p: p.read_bytes() for p in v1.rglob("*") if p.is_file()}
    relabeled = lab.three_lines(texts=("A MOVE to stop", "Mr. Gaitskell said", "from"))
    second = lab.write_json(tmp_path / "two.json",
                            [lab.ls_task(1, "a.png", relabeled), lab.ls_task(3, "c.png", lab.three_lines())])
    assert run("import", second, tmp_path / "ds") == 0
    assert "changes since v1: 3 added, 3 removed, 1 relabeled" in capsys.readouterr().out
    v2 = metadata(tmp_path / "ds" / "v2")
    assert v2["version"] == 2 and v2["previous"] == 1
    assert v2["changes"] == {"added": 3, "removed": 3, "relabeled": 1}
    assert {p: p.read_bytes() for p in v1.rglob("*") if p.is_file()} == before
    assert run("import", second, tmp_path / "ds") == 0  # the same export again
    assert "nothing changed since v2" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == ["v1", "v2"]
    assert run("versions", tmp_path / "ds") == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].startswith("v1") and "+3 -3 ~1" in listing[1]


def test_pages_never_cross_parts_and_keep_their_part_in_later_versions(lab, tmp_path):
    tasks = []
    for n in range(30):
        lab.draw_page(tmp_path / f"p{n}.png", seed=n)
        tasks.append(lab.ls_task(n, f"p{n}.png", lab.three_lines()))
    assert run("import", lab.write_json(tmp_path / "e.json", tasks), tmp_path / "ds", "--val-fraction", "0.2",
               "--test-fraction", "0.2") == 0
    assert run("import", lab.write_json(tmp_path / "f.json", tasks[5:]), tmp_path / "ds", "--val-fraction", "0.2",
               "--test-fraction", "0.2") == 0

    def parts(version: Path) -> dict[str, str]:
        sources = [json.loads(row) for row in (version / "sources.jsonl").read_text().splitlines()]
        part_of_line = {i: part for part in ("train", "val", "test")
                        for i in (version / "splits" / f"{part}.lst").read_text().split()}
        pages: dict[str, set[str]] = {}
        for source in sources:
            pages.setdefault(source["page"], set()).add(part_of_line[source["line"]])
        assert all(len(p) == 1 for p in pages.values())  # every page's lines in one part
        return {page: p.pop() for page, p in pages.items()}

    first, second = parts(tmp_path / "ds" / "v1"), parts(tmp_path / "ds" / "v2")
    assert set(first.values()) == {"train", "val", "test"}
    assert all(first[page] == part for page, part in second.items())


def test_iam_lines_reads_a_version_with_its_own_split_version_and_alphabet(lab, tmp_path):
    tasks = []
    for n in range(12):
        lab.draw_page(tmp_path / f"p{n}.png", seed=n)
        tasks.append(lab.ls_task(n, f"p{n}.png", lab.three_lines(texts=("5 € paid", "Mr. Gaitskell", "from"))))
    assert run("import", lab.write_json(tmp_path / "e.json", tasks), tmp_path / "receipts", "--val-fraction", "0.25",
               "--test-fraction", "0.25") == 0
    version = tmp_path / "receipts" / "v1"
    dataset = IamLinesDataset(path=str(version), height=32)
    assert dataset.version.startswith("receipts v1 sha256:")
    assert "€" in dataset.mapping and len(dataset.mapping) == len(IAM_MAPPING) + 1
    dataset.prepare()
    lists = {part: set((version / "splits" / f"{part}.lst").read_text().split()) for part in ("train", "val", "test")}
    assert {part: set(getattr(dataset, part).ids) for part in lists} == lists
    spelled = {dataset.mapping.spell(row.tolist()) for _, labels in dataset.train.batches(64) for row in labels}
    assert "5 € paid" in spelled
