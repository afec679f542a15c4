"""The knowledge spreadsheet: one set of Chinese columns for the template, the import and the export.

An export re-imports as it is: the import reads the columns it knows by
heading (in any order; a trailing ``*`` or ``（必填）`` is ignored) and skips
the export's read-only ones (unit, status, times).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from kb.models import EntryFormat
from kb.submission import normalize_doc_number


@dataclass(frozen=True)
class SheetColumn:
    key: str
    heading: str
    required: bool = False
    width: int = 14
    note: str = ""

    @property
    def template_heading(self) -> str:
        return f"{self.heading}*" if self.required else self.heading


ENTRY_ID = SheetColumn("entry_id", "知识编号", width=10, note="修改已发布的知识时填写（导出文件中已有）；新增知识留空")
VERSION = SheetColumn("version", "版本", width=8, note="修改时填写所依据的发布版本号（导出文件中已有）；"
                                                        "知识已被他人更新时该行会被拒绝，请重新导出后再改")
CATEGORY = SheetColumn("category", "类目", required=True, width=24,
                       note="从下拉列表选择，如“社会民生/就业创业”；上下级之间用“/”分隔")
FORMAT = SheetColumn("format", "内容类型", required=True, width=12,
                     note="“一问一答”或“其他形式”（也可填 qa / document）")
QUESTION = SheetColumn("question", "问题", required=True, width=40, note="标准问法，最多 500 字；同一文件内、与已发布知识不得重复")
SIMILAR = SheetColumn("similar_questions", "相似问法", width=30, note="可填多个，每行一个（单元格内换行 Alt+Enter）或用“；”分隔")
ANSWER = SheetColumn("answer", "答案", required=True, width=60, note="规范答案，最多 20000 字；请分条表述")
KEYWORDS = SheetColumn("keywords", "关键字", required=True, width=20, note="至少一个，用“、”“，”或空格分隔，每个最多 50 字")
POLICY_TITLE = SheetColumn("policy_title", "依据文件名称", width=30, note="政策依据文件的名称，最多 300 字")
POLICY_NUMBER = SheetColumn("policy_number", "文号", width=22, note="如“鲁政办字〔2021〕126号”，[]、()、【】会自动规范为〔〕")
ATTACHMENTS = SheetColumn("policy_attachments", "附件数", width=8, note="依据文件的附件个数，0–1000 的整数；留空为 0")
EFFECTIVE = SheetColumn("effective_on", "生效日期", required=True, width=12,
                        note="日期，如 2026-01-01、2026/1/1 或 2026年1月1日")
EXPIRES = SheetColumn("expires_on", "失效日期", width=12, note="临时性通知填写；不得早于生效日期")
URGENT = SheetColumn("urgent", "紧急", width=8, note="“是”或“否”；留空为否")

IMPORT_COLUMNS: tuple[SheetColumn, ...] = (
    ENTRY_ID, VERSION, CATEGORY, FORMAT, QUESTION, SIMILAR, ANSWER, KEYWORDS, POLICY_TITLE, POLICY_NUMBER,
    ATTACHMENTS, EFFECTIVE, EXPIRES, URGENT)

# Read-only columns of an export; an import ignores them.
UNIT_CODE = SheetColumn("unit_code", "单位编码", width=10)
UNIT_NAME = SheetColumn("unit_name", "单位名称", width=20)
STATUS = SheetColumn("status", "状态", width=8)
CREATED = SheetColumn("created_at", "首次发布时间", width=18)
UPDATED = SheetColumn("updated_at", "最后更新时间", width=18)
VERIFIED = SheetColumn("verified_at", "最后校核时间", width=18)
WITHDRAWN = SheetColumn("withdrawn_at", "下架时间", width=18)

EXPORT_COLUMNS: tuple[SheetColumn, ...] = (
    ENTRY_ID, VERSION, UNIT_CODE, UNIT_NAME, STATUS, *IMPORT_COLUMNS[2:], CREATED, UPDATED, VERIFIED, WITHDRAWN)

FORMAT_LABELS = {EntryFormat.QA.value: "一问一答", EntryFormat.DOCUMENT.value: "其他形式"}
FORMAT_BY_TEXT = {"一问一答": "qa", "qa": "qa", "问答": "qa", "其他形式": "document", "document": "document",
                  "文档": "document", "其他": "document"}
STATUS_LABELS = {"published": "已发布", "withdrawn": "已下架"}
YES = {"是", "y", "yes", "true", "1", "紧急"}
NO = {"否", "n", "no", "false", "0", "不紧急"}

MAX_LENGTHS = {"question": 500, "answer": 20_000, "policy_title": 300, "policy_number": 100}
MAX_ITEMS, MAX_ITEM = 50, {"similar_questions": 500, "keywords": 50}

_PATH_SPLIT = re.compile(r"\s*[/／>＞\\]\s*")
_KEYWORD_SPLIT = re.compile(r"[、,，;；\s]+")
_SIMILAR_SPLIT = re.compile(r"[\r\n;；]+")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(\s+0{1,2}:0{1,2}(:0{1,2})?)?$")


def category_path_key(text: str) -> str:
    return "/".join(part for part in _PATH_SPLIT.split(text.strip()) if part)


class CellError(ValueError):
    """A cell that cannot be read: the message is shown to the user."""


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    return str(value).strip() or None


def as_int(value: Any, *, label: str, low: int, high: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise CellError(f"{label}应为整数")
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(f"{label}应为整数")
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"\d+(\.0+)?", text):
            raise CellError(f"{label}应为整数")
        value = int(float(text))
    if not isinstance(value, int) or not low <= value <= high:
        raise CellError(f"{label}应为 {low}–{high} 的整数")
    return value


def as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = as_text(value) or ""
    match = _DATE.match(text)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise CellError("日期无法识别，请填写如 2026-01-01 的日期")


def as_bool(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    text = (as_text(value) or "").lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise CellError("请填写“是”或“否”")


def as_format(value: Any) -> str:
    text = (as_text(value) or "").lower()
    if text not in FORMAT_BY_TEXT:
        raise CellError("内容类型只能是“一问一答”或“其他形式”")
    return FORMAT_BY_TEXT[text]


def as_list(value: Any, *, key: str) -> list[str]:
    text = as_text(value)
    if not text:
        return []
    items = [item.strip() for item in (_KEYWORD_SPLIT if key == "keywords" else _SIMILAR_SPLIT).split(text)]
    items = list(dict.fromkeys(item for item in items if item))
    if len(items) > MAX_ITEMS:
        raise CellError(f"最多填写 {MAX_ITEMS} 个")
    longest = MAX_ITEM[key]
    too_long = [item for item in items if len(item) > longest]
    if too_long:
        raise CellError(f"每个最多 {longest} 字（“{too_long[0][:20]}…”过长）")
    return items


def normalized_number(text: str | None) -> str | None:
    return (normalize_doc_number(text) or text) if text else None
