"""A sweep's results in its folder: ``results.csv``, ``results.md`` and two pictures.

One row per trial: its number, state (complete, pruned, failed, running), the metric's value (the
best epoch's), each parameter, minutes taken, when it ended (minutes since the sweep's first
start) and its run folder. ``trials.png`` draws the metric of every finished trial over time,
with the best so far; ``parameters.png`` the
metric against each parameter. Every file is written atomically.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import optuna

from textrec_core.reports import pyplot
from textrec_core.services.fileio import atomic_write
from textrec_sweep.spec import Sweep
from textrec_sweep.study import RUN_DIR_ATTR

FILES = ("results.csv", "results.md", "trials.png", "parameters.png")


def rows(study: optuna.Study, sweep: Sweep) -> list[dict[str, Any]]:
    """The table's rows, by trial number: ``minutes`` a trial took, and ``ended`` (minutes from the
    sweep's first start to the trial's end)."""
    trials = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    starts = [t.datetime_start for t in trials if t.datetime_start is not None]
    table = []
    for trial in trials:
        done = trial.datetime_complete
        minutes = (done - trial.datetime_start).total_seconds() / 60 if done and trial.datetime_start else None
        ended = (done - min(starts)).total_seconds() / 60 if done and starts else None
        table.append({"trial": trial.number, "state": trial.state.name.lower(), sweep.metric: trial.value,
                      **{name: trial.params.get(name) for name in sweep.parameters},
                      "minutes": round(minutes, 2) if minutes is not None else None,
                      "ended": round(ended, 2) if ended is not None else None,
                      "run": trial.user_attrs.get(RUN_DIR_ATTR, "")})
    return table


def markdown(table: list[dict[str, Any]]) -> str:
    """The rows as a markdown table (empty cells for missing values)."""
    if not table:
        return "no trials yet\n"
    columns = list(table[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in table:
        lines.append("| " + " | ".join(_cell(row[c]) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def write_results(folder: Path, study: optuna.Study, sweep: Sweep) -> list[Path]:
    """Write the table and the pictures into ``folder``; their paths."""
    table = rows(study, sweep)
    text = io.StringIO()
    if table:
        writer = csv.DictWriter(text, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    written = [atomic_write(folder / "results.csv", lambda tmp: tmp.write_text(text.getvalue(), encoding="utf-8")),
               atomic_write(folder / "results.md", lambda tmp: tmp.write_text(markdown(table), encoding="utf-8"))]
    finished = [row for row in table if row[sweep.metric] is not None]
    return written + [_plot_trials(folder / "trials.png", finished, sweep),
                      _plot_parameters(folder / "parameters.png", finished, sweep)]


def _plot_trials(path: Path, finished: list[dict[str, Any]], sweep: Sweep) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    best = min if sweep.goal == "minimize" else max
    in_order = sorted(finished, key=lambda row: row["ended"])
    so_far: list[float] = []
    for row in in_order:
        so_far.append(row[sweep.metric] if not so_far else best(so_far[-1], row[sweep.metric]))
    for state, marker in (("complete", "o"), ("pruned", "x")):
        points = [(row["ended"], row[sweep.metric]) for row in in_order if row["state"] == state]
        if points:
            ax.plot(*zip(*points), marker, linestyle="", label=state)
    if so_far:
        ax.step([row["ended"] for row in in_order], so_far, where="post", color="grey",
                label=f"best so far ({sweep.goal})")
    ax.set(xlabel="minutes since the sweep started (trial ended)", ylabel=sweep.metric,
           title=f"{sweep.method} sweep: {sweep.metric}")
    ax.legend()
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)
    return path


def _plot_parameters(path: Path, finished: list[dict[str, Any]], sweep: Sweep) -> Path:
    plt = pyplot()
    names = list(sweep.parameters)
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.5), squeeze=False)
    for ax, name in zip(axes[0], names):
        points = [(row[name], row[sweep.metric]) for row in finished]
        numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x, _ in points)
        xs = [x if numeric else str(x) for x, _ in points]
        ax.plot(xs, [y for _, y in points], "o", linestyle="")
        if numeric and getattr(sweep.parameters[name], "log", False):
            ax.set_xscale("log")
        ax.set(xlabel=name, ylabel=sweep.metric)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)
    return path
