"""``--save-report DIR``: DIR/report.html, one self-contained page to look at the worst lines.

Summary metrics on top, the comparison with a ``--baseline`` where there is one, then the
reliability diagram (:mod:`textrec_eval.plots`, also written as DIR/reliability.png), then the
worst lines, worst first: each line's image (a PNG data URI, drawn dark ink on light paper), its
truth and every decoder's reading, with the differing characters highlighted (a
:class:`difflib.SequenceMatcher` alignment of truth and reading: ``<del>`` marks truth characters
the reading misses or replaces, ``<ins>`` reading characters that are extra or wrong), with each
reading's confidence (and an ensemble's agreement). Each file is written atomically: a failed run
leaves no partial page or picture.
"""

from __future__ import annotations

import base64
import difflib
import io
from html import escape
from pathlib import Path

import numpy as np
from PIL import Image

from textrec_core.services.fileio import atomic_write
from textrec_eval.comparison import LEVEL, RESAMPLES, Comparisons
from textrec_eval.evaluate import Evaluation
from textrec_eval.metrics import LineResult
from textrec_eval.plots import reliability_png
from textrec_eval.text import NORMALIZATION

REPORT_FILE = "report.html"
RELIABILITY_FILE = "reliability.png"
#: The report's permissions: a page to share, like any file a user writes (umask 022).
REPORT_MODE = 0o644

STYLE = """
body { font-family: sans-serif; margin: 2em; }
table.summary td, table.summary th { padding: 0.2em 1em; text-align: right; }
.line { border-top: 1px solid #ccc; padding: 0.8em 0; }
.line img { max-width: 100%; border: 1px solid #eee; }
.text { font-family: monospace; font-size: 1.1em; white-space: pre-wrap; }
del { background: #fbb; text-decoration: none; }
ins { background: #bfb; text-decoration: none; }
"""


def png_data_uri(image: np.ndarray) -> str:
    """``image`` (uint8, bright ink on dark) as a ``data:image/png;base64,`` URI, dark ink on light."""
    buffer = io.BytesIO()
    Image.fromarray(255 - image).save(buffer, format="PNG")
    return data_uri(buffer.getvalue())


def data_uri(png: bytes) -> str:
    """PNG bytes as a ``data:image/png;base64,`` URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def highlight(truth: str, reading: str) -> tuple[str, str]:
    """HTML of ``truth`` and ``reading``, escaped, with ``<del>`` around the truth's characters the
    reading misses or replaces and ``<ins>`` around the reading's extra or replacing characters."""
    truth_html, reading_html = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, truth, reading, autojunk=False).get_opcodes():
        if op == "equal":
            truth_html.append(escape(truth[i1:i2]))
            reading_html.append(escape(reading[j1:j2]))
            continue
        if i2 > i1:
            truth_html.append(f"<del>{escape(truth[i1:i2])}</del>")
        if j2 > j1:
            reading_html.append(f"<ins>{escape(reading[j1:j2])}</ins>")
    return "".join(truth_html), "".join(reading_html)


def _line_html(line: LineResult, ranked_by: str) -> str:
    """One line: heading, image, the plain truth, then per decoder the truth as that decoder missed it
    (``<del>``) and its reading (``<ins>``)."""
    name = f" {escape(line.id)}" if line.id is not None else ""
    rows = [f"<tr><th>truth</th><td class='text truth'>{escape(line.truth)}</td><td></td></tr>"]
    for decoder, reading in line.readings.items():
        truth_html, reading_html = highlight(line.truth, reading)
        agreement = line.agreements[decoder]
        scores = f"confidence {line.confidences[decoder]:.3f}" + (
            f", agreement {agreement:.3f}" if agreement is not None else "")
        rows.append(f"<tr><th>missed by {escape(decoder)}</th><td class='text'>{truth_html}</td><td></td></tr>"
                    f"<tr><th>{escape(decoder)}</th><td class='text'>{reading_html}</td>"
                    f"<td>CER {line.cers[decoder]:.3f}, {scores}</td></tr>")
    return (f"<div class='line'><div>#{line.index}{name}: {escape(ranked_by)} CER {line.cers[ranked_by]:.3f}</div>"
            f'<img alt="line {line.index}" src="{png_data_uri(line.image)}"><table>' + "".join(rows)
            + "</table></div>")


def _comparison_html(comparisons: Comparisons) -> str:
    """The table of the bundle's decoders against the baseline's."""
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{c.cer:.4f}</td><td>{c.baseline_cer:.4f}</td><td>{c.difference:+.4f}</td>"
        f"<td>[{c.low:+.4f}, {c.high:+.4f}]</td><td>{c.better_share:.1%}</td><td>{c.lines_better} / {c.lines_worse}"
        "</td></tr>" for name, c in comparisons.decoders.items())
    return (f"<h2>Against {escape(comparisons.baseline)}</h2><p>The same lines; the interval holds {LEVEL:.0%} of the "
            f"differences over {RESAMPLES} paired resamples of the lines.</p><table class='summary'><tr><th>decoder"
            "</th><th>CER</th><th>baseline</th><th>difference</th><th>interval</th><th>better in</th>"
            f"<th>lines better / worse</th></tr>{rows}</table>")


def render(evaluation: Evaluation, bundle: str, data: str, reliability: bytes,
           comparisons: Comparisons | None = None) -> str:
    """The report page as one HTML string, with the ``reliability`` diagram (PNG bytes) inlined and
    the ``comparisons`` with a baseline where there are any."""
    ranked_by = next(iter(evaluation.metrics))
    summary = "".join(
        f"<tr><td>{escape(name)}</td><td>{m.cer:.4f}</td><td>{m.wer:.4f}</td><td>{m.lines_per_second:.1f}</td></tr>"
        for name, m in evaluation.metrics.items()
    )
    lines = "".join(_line_html(line, ranked_by) for line in evaluation.worst)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>textrec-eval report</title>"
        f"<style>{STYLE}</style></head><body><h1>textrec-eval</h1>"
        f"<p>{escape(bundle)} on {escape(data)}: {evaluation.lines} lines, texts normalised by {NORMALIZATION}.</p>"
        "<table class='summary'><tr><th>decoder</th><th>CER</th><th>WER</th><th>lines/s</th></tr>"
        f"{summary}</table>{'' if comparisons is None else _comparison_html(comparisons)}"
        f"<h2>Reliability</h2><img alt='reliability diagram' src='{data_uri(reliability)}'>"
        f"<h2>Worst {len(evaluation.worst)} lines by {escape(ranked_by)} CER</h2>{lines}"
        "</body></html>\n"
    )


def write_report(directory: Path, evaluation: Evaluation, bundle: str, data: str,
                 comparisons: Comparisons | None = None) -> Path:
    """Write ``directory/reliability.png`` and ``directory/report.html``, each atomically (rendered
    before the file is opened) and readable by all (:data:`REPORT_MODE`, not the temporary file's
    owner-only mode); returns the page's path."""
    reliability = reliability_png(evaluation)
    page = render(evaluation, bundle, data, reliability, comparisons)
    publish(Path(directory) / RELIABILITY_FILE, reliability)
    return publish(Path(directory) / REPORT_FILE, page.encode("utf-8"))


def publish(path: Path, content: bytes) -> Path:
    """Write ``content`` to ``path`` atomically, readable by all."""

    def write(tmp: Path) -> None:
        tmp.write_bytes(content)
        tmp.chmod(REPORT_MODE)

    return atomic_write(path, write)
