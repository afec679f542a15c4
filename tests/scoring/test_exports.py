"""CSV and xlsx exports read back."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from kb.compliance import TaskTally
from scoring_hooks.exports import COMPLIANCE_COLUMNS, SCORE_COLUMNS, Column, to_csv, to_xlsx
from scoring_hooks.profiles import load_profiles

from .factories import late, make_unit


def units():
    return [
        make_unit(
            uploads_qa=3,
            uploads_by_category={"政策法规": 2, "通知公告": 1},
            published_entries=8,
            covered_entries=6,
            tasks_by_source={"city_notice": late(21, overdue=(22, 23), due=2, received=5)},
            usages=40,
            usages_confirmed_wrong=5,
            months_without_update=("2026-02", "2026-07"),
        ),
        make_unit(unit_code="370112-WJ", unit_name="=HYPERLINK(\"x\")卫健局"),
    ]


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_compliance_csv_has_chinese_headings_and_flattened_tasks():
    rows = read_csv(to_csv(units(), COMPLIANCE_COLUMNS))
    header, first, second = rows
    assert header[:3] == ["单位编码", "单位名称", "期间"]
    assert len(header) == len(set(header)) == len(COMPLIANCE_COLUMNS)
    record = dict(zip(header, first))
    assert record["单位名称"] == "历城区交通运输局"
    assert record["新增知识-一问一答"] == "3"
    assert record["新增知识-分类"] == "政策法规2、通知公告1"
    assert record["市级通知更新-收到"] == "5"
    assert record["市级通知更新-逾期办结"] == "1"
    assert record["市级通知更新-逾期未办"] == "2"
    assert record["热线办反馈-逾期未办"] == "0"
    assert record["更新校核覆盖率"] == "75%"
    assert record["使用错误率"] == "12.5%"
    assert record["无更新或校核月份"] == "2026-02、2026-07"
    other = dict(zip(header, second))
    assert other["单位名称"] == "'=HYPERLINK(\"x\")卫健局"  # not run as a formula
    assert other["更新校核覆盖率"] == "" and other["使用错误率"] == ""


def test_compliance_xlsx_reads_back_with_bold_headings_and_typed_values():
    data = to_xlsx(units(), COMPLIANCE_COLUMNS, "知识库维护情况 2026")
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.title == "知识库维护情况 2026"
    header = [cell.value for cell in sheet[1]]
    assert header == [column.title for column in COMPLIANCE_COLUMNS]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    values = dict(zip(header, (cell for cell in sheet[2])))
    assert values["单位名称"].value == "历城区交通运输局"
    assert values["市级通知更新-逾期未办"].value == 2
    assert values["使用错误率"].value == 0.125
    assert values["使用错误率"].number_format == "0.00%"
    second = dict(zip(header, (cell.value for cell in sheet[3])))
    assert second["单位名称"] == "=HYPERLINK(\"x\")卫健局"
    assert second["使用错误率"] is None
    assert sheet.column_dimensions["B"].width >= 18  # 8 Chinese characters fit


def test_score_exports_list_points_and_deduction_details():
    profile = load_profiles()["huantai-2017"]
    score = profile.score(
        make_unit(wrong_answers_late_policy=2, late_policy_flag_ids=(301, 302), suggestions_received=2,
                  suggestions_not_acted=1)
    )
    clean = profile.score(make_unit(unit_code="370112-WJ", unit_name="历城区卫生健康局"))
    header, first, second = read_csv(to_csv([score, clean], SCORE_COLUMNS))
    assert header == ["单位编码", "单位名称", "考核方案", "期间", "得分", "满分", "扣分明细", "数据状态"]
    assert first[:6] == ["370112-JT", "历城区交通运输局", "桓台县2017年度考核·数据资料库维护", "2026", "6", "10"]
    assert first[6].startswith("[3.2 处理话务员更新维护建议] -2：")
    assert "；[3.3 新政策及时对接] -2：" in first[6]
    assert first[6].endswith("（依据：答错标记 301、302）")
    assert second[4:] == ["10", "10", "无", "正式"]

    sheet = load_workbook(io.BytesIO(to_xlsx([score, clean], SCORE_COLUMNS, "考核/得分"))).active
    assert sheet.title == "考核_得分"
    assert [c.value for c in sheet[1]] == header
    assert [c.value for c in sheet[2]][:6] == ["370112-JT", "历城区交通运输局", "桓台县2017年度考核·数据资料库维护", "2026", 6, 10]
    assert [c.value for c in sheet[3]][4:] == [10, 10, "无", "正式"]


def test_exports_of_no_rows_have_the_heading_only():
    assert read_csv(to_csv([], SCORE_COLUMNS)) == [[c.title for c in SCORE_COLUMNS]]
    sheet = load_workbook(io.BytesIO(to_xlsx([], SCORE_COLUMNS, "得分"))).active
    assert sheet.max_row == 1


def test_custom_columns_take_any_getter():
    columns = [Column("code", "编码", lambda t: t[0]), Column("done", "完成", lambda t: t[1])]
    assert read_csv(to_csv([("A", True), ("B", TaskTally().missed)], columns)) == [["编码", "完成"], ["A", "是"], ["B", "0"]]
