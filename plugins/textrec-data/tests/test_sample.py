"""Real handwriting through the loop's first steps: IAM-OnDB's test forms drawn as pages
(``textrec-data sample-export``, from the data mirror) are imported in both formats, and every
labeled line comes back with its text, the unlabeled ones kept apart."""

from __future__ import annotations

import json

import pytest

from textrec_data.cli import main
from textrec_iam import IamLinesDataset


def exported_texts(export) -> list[str | None]:
    """Every outlined line's transcription (None where it has none), as the export gives them."""
    if export.suffix == ".json":
        texts = []
        for task in json.loads(export.read_text()):
            results = task["annotations"][0]["result"]
            linked = {r["id"]: r["value"]["text"][0] for r in results if r["type"] == "textarea"}
            texts += [linked.get(r["id"]) for r in results if r["type"] != "textarea"]
        return texts
    pages = [json.loads(line) for line in export.read_text().splitlines()]
    return [a["notes"] or None for page in pages for a in page["annotation"]]


@pytest.mark.parametrize("export_format", ["label-studio", "dataturks"])
def test_sample_pages_of_real_handwriting_import_line_for_line(mirror, tmp_path, export_format):
    assert main(["sample-export", str(tmp_path / "labels"), "--pages", "3", "--format", export_format,
                 "--missing", "0.2", "--seed", "1"]) == 0
    export = next((tmp_path / "labels").glob("export.*"))
    texts = exported_texts(export)
    assert main(["import", str(export), str(tmp_path / "ds")]) == 0
    version = tmp_path / "ds" / "v1"
    dataset = IamLinesDataset(path=str(version), split="all")
    dataset.prepare()
    read = sorted(dataset.mapping.spell(row.tolist()) for _, labels in dataset.test.batches(64) for row in labels)
    assert read == sorted(t for t in texts if t is not None)
    assert len(list((version / "unlabeled").iterdir())) == sum(t is None for t in texts) > 0
    assert main(["verify", str(version)]) == 0
