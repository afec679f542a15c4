"""Knowledge import and export: query arguments, the upload and the import report."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from kb.services.knowledge_export import STATUSES
from service.schemas.common import StrictSchema
from service.schemas.fields import Id


class ImportQueryArgs(StrictSchema):
    unit = fields.String(load_default=None, validate=validate.Length(1, 50),
                         metadata={"description": "单位编码：热线办导入新增知识时必填；单位知识员只能是本单位"})
    dry_run = fields.Boolean(load_default=False, metadata={"description": "1：只检查不保存，返回检查报告"})
    submit = fields.Boolean(load_default=False, metadata={"description": "1：导入后直接提交单位审核（默认存为草稿）"})
    report = fields.String(load_default=None, validate=validate.OneOf(["xlsx"]),
                           metadata={"description": "xlsx：只检查不保存，返回标出错误单元格的工作簿（含“错误报告”表）"})


class ImportFile(StrictSchema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                               "description": ".xlsx 或 .csv（UTF-8 / GB18030）"})


class ImportRowError(Schema):
    row = fields.Integer(metadata={"description": "行号（与 Excel 中的行号一致）"})
    column = fields.String(metadata={"description": "列标题"})
    value = fields.Raw(allow_none=True)
    code = fields.String()
    message = fields.String()


class ImportCreated(Schema):
    row = fields.Integer()
    change_request_id = fields.Integer(allow_none=True)
    kind = fields.String()
    entry_id = fields.Integer(allow_none=True)
    state = fields.String()


class ImportReportSchema(Schema):
    file_name = fields.String()
    format = fields.String(metadata={"description": "xlsx 或 csv"})
    sheet = fields.String(allow_none=True)
    unit_code = fields.String(allow_none=True)
    dry_run = fields.Boolean()
    submit = fields.Boolean()
    rows = fields.Integer(metadata={"description": "数据行数（不含标题、空行和示例行）"})
    valid = fields.Boolean()
    errors = fields.List(fields.Nested(ImportRowError))
    created = fields.List(fields.Nested(ImportCreated))
    unchanged = fields.List(fields.Integer(), metadata={"description": "与所依据版本相同、未生成变更申请的行"})
    examples_skipped = fields.Integer()


class ExportQueryArgs(StrictSchema):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(["xlsx", "csv"]))
    unit = fields.String(load_default=None, metadata={"description": "单位编码；单位知识员只能导出本单位"})
    category_id = Id(load_default=None, metadata={"description": "分类（含下级分类）"})
    status = fields.String(load_default="published", validate=validate.OneOf(STATUSES),
                           metadata={"description": "published（默认）、withdrawn 或 all"})
    updated_since = fields.Date(load_default=None, metadata={"description": "只导出此日期（含）以后更新的知识"})
