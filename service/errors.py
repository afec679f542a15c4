"""One table from domain errors to HTTP statuses, and one error body shape.

Every error is `{"code", "status", "message", "errors"}`: a machine code, the
status, a Chinese message and, where fields are at fault, the field errors.
"""
from __future__ import annotations

import json
import logging

from flask import Flask, has_request_context, jsonify, request
from werkzeug.exceptions import BadRequest, HTTPException

from kb import errors as kb_errors
from service.field_messages import translate

log = logging.getLogger(__name__)

STATUS_BY_ERROR: tuple[tuple[type[kb_errors.KbError], int], ...] = (
    (kb_errors.Unauthenticated, 401),
    (kb_errors.PermissionDenied, 403),
    (kb_errors.NotFound, 404),
    (kb_errors.PreconditionRequired, 428),
    (kb_errors.TooManyAttempts, 429),
    (kb_errors.StaleVersion, 409),
    (kb_errors.Conflict, 409),
    (kb_errors.InvalidTransition, 409),
    (kb_errors.ValidationFailed, 422),
    (kb_errors.TooLarge, 413),
    (kb_errors.StoreUnavailable, 503),
    (kb_errors.KbError, 400),
)

HTTP_MESSAGES = {
    400: ("bad_request", "请求格式错误"),
    401: ("unauthenticated", "缺少或无效的访问令牌"),
    403: ("forbidden", "无权执行此操作"),
    404: ("not_found", "请求的资源不存在"),
    405: ("method_not_allowed", "不支持此请求方法"),
    409: ("conflict", "与现有数据冲突"),
    412: ("precondition_failed", "版本条件不满足"),
    413: ("payload_too_large", "请求体过大"),
    415: ("unsupported_media_type", "请求体须为 JSON"),
    422: ("validation_failed", "提交内容不符合要求"),
    428: ("precondition_required", "须注明所依据的版本：请在请求体中提供版本号，或发送 If-Match 头"),
    429: ("too_many_requests", "请求过于频繁"),
    500: ("internal_error", "服务器内部错误，请稍后重试"),
    503: ("service_unavailable", "服务暂时不可用，请稍后重试"),
}


class JsonBodyRefused(ValueError):
    """A request body that is JSON to Python's lenient parser but not what a careful API accepts.

    ``code`` and ``message`` (Chinese) go into the 400 error body (service.errors).
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


class MalformedBody(BadRequest):
    """A request body the server could not read as sent (e.g. a chunked body with a bad chunk size)."""


def error_body(status: int, code: str, message: str, errors=None, **extra) -> dict:
    body = {"code": code, "status": status, "message": message}
    if errors:
        body["errors"] = errors
    body.update({key: value for key, value in extra.items() if key not in body})  # the shape's own fields hold
    return body


def status_for(error: kb_errors.KbError) -> int:
    for error_type, status in STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return 400


def register(app: Flask) -> None:
    @app.errorhandler(kb_errors.KbError)
    def _domain_error(error: kb_errors.KbError):
        status = status_for(error)
        details = {key: value for key, value in error.details.items()
                   if key not in ("code", "status", "message")}  # the shape's own fields hold
        errors = details.pop("errors", None)
        return jsonify(error_body(status, error.code, error.message, errors, **details)), status

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        code, message = HTTP_MESSAGES.get(status, ("http_error", error.description or "请求错误"))
        errors = None
        data = getattr(error, "data", None) or {}
        exc = getattr(error, "exc", None)  # webargs attaches the parsing error
        if isinstance(exc, RecursionError):  # service.api.common.KbParser
            code, message = "json_too_deep", "请求体 JSON 嵌套层数过多，无法解析"
        elif isinstance(error, MalformedBody):
            code, message = "malformed_body", "请求体无法读取：分块传输（chunked）格式错误"
        elif isinstance(exc, JsonBodyRefused):  # duplicate keys, NaN, numbers of thousands of digits
            code, message = exc.code, exc.message
        elif isinstance(exc, json.JSONDecodeError):
            code, message = "malformed_json", (f"请求体不是合法的 JSON：第 {exc.lineno} 行第 {exc.colno} 列附近有误"
                                               f"（{exc.msg}）")
        elif status == 400 and "JSON" in (error.description or ""):  # Flask's own request.get_json
            code, message = "malformed_json", "请求体不是合法的 JSON"
        elif status == 413 and has_request_context() and request.max_content_length:
            message = f"请求体过大：上限为 {request.max_content_length} 字节（KB_MAX_BODY_BYTES）"
        elif "messages" in data:  # webargs: field errors by location, marshmallow's English put in Chinese
            messages = data["messages"]
            errors = translate(messages.get("json", messages) if isinstance(messages, dict) else messages)
        response = jsonify(error_body(status, code, message, errors))
        for key, value in (data.get("headers") or {}).items():
            response.headers[key] = value
        valid_methods = getattr(error, "valid_methods", None)
        if status == 405 and valid_methods:  # RFC 9110: a 405 lists the methods the resource has
            response.headers["Allow"] = ", ".join(valid_methods)
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error")
        code, message = HTTP_MESSAGES[500]
        return jsonify(error_body(500, code, message)), 500
