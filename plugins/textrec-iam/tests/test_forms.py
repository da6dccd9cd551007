"""Lines cropped from IAM's form scans by the form XML: generated XML (entities, ``err`` lines, a
line without boxes, an empty line, bad XML) and scans, as folders, FKI's archives and the FSDL
zip; the real scanned form of ../shared/mirror/iam-sample; the FSDL download from a loopback host."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pytest
from PIL import Image

from textrec_core.errors import ChecksumError, DataError
from textrec_iam import IamLinesDataset
from textrec_iam.form_store import CROP_PADDING, FormStore
from textrec_iam.sources import FSDL_SHA256, locate

FORM_SIZE = (600, 400)  # width, height of the generated forms at "full resolution"


def attribute(text: str) -> str:
    """An XML attribute value written as IAM writes it: ``&quot;``, ``&apos;`` and ``&amp;`` entities."""
    return '"' + escape(text, {'"': "&quot;", "'": "&apos;"}) + '"'


def form_xml(form_id: str, writer: str, lines: list[tuple[str, str, list[tuple[str, list[tuple[int, ...]]]]]],
             size: tuple[int, int] = FORM_SIZE) -> bytes:
    """A form XML as IAM writes it: ``lines`` of (line id, segmentation, words of (text, cmp boxes))."""
    parts = [f'<?xml version="1.0" encoding="ISO-8859-1"?>\n<form created="2002-09-24" height="{size[1]}" '
             f'id="{form_id}" width="{size[0]}" writer-id="{writer}">\n<machine-printed-part>\n'
             '<machine-print-line text="A MOVE to stop Mr. Gaitskell"/>\n</machine-printed-part>\n'
             '<handwritten-part>\n']
    for line_id, segmentation, words in lines:
        text = " ".join(word for word, _ in words)
        parts.append(f'<line id="{line_id}" text={attribute(text)} segmentation="{segmentation}" threshold="154" '
                     'asx="0" asy="0" dsx="0" dsy="0">\n')
        for index, (word, boxes) in enumerate(words):
            parts.append(f'<word id="{line_id}-{index:02d}" tag="NN" text={attribute(word)}>\n')
            parts += [f'<cmp x="{x}" y="{y}" width="{w}" height="{h}"/>\n' for x, y, w, h in boxes]
            parts.append("</word>\n")
        parts.append("</line>\n")
    parts.append("</handwritten-part>\n</form>\n")
    return "".join(parts).encode("iso-8859-1")


def scan(size: tuple[int, int], boxes: list[tuple[int, int, int, int]], scale: float = 1.0) -> np.ndarray:
    """A form scan at ``scale`` of ``size``: light paper (230) with dark ink (20) filling ``boxes``."""
    pixels = np.full((round(size[1] * scale), round(size[0] * scale)), 230, dtype=np.uint8)
    for x, y, w, h in boxes:
        pixels[round(y * scale) : round((y + h) * scale), round(x * scale) : round((x + w) * scale)] = 20
    return pixels


def encoded(pixels: np.ndarray, kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format=kind, **({"quality": 95} if kind == "JPEG" else {}))
    return out.getvalue()


#: Two forms: entities, an ``err`` line, a line without any box, an empty line.
BOXES = {"a01-000u-00": [(40, 50, 120, 30), (170, 45, 80, 40)], "a01-000u-01": [(40, 120, 300, 36)],
         "a01-000x-00": [(60, 60, 200, 50)]}
FORMS = {
    "a01-000u": form_xml("a01-000u", "000", [
        ("a01-000u-00", "ok", [("A", BOXES["a01-000u-00"][:1]), ('"MOVE"', BOXES["a01-000u-00"][1:])]),
        ("a01-000u-01", "err", [("Mr. Gaitskell's", BOXES["a01-000u-01"]), (",", [])]),
        ("a01-000u-02", "ok", [("boxless", [])]),
    ]),
    "a01-000x": form_xml("a01-000x", "001", [("a01-000x-00", "ok", [("M Ps", BOXES["a01-000x-00"])]),
                                              ("a01-000x-01", "ok", [])]),
}


def form_files(scale: float = 1.0, kind: str = "PNG") -> dict[str, bytes]:
    """The two forms' XML (``xml/<form>.xml``) and scans (``forms/<form>.<ext>``)."""
    files = {}
    for form_id, xml in FORMS.items():
        files[f"xml/{form_id}.xml"] = xml
        boxes = [box for line_id, line_boxes in BOXES.items() if line_id.startswith(form_id) for box in line_boxes]
        files[f"forms/{form_id}.{'png' if kind == 'PNG' else 'jpg'}"] = encoded(scan(FORM_SIZE, boxes, scale), kind)
    return files


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def write_tgz(path: Path, files: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def write_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(f"iamdb/{name}", data)
    return path


def prepared(path: Path | str, **kwargs) -> IamLinesDataset:
    dataset = IamLinesDataset(path=str(path), split="all", height=32, **kwargs)
    dataset.prepare()
    return dataset


def test_lines_are_cropped_from_their_forms_by_the_union_of_their_boxes(tmp_path, cache_dir, caplog):
    dataset = prepared(write_tree(tmp_path / "iam", form_files()))
    texts = {line_id: dataset.mapping.decode(row.tolist()).replace("<pad>", "")
             for line_id, row in zip(dataset.test.ids, dataset.test.labels)}
    # entities unescaped, tokens joined as lines.txt's are
    assert texts == {"a01-000u-00": 'A "MOVE"', "a01-000u-01": "Mr. Gaitskell's,", "a01-000x-00": "M Ps"}
    assert "1 lines have no image" in caplog.text and "a01-000u-02" in caplog.text  # no <cmp>: skipped, counted
    assert "1 lines have an empty transcription" in caplog.text
    store = FormStore([tmp_path / "iam"], [tmp_path / "iam"])
    crops = dict(store.images(["lines/a01/a01-000u/a01-000u-00.png", "lines/a01/a01-000x/a01-000x-00.png"]))
    first = crops["lines/a01/a01-000u/a01-000u-00.png"]
    # union of (40, 50, 120, 30) and (170, 45, 80, 40) is (40, 45, 210, 40), padded on every side
    assert first.shape == (40 + 2 * CROP_PADDING, 210 + 2 * CROP_PADDING)
    assert (first[:CROP_PADDING] == 230).all()
    assert (first[CROP_PADDING + 5, CROP_PADDING : CROP_PADDING + 120] == 20).all()
    assert crops["lines/a01/a01-000x/a01-000x-00.png"].shape == (50 + 2 * CROP_PADDING, 200 + 2 * CROP_PADDING)
    rows = store.lines_txt()
    assert rows[1] == "a01-000u-01 err 154 1 40 120 300 36 Mr. Gaitskell's|,"
    assert store.forms_txt() == ["a01-000u 000", "a01-000x 001"]


def test_fki_archives_and_the_half_resolution_fsdl_zip_give_the_same_lines(tmp_path, cache_dir):
    files = form_files()
    xml = {name.removeprefix("xml/"): data for name, data in files.items() if name.startswith("xml/")}
    write_tgz(tmp_path / "fki" / "xml.tgz", xml)
    for archive, form_id in (("formsA-D.tgz", "a01-000u"), ("formsE-H.tgz", "none"), ("formsI-Z.tgz", "a01-000x")):
        write_tgz(tmp_path / "fki" / archive, {name.removeprefix("forms/"): data for name, data in files.items()
                                                if name.startswith(f"forms/{form_id}")})
    from_archives = prepared(tmp_path / "fki")
    from_folder = prepared(write_tree(tmp_path / "folder", files))
    for a, f in zip(from_archives.test.batches(3), from_folder.test.batches(3)):
        assert a[0].equal(f[0]) and a[1].equal(f[1])
    (tmp_path / "fsdl").mkdir()
    write_zip(tmp_path / "fsdl" / "iamdb.zip", form_files(scale=0.5, kind="JPEG"))
    half = prepared(tmp_path / "fsdl")
    assert sorted(half.test.ids) == sorted(from_folder.test.ids)
    half_widths = dict(zip(half.test.ids, half.test.widths.tolist()))
    assert [half_widths[i] for i in from_folder.test.ids] == pytest.approx(from_folder.test.widths.tolist(), abs=2)


@pytest.mark.parametrize("xml, problem", [
    (b"<form id='a01-000u' writer-id='000' width='600' height='400'><handwritten-part>", "not well-formed XML"),
    (b"<page/>", "root element is <page>"),
    (b"<form id='a01-000u' writer-id='000' width='wide' height='400'/>", "width='wide' is not an integer"),
])
def test_bad_form_xml_is_a_data_error_naming_the_file_and_nothing_is_cached(tmp_path, cache_dir, xml, problem):
    files = form_files()
    files["xml/a01-000u.xml"] = xml
    with pytest.raises(DataError, match=problem) as raised:
        prepared(write_tree(tmp_path / "iam", files))
    assert "xml/a01-000u.xml" in str(raised.value)
    assert not cache_dir.exists() or not any(cache_dir.rglob("*"))


def test_a_folder_without_any_form_xml_is_a_data_error(tmp_path, cache_dir):
    (tmp_path / "iam" / "xml").mkdir(parents=True)
    with pytest.raises(DataError, match="no IAM form XML"):
        prepared(tmp_path / "iam")


REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "mirror" / "iam-sample"
PAGE_CORNER = (322, 706)  # where the handwritten part lies on the form (../shared/mirror/README.md)


@pytest.mark.skipif(not (REAL / "page").is_dir(), reason="../shared/mirror/iam-sample is not beside the repo")
def test_crops_of_the_real_scanned_form_match_iams_own_line_crops(tmp_path, cache_dir):
    page = np.asarray(Image.open(REAL / "page" / "r06-137-handwritten-part.png").convert("L"))
    form = np.full((3542, 2479), 255, dtype=np.uint8)
    form[PAGE_CORNER[1] : PAGE_CORNER[1] + page.shape[0], PAGE_CORNER[0] : PAGE_CORNER[0] + page.shape[1]] = page
    lines = []
    for row in (REAL / "ascii" / "lines.txt").read_text().splitlines():
        if row.startswith("#"):
            continue
        line_id, segmentation, _, _, x, y, w, h, text = row.split(" ", 8)
        x, y, w, h = map(int, (x, y, w, h))
        halves = [(x, y, w // 2, h), (x + w // 2, y, w - w // 2, h)]  # two components whose union is the box
        lines.append((line_id, segmentation, [(token, [box]) for token, box in zip(text.split("|"), halves)]
                      + [(token, []) for token in text.split("|")[2:]]))
    write_tree(tmp_path / "iam", {"xml/r06-137.xml": form_xml("r06-137", "552", lines, size=(2479, 3542)),
                                  "forms/r06-137.png": encoded(form)})
    store = FormStore([tmp_path / "iam"], [tmp_path / "iam"])
    ids = [line[0] for line in lines]
    crops = dict(store.images([f"lines/r06/r06-137/{i}.png" for i in ids]))
    assert len(crops) == 11
    for line_id in ids:
        official = np.asarray(Image.open(REAL / "lines" / "r06" / "r06-137" / f"{line_id}.png").convert("L"))
        crop = crops[f"lines/r06/r06-137/{line_id}.png"]
        inner = crop[CROP_PADDING : CROP_PADDING + official.shape[0], CROP_PADDING : CROP_PADDING + official.shape[1]]
        assert inner.shape == official.shape and np.array_equal(inner, official), line_id


def test_the_fsdl_zip_is_downloaded_verified_and_read(http_file_server, tmp_path, cache_dir, monkeypatch):
    monkeypatch.delenv("TEXTREC_DATA_MIRROR", raising=False)
    body = write_zip(tmp_path / "iamdb.zip", form_files(scale=0.5, kind="JPEG")).read_bytes()
    url = http_file_server.serve("iam/iamdb.zip", body)
    import hashlib

    store = locate(None, "fsdl", fsdl_url=url, fsdl_sha256=hashlib.sha256(body).hexdigest())
    assert [row.split()[0] for row in store.lines_txt()][:2] == ["a01-000u-00", "a01-000u-01"]
    assert (cache_dir / "iamdb.zip").read_bytes() == body
    os.remove(cache_dir / "iamdb.zip")
    with pytest.raises(ChecksumError):  # the published digest is checked: these bytes are not FSDL's
        locate(None, "fsdl", fsdl_url=url, fsdl_sha256=FSDL_SHA256)
    assert sorted(p.name for p in cache_dir.iterdir()) == []


def test_an_unreachable_fsdl_host_is_a_data_error_naming_the_alternatives(http_file_server, cache_dir, monkeypatch):
    monkeypatch.delenv("TEXTREC_DATA_MIRROR", raising=False)
    with pytest.raises(DataError, match="unreachable for some users; use source 'official'.*dataset_args.path"):
        locate(None, "fsdl", fsdl_url=http_file_server.url("missing/iamdb.zip"))
