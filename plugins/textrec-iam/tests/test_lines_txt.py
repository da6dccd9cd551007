"""Parsing lines.txt: comments, 9 fields, ``|`` tokens, ``ok``/``err``, and errors naming file and line."""

from __future__ import annotations

import pytest

from textrec_core.errors import DataError
from textrec_iam.lines_txt import parse_lines_txt

ROWS = [
    "#--- lines.txt ---#",
    "# format: a01-000u-00 ok 154 19 408 746 1663 91 A|MOVE|to|stop|Mr.|Gaitskell|from",
    "",
    "a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE|to|stop|Mr.|Gaitskell|from",
    "a01-000u-01 err 156 19 395 932 1850 105 nominating|any|more|Labour|life|Peers|is|to|be|made|at|a|meeting",
    "a01-000x-02 ok 156 10 375 1133 1739 99 of|Labour|M Ps|tomorrow|.|Mr.|Michael|Foot|has",
]


def test_data_lines_are_parsed_in_order_with_tokens_joined_and_normalised():
    records = parse_lines_txt(ROWS)
    assert [r.line_id for r in records] == ["a01-000u-00", "a01-000u-01", "a01-000x-02"]
    first = records[0]
    assert first.text == "A MOVE to stop Mr. Gaitskell from"
    assert (first.segmentation, first.gray_level, first.components, first.box) == ("ok", 154, 19, (408, 746, 1661, 89))
    assert first.form_id == "a01-000u"
    assert first.image_path == "lines/a01/a01-000u/a01-000u-00.png"


def test_err_segmentation_is_kept_and_a_token_may_hold_a_space():
    records = parse_lines_txt(ROWS)
    assert records[1].segmentation == "err"
    assert records[2].text == "of Labour M Ps tomorrow. Mr. Michael Foot has"


def test_an_empty_transcription_parses_as_empty_text():
    (record,) = parse_lines_txt(["a01-000u-00 ok 154 19 408 746 1661 89 "])
    assert record.text == ""


@pytest.mark.parametrize(("row", "problem"), [
    ("a01-000u-00 ok 154 19 408 746 1661 A|MOVE", "expected 9 space-separated fields, got 8"),
    ("a01-000u-00 maybe 154 19 408 746 1661 89 A|MOVE", "segmentation result must be 'ok' or 'err'"),
    ("a01-000u-00 ok 154 x 408 746 1661 89 A|MOVE", "fields 3 to 8 must be integers"),
    ("A01_000 ok 154 19 408 746 1661 89 A|MOVE", "malformed line id"),
])
def test_a_malformed_row_is_a_data_error_naming_file_and_line(row, problem):
    with pytest.raises(DataError, match=rf"my/lines.txt, line 5: {problem}"):
        parse_lines_txt([*ROWS[:4], row], origin="my/lines.txt")


def test_a_line_id_listed_twice_is_a_data_error():
    with pytest.raises(DataError, match=r"lines.txt, line 5: line id a01-000u-00 appears twice"):
        parse_lines_txt([*ROWS[:4], ROWS[3]])
