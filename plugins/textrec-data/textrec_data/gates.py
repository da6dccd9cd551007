"""The quality gates of an import: why a labeled region is left out, each reason counted.

An excluded region is counted once, under the first gate it fails, in the order of :data:`GATES`.
A transcription linked to no outline is no line; it is counted as ``unlinked_transcription`` beside them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

#: Gate name -> what it excludes, in the order the gates are applied.
GATES: dict[str, str] = {
    "missing_image": "the page image cannot be found or downloaded",
    "unreadable_image": "the page image does not decode",
    "duplicate_page": "the page's image (by content) was already imported from another task",
    "not_reviewed": "the page is not yet labeled or reviewed, as the export says",
    "rejected_in_review": "the page's labels were rejected in review",
    "malformed_region": "the export does not describe the outline fully",
    "degenerate_shape": "the outline cannot hold a line: a polygon of fewer than 3 points, a side under 2 pixels",
    "out_of_image": "less than half of the outline is on its page",
    "duplicate_region": "the same outline appears earlier on the page",
    "empty_transcription": "no transcription, or only whitespace",
    "unwritable_text": "the transcription holds '|', which IAM's lines.txt uses to separate words",
    "outside_alphabet": "the transcription has characters outside the given alphabet",
    "too_many_lines": "the page's lines beyond its 100th (IAM's line ids number them with two digits)",
}
UNLINKED = "unlinked_transcription"
EXAMPLES = 3


class GateReport:
    """Counts of excluded regions per gate, with the first few places each gate excluded."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}

    def exclude(self, gate: str, where: str) -> None:
        """Count one region excluded by ``gate`` (a key of :data:`GATES` or :data:`UNLINKED`) at ``where``."""
        if gate not in GATES and gate != UNLINKED:
            raise ValueError(f"unknown gate {gate!r}")
        self.counts[gate] += 1
        examples = self.examples.setdefault(gate, [])
        if len(examples) < EXAMPLES:
            examples.append(where)

    @property
    def excluded(self) -> int:
        """Regions excluded, all gates together (unlinked transcriptions are no regions)."""
        return sum(count for gate, count in self.counts.items() if gate != UNLINKED)

    def as_dict(self) -> dict[str, Any]:
        """``{"counts": {gate: n}, "examples": {gate: [where, ...]}}`` for the gates that excluded anything."""
        order = [*GATES, UNLINKED]
        return {"counts": {g: self.counts[g] for g in order if self.counts[g]},
                "examples": {g: self.examples[g] for g in order if self.counts[g]}}

    def lines(self) -> list[str]:
        """The report as text lines for a terminal."""
        if not self.counts:
            return ["quality gates: nothing excluded"]
        out = [f"quality gates: {self.excluded} regions excluded"]
        for gate in [*GATES, UNLINKED]:
            if self.counts[gate]:
                meaning = GATES.get(gate, "a transcription linked to no outline (not a line; not imported)")
                out.append(f"  {gate}: {self.counts[gate]} ({meaning}; e.g. {'; '.join(self.examples[gate])})")
        return out
