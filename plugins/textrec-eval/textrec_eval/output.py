"""The evaluation as a JSON-ready dict (``--json``) and as a readable table (stdout by default).

JSON schema::

    {"bundle": str, "data": {"dataset": str, "dataset_args": {...}}, "lines": int, "normalization": str,
     "ranked_by": str,
     "decoders": {NAME: {"cer": float, "wer": float, "seconds": float, "lines_per_second": float}},
     "worst": [{"index": int, "id": str | null, "truth": str,
                "readings": {NAME: {"text": str, "cer": float}}}]}

``decoders`` keeps the order read; ``worst`` is sorted by the per-line CER of decoder ``ranked_by``
(the first), worst first.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from textrec_eval.evaluate import Evaluation
from textrec_eval.text import NORMALIZATION


def as_dict(evaluation: Evaluation, bundle: str, data: dict[str, Any]) -> dict[str, Any]:
    """The evaluation in the JSON schema of the module docstring; ``data`` is the dataset config."""
    return {
        "bundle": bundle,
        "data": data,
        "lines": evaluation.lines,
        "normalization": NORMALIZATION,
        "ranked_by": next(iter(evaluation.metrics)),
        "decoders": {name: asdict(metrics) for name, metrics in evaluation.metrics.items()},
        "worst": [
            {"index": line.index, "id": line.id, "truth": line.truth,
             "readings": {name: {"text": text, "cer": line.cers[name]} for name, text in line.readings.items()}}
            for line in evaluation.worst
        ],
    }


def as_table(evaluation: Evaluation, bundle: str, data: str) -> str:
    """The evaluation as text: a header, one row per decoder, then the worst lines."""
    width = max(7, *map(len, evaluation.metrics))
    lines = [f"{bundle} on {data}: {evaluation.lines} lines (texts normalised by {NORMALIZATION})", "",
             f"{'decoder':<{width}}  {'CER':>7}  {'WER':>7}  {'lines/s':>9}"]
    for name, m in evaluation.metrics.items():
        lines.append(f"{name:<{width}}  {m.cer:>7.4f}  {m.wer:>7.4f}  {m.lines_per_second:>9.1f}")
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
