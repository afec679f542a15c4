"""Reading spreadsheet cells the way users fill them in: pure functions, no database."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from kb.services.knowledge_sheet import CellError, as_bool, as_date, as_format, as_int, as_list, category_path_key
from kb.spreadsheets import decode_csv, heading_key, spreadsheet_value


@pytest.mark.parametrize("raw", ["类目*", " 类目＊", "类目（必填）", "类目\n", "类 目"])
def test_a_heading_is_matched_without_its_required_mark_or_spaces(raw):
    assert heading_key(raw) == "类目"


@pytest.mark.parametrize("raw", [datetime(2026, 1, 1), date(2026, 1, 1), "2026-01-01", "2026/1/1", "2026.01.01",
                                 "2026年1月1日", "2026-01-01 00:00:00"])
def test_dates_are_read_in_the_usual_spellings(raw):
    assert as_date(raw) == date(2026, 1, 1)


@pytest.mark.parametrize("raw", ["明年", "2026-02-30", "20260101", 46023])
def test_other_dates_are_refused(raw):
    with pytest.raises(CellError):
        as_date(raw)


def test_numbers_lists_flags_and_types():
    assert as_int(3.0, label="附件数", low=0, high=10) == 3 and as_int("2", label="附件数", low=0, high=10) == 2
    with pytest.raises(CellError):
        as_int(2.5, label="附件数", low=0, high=10)
    assert as_list("社保、医保，公积金 社保", key="keywords") == ["社保", "医保", "公积金"]
    assert as_list("怎么交社保\n社保在哪办；社保", key="similar_questions") == ["怎么交社保", "社保在哪办", "社保"]
    assert as_bool("是") and not as_bool(None) and not as_bool("否")
    assert as_format("其他形式") == "document" and as_format("QA") == "qa"
    assert category_path_key(" 社会民生 ＞ 就业创业 ") == "社会民生/就业创业"


def test_csv_is_utf8_with_or_without_bom_or_gb18030():
    assert decode_csv("问题,答案".encode("utf-8-sig")) == "问题,答案"
    assert decode_csv("问题,答案".encode("utf-8")) == "问题,答案"
    assert decode_csv("问题,答案𠀀".encode("gb18030")) == "问题,答案𠀀"


def test_export_cells_keep_numbers_and_dates_and_join_lists_by_line():
    assert spreadsheet_value([1, "二"]) == "1\n二" and spreadsheet_value(True) == "是"
    assert spreadsheet_value(date(2026, 1, 1)) == date(2026, 1, 1) and spreadsheet_value(3) == 3
