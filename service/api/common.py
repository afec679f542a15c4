"""Shared blueprint pieces: authentication and documented error responses."""
from __future__ import annotations

from flask_smorest import Blueprint

from service.auth import authenticate_request

DOCUMENTED_ERRORS = (401, 403, 404, 409, 413, 422)


def api_blueprint(name: str, import_name: str, description: str) -> Blueprint:
    blp = Blueprint(name, import_name, description=description)
    blp.before_request(authenticate_request)
    return blp


def documented_errors(blp: Blueprint, *statuses: int):
    """Stack `alt_response`s so the OpenAPI document lists the error shape."""
    def decorate(func):
        for status in statuses or DOCUMENTED_ERRORS:
            func = blp.alt_response(status, schema="ApiError", description="错误：{code, status, message, errors}")(func)
        return func
    return decorate
