"""The shipped split lists: their checksums, sizes, and no form in two splits."""

from __future__ import annotations

import hashlib
from importlib import resources

import pytest

from textrec_core.errors import DataError
from textrec_iam import split_lists
from textrec_iam.layout import form_of
from textrec_iam.split_lists import LIST_SHA256, check_forms_disjoint, read_list, split_ids


@pytest.mark.parametrize("name", sorted(LIST_SHA256))
def test_each_shipped_list_matches_its_recorded_digest(name):
    data = resources.files("textrec_iam").joinpath("data", "splits", *name.split("/")).read_bytes()
    assert hashlib.sha256(data).hexdigest() == LIST_SHA256[name]


@pytest.mark.parametrize(("split", "sizes"), [
    ("aachen", {"train": 6161, "val": 966, "test": 2915}),
    ("lwitlrt", {"train": 6161, "val": 900 + 940, "test": 1861}),
])
def test_split_sizes_are_the_published_ones(split, sizes):
    assert {part: len(ids) for part, ids in split_ids(split).items()} == sizes


@pytest.mark.parametrize("split", ["aachen", "lwitlrt"])
def test_no_form_of_a_shipped_split_has_lines_in_two_parts(split):
    forms = {part: {form_of(i) for i in ids} for part, ids in split_ids(split).items()}
    assert not forms["train"] & forms["val"]
    assert not forms["train"] & forms["test"]
    assert not forms["val"] & forms["test"]


def test_a_damaged_list_is_a_data_error(monkeypatch):
    monkeypatch.setitem(split_lists.LIST_SHA256, "aachen/va.lst", "0" * 64)
    with pytest.raises(DataError, match="split list aachen/va.lst .* is damaged"):
        read_list("aachen/va.lst")


def test_a_form_in_two_parts_is_a_data_error():
    ids = {"train": frozenset({"a01-000u-00"}), "test": frozenset({"a01-000u-01"})}
    with pytest.raises(DataError, match="form a01-000u has lines in both train and test"):
        check_forms_disjoint(ids, what="this split")
