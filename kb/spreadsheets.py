"""Reading uploaded tables (.xlsx, .csv) and writing them back, with no web framework.

Reading: formulas come back as the values Excel last computed (openpyxl
``data_only``); macros are never run (an .xlsx holds none, and we load no
VBA); hidden sheets are ignored; a merged cell gives its value to every cell
it covers; empty rows anywhere are skipped. CSV is UTF-8 (with or without a
byte-order mark) or GB18030, whichever decodes.

Writing: :func:`mark_cells` returns the uploaded workbook with bad cells
filled red and commented; :class:`StreamingXlsx` and :func:`csv_chunks` write
large exports without holding the rows in memory.
"""
from __future__ import annotations

import csv
import io
import re
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from kb.errors import TooLarge, ValidationFailed

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .doc: the old binary formats
MAX_UNPACKED_BYTES = 300 * 1024 * 1024  # what an .xlsx may unpack to (10 MB of real data unpacks to ~100 MB)
HEADER_SEARCH_ROWS = 10  # a title line or two above the headings is allowed
BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_FORMULA_START = ("=", "+", "-", "@")


class UnreadableFile(ValidationFailed):
    code = "unreadable_file"


def unreadable(message: str) -> UnreadableFile:
    return UnreadableFile({"file": message}, message)


def heading_key(text: Any) -> str:
    """A heading as matched: '类目*', ' 类目（必填）' and '类目\\n' are all '类目'."""
    if text is None:
        return ""
    key = re.sub(r"\s+", "", str(text))
    key = re.sub(r"[（(]必填[)）]$", "", key)
    return key.rstrip("*＊")


@dataclass
class SheetRow:
    number: int                      # the row number the user sees (Excel row, CSV line record)
    values: dict[str, Any]           # heading key -> cell value (None when empty)


@dataclass
class Table:
    format: str                      # "xlsx" | "csv"
    sheet: str | None
    header_row: int
    columns: dict[str, int]          # heading key -> 1-based column index
    rows: list[SheetRow] = field(default_factory=list)
    raw: list[list[Any]] = field(default_factory=list)  # CSV only: every record, for the marked copy


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _is_empty(values: Iterable[Any]) -> bool:
    return all(_clean(v) is None for v in values)


def read_table(data: bytes, *, known_headings: set[str], max_rows: int, max_bytes: int) -> Table:
    """The first visible sheet (or the CSV) whose heading row names at least one known heading."""
    if len(data) > max_bytes:
        raise TooLarge(f"文件过大：{len(data)} 字节，上限为 {max_bytes} 字节（{max_bytes // (1024 * 1024)} MB）",
                       code="import_file_too_large", details={"limit_bytes": max_bytes})
    if not data.strip():
        raise unreadable("文件为空")
    if data.startswith(OLE_MAGIC):
        raise unreadable("不支持旧版 Excel（.xls）格式，请在 Excel 中“另存为” .xlsx 后再导入")
    if data.startswith(XLSX_MAGIC):
        return _read_xlsx(data, known_headings, max_rows)
    return _read_csv(data, known_headings, max_rows)


def _too_many_rows(max_rows: int) -> TooLarge:
    return TooLarge(f"数据行数超过上限：每个文件最多 {max_rows} 行，请拆分后分批导入",
                    code="import_too_many_rows", details={"limit_rows": max_rows})


def _find_header(rows: Iterable[tuple[int, list[Any]]], known: set[str]) -> tuple[int, dict[str, int]] | None:
    for number, values in rows:
        if number > HEADER_SEARCH_ROWS:
            return None
        keys = [heading_key(v) for v in values]
        if known & set(keys):
            columns: dict[str, int] = {}
            for i, key in enumerate(keys, start=1):
                if key and key not in columns:  # a repeated heading: the first column counts
                    columns[key] = i
            return number, columns
    return None


def _read_xlsx(data: bytes, known: set[str], max_rows: int) -> Table:
    try:
        unpacked = sum(item.file_size for item in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise unreadable(f"无法读取该 .xlsx 文件（{type(exc).__name__}），请确认文件未损坏且为 Excel 工作簿") from exc
    if unpacked > MAX_UNPACKED_BYTES:  # a small file that unpacks to gigabytes is refused before it is opened
        raise TooLarge(f"工作簿解压后过大（{unpacked // (1024 * 1024)} MB，上限 {MAX_UNPACKED_BYTES // (1024 * 1024)} MB）",
                       code="import_file_too_large", details={"limit_bytes": MAX_UNPACKED_BYTES})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Data Validation extension is not supported" and the like
            workbook = load_workbook(io.BytesIO(data), data_only=True, keep_vba=False, keep_links=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError, TypeError) as exc:
        raise unreadable(f"无法读取该 .xlsx 文件（{type(exc).__name__}），请确认文件未损坏且为 Excel 工作簿") from exc
    for sheet in workbook.worksheets:
        if sheet.sheet_state != "visible":
            continue
        merged: dict[tuple[int, int], Any] = {}
        for cells in sheet.merged_cells.ranges:
            value = sheet.cell(cells.min_row, cells.min_col).value
            for r in range(cells.min_row, cells.max_row + 1):
                for c in range(cells.min_col, cells.max_col + 1):
                    merged[(r, c)] = value

        def values_of(row_number: int, cells, merged=merged) -> list[Any]:
            return [merged.get((row_number, i), cell.value) for i, cell in enumerate(cells, start=1)]

        numbered = ((r, values_of(r, cells)) for r, cells in enumerate(sheet.iter_rows(), start=1))
        header = _find_header(numbered, known)
        if header is None:
            continue
        header_row, columns = header
        table = Table("xlsx", sheet.title, header_row, columns)
        for r, cells in enumerate(sheet.iter_rows(min_row=header_row + 1), start=header_row + 1):
            values = values_of(r, cells)
            if _is_empty(values):
                continue
            if len(table.rows) >= max_rows:
                raise _too_many_rows(max_rows)
            table.rows.append(SheetRow(r, {k: _clean(values[i - 1]) if i <= len(values) else None
                                           for k, i in columns.items()}))
        return table
    raise unreadable("未找到知识数据表：请使用导入模板，第一行为列标题（如“问题”“答案”“类目”）")


def decode_csv(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    for encoding in ("utf-8", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise unreadable("无法识别文件编码或文件不是 CSV：CSV 请保存为 UTF-8 或 GB18030（GBK）编码，Excel 文件请用 .xlsx")


def _unquote_formula(value: str) -> str:
    # Our CSV export writes '=... so spreadsheet programs keep it as text; read it back as typed.
    return value[1:] if value.startswith("'") and value[1:2] in _FORMULA_START else value


def _read_csv(data: bytes, known: set[str], max_rows: int) -> Table:
    text = decode_csv(data)
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise unreadable(f"CSV 格式有误：{exc}") from exc
    header = _find_header(((i, rec) for i, rec in enumerate(records, start=1)), known)
    if header is None:
        raise unreadable("未找到列标题：CSV 第一行应为列标题（如“问题”“答案”“类目”）")
    header_row, columns = header
    table = Table("csv", None, header_row, columns, raw=records)
    for r, record in enumerate(records[header_row:], start=header_row + 1):
        if _is_empty(record):
            continue
        if len(table.rows) >= max_rows:
            raise _too_many_rows(max_rows)
        table.rows.append(SheetRow(r, {k: _clean(_unquote_formula(record[i - 1])) if i <= len(record) else None
                                       for k, i in columns.items()}))
    return table


@dataclass(frozen=True)
class CellMark:
    row: int
    column: int | None   # None: the row as a whole
    heading: str
    value: Any
    message: str


def mark_cells(data: bytes, table: Table, marks: list[CellMark]) -> bytes:
    """The uploaded workbook (a CSV becomes one) with each bad cell red and commented, and a sheet of errors."""
    if table.format == "xlsx":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data))  # formulas kept as the user wrote them
        sheet = workbook[table.sheet]
    else:
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "导入数据"
        for record in table.raw:
            sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) for v in record])
    by_cell: dict[tuple[int, int], list[str]] = {}
    for mark in marks:
        column = mark.column or 1
        by_cell.setdefault((mark.row, column), []).append(mark.message)
    for (row, column), messages in by_cell.items():
        cell = sheet.cell(row, column)
        if type(cell).__name__ == "MergedCell":  # write on the range's top-left cell
            for cells in sheet.merged_cells.ranges:
                if cells.min_row <= row <= cells.max_row and cells.min_col <= column <= cells.max_col:
                    cell = sheet.cell(cells.min_row, cells.min_col)
                    break
        cell.fill = BAD_FILL
        cell.comment = Comment("\n".join(messages), "知识库导入检查", width=300, height=120)
    title = "错误报告"
    while title in workbook.sheetnames:
        title += "_"
    report = workbook.create_sheet(title, 0)
    report.append(["行号", "列", "单元格", "填写内容", "问题说明"])
    for cell in report[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for mark in marks:
        ref = f"{get_column_letter(mark.column)}{mark.row}" if mark.column else ""
        report.append([mark.row, mark.heading, ref, _text(mark.value), mark.message])
    for letter, width in zip("ABCDE", (8, 14, 10, 30, 60)):
        report.column_dimensions[letter].width = width
    workbook.active = 0
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


# --- writing exports -------------------------------------------------------------------------------


def spreadsheet_value(value: Any) -> Any:
    """A value for a cell: numbers and dates stay themselves, lists are joined by line, the rest text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float, date)):
        return value
    if isinstance(value, (list, tuple)):
        return "\n".join(str(v) for v in value)
    return str(value)


class StreamingXlsx:
    """An .xlsx written row by row to a temporary file (openpyxl write-only): memory stays flat."""

    def __init__(self, sheet_title: str, headings: Sequence[str], widths: Sequence[int]):
        from openpyxl.cell import WriteOnlyCell

        self._cell = WriteOnlyCell
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet(sheet_title)
        for i, width in enumerate(widths, start=1):
            self.sheet.column_dimensions[get_column_letter(i)].width = width
        self.sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        row = []
        for heading in headings:
            cell = WriteOnlyCell(self.sheet, value=heading)
            cell.font = bold
            cell.fill = HEADER_FILL
            row.append(cell)
        self.sheet.append(row)

    def append(self, values: list[Any]) -> None:
        row = []
        for value in values:
            value = spreadsheet_value(value)
            if isinstance(value, str):
                cell = self._cell(self.sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
                cell.data_type = "s"  # never a formula, even when the text starts with "="
            elif isinstance(value, date):
                cell = self._cell(self.sheet, value=value)
                cell.number_format = "yyyy-mm-dd"
            else:
                cell = self._cell(self.sheet, value=value)
            row.append(cell)
        self.sheet.append(row)

    def save(self) -> str:
        """Write the workbook to a named temporary file and return its path (the caller removes it)."""
        handle = tempfile.NamedTemporaryFile(prefix="kb-export-", suffix=".xlsx", delete=False)
        handle.close()
        self.workbook.save(handle.name)
        return handle.name


def _csv_text(value: Any) -> str:
    value = spreadsheet_value(value)
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text  # kept as text by spreadsheet programs; the importer takes the quote off again
    return text


def csv_chunks(headings: Sequence[str], rows: Iterable[Sequence[Any]], *, rows_per_chunk: int = 500) -> Iterator[bytes]:
    """CSV bytes in chunks: UTF-8 with a byte-order mark (so Excel reads the Chinese), CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headings)
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    count = 0
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
        count += 1
        if count % rows_per_chunk == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue().encode("utf-8")


def write_workbook(build: Callable[[Workbook], None]) -> bytes:
    workbook = Workbook()
    build(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
