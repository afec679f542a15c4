"""Domain errors. They carry a machine code and a Chinese message, never an HTTP status."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class KbError(Exception):
    code = "kb_error"
    message = "操作失败"

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 details: Mapping[str, Any] | None = None):
        self.message = message or self.message
        self.code = code or self.code
        self.details = dict(details or {})
        super().__init__(self.message)


class NotFound(KbError):
    code = "not_found"
    message = "对象不存在"


class PermissionDenied(KbError):
    code = "forbidden"
    message = "无权执行此操作"


class Unauthenticated(KbError):
    code = "unauthenticated"
    message = "缺少或无效的访问令牌"


class TooManyAttempts(KbError):
    """Log-in refused for a while after repeated failures (per account or per address)."""

    code = "too_many_attempts"
    message = "登录失败次数过多，请稍后再试"


class StoreUnavailable(KbError):
    """The attachment store (the folder, or the S3-compatible service) did not answer: try again later."""

    code = "store_unavailable"
    message = "附件存储暂时不可用，请稍后重试"


class StaleVersion(KbError):
    """The change was based on a version that is no longer current."""

    code = "stale_version"
    message = "内容已被他人修改，请刷新后基于最新版本重新编辑"


class PreconditionRequired(KbError):
    """A change to a versioned object that does not name the version it is based on: it could overwrite blind."""

    code = "precondition_required"
    message = "须注明所依据的版本：请在请求体中提供版本号，或发送 If-Match 头"


class Conflict(KbError):
    code = "conflict"
    message = "与现有数据冲突"


class InvalidTransition(KbError):
    code = "invalid_transition"
    message = "当前状态不允许此操作"


class TooLarge(KbError):
    """An upload over a size or row limit set by the settings."""

    code = "payload_too_large"
    message = "上传内容超过上限"


class ValidationFailed(KbError):
    """Input a use case cannot accept; `details["errors"]` maps fields to messages."""

    code = "validation_failed"
    message = "提交内容不符合要求"

    def __init__(self, errors: Mapping[str, Any], message: str | None = None):
        super().__init__(message, details={"errors": dict(errors)})
        self.errors = dict(errors)
