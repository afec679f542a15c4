"""Attachments: the upload, the query and the file description."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from service.schemas.common import ShortListArgs, StrictSchema


class AttachmentFile(StrictSchema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                               "description": "PDF、DOCX、XLSX 或图片（PNG/JPEG/GIF/WebP），按内容判断类型"})


class EntryAttachmentArgs(ShortListArgs):
    version = fields.Integer(validate=validate.Range(1, 2**31 - 1),
                             metadata={"description": "版本号；默认当前发布版本（历史版本仅本单位和热线办）"})


class AttachmentSchema(Schema):
    id = fields.Integer(dump_only=True)
    file_name = fields.String()
    media_type = fields.String()
    size_bytes = fields.Integer()
    sha256 = fields.String()
    has_text = fields.Boolean(metadata={"description": "已提取文字（PDF/DOCX），可被检索"})
    change_request_id = fields.Integer()
    uploaded_at = fields.DateTime()
    inherited = fields.Boolean(metadata={"description": "来自所修改的已发布版本"})
