"""The evaluation as a JSON-ready dict (``--json``) and as a readable table (stdout by default).

JSON schema::

    {"bundle": str, "data": {"dataset": str, "dataset_args": {...}}, "split": "test" | "val", "lines": int,
     "normalization": str,
     "ranked_by": str,
     "decoders": {NAME: {"cer": float, "wer": float, "seconds": float, "lines_per_second": float}},
     "calibration": {NAME: {SCORE: {"ece": float, "bins": [{"low": float, "high": float, "lines": int,
                                                             "score": float, "accuracy": float, "exact": float}]}}},
     "worst": [{"index": int, "id": str | null, "truth": str,
                "readings": {NAME: {"text": str, "cer": float, "confidence": float, "agreement": float | null}}}],
     "baseline": null | {"bundle": str, "resamples": int, "level": float,
                         "decoders": {NAME: {"cer": float, "baseline_cer": float, "difference": float, "low": float,
                                             "high": float, "better_share": float, "lines_better": int,
                                             "lines_worse": int}}}}

``decoders`` keeps the order read; ``worst`` is sorted by the per-line CER of decoder ``ranked_by``
(the first), worst first. ``calibration`` has per decoder the SCORE ``confidence``, and
``agreement`` for an ensemble (:mod:`textrec_eval.calibration`); ``agreement`` of a reading is
null unless the bundle is an ensemble. With ``--baseline``, ``decoders``, ``calibration`` and the
readings hold the baseline's readers too (``NAME (baseline)``), and ``baseline`` compares each of the
bundle's decoders with the baseline's (:class:`~textrec_eval.comparison.Comparison`).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from textrec_eval.comparison import LEVEL, RESAMPLES, Comparisons
from textrec_eval.evaluate import Evaluation
from textrec_eval.text import NORMALIZATION


def as_dict(evaluation: Evaluation, bundle: str, data: dict[str, Any], split: str = "test",
            comparisons: Comparisons | None = None) -> dict[str, Any]:
    """The evaluation in the JSON schema of the module docstring; ``data`` is the dataset config,
    ``split`` the split read, ``comparisons`` the bundle's decoders against a baseline's."""
    return {
        "bundle": bundle,
        "data": data,
        "split": split,
        "lines": evaluation.lines,
        "normalization": NORMALIZATION,
        "ranked_by": next(iter(evaluation.metrics)),
        "decoders": {name: asdict(metrics) for name, metrics in evaluation.metrics.items()},
        "calibration": {name: {score: asdict(table) for score, table in tables.items()}
                        for name, tables in evaluation.reliability.items()},
        "worst": [
            {"index": line.index, "id": line.id, "truth": line.truth,
             "readings": {name: {"text": text, "cer": line.cers[name], "confidence": line.confidences[name],
                                 "agreement": line.agreements[name]}
                          for name, text in line.readings.items()}}
            for line in evaluation.worst
        ],
        "baseline": None if comparisons is None else {
            "bundle": comparisons.baseline, "resamples": RESAMPLES, "level": LEVEL,
            "decoders": {name: asdict(comparison) for name, comparison in comparisons.decoders.items()}},
    }


def as_table(evaluation: Evaluation, bundle: str, data: str, split: str = "test",
             comparisons: Comparisons | None = None) -> str:
    """The evaluation as text: a header, one row per decoder, the ``comparisons`` with a baseline
    where there are any, then the worst lines."""
    width = max(7, *map(len, evaluation.metrics))
    lines = [f"{bundle} on {data}, {split} split: {evaluation.lines} lines (texts normalised by {NORMALIZATION})", "",
             f"{'decoder':<{width}}  {'CER':>7}  {'WER':>7}  {'lines/s':>9}  {'ECE conf.':>9}  {'ECE agr.':>8}"]
    for name, m in evaluation.metrics.items():
        tables = evaluation.reliability[name]
        agreement = f"{tables['agreement'].ece:>8.4f}" if "agreement" in tables else f"{'-':>8}"
        lines.append(f"{name:<{width}}  {m.cer:>7.4f}  {m.wer:>7.4f}  {m.lines_per_second:>9.1f}  "
                     f"{tables['confidence'].ece:>9.4f}  {agreement}")
    if comparisons is not None:
        lines += ["", f"against {comparisons.baseline} (the same lines; interval: {LEVEL:.0%} of the differences over "
                      f"{RESAMPLES} paired resamples of the lines):",
                  f"{'decoder':<{width}}  {'CER':>7}  {'baseline':>8}  {'difference':>10}  {'interval':>19}  "
                  f"{'better in':>9}  {'lines better/worse':>18}"]
        for name, c in comparisons.decoders.items():
            lines.append(f"{name:<{width}}  {c.cer:>7.4f}  {c.baseline_cer:>8.4f}  {c.difference:>+10.4f}  "
                         f"{f'[{c.low:+.4f}, {c.high:+.4f}]':>19}  {c.better_share:>9.1%}  "
                         f"{f'{c.lines_better} / {c.lines_worse}':>18}")
    if evaluation.worst:
        first = next(iter(evaluation.metrics))
        lines += ["", f"worst {len(evaluation.worst)} lines by {first} CER:"]
        label = max(5, *map(len, evaluation.metrics))
        for line in evaluation.worst:
            name = f" {line.id}" if line.id is not None else ""
            lines.append(f"  #{line.index}{name}  CER {line.cers[first]:.3f}")
            lines.append(f"    {'truth':<{label}}  {line.truth!r}")
            for decoder, text in line.readings.items():
                lines.append(f"    {decoder:<{label}}  {text!r}  (CER {line.cers[decoder]:.3f})")
    return "\n".join(lines)
