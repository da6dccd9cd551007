"""textrec-eval end to end: real bundles, a registered dataset, the command's outputs and exit codes.

The known-text model reads :data:`LINES`' drawn texts exactly with the greedy decoder and drops the
last character with the beam decoder, so against the labels (13 characters, 5 words):

- greedy: edits 0 + 1 + 2 + 0 = 3 characters, 0 + 1 + 1 + 0 = 2 words;
- beam: edits 1 + 1 + 3 + 1 = 6 characters, 1 + 1 + 1 + 1 = 4 words;
- per-line greedy CER 0, 1/5, 2/3, 0: worst first lines 2, 1, then 0 before 3 (ties by index);
- every reading has confidence 1, so each decoder's lines fall in the top reliability bin, with
  mean character accuracy (1 + 4/5 + 1/3 + 1) / 4 greedy and (2/3 + 4/5 + 0 + 1/2) / 4 beam.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from textrec_eval.report import RELIABILITY_FILE, REPORT_FILE


def test_metrics_per_decoder_and_worst_lines_in_json(run_eval, known_bundle, tiny_data):
    status, out, err = run_eval(known_bundle, tiny_data, "--json", "--worst", "3", "--batch-size", "3")
    assert status == 0, err
    result = json.loads(out)
    assert set(result) == {"bundle", "data", "split", "lines", "normalization", "ranked_by", "decoders",
                           "calibration", "worst", "baseline"}
    assert result["split"] == "test"
    assert result["lines"] == 4 and result["ranked_by"] == "greedy" and result["bundle"] == known_bundle
    assert result["data"] == {"dataset": "tiny_lines", "dataset_args": {}}
    assert list(result["decoders"]) == ["greedy", "beam"]
    greedy, beam = result["decoders"]["greedy"], result["decoders"]["beam"]
    assert set(greedy) == {"cer", "wer", "seconds", "lines_per_second"}
    assert greedy["cer"] == pytest.approx(3 / 13) and greedy["wer"] == pytest.approx(2 / 5)
    assert beam["cer"] == pytest.approx(6 / 13) and beam["wer"] == pytest.approx(4 / 5)
    assert greedy["seconds"] > 0 and greedy["lines_per_second"] == pytest.approx(4 / greedy["seconds"])
    assert [line["index"] for line in result["worst"]] == [2, 1, 0]
    assert result["worst"][0] == {
        "index": 2, "id": "line-2", "truth": "cab",
        "readings": {"greedy": {"text": "a", "cer": pytest.approx(2 / 3), "confidence": 1.0, "agreement": None},
                     "beam": {"text": "", "cer": 1.0, "confidence": 1.0, "agreement": None}},
    }
    assert result["worst"][1]["readings"]["greedy"]["text"] == "ab ca"
    assert list(result["calibration"]["greedy"]) == ["confidence"]  # no agreement: not an ensemble
    for decoder, accuracy in (("greedy", (1 + 0.8 + 1 / 3 + 1) / 4), ("beam", (2 / 3 + 0.8 + 0 + 0.5) / 4)):
        table = result["calibration"][decoder]["confidence"]
        assert table["bins"] == [{"low": 0.9, "high": 1.0, "lines": 4, "score": 1.0,
                                  "accuracy": pytest.approx(accuracy), "exact": 0.5 if decoder == "greedy" else 0.0}]
        assert table["ece"] == pytest.approx(1 - accuracy)


def test_the_table_shows_each_decoder_and_the_worst_lines(run_eval, known_bundle, tiny_data):
    status, out, _ = run_eval(known_bundle, tiny_data, "--worst", "1")
    assert status == 0
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith(("greedy", "beam"))}
    assert rows["greedy"][:2] == ["0.2308", "0.4000"] and rows["beam"][:2] == ["0.4615", "0.8000"]
    assert rows["greedy"][3:] == ["0.2167", "-"]  # ECE of the confidence; no agreement
    assert "worst 1 lines by greedy CER:" in out
    assert "#2 line-2  CER 0.667" in out and "'cab'" in out and "#1 " not in out


def test_decoders_option_chooses_and_orders_the_decoders(run_eval, known_bundle, tiny_data):
    status, out, _ = run_eval(known_bundle, tiny_data, "--json", "--decoders", "beam", "--worst", "2")
    assert status == 0
    result = json.loads(out)
    assert list(result["decoders"]) == ["beam"] and result["ranked_by"] == "beam"
    # beam per-line CER: 1/3, 1/5, 1, 1/2
    assert [line["index"] for line in result["worst"]] == [2, 3]


def test_the_saved_decoder_reads_as_the_bundle_was_saved(run_eval, known_bundle, tiny_data):
    status, out, _ = run_eval(known_bundle, tiny_data, "--json", "--decoders", "saved,beam", "--worst", "0")
    assert status == 0
    decoders = json.loads(out)["decoders"]
    assert list(decoders) == ["saved", "beam"]  # the bundle was saved reading greedily: 3 of 13 characters
    assert (decoders["saved"]["cer"], decoders["beam"]["cer"]) == (pytest.approx(3 / 13), pytest.approx(6 / 13))


def test_a_model_without_decoder_argument_is_read_its_own_way(run_eval, own_reading_bundle, tiny_data):
    bundle = own_reading_bundle
    status, out, _ = run_eval(bundle, tiny_data, "--json", "--worst", "0")
    assert status == 0
    result = json.loads(out)
    assert list(result["decoders"]) == ["default"] and result["worst"] == []
    assert result["decoders"]["default"]["cer"] == pytest.approx(3 / 13)
    status, _, err = run_eval(bundle, tiny_data, "--decoders", "greedy")
    assert status == 2 and "--decoders: model OwnReadingModel has no decoder argument" in err


def test_an_untrained_ctc_bundle_is_evaluated_with_greedy_and_beam(run_eval, ctc_bundle, tiny_data):
    status, out, err = run_eval(ctc_bundle, tiny_data, "--json", "--batch-size", "2")
    assert status == 0, err
    result = json.loads(out)
    assert list(result["decoders"]) == ["greedy", "beam"] and result["lines"] == 4
    for metrics in result["decoders"].values():
        assert metrics["cer"] >= 0 and metrics["wer"] >= 0 and metrics["lines_per_second"] > 0
    assert len(result["worst"]) == 4


def test_html_report_shows_the_worst_lines_with_images_and_highlights(run_eval, known_bundle, tiny_data, tmp_path):
    report_dir = tmp_path / "report"
    status, _, err = run_eval(known_bundle, tiny_data, "--save-report", str(report_dir), "--worst", "4")
    assert status == 0, err
    assert sorted(p.name for p in report_dir.iterdir()) == sorted([RELIABILITY_FILE, REPORT_FILE])
    for name in (REPORT_FILE, RELIABILITY_FILE):
        assert (report_dir / name).stat().st_mode & 0o777 == 0o644
    assert Image.open(report_dir / RELIABILITY_FILE).format == "PNG"
    page = (report_dir / REPORT_FILE).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "0.2308" in page and "0.4615" in page
    assert "<img alt='reliability diagram' src='data:image/png;base64," in page
    assert "CER 0.667, confidence 1.000</td>" in page
    for truth in ("abc", "ab cc", "cab", "bb"):
        assert f"<td class='text truth'>{truth}</td>" in page
    # line 2: truth "cab" read "a": the reading misses "c" and "b"
    assert "<del>c</del>a<del>b</del>" in page
    # line 1: truth "ab cc" read "ab ca"
    assert "ab c<del>c</del>" in page and "ab c<ins>a</ins>" in page
    assert page.index("#2 line-2") < page.index("#1 line-1") < page.index("#0 line-0") < page.index("#3 line-3")
    uris = [part.split('"')[0] for part in page.split('<img alt="line 2" src="data:image/png;base64,')[1:]]
    image = Image.open(io.BytesIO(base64.b64decode(uris[0])))
    assert image.size == (18, 28)  # line 2 draws "a": its bar ends at column 18, the black columns after it trimmed
    assert image.getpixel((0, 0)) == 255 and image.getpixel((12, 5)) < 255  # dark ink on light paper


def test_an_iam_folder_is_read_with_iam_lines_split_all(run_eval, known_bundle, tmp_path, install_iam_stub):
    folder = tmp_path / "iam"
    (folder / "ascii").mkdir(parents=True)
    (folder / "lines").mkdir()
    (folder / "ascii" / "lines.txt").write_text("# none\n", encoding="utf-8")
    status, _, err = run_eval(known_bundle, str(folder))
    assert status == 2 and "unknown dataset 'iam_lines'" in err and "textrec-iam" in err and "Traceback" not in err
    arguments = install_iam_stub()
    status, out, err = run_eval(known_bundle, str(folder), "--json")
    assert status == 0, err
    assert arguments == {"path": str(folder), "split": "all"}
    assert json.loads(out)["data"] == {"dataset": "iam_lines", "dataset_args": arguments}


@pytest.mark.parametrize(("data", "message"), [
    ("{not json", "DATA: not valid JSON"),
    ("[1, 2]", "DATA: expected a dataset config JSON object"),
    ('{"dataset": "tiny_lines", "model": "x"}', "model: unknown key"),
    ('{"dataset_args": {}}', "dataset: required key missing"),
    ('{"dataset": "tiny_lines", "dataset_args": []}', "dataset_args: expected an object"),
    ('{"dataset": "tiny_lines", "dataset_args": {"count": "two"}}', "dataset_args.count: expected int"),
    ('{"dataset": "tiny_lines", "dataset_args": {"count": 9}}', "dataset_args.count: must be 1 to 4, got 9"),
    ('{"dataset": "tiny_lines", "dataset_args": {"size": 9}}', "dataset_args.size: unknown argument"),
    ('{"dataset": "iam_ondb"}', "unknown dataset 'iam_ondb'"),
])
def test_bad_data_exits_2_with_one_paragraph(run_eval, known_bundle, data, message):
    status, out, err = run_eval(known_bundle, data)
    assert status == 2 and out == ""
    assert err.startswith("textrec-eval: error: ") and message in err and "Traceback" not in err


def test_a_folder_not_in_iam_layout_exits_2(run_eval, known_bundle, tmp_path):
    status, _, err = run_eval(known_bundle, str(tmp_path))
    assert status == 2 and "a folder without ascii/lines.txt" in err


def test_bad_bundles_exit_2(run_eval, known_bundle, tmp_path, tiny_data):
    status, _, err = run_eval(str(tmp_path / "missing"), tiny_data)
    assert status == 2 and "is not a textrec model bundle" in err
    (Path(known_bundle) / "weights.pt").write_bytes(b"not weights")
    status, _, err = run_eval(known_bundle, tiny_data)
    assert status == 2 and "cannot read weights" in err
    meta = Path(known_bundle) / "bundle.json"
    meta.write_text(meta.read_text().replace('"KnownTextModel"', '"AbsentModel"'))
    status, _, err = run_eval(known_bundle, tiny_data)
    assert status == 2 and "unknown model 'AbsentModel'" in err


def test_unknown_decoder_exits_2(run_eval, known_bundle, tiny_data):
    status, _, err = run_eval(known_bundle, tiny_data, "--decoders", "greedy,viterbi")
    assert status == 2 and "--decoders: decoder: must be 'greedy' or 'beam', got 'viterbi'" in err


@pytest.mark.parametrize("options", [
    ["--batch-size", "0"], ["--worst", "-1"], ["--decoders", "greedy,,beam"], ["--decoders", "beam,beam"],
])
def test_bad_options_exit_2(run_eval, known_bundle, tiny_data, options, capsys):
    with pytest.raises(SystemExit) as exited:
        run_eval(known_bundle, tiny_data, *options)
    assert exited.value.code == 2 and "textrec-eval: error: argument" in capsys.readouterr().err


def test_report_path_that_is_a_file_exits_2(run_eval, known_bundle, tiny_data, tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    status, _, err = run_eval(known_bundle, tiny_data, "--save-report", str(target))
    assert status == 2 and "--save-report: " in err and target.read_text() == "x"


def test_a_data_error_exits_1_and_leaves_no_report(run_eval, known_bundle, tmp_path):
    report_dir = tmp_path / "report"
    report_dir.mkdir()
    data = json.dumps({"dataset": "tiny_lines", "dataset_args": {"fail_after": 1}})
    status, out, err = run_eval(known_bundle, data, "--batch-size", "2", "--save-report", str(report_dir))
    assert status == 1 and out == ""
    assert err.strip() == "textrec-eval: DataError: line image lines/x.png is corrupt"
    assert list(report_dir.iterdir()) == []


def test_a_failed_report_write_leaves_the_old_report_and_no_partial_file(run_eval, known_bundle, tiny_data, tmp_path,
                                                                          monkeypatch):
    report_dir = tmp_path / "report"
    report_dir.mkdir()
    (report_dir / REPORT_FILE).write_text("old report")
    write_bytes = Path.write_bytes

    def half_then_fail(self, data):
        write_bytes(self, data[: len(data) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_bytes", half_then_fail)
    status, out, err = run_eval(known_bundle, tiny_data, "--save-report", str(report_dir))
    assert status == 1 and out == "" and "cannot write the report" in err and "disk full" in err
    assert [p.name for p in report_dir.iterdir()] == [REPORT_FILE]
    assert (report_dir / REPORT_FILE).read_text() == "old report"


def test_an_empty_test_split_exits_1(run_eval, known_bundle):
    status, _, err = run_eval(known_bundle, '{"dataset": "EmptyLines"}')
    assert status == 1 and "the split holds no lines" in err



def test_split_val_reads_the_validation_split(run_eval, known_bundle):
    # EmptyLines' test split is empty, its validation split holds the four lines
    status, out, err = run_eval(known_bundle, '{"dataset": "EmptyLines"}', "--split", "val", "--json")
    assert status == 0, err
    result = json.loads(out)
    assert result["split"] == "val" and result["lines"] == 4
    assert result["decoders"]["greedy"]["cer"] == pytest.approx(3 / 13)
    status, out, _ = run_eval(known_bundle, '{"dataset": "EmptyLines"}', "--split", "val")
    assert status == 0 and ", val split: 4 lines" in out


def test_baseline_compares_each_decoder_on_the_same_lines(run_eval, known_bundle, short_bundle, tiny_data):
    # known greedy edits 0, 1, 2, 0; short greedy (known's beam) 1, 1, 3, 1: 3 of 13 characters fewer, better on
    # lines 0, 2 and 3, tied on line 1; a resample is no better only when it draws line 1 four times (1 / 4 ** 4)
    status, out, err = run_eval(known_bundle, tiny_data, "--baseline", short_bundle, "--decoders", "greedy", "--json")
    assert status == 0, err
    result = json.loads(out)
    assert list(result["decoders"]) == ["greedy", "greedy (baseline)"]
    assert result["decoders"]["greedy (baseline)"]["cer"] == pytest.approx(6 / 13)
    baseline = result["baseline"]
    assert baseline["bundle"] == short_bundle and baseline["resamples"] == 10_000 and baseline["level"] == 0.95
    greedy = baseline["decoders"]["greedy"]
    assert list(baseline["decoders"]) == ["greedy"]
    assert greedy["cer"] == pytest.approx(3 / 13) and greedy["baseline_cer"] == pytest.approx(6 / 13)
    assert greedy["difference"] == pytest.approx(-3 / 13)
    assert (greedy["lines_better"], greedy["lines_worse"]) == (3, 0)
    assert greedy["better_share"] == pytest.approx(1 - 1 / 4 ** 4, abs=0.003)
    assert -1 / 2 <= greedy["low"] <= greedy["high"] < 0  # the worst resample: line 3 four times, 4 of 8 fewer

    status, out, _ = run_eval(known_bundle, tiny_data, "--baseline", short_bundle)
    assert status == 0
    assert f"against {short_bundle} (the same lines; interval: 95% of the differences over 10000 paired" in out
    row = next(line for line in out.splitlines() if line.startswith("greedy ") and "[" in line).split()
    assert row[:4] == ["greedy", "0.2308", "0.4615", "-0.2308"] and row[-3:] == ["3", "/", "0"]
    assert "greedy (baseline)" in out and "beam (baseline)" in out


def test_the_report_shows_the_comparison_with_the_baseline(run_eval, known_bundle, short_bundle, tiny_data, tmp_path):
    status, _, err = run_eval(known_bundle, tiny_data, "--baseline", short_bundle, "--decoders", "greedy",
                              "--save-report", str(tmp_path / "report"))
    assert status == 0, err
    page = (tmp_path / "report" / REPORT_FILE).read_text()
    assert f"<h2>Against {short_bundle}</h2>" in page
    assert "<td>greedy</td><td>0.2308</td><td>0.4615</td><td>-0.2308</td>" in page and "<td>3 / 0</td>" in page
    status, _, _ = run_eval(known_bundle, tiny_data, "--save-report", str(tmp_path / "alone"))
    assert status == 0 and "Against" not in (tmp_path / "alone" / REPORT_FILE).read_text()


def test_a_bundle_against_itself_differs_by_nothing(run_eval, known_bundle, tiny_data):
    status, out, _ = run_eval(known_bundle, tiny_data, "--baseline", known_bundle, "--json")
    assert status == 0
    for comparison in json.loads(out)["baseline"]["decoders"].values():
        assert comparison["difference"] == comparison["low"] == comparison["high"] == 0
        assert comparison["better_share"] == 0 and comparison["lines_better"] == comparison["lines_worse"] == 0
    status, out, _ = run_eval(known_bundle, tiny_data, "--json")
    assert json.loads(out)["baseline"] is None


def test_a_baseline_that_cannot_read_the_same_ways_exits_2(run_eval, known_bundle, own_reading_bundle, tiny_data,
                                                           tmp_path):
    status, out, err = run_eval(known_bundle, tiny_data, "--baseline", own_reading_bundle)
    assert status == 2 and out == ""
    assert ("--baseline: model OwnReadingModel of " in err and "has no decoder argument, while the bundle reads "
            "with greedy, beam: a baseline must read the same ways" in err)
    status, _, err = run_eval(own_reading_bundle, tiny_data, "--baseline", known_bundle)
    assert status == 2 and "reads with decoders, while the bundle reads its own way" in err
    status, _, err = run_eval(known_bundle, tiny_data, "--baseline", str(tmp_path / "missing"))
    assert status == 2 and "is not a textrec model bundle" in err
