"""The status page (``GET /status``): the model served, the drift of each signal, what is kept.

A small self-contained HTML page (no script, inline style only), rendered from the same data as
``GET /healthz`` and ``GET /v1/drift``; every value shown is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

#: The page loads nothing and runs nothing.
STATUS_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

STYLE = ("body{font:15px system-ui,sans-serif;margin:2em;max-width:52em}table{border-collapse:collapse}"
         "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}.drifting{color:#b00;font-weight:bold}"
         ".ok{color:#070}code{font-size:95%}")


def render(identity: dict[str, Any], drift: dict[str, Any], corrections: bool,
           low_confidence_below: float | None) -> str:
    """The page for the model ``identity`` (as ``/healthz`` reports it), the ``drift`` report (as
    ``/v1/drift`` answers it), whether corrections are on, and the confidence below which inputs
    are kept (None: none are)."""
    model_rows = [("model", identity["model"]), ("network", identity["network"]),
                  ("predictor", identity["predictor"]), ("runtime", identity["runtime"]),
                  ("model version (digest)", identity["digest"]),
                  ("dataset version", identity["dataset_version"] or "none recorded")]
    kept = f"below confidence {low_confidence_below:g}" if low_confidence_below is not None else "off"
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>textrec-web status</title>",
        f"<style>{STYLE}</style></head><body><h1>textrec-web status</h1><h2>Model</h2><table>",
        *(f"<tr><th>{escape(name)}</th><td><code>{escape(str(value))}</code></td></tr>" for name, value in model_rows),
        "</table><h2>Drift</h2>", _drift_section(drift),
        "<h2>Kept for labeling</h2><table>",
        f"<tr><th>corrections</th><td>{'on' if corrections else 'off'}</td></tr>",
        f"<tr><th>low-confidence inputs</th><td>{escape(kept)}</td></tr></table>",
        '<p>Also: <a href="metrics">metrics</a> (Prometheus), <a href="v1/drift">drift</a> (JSON), '
        '<a href="healthz">health</a> (JSON).</p></body></html>',
    ]
    return "".join(parts)


def _drift_section(drift: dict[str, Any]) -> str:
    if not drift["enabled"]:
        return f"<p>Not measured: {escape(drift['reason'])}.</p>"
    window = drift["window"]
    rows = []
    for name, signal in drift["signals"].items():
        if signal["psi"] is None:
            psi, state = "", '<td>window filling</td>'
        else:
            psi = f"{signal['psi']:.4f}"
            state = '<td class="drifting">drifting</td>' if signal["drifting"] else '<td class="ok">stable</td>'
        reference = f"{signal['reference']['count']} {signal['reference']['split']} lines"
        rows.append(f"<tr><td>{escape(name)}</td><td>{escape(reference)}</td><td>{psi}</td>{state}</tr>")
    return (f"<p>Window: {window['requests']} of {window['size']} predictions, the latest, shared by every worker; "
            f"a signal drifts at a population stability index of {drift['threshold']:g} or above.</p>"
            "<table><tr><th>signal</th><th>reference</th><th>PSI</th><th>state</th></tr>" + "".join(rows) + "</table>")
