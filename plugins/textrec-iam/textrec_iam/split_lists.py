"""The shipped IAM split lists (package data under ``data/splits/``), verified when read.

Each list is one IAM line id a line, copied from the published task definitions:

- ``aachen``: ``tr`` / ``va`` / ``te`` (6,161 / 966 / 2,915 lines; the PyLaia IAM recipe's split,
  whose training list equals LWITLRT's);
- ``lwitlrt``: the official "large writer independent text line recognition task":
  ``tr`` / ``va1`` + ``va2`` / ``te`` (6,161 / 900 + 940 / 1,861 lines).

Every file's SHA-256 is fixed in :data:`LIST_SHA256`; a list whose bytes differ (edited or damaged
installation) is a :class:`~textrec_core.errors.DataError`, and so is a form whose lines fall in
two splits.
"""

from __future__ import annotations

import hashlib
from importlib import resources

from textrec_core.errors import DataError
from textrec_iam.layout import form_of

#: Split name -> dataset split -> the list files (under ``data/splits/<split name>/``) it joins.
SPLIT_FILES: dict[str, dict[str, tuple[str, ...]]] = {
    "aachen": {"train": ("tr.lst",), "val": ("va.lst",), "test": ("te.lst",)},
    "lwitlrt": {"train": ("tr.lst",), "val": ("va1.lst", "va2.lst"), "test": ("te.lst",)},
}

#: ``<split name>/<file>`` -> the SHA-256 of the shipped list.
LIST_SHA256: dict[str, str] = {
    "aachen/tr.lst": "bc716bd796932d0c949fe86fb39465e323ce7e537904681b1f562011b16f0467",
    "aachen/va.lst": "7b00ae313f5e885ef7635197125f69b88e31358ee862eb1f5eef77b62021f565",
    "aachen/te.lst": "ffa3f8550e9311fdee2ac62fed1604c42aabbdc9be43aaa764b7c075d33d1324",
    "lwitlrt/tr.lst": "bc716bd796932d0c949fe86fb39465e323ce7e537904681b1f562011b16f0467",
    "lwitlrt/va1.lst": "cc05dd8ef8ba1def5d8bfe5de07e0f59ba6f567d5f52723014ab77e4eff9335f",
    "lwitlrt/va2.lst": "398455a4f09c6ff95a26b0144b90ec6e288f86fbb1c5507fd4885327a5c8419e",
    "lwitlrt/te.lst": "7032bd5b1be3095d94f4977b0a9e8dd9b97f9a7eff6ce4e33ed3e146301301ae",
}


def read_list(name: str) -> list[str]:
    """The line ids of the shipped list ``<split name>/<file>`` (e.g. ``aachen/tr.lst``), in file
    order, after checking its SHA-256 against :data:`LIST_SHA256`."""
    data = resources.files("textrec_iam").joinpath("data", "splits", *name.split("/")).read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != LIST_SHA256[name]:
        raise DataError(f"the IAM split list {name} shipped with textrec-iam is damaged: expected SHA-256 "
                        f"{LIST_SHA256[name]}, got {actual}; reinstall textrec-iam")
    return data.decode("ascii").split()


def split_ids(split: str) -> dict[str, frozenset[str]]:
    """``{"train": ids, "val": ids, "test": ids}`` for the split ``aachen`` or ``lwitlrt``, each
    list checked (:func:`read_list`) and no form in two splits (:func:`check_forms_disjoint`)."""
    ids = {
        part: frozenset(line_id for file in files for line_id in read_list(f"{split}/{file}"))
        for part, files in SPLIT_FILES[split].items()
    }
    check_forms_disjoint(ids, what=f"the {split} split")
    return ids


def check_forms_disjoint(ids: dict[str, frozenset[str]], *, what: str) -> None:
    """Raise :class:`DataError` if any form has lines in two of the splits ``ids``."""
    owner: dict[str, str] = {}
    for part, line_ids in ids.items():
        for line_id in line_ids:
            form = form_of(line_id)
            if owner.setdefault(form, part) != part:
                raise DataError(f"{what} is inconsistent: form {form} has lines in both {owner[form]} and {part}")
