"""What an uploaded file is, judged by its content (never its name), and the text inside it.

Accepted: PDF, DOCX, XLSX and images (PNG, JPEG, GIF, WebP). Text comes from
PDF (pypdf) and DOCX (python-docx); a file whose text cannot be read is still
accepted, it is only not searchable.
"""
from __future__ import annotations

import io
import logging
import zipfile

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 50_000  # what is indexed of one file

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ACCEPTED = {"application/pdf": "PDF", DOCX: "DOCX", XLSX: "XLSX", "image/png": "PNG", "image/jpeg": "JPEG",
            "image/gif": "GIF", "image/webp": "WebP"}


def sniff(data: bytes) -> str | None:
    """The media type of an accepted file, or None."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return DOCX
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return XLSX
    return None


def extract_text(media_type: str, data: bytes) -> str | None:
    try:
        if media_type == "application/pdf":
            from pypdf import PdfReader

            text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
        elif media_type == DOCX:
            from docx import Document

            document = Document(io.BytesIO(data))
            parts = [p.text for p in document.paragraphs]
            for table in document.tables:
                for row in table.rows:
                    parts.append(" ".join(cell.text for cell in row.cells))
            text = "\n".join(parts)
        else:
            return None
    except Exception:  # a damaged or encrypted file: kept, just not searchable
        log.warning("no text could be read from an uploaded %s", media_type, exc_info=True)
        return None
    text = " ".join(text.split()) if text else ""
    return text[:MAX_TEXT_CHARS] or None
