"""The monthly 通报: ranking, ties, month-on-month change, late and overdue items, the workbook."""
from __future__ import annotations

import io
from datetime import datetime, timezone

from openpyxl import load_workbook

from kb.compliance import ComplianceReport, Period
from scoring_hooks import bulletin
from scoring_hooks.profiles import get_profile
from scoring_hooks.scoring import score_report
from tests.scoring.factories import late, make_unit

NOVEMBER = "2026-11"


def _report(*units, period=NOVEMBER):
    return ComplianceReport(Period.parse(period), datetime(2026, 11, 30, 15, 59, 59, tzinfo=timezone.utc), units,
                            frozen_at=datetime(2026, 12, 1, 1, tzinfo=timezone.utc))


def _units(period=NOVEMBER, *, jt_uploads=0):
    return (make_unit(period, unit_code="JT", unit_name="交通运输局", uploads_qa=jt_uploads, modifications=3),
            make_unit(period, unit_code="HS", unit_name="华山街道", uploads_qa=5,
                      tasks_by_source={"office_feedback": late(11, overdue=(12,))}),
            make_unit(period, unit_code="WJ", unit_name="王舍人街道", modifications=3))


def test_units_are_ranked_by_points_with_shared_ranks_and_the_change_from_last_month():
    profile = get_profile("licheng")  # 0.1 per piece of information, at most 4
    now = _report(*_units())
    before = _report(*_units("2026-10", jt_uploads=4), period="2026-10")
    rows = bulletin.rows(score_report(profile, now), now, score_report(profile, before))
    assert [(r.rank, r.unit_code) for r in rows] == [(1, "HS"), (2, "JT"), (2, "WJ")]
    by_code = {r.unit_code: r for r in rows}
    assert by_code["HS"].points == 0.5 and by_code["JT"].points == 0.3
    assert by_code["JT"].change == -0.4  # 0.7 in October
    assert by_code["HS"].resolved_late == 1 and by_code["HS"].open_overdue == 1
    assert by_code["HS"].late_task_ids == (11,) and by_code["HS"].overdue_task_ids == (12,)


def test_a_unit_new_this_month_has_no_change_figure():
    profile = get_profile("licheng")
    now = _report(*_units())
    rows = bulletin.rows(score_report(profile, now), now, ())
    assert all(r.change is None for r in rows)


def test_the_workbook_has_chinese_headings_and_one_row_per_unit():
    profile = get_profile("licheng")
    now = _report(*_units())
    data = bulletin.to_workbook(bulletin.rows(score_report(profile, now), now), "2026-11通报")
    sheet = load_workbook(io.BytesIO(data)).active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["排名", "单位编码", "单位名称", "得分"] and "环比" in header and "逾期未办" in header
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["HS", "JT", "WJ"]
