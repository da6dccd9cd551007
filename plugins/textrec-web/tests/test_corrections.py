"""The corrections folder: text checks, polarity, line ids, the cap, concurrent writers (threads and
processes) and reading the folder back with ``IamLinesDataset`` (real files, no model)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from textrec_iam.images import prepare_line
from textrec_iam.layout import LINES_TXT, image_path
from textrec_iam.lines_txt import parse_lines_txt
from textrec_web import SettingsError
from textrec_web.corrections import MAX_TEXT_CHARS, CorrectionStore, check_text, correction_id, next_number, on_paper
from textrec_web.errors import ApiError

BIG = 100 * 1024 * 1024


def line_image(k: int) -> np.ndarray:
    """Test line ``k``: dark ink on light paper, ``64 + k`` pixels wide (so each is told by its width)."""
    image = np.full((32, 64 + k), 245, dtype=np.uint8)
    image[8:24, 4 : 8 + k % 50] = 10
    image[12:14, :] = 60
    return image


def stored_image(folder: Path, line_id: str) -> np.ndarray:
    with Image.open(folder / image_path(line_id)) as png:
        assert png.mode == "L"
        return np.asarray(png)


@pytest.mark.parametrize(("text", "stored"), [
    ("the dog", "the dog"),
    ("  Mr . Gaitskell , the  ", "Mr. Gaitskell, the"),  # read back in IAM's spelling
    ("naïve café", "naïve café"),
    ("don\u2019t", "don\u2019t"),
    ("x" * MAX_TEXT_CHARS, "x" * MAX_TEXT_CHARS),
])
def test_texts_are_kept_as_the_dataset_reads_them(text, stored):
    assert check_text(text) == stored


@pytest.mark.parametrize(("text", "code", "named"), [
    ("", "empty_text", "empty"),
    (" \xa0 ", "empty_text", "empty"),
    ("a|b", "invalid_text", "'|'"),
    ("two\nlines", "invalid_text", "U+000A"),
    ("two\r\nlines", "invalid_text", "U+000A, U+000D"),
    ("a\u2028b", "invalid_text", "U+2028"),
    ("tab\there", "invalid_text", "U+0009"),
    ("x" * (MAX_TEXT_CHARS + 1), "text_too_long", f"at most {MAX_TEXT_CHARS}"),
])
def test_texts_the_format_cannot_carry_are_refused_by_name(text, code, named):
    with pytest.raises(ApiError) as refused:
        check_text(text)
    assert (refused.value.status, refused.value.code) == (400, code)
    assert named in refused.value.message


def test_images_are_stored_dark_on_light_as_the_predictor_reads_them():
    paper = line_image(5)
    assert np.array_equal(on_paper(paper), paper)
    assert np.array_equal(on_paper(255 - paper), paper)  # light ink on dark is inverted


def test_line_ids_count_through_lines_forms_and_groups():
    assert [correction_id(n) for n in (0, 99, 100, 123_456, 9_999_999)] == [
        "w00-000-00", "w00-000-99", "w00-001-00", "w01-234-56", "w99-999-99"]
    rows = ("#comment\na01-000u-00 ok 0 0 0 0 10 10 IAM's|own\n"
            "w00-001-07 ok 0 0 0 0 1 1 x\nw00-000-09 ok 0 0 0 0 1 1 y\n")
    assert next_number(rows) == 108
    assert next_number("") == 0 and next_number("a01-000u-00 ok 0 0 0 0 1 1 x\n") == 0


def test_two_corrections_are_read_back_by_the_iam_dataset(tmp_path, read_corrections):
    folder = tmp_path / "corrections"
    store = CorrectionStore(folder, BIG)
    first = store.add(line_image(3), check_text("the quick fox"))
    second = store.add(255 - line_image(40), check_text("Mr . Gaitskell , the"))  # light ink on dark
    assert (first, second) == ("w00-000-00", "w00-000-01")
    rows = (folder / LINES_TXT).read_text(encoding="utf-8").splitlines()
    assert rows == ["w00-000-00 ok 0 0 0 0 67 32 the|quick|fox", "w00-000-01 ok 0 0 0 0 104 32 Mr.|Gaitskell,|the"]
    assert np.array_equal(stored_image(folder, first), line_image(3))
    assert np.array_equal(stored_image(folder, second), line_image(40))

    lines = read_corrections(folder)
    assert {line_id: text for line_id, (text, _) in lines.items()} == {
        first: "the quick fox", second: "Mr. Gaitskell, the"}
    for line_id, k in ((first, 3), (second, 40)):
        assert np.array_equal(lines[line_id][1], prepare_line(line_image(k), height=64, max_width=2048)[0])


def test_a_correction_past_the_cap_is_refused_and_writes_nothing(tmp_path):
    probe = tmp_path / "probe"
    CorrectionStore(probe, BIG).add(line_image(7), "a line")
    needed = (probe / LINES_TXT).stat().st_size + (probe / image_path("w00-000-00")).stat().st_size

    folder = tmp_path / "full"
    (folder / "notes").mkdir(parents=True)
    (folder / "notes" / "other.bin").write_bytes(bytes(5000))  # any file counts
    with pytest.raises(ApiError) as refused:
        CorrectionStore(folder, 5000 + needed - 1).add(line_image(7), "a line")
    assert (refused.value.status, refused.value.code) == (507, "corrections_full")
    assert "holds 5000 bytes" in refused.value.message and f"needs {needed} more" in refused.value.message
    assert not (folder / LINES_TXT).exists() and not (folder / "lines").exists()
    assert CorrectionStore(folder, 5000 + needed).add(line_image(7), "a line") == "w00-000-00"  # fits exactly


def test_a_folder_that_cannot_be_written_is_a_settings_error(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(SettingsError, match="corrections_dir .*a-file/sub.*cannot write there"):
        CorrectionStore(tmp_path / "a-file" / "sub", BIG)


#: A writer process: says it is ready (the file ``ready`` among its images), then stores each image,
#: labeled ``line <stem>``, once the start file exists,
#: and prints the ``[(k, line id)]`` it stored as JSON. (A script, not a function: spawned processes
#: cannot import a test module, which pytest imports by path.)
WRITER = """
import json, sys, time
from pathlib import Path
import numpy as np
from PIL import Image
from textrec_web.corrections import CorrectionStore
folder, images, start, cap = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
store = CorrectionStore(folder, cap)
lines = {int(p.stem): np.asarray(Image.open(p)) for p in sorted(images.glob("*.png"))}
(images / "ready").touch()
while not start.exists():
    time.sleep(0.005)
print(json.dumps([(k, store.add(image, f"line {k}")) for k, image in lines.items()]))
"""


def start_writer(folder: Path, images: Path, start: Path, numbers: list[int]) -> subprocess.Popen:
    """A :data:`WRITER` process storing test lines ``numbers`` (written as PNGs into ``images`` first)."""
    images.mkdir(parents=True)
    for k in numbers:
        Image.fromarray(line_image(k)).save(images / f"{k}.png")
    return subprocess.Popen([sys.executable, "-c", WRITER, str(folder), str(images), str(start), str(BIG)],
                            stdout=subprocess.PIPE, text=True)


def test_concurrent_writers_get_distinct_ids_and_leave_a_whole_folder(tmp_path, read_corrections):
    folder = tmp_path / "corrections"
    store = CorrectionStore(folder, BIG)
    processes, per_writer = 2, 8
    start = tmp_path / "start"
    writers = [start_writer(folder, tmp_path / f"writer-{i}", start, list(range(i * per_writer, (i + 1) * per_writer)))
               for i in range(processes)]
    threaded = list(range(processes * per_writer, (processes + 1) * per_writer))
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"writer-{i}" / "ready").exists() for i in range(processes)):
        assert time.monotonic() < deadline, "the writer processes never got ready"
        time.sleep(0.01)
    start.touch()  # everyone writes at once
    with ThreadPoolExecutor(max_workers=4) as pool:  # threads of this process write at the same time
        stored = list(zip(threaded, pool.map(lambda k: store.add(line_image(k), f"line {k}"), threaded)))
    for writer in writers:
        out, _ = writer.communicate(timeout=120)
        assert writer.returncode == 0
        stored += [tuple(pair) for pair in json.loads(out)]

    total = (processes + 1) * per_writer
    assert sorted(line_id for _, line_id in stored) == [correction_id(n) for n in range(total)]
    records = parse_lines_txt((folder / LINES_TXT).read_text(encoding="utf-8").splitlines())  # no id twice
    assert {r.line_id: r.text for r in records} == {line_id: f"line {k}" for k, line_id in stored}
    for k, line_id in stored:
        assert np.array_equal(stored_image(folder, line_id), line_image(k))
    lines = read_corrections(folder)
    assert {line_id: text for line_id, (text, _) in lines.items()} == {line_id: f"line {k}" for k, line_id in stored}
    assert not list(folder.rglob(".*"))  # no temporary file left
