"""The reliability diagram of an evaluation: mean accuracy against mean score, per decoder and score."""

from __future__ import annotations

import io

from textrec_core.reports import pyplot
from textrec_eval.evaluate import Evaluation

#: Line style per score: confidence solid, agreement dashed.
STYLES = {"confidence": "-", "agreement": "--"}


def reliability_png(evaluation: Evaluation) -> bytes:
    """A PNG of two panels: per decoder and score, each bin's mean character accuracy against its mean
    score (a calibrated score lies on the diagonal), and how many lines fall in each bin."""
    plt = pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(5.5, 6.5), height_ratios=(3, 1), sharex=True)
    top.plot([0, 1], [0, 1], color="grey", linewidth=0.8, label="calibrated")
    for name, tables in evaluation.reliability.items():
        for score, table in tables.items():
            label = f"{name} {score} (ECE {table.ece:.3f})"
            centres = [item.score for item in table.bins]
            line, = top.plot(centres, [item.accuracy for item in table.bins], STYLES.get(score, ":"), marker="o",
                             label=label)
            bottom.plot([(item.low + item.high) / 2 for item in table.bins], [item.lines for item in table.bins],
                        STYLES.get(score, ":"), marker=".", color=line.get_color())
    top.set(xlim=(0, 1), ylim=(0, 1.02), ylabel="mean character accuracy (1 - CER)",
            title=f"reliability over {evaluation.lines} lines")
    top.legend(fontsize="small", loc="upper left")
    bottom.set(xlabel="score (mean per bin)", ylabel="lines per bin")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()
