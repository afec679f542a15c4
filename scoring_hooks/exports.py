"""CSV and xlsx exports of compliance counts and scores, with Chinese headings.

A :class:`Column` says what a column is called and how to read its value
from a row; :data:`COMPLIANCE_COLUMNS` (for
:class:`kb.compliance.UnitCompliance`) and :data:`SCORE_COLUMNS` (for
:class:`scoring_hooks.profiles.UnitScore`) are ready-made. Values are
written as numbers where they are numbers; ratios are percentages (CSV
``"12.5%"``, xlsx a number with a percent format); lists are joined with
"、"; an empty value is an empty cell.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from kb.compliance import TASK_SOURCE_TITLES, TASK_SOURCES, UnitCompliance

from .profiles.base import UnitScore, fmt_points

__all__ = [
    "COMPLIANCE_COLUMNS",
    "Column",
    "PERCENT",
    "SCORE_COLUMNS",
    "deduction_details",
    "report_columns",
    "score_columns",
    "to_csv",
    "to_xlsx",
]

#: ``Column.number_format`` of a ratio shown as a percentage.
PERCENT = "0.00%"


@dataclass(frozen=True)
class Column:
    """One export column: a stable key, the Chinese heading, and how to get the value."""

    key: str
    title: str
    getter: Callable[[Any], Any]
    number_format: str | None = None  # xlsx number format, e.g. PERCENT


# ---------------------------------------------------------------------------
# Column sets
# ---------------------------------------------------------------------------

_TASK_FIELDS = (
    ("received", "收到"),
    ("resolved_on_time", "按时办结"),
    ("resolved_late", "逾期办结"),
    ("open_overdue", "逾期未办"),
    ("declined", "退回"),
)


def _task_getter(source: str, name: str) -> Callable[[UnitCompliance], int]:
    return lambda unit: getattr(unit.tasks_by_source[source], name)


def _categories(unit: UnitCompliance) -> str:
    return "、".join(f"{name}{count}" for name, count in unit.uploads_by_category.items())


def _status(row) -> str:
    return "临时（期间未结束）" if row.provisional else "正式"


COMPLIANCE_COLUMNS: tuple[Column, ...] = (
    Column("unit_code", "单位编码", lambda u: u.unit_code),
    Column("unit_name", "单位名称", lambda u: u.unit_name),
    Column("period", "期间", lambda u: u.period.label),
    Column("status", "数据状态", _status),
    Column("as_of", "统计截至", lambda u: u.as_of.isoformat() if u.as_of else None),
    Column("period_start", "起始日期", lambda u: u.period.start.isoformat()),
    Column("period_end", "截止日期", lambda u: u.period.end.isoformat()),
    Column("uploads_qa", "新增知识-一问一答", lambda u: u.uploads_qa),
    Column("uploads_document", "新增知识-其他形式", lambda u: u.uploads_document),
    Column("uploads_by_category", "新增知识-分类", _categories),
    Column("modifications", "修改", lambda u: u.modifications),
    Column("deletions", "删除", lambda u: u.deletions),
    Column("revocations", "撤销", lambda u: u.revocations),
    Column("verifications", "校核", lambda u: u.verifications),
    Column("published_entries", "已发布知识", lambda u: u.published_entries),
    Column("covered_entries", "年内更新或校核", lambda u: u.covered_entries),
    Column("coverage", "更新校核覆盖率", lambda u: u.coverage, PERCENT),
    *(
        Column(f"tasks.{source}.{name}", f"{TASK_SOURCE_TITLES[source]}-{label}", _task_getter(source, name))
        for source in TASK_SOURCES
        for name, label in _TASK_FIELDS
    ),
    Column("suggestions_received", "建议与答错标记-收到", lambda u: u.suggestions_received),
    Column("suggestions_acted_in_time", "建议与答错标记-及时处理", lambda u: u.suggestions_acted_in_time),
    Column("suggestions_not_acted", "建议与答错标记-逾期未处理", lambda u: u.suggestions_not_acted),
    Column("usages", "知识使用次数", lambda u: u.usages),
    Column("usages_confirmed_wrong", "确认使用错误次数", lambda u: u.usages_confirmed_wrong),
    Column("usage_error_rate", "使用错误率", lambda u: u.usage_error_rate, PERCENT),
    Column("months_without_update", "无更新或校核月份", lambda u: u.months_without_update),
    Column("months_without_change", "无更新月份（校核不计）", lambda u: u.months_without_change),
    Column("wrong_answers_late_policy", "新政策对接不及时致错误解答", lambda u: u.wrong_answers_late_policy),
    Column("unit_suggestions_accepted", "单位知识建议-采纳", lambda u: u.unit_suggestions_accepted),
    Column("unit_suggestions_declined", "单位知识建议-未采纳", lambda u: u.unit_suggestions_declined),
    *(
        Column(f"tasks.{source}.office_late", f"{TASK_SOURCE_TITLES[source]}-热线办发布超期",
               _task_getter(source, "office_late"))
        for source in TASK_SOURCES
    ),
)


#: How evidence is named in a reason line ("依据：任务 12、15").
EVIDENCE_TITLES = {"task_ids": "任务", "entry_ids": "知识", "suggestion_ids": "建议", "flag_ids": "答错标记",
                   "months": "月份"}


def _evidence(evidence) -> str:
    named = [f"{EVIDENCE_TITLES.get(key, key)} {'、'.join(str(v) for v in values)}"
             for key, values in evidence.items() if values]
    return f"（依据：{'；'.join(named)}）" if named else ""


def deduction_details(score: UnitScore) -> str:
    """Every deduction of a score on one line, with its evidence: ``[item] -2：reason（依据：任务 12）；…``;
    "无" when none."""
    parts = [
        f"[{item.item}] -{fmt_points(d.points)}：{d.reason}{_evidence(d.evidence)}"
        for item in score.items
        for d in item.deductions
    ]
    return "；".join(parts) if parts else "无"


SCORE_COLUMNS: tuple[Column, ...] = (
    Column("unit_code", "单位编码", lambda s: s.unit_code),
    Column("unit_name", "单位名称", lambda s: s.unit_name),
    Column("profile", "考核方案", lambda s: s.profile_title or s.profile),
    Column("period", "期间", lambda s: s.period.label),
    Column("points", "得分", lambda s: s.points),
    Column("max_points", "满分", lambda s: s.max_points),
    Column("deductions", "扣分明细", deduction_details),
    Column("status", "数据状态", _status),
)


#: Chinese headings of the keys a profile's ``report`` carries (Licheng's Art. 15 通报).
REPORT_TITLES = {
    "pieces": "信息报送篇数",
    "new": "新增知识",
    "new_qa": "新增知识-一问一答",
    "new_document": "新增知识-其他形式",
    "new_by_category": "新增知识-分类",
    "modified": "修改",
    "deleted": "删除与撤销",
    "deletions": "删除",
    "revocations": "撤销",
    "verified": "校核",
    "suggestions_accepted": "知识建议-采纳",
    "suggestions_declined": "知识建议-未采纳",
    "published_entries": "已发布知识",
    "covered_entries": "年内更新或校核",
    "late_task_ids": "逾期办结任务",
    "overdue_task_ids": "逾期未办任务",
}
_TASK_TITLES = dict(_TASK_FIELDS) | {"office_late": "热线办发布超期"}


def _report_value(*path: str) -> Callable[[UnitScore], Any]:
    def get(score: UnitScore) -> Any:
        value: Any = score.report
        for key in path:
            if not hasattr(value, "get"):
                return None
            value = value.get(key)
        if hasattr(value, "items"):
            return "、".join(f"{k}{v}" for k, v in value.items())
        return value
    return get


def report_columns(scores: Sequence[UnitScore]) -> tuple[Column, ...]:
    """Columns for the counts a profile reports beside its points (empty when it reports none)."""
    report = next((score.report for score in scores if score.report), None)
    if not report:
        return ()
    out = []
    for key, value in report.items():
        if key == "tasks":
            out += [Column(f"report.tasks.{name}", f"任务合计-{_TASK_TITLES.get(name, name)}",
                           _report_value("tasks", name)) for name in value]
        elif key == "tasks_by_source":
            out += [Column(f"report.tasks_by_source.{source}.{name}",
                           f"{TASK_SOURCE_TITLES.get(source, source)}-{_TASK_TITLES.get(name, name)}",
                           _report_value("tasks_by_source", source, name))
                    for source, tally in value.items() for name in tally]
        else:
            out.append(Column(f"report.{key}", REPORT_TITLES.get(key, key), _report_value(key)))
    return tuple(out)


def score_columns(scores: Sequence[UnitScore]) -> tuple[Column, ...]:
    """:data:`SCORE_COLUMNS` and, for a profile that reports counts (Licheng), those counts."""
    return SCORE_COLUMNS + report_columns(scores)


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _number(value: Any) -> int | float:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _cell_value(value: Any) -> Any:
    """A value for a spreadsheet cell: numbers stay numbers, the rest becomes text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float, Decimal)):
        return _number(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return "、".join(str(v) for v in value)
    return str(value)


def _csv_text(value: Any, number_format: str | None) -> str:
    value = _cell_value(value)
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        if number_format == PERCENT:
            return f"{fmt_points(value * 100)}%"
        return str(value)
    if value.startswith(_FORMULA_START):
        return "'" + value  # kept as text by spreadsheet programs
    return value


def to_csv(rows: Iterable[Any], columns: Sequence[Column]) -> bytes:
    """CSV bytes, UTF-8 with a byte-order mark (so Excel reads the Chinese), CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.title for column in columns])
    for row in rows:
        writer.writerow([_csv_text(column.getter(row), column.number_format) for column in columns])
    return buffer.getvalue().encode("utf-8-sig")


_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
_MIN_WIDTH, _MAX_WIDTH = 8, 60


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _sheet_title(title: str) -> str:
    cleaned = _SHEET_TITLE_BAD.sub("_", title).strip("'") or "Sheet1"
    return cleaned[:31]


def to_xlsx(rows: Iterable[Any], columns: Sequence[Column], sheet_title: str) -> bytes:
    """An xlsx workbook of one sheet: bold frozen header, filters, widths fitted to the text."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(sheet_title)
    bold = Font(bold=True)
    widths = [_display_width(column.title) for column in columns]

    for col, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=col, value=column.title)
        cell.font = bold
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    wrap = Alignment(wrap_text=True, vertical="top")
    row_number = 1
    for row_number, row in enumerate(rows, start=2):
        for col, column in enumerate(columns, start=1):
            value = _cell_value(column.getter(row))
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = sheet.cell(row=row_number, column=col, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, even when the text starts with "="
                shown = _display_width(value)
                if shown > _MAX_WIDTH:
                    cell.alignment = wrap
            elif column.number_format and value is not None:
                cell.number_format = column.number_format
                shown = 8
            else:
                shown = len(str(value)) if value is not None else 0
            widths[col - 1] = max(widths[col - 1], shown)

    for col, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH)
    sheet.freeze_panes = "A2"
    if columns:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(row_number, 1)}"

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
