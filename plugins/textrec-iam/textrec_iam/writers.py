"""Checking that no writer has lines in two splits, where IAM says who wrote what.

``ascii/forms.txt`` (in the folder or in ``ascii.tgz``) gives each form's writer: after ``#``
comments, one form a line, ``<form id> <writer id> ...``. Without it nothing can be checked and
nothing is reported. Writers found in two splits are reported in one warning (not an error: the
shipped lists are the published ones, and some published splits are not strictly writer-disjoint).
"""

from __future__ import annotations

import logging

from textrec_core.errors import DataError
from textrec_iam.layout import form_of

log = logging.getLogger("textrec.iam")


def parse_forms_txt(lines: list[str], *, origin: str) -> dict[str, str]:
    """``{form id: writer id}`` from the text lines of ``forms.txt``; a data line with fewer than two
    fields is a :class:`DataError` naming ``origin`` and the line number."""
    writers: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) < 2:
            raise DataError(f"{origin}, line {number}: expected '<form id> <writer id> ...', got {line!r}")
        writers[fields[0]] = fields[1]
    return writers


def check_writers_disjoint(parts: dict[str, frozenset[str]], forms_txt: list[str] | None, *, origin: str) -> set[str]:
    """The writers with lines in more than one of ``parts`` (part -> line ids), warned about once;
    an empty set when ``forms_txt`` is None (no writer ids to check)."""
    if forms_txt is None:
        return set()
    writers = parse_forms_txt(forms_txt, origin=f"forms.txt in {origin}")
    seen: dict[str, str] = {}
    shared: set[str] = set()
    for part, line_ids in parts.items():
        for line_id in line_ids:
            writer = writers.get(form_of(line_id))
            if writer is not None and seen.setdefault(writer, part) != part:
                shared.add(writer)
    if shared:
        log.warning("IAM: %d writers have lines in more than one split (e.g. %s)", len(shared),
                    ", ".join(sorted(shared)[:3]))
    return shared
