"""Knowledge import from a spreadsheet: the template, and a file in as change requests, all or nothing.

Every row is checked (required fields, the category, dates, lengths,
duplicates inside the file and against published knowledge, the version a
modification was based on). When any row fails, or on a dry run, nothing is
stored and the report says row, column, value and what is wrong. When all
pass, one transaction creates one draft (or submitted) change request per row
and records the import in the audit log.

Rows naming a knowledge id (知识编号) and version (版本) are modifications of
that published entry; a row identical to the version it names is left alone
(an export re-imported unchanged creates nothing); a changed row based on a
version that is no longer current is refused (stale_version).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Any, TypeVar

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.workbook import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.access import Actor, require_role
from kb.db import UnitOfWork
from kb.errors import KbError, PermissionDenied, StaleVersion, ValidationFailed
from kb.models import (
    CONTENT_FIELDS, Category, ChangeKind, EntryStatus, KnowledgeEntry, KnowledgeVersion, Role, Unit)
from kb.proposal import Proposal
from kb.services import audit, changes
from kb.services.categories import ancestry
from kb.services.knowledge_sheet import (
    ANSWER, ATTACHMENTS, CATEGORY, EFFECTIVE, ENTRY_ID, EXPIRES, FORMAT, FORMAT_LABELS, IMPORT_COLUMNS, KEYWORDS,
    MAX_LENGTHS, POLICY_NUMBER, POLICY_TITLE, QUESTION, SIMILAR, URGENT, VERSION, CellError, SheetColumn, as_bool,
    as_date, as_format, as_int, as_list, as_text, category_path_key, normalized_number)
from kb.spreadsheets import CellMark, SheetRow, Table, mark_cells, read_table, write_workbook
from kb.submission import question_key

T = TypeVar("T")

EXAMPLE_MARK = "【示例】"  # rows whose question starts with it are the template's example, never imported
MAX_ID = 2**63 - 1


class ImportRejected(ValidationFailed):
    """Rows failed their checks; nothing was stored. `details["errors"]` lists them."""

    code = "import_rows_invalid"

    def __init__(self, report: "ImportReport"):
        failing = len({e.row for e in report.errors})
        KbError.__init__(self, f"{failing} 行数据有误（共 {report.rows} 行），未导入任何内容；请按错误报告修改后重新导入",
                         details={"errors": [_error_record(e) for e in report.errors], "rows": report.rows,
                                  "file_name": report.file_name})
        self.errors = {}
        self.report = report


class MissingColumns(ValidationFailed):
    code = "import_missing_columns"


@dataclass(frozen=True, slots=True, kw_only=True)
class RowError:
    """What is wrong with one cell (or one row, without a column) of the file."""

    row: int                                  # the row number as the spreadsheet shows it
    column: str                               # the column's heading; "" for the row as a whole
    value: str | int | float | bool | None    # the cell as read (dates ISO, other kinds as text)
    code: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatedRow:
    """The change request a row became."""

    row: int
    change_request_id: int | None  # None on a dry run: rolled back, the id never existed
    kind: str                      # ChangeKind's value: new or modify
    entry_id: int | None
    state: str                     # draft, or unit_review when submitted


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    """What an import found and did: every failing cell, or the change request of every row."""

    file_name: str
    format: str                    # xlsx or csv
    sheet: str | None
    unit_code: str | None
    dry_run: bool
    submit: bool
    rows: int                      # data rows (not the heading, blank rows or the template's example)
    errors: tuple[RowError, ...]
    created: tuple[CreatedRow, ...]
    unchanged: tuple[int, ...]     # rows identical to the version they name: no change request
    examples_skipped: int
    table: Table | None = None     # the file as read, for the marked workbook
    marks: tuple[CellMark, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.errors


def _error_record(error: RowError) -> dict[str, Any]:
    """One error as the answer refusing an import lists it."""
    return {"row": error.row, "column": error.column, "value": error.value, "code": error.code,
            "message": error.message}


@dataclass
class _Tally:
    """The report while the rows are checked and drafted."""

    rows: int = 0
    examples_skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: list[CreatedRow] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    marks: list[CellMark] = field(default_factory=list)


@dataclass
class _Row:
    number: int
    entry_id: int | None
    version: int | None
    proposal: dict[str, Any]
    key: str


class CategoryPaths:
    def __init__(self, session: Session):
        rows = session.execute(select(Category.id, Category.name, Category.parent_id)).all()
        parents = {cid: parent for cid, _, parent in rows}
        names = {cid: name for cid, name, _ in rows}
        self.path_of = {cid: "/".join(names[i] for i in ancestry(parents, cid)) for cid in names}
        self.by_path = {path: cid for cid, path in self.path_of.items()}
        self.by_name: dict[str, list[int]] = {}
        for cid, name in names.items():
            self.by_name.setdefault(name, []).append(cid)

    def find(self, text: str) -> int:
        key = category_path_key(text)
        if key in self.by_path:
            return self.by_path[key]
        found = self.by_name.get(key, [])
        if len(found) == 1:
            return found[0]
        if found:
            raise CellError(f"有多个名为“{key}”的类目，请填写完整路径，如“{self.path_of[found[0]]}”")
        raise CellError("类目不存在，请从下拉列表中选择")

    def sorted_paths(self) -> list[str]:
        return sorted(self.path_of.values())


class _Checker:
    def __init__(self, table: Table, tally: _Tally):
        self.table = table
        self.tally = tally

    def fail(self, row: int, column: SheetColumn | None, value: Any, message: str, code: str = "invalid") -> None:
        heading = column.heading if column else ""
        index = self.table.columns.get(column.heading) if column else None
        shown: str | int | float | bool | None
        if isinstance(value, (date, datetime, time)):
            shown = value.isoformat()
        elif value is None or isinstance(value, (str, int, float, bool)):
            shown = value
        else:  # a time span, a decimal or anything else a cell can hold: shown as text
            shown = str(value)
        self.tally.errors.append(RowError(row=row, column=heading, value=shown, code=code, message=message))
        self.tally.marks.append(CellMark(row, index, heading, value, message))


def _parse(row: SheetRow, categories: CategoryPaths, check: _Checker) -> _Row | None:
    values = row.values
    proposal: dict[str, Any] = {}
    ok = True

    def read(column: SheetColumn, parse: Callable[[Any], Any]) -> Any:
        nonlocal ok
        raw = values.get(column.heading)
        if column.required and (raw is None or (isinstance(raw, str) and not raw.strip())):
            check.fail(row.number, column, raw, f"{column.heading}为必填项", "required")
            ok = False
            return None
        try:
            return parse(raw)
        except CellError as exc:
            check.fail(row.number, column, raw, str(exc))
            ok = False
            return None

    def text(column: SheetColumn) -> Callable[[Any], str | None]:
        def parse(raw: Any) -> str | None:
            value = as_text(raw)
            limit = MAX_LENGTHS.get(column.key)
            if value is not None and limit and len(value) > limit:
                raise CellError(f"{column.heading}最多 {limit} 字（现 {len(value)} 字）")
            return value
        return parse

    entry_id = read(ENTRY_ID, lambda raw: as_int(raw, label="知识编号", low=1, high=MAX_ID))
    version = read(VERSION, lambda raw: as_int(raw, label="版本", low=1, high=MAX_ID))
    proposal["category_id"] = read(CATEGORY, lambda raw: categories.find(as_text(raw) or ""))
    proposal["format"] = read(FORMAT, as_format)
    proposal["question"] = read(QUESTION, text(QUESTION))
    proposal["similar_questions"] = read(SIMILAR, lambda raw: as_list(raw, key="similar_questions"))
    proposal["answer"] = read(ANSWER, text(ANSWER))
    proposal["keywords"] = read(KEYWORDS, lambda raw: as_list(raw, key="keywords"))
    proposal["policy_title"] = read(POLICY_TITLE, text(POLICY_TITLE))
    proposal["policy_number"] = normalized_number(read(POLICY_NUMBER, text(POLICY_NUMBER)))
    proposal["policy_attachments"] = read(ATTACHMENTS, lambda raw: as_int(raw, label="附件数", low=0, high=1000)) or 0
    proposal["effective_on"] = read(EFFECTIVE, as_date)
    proposal["expires_on"] = read(EXPIRES, as_date)
    proposal["urgent"] = read(URGENT, as_bool)
    if ok and proposal["keywords"] == []:
        check.fail(row.number, KEYWORDS, values.get(KEYWORDS.heading), "关键字为必填项", "required")
        ok = False
    if proposal.get("effective_on") and proposal.get("expires_on") and proposal["expires_on"] < proposal["effective_on"]:
        check.fail(row.number, EXPIRES, values.get(EXPIRES.heading), "失效日期不能早于生效日期")
        ok = False
    if entry_id is not None and version is None and values.get(VERSION.heading) is None:
        check.fail(row.number, VERSION, None, "修改已发布的知识须填写所依据的版本号（导出文件中的“版本”列）",
                   "precondition_required")
        ok = False
    if not ok:
        return None
    return _Row(row.number, entry_id, version, proposal, question_key(proposal["question"]))


def _same_content(proposal: dict, version: KnowledgeVersion) -> bool:
    current = version.content()
    current["policy_number"] = normalized_number(current["policy_number"])
    current["similar_questions"] = list(current["similar_questions"] or [])
    current["keywords"] = list(current["keywords"] or [])
    return all(proposal.get(f) == current.get(f) for f in CONTENT_FIELDS)


def _chunks(items: list[T], size: int = 500) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _check_against_database(session: Session, actor: Actor, rows: list[_Row], check: _Checker,
                            tally: _Tally) -> list[_Row]:
    """Modifications against their entries, and questions against published knowledge; rows to create."""
    ids = sorted({r.entry_id for r in rows if r.entry_id is not None})
    entries: dict[int, KnowledgeEntry] = {}
    versions: dict[tuple[int, int], KnowledgeVersion] = {}
    for chunk in _chunks(ids):
        entries.update({e.id: e for e in session.scalars(select(KnowledgeEntry).where(KnowledgeEntry.id.in_(chunk)))})
        versions.update({(v.entry_id, v.number): v for v in session.scalars(
            select(KnowledgeVersion).where(KnowledgeVersion.entry_id.in_(chunk)))})
    to_create: list[_Row] = []
    for row in rows:
        if row.entry_id is None:
            to_create.append(row)
            continue
        entry = entries.get(row.entry_id)
        if entry is None:
            check.fail(row.number, ENTRY_ID, row.entry_id, f"知识 {row.entry_id} 不存在", "entry_not_found")
        elif not actor.is_office and entry.unit_id != actor.unit_id:
            check.fail(row.number, ENTRY_ID, row.entry_id, "只能修改本单位的知识（谁提供谁负责）", "forbidden")
        elif entry.status != EntryStatus.PUBLISHED.value:
            check.fail(row.number, ENTRY_ID, row.entry_id, f"知识 {row.entry_id} 已下架，不能修改", "entry_withdrawn")
        elif row.version is None or (row.entry_id, row.version) not in versions:
            check.fail(row.number, VERSION, row.version, f"知识 {row.entry_id} 没有版本 {row.version}", "invalid")
        elif _same_content(row.proposal, versions[(row.entry_id, row.version)]):
            tally.unchanged.append(row.number)
        elif row.version != entry.published_number:
            check.fail(row.number, VERSION, row.version,
                       f"{StaleVersion.message}（所依据版本 {row.version}，当前版本 {entry.published_number}）",
                       StaleVersion.code)
        else:
            to_create.append(row)
    keys = sorted({r.key for r in to_create})
    published: dict[str, list[tuple[int, str]]] = {}
    for key_chunk in _chunks(keys):
        for entry_id, key, unit_code in session.execute(
                select(KnowledgeEntry.id, KnowledgeVersion.question_key, Unit.code)
                .join(KnowledgeVersion, (KnowledgeVersion.entry_id == KnowledgeEntry.id)
                      & (KnowledgeVersion.number == KnowledgeEntry.published_number))
                .join(Unit, Unit.id == KnowledgeEntry.unit_id)
                .where(KnowledgeVersion.question_key.in_(key_chunk),
                       KnowledgeEntry.status == EntryStatus.PUBLISHED.value)):
            published.setdefault(key, []).append((entry_id, unit_code))
    passing = []
    for row in to_create:
        clashes = [(eid, unit) for eid, unit in published.get(row.key, []) if eid != row.entry_id]
        if clashes:
            eid, unit = clashes[0]
            check.fail(row.number, QUESTION, row.proposal["question"],
                       f"知识库中已有相同的已发布问题（知识 {eid}，单位 {unit}）；如需更改请修改该知识", "duplicate_question")
        else:
            passing.append(row)
    return passing


def _unit_for(session: Session, actor: Actor, unit_code: str | None) -> tuple[str | None, str | None]:
    """(the unit shown in the report, the unit the office names for new rows).

    A maintainer imports for its own unit (naming another is refused); the office names one, or none
    when the file holds only modifications (each belongs to its entry's unit).
    """
    if actor.is_office:
        if not unit_code:
            return None, None
        if session.scalar(select(Unit.id).where(Unit.code == unit_code)) is None:
            raise ValidationFailed({"unit": f"单位 {unit_code} 不存在"})
        return unit_code, unit_code
    own = session.scalar(select(Unit.code).where(Unit.id == actor.unit_id))
    if unit_code and unit_code != own:
        raise PermissionDenied("只能导入本单位的知识（谁提供谁负责）")
    return own, None


def import_file(uow: UnitOfWork, actor: Actor, *, data: bytes, file_name: str, now: datetime, unit_code: str | None = None,
                dry_run: bool = False, submit: bool = False, max_rows: int = 1000,
                max_bytes: int = 10 * 1024 * 1024) -> ImportReport:
    """Check every row; store all of them as change requests in one transaction, or none.

    Returns the report; it is stored only when every row passed and this is not a dry run.
    """
    require_role(actor, Role.MAINTAINER, Role.OFFICE_ADMIN)
    table = read_table(data, known_headings={c.heading for c in IMPORT_COLUMNS}, max_rows=max_rows,
                       max_bytes=max_bytes)
    missing = [c.heading for c in IMPORT_COLUMNS if c.required and c.heading not in table.columns]
    if missing:
        raise MissingColumns({"file": f"缺少必填列：{'、'.join(missing)}"},
                             f"文件缺少必填列：{'、'.join(missing)}；请使用导入模板")
    with uow:
        s = uow.session
        shown_unit, office_unit = _unit_for(s, actor, unit_code)
        tally = _Tally()
        check = _Checker(table, tally)
        categories = CategoryPaths(s)
        rows: list[_Row] = []
        first_row_of: dict[str, int] = {}
        first_row_of_entry: dict[int, int] = {}
        for sheet_row in table.rows:
            if str(sheet_row.values.get(QUESTION.heading) or "").startswith(EXAMPLE_MARK):
                tally.examples_skipped += 1
                continue
            tally.rows += 1
            parsed = _parse(sheet_row, categories, check)
            if parsed is None:
                continue
            if parsed.key in first_row_of:
                check.fail(parsed.number, QUESTION, parsed.proposal["question"],
                           f"与第 {first_row_of[parsed.key]} 行的问题重复", "duplicate_in_file")
                continue
            if parsed.entry_id is not None and parsed.entry_id in first_row_of_entry:
                check.fail(parsed.number, ENTRY_ID, parsed.entry_id,
                           f"知识 {parsed.entry_id} 已在第 {first_row_of_entry[parsed.entry_id]} 行出现", "duplicate_in_file")
                continue
            first_row_of[parsed.key] = parsed.number
            if parsed.entry_id is not None:
                first_row_of_entry[parsed.entry_id] = parsed.number
            if parsed.entry_id is None and actor.is_office and office_unit is None:
                check.fail(parsed.number, None, None, "热线办导入新增知识须指明承办单位（unit 参数）", "unit_required")
                continue
            rows.append(parsed)
        if tally.rows == 0:
            raise ValidationFailed({"file": "文件中没有数据行"}, "文件中没有可导入的数据行（示例行不导入）")
        passing = _check_against_database(s, actor, rows, check, tally)
        for row in passing if not tally.errors else []:
            kind = ChangeKind.NEW if row.entry_id is None else ChangeKind.MODIFY
            try:
                cr, _ = changes.draft(s, actor, kind=kind.value, now=now, entry_id=row.entry_id,
                                   base_number=row.version, proposal=Proposal.of(row.proposal),
                                   unit_code=office_unit)
            except KbError as exc:
                field_errors = getattr(exc, "errors", None) or {}
                check.fail(row.number, None, None, "；".join(map(str, field_errors.values())) or exc.message, exc.code)
                continue
            if submit:
                changes.submit_for_review(s, actor, cr, now=now)
            tally.created.append(CreatedRow(row=row.number, change_request_id=cr.id, kind=cr.kind,
                                            entry_id=cr.entry_id, state=cr.state))
        tally.errors.sort(key=lambda e: e.row)
        tally.marks.sort(key=lambda m: m.row)
        created = tally.created
        if tally.errors:
            created = []
        elif dry_run:
            created = [replace(item, change_request_id=None) for item in created]  # rolled back: never existed
        report = ImportReport(
            file_name=file_name, format=table.format, sheet=table.sheet, unit_code=shown_unit, dry_run=dry_run,
            submit=submit, rows=tally.rows, errors=tuple(tally.errors), created=tuple(created),
            unchanged=tuple(tally.unchanged), examples_skipped=tally.examples_skipped, table=table,
            marks=tuple(tally.marks))
        if report.errors or dry_run:
            return report  # the unit of work rolls back: nothing stored
        s.flush()
        for item in report.created:
            audit.record(s, actor, "change_request.create", "change_request", item.change_request_id, None,
                         {"id": item.change_request_id, "kind": item.kind, "state": item.state,
                          "entry_id": item.entry_id, "import_file": file_name, "row": item.row}, now)
        audit.record(s, actor, "knowledge.import", "import", None, None,
                     {"file_name": file_name, "format": table.format, "sheet": table.sheet, "unit_code": shown_unit,
                      "rows": report.rows, "submitted": submit, "unchanged_rows": list(report.unchanged),
                      "created": [item.change_request_id for item in report.created]}, now)
        uow.commit()
        return report


def marked_workbook(data: bytes, report: ImportReport) -> bytes:
    """The uploaded file as an .xlsx with the bad cells filled red and commented, and a sheet listing them."""
    if report.table is None:  # the file could not be read as a table: nothing to mark
        raise ValueError("no table to mark")
    return mark_cells(data, report.table, list(report.marks))


# --- the template ----------------------------------------------------------------------------------------

REQUIRED_FONT = Font(bold=True, color="C00000")
HEADING_FONT = Font(bold=True)
HEADING_FILL = PatternFill("solid", fgColor="DDEBF7")
EXAMPLE_FONT = Font(italic=True, color="808080")


def template(uow: UnitOfWork, *, max_rows: int = 1000, today: date | None = None) -> bytes:
    """The .xlsx template: headings (required ones marked *), drop-downs, an example row, instructions."""
    with uow:
        categories = CategoryPaths(uow.session)
        paths = categories.sorted_paths()
    example_category = next((p for p in paths if p.startswith("社会民生")), paths[0] if paths else "")
    example = {
        CATEGORY.key: example_category, FORMAT.key: FORMAT_LABELS["qa"],
        QUESTION.key: f"{EXAMPLE_MARK}灵活就业人员如何办理社会保险参保登记？",
        SIMILAR.key: "自由职业怎么交社保\n灵活就业社保在哪办",
        ANSWER.key: "一、办理地点：区政务服务中心社保窗口。\n二、所需材料：居民身份证原件。\n三、办理时限：即时办结。",
        KEYWORDS.key: "社保、灵活就业、参保登记", POLICY_TITLE.key: "关于进一步做好灵活就业人员参保工作的通知",
        POLICY_NUMBER.key: "鲁人社字〔2021〕12号", ATTACHMENTS.key: 0, EFFECTIVE.key: today or date(2026, 1, 1),
        URGENT.key: "否",
    }
    last = max_rows + 1

    def build(workbook: Workbook) -> None:
        sheet = workbook.active
        sheet.title = "知识"
        for index, column in enumerate(IMPORT_COLUMNS, start=1):
            cell = sheet.cell(1, index, column.template_heading)
            cell.font = REQUIRED_FONT if column.required else HEADING_FONT
            cell.fill = HEADING_FILL
            cell.alignment = Alignment(horizontal="center", vertical="center")
            sheet.column_dimensions[get_column_letter(index)].width = column.width
            value = example.get(column.key)
            example_cell = sheet.cell(2, index, value)
            example_cell.font = EXAMPLE_FONT
            example_cell.alignment = Alignment(wrap_text=True, vertical="top")
            if isinstance(value, date):
                example_cell.number_format = "yyyy-mm-dd"
            if isinstance(value, str):
                example_cell.data_type = "s"
        sheet.freeze_panes = "A2"
        options = workbook.create_sheet("选项")
        for i, path in enumerate(paths, start=1):
            options.cell(i, 1, path).data_type = "s"
        for i, label in enumerate(FORMAT_LABELS.values(), start=1):
            options.cell(i, 2, label)
        options.cell(1, 3, "是")
        options.cell(2, 3, "否")
        options.sheet_state = "hidden"
        letter = {c.key: get_column_letter(i) for i, c in enumerate(IMPORT_COLUMNS, start=1)}
        for key, source, title in (
                (CATEGORY.key, f"'选项'!$A$1:$A${max(len(paths), 1)}", "类目"),
                (FORMAT.key, f"'选项'!$B$1:$B${len(FORMAT_LABELS)}", "内容类型"),
                (URGENT.key, "'选项'!$C$1:$C$2", "紧急")):
            validation = DataValidation(type="list", formula1=source, allow_blank=True, showErrorMessage=True,
                                        errorTitle=f"{title}无效", error=f"请从下拉列表中选择{title}")
            validation.add(f"{letter[key]}2:{letter[key]}{last}")
            sheet.add_data_validation(validation)
        for key in (EFFECTIVE.key, EXPIRES.key):
            validation = DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True,
                                        showErrorMessage=True, errorTitle="日期无效", error="请填写日期，如 2026-01-01")
            validation.add(f"{letter[key]}2:{letter[key]}{last}")
            sheet.add_data_validation(validation)
        notes = workbook.create_sheet("填写说明")
        notes.column_dimensions["A"].width = 16
        notes.column_dimensions["B"].width = 8
        notes.column_dimensions["C"].width = 90
        for line in (
                ["知识导入模板填写说明"],
                [f"1. 在“知识”表中每行填写一条知识，最多 {max_rows} 行；标题带 * 的列为必填（红色）。"],
                [f"2. 第 2 行为示例（问题以“{EXAMPLE_MARK}”开头），导入时自动跳过，可删除。"],
                ["3. 全部行检查通过才会导入：每行生成一条变更申请（草稿，或选择“提交审核”时直接提交），任一行有误则不导入任何内容，并给出错误报告。"],
                ["4. 修改已发布的知识：先导出知识（保留“知识编号”“版本”两列），修改后导入；内容未改的行自动跳过；知识已被他人更新时该行被拒绝，请重新导出。"],
                ["5. 公式按计算结果导入；隐藏的工作表不导入；合并单元格按左上角的值填入每一行。也可导入 CSV（UTF-8 或 GB18030 编码，列标题相同）。"],
                [],
                ["列", "必填", "说明"]):
            notes.append(line)
        notes["A1"].font = Font(bold=True, size=14)
        for cell in notes[8]:
            cell.font = HEADING_FONT
            cell.fill = HEADING_FILL
        for column in IMPORT_COLUMNS:
            notes.append([column.heading, "是" if column.required else "", column.note])
        for row in notes.iter_rows(min_row=9):
            row[2].alignment = Alignment(wrap_text=True, vertical="top")

    return write_workbook(build)




def maintainer_of(uow: UnitOfWork, unit_code: str) -> Actor:
    """The command line imports as the unit's first active maintainer (谁提供谁负责: drafts belong to a person)."""
    from kb.errors import NotFound
    from kb.models import User

    with uow:
        row = uow.session.execute(
            select(User.id, User.name, Unit.id).join(Unit, Unit.id == User.unit_id)
            .where(Unit.code == unit_code, User.role == Role.MAINTAINER.value, User.active.is_(True))
            .order_by(User.id)).first()
        if row is None:
            if uow.session.scalar(select(Unit.id).where(Unit.code == unit_code)) is None:
                raise NotFound(f"单位 {unit_code} 不存在", code="unit_not_found")
            raise NotFound(f"单位 {unit_code} 没有在用的单位知识员，无法以其名义导入", code="maintainer_not_found")
        return Actor(user_id=row[0], role=Role.MAINTAINER, unit_id=row[2], name=row[1])
