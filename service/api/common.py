"""Shared blueprint pieces: authentication, the argument parser and documented error responses."""
from __future__ import annotations

from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser, abort

from service.auth import authenticate_request

DOCUMENTED_ERRORS = (401, 403, 404, 409, 413, 422)


class KbParser(FlaskParser):
    """webargs' parser; JSON nested deeper than Python's parser can follow is a 400, not a RecursionError."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError as exc:
            abort(400, exc=exc, messages={"json": ["JSON nested too deeply."]})


class KbBlueprint(Blueprint):
    ARGUMENTS_PARSER = KbParser()


def api_blueprint(name: str, import_name: str, description: str) -> Blueprint:
    blp = KbBlueprint(name, import_name, description=description)
    blp.before_request(authenticate_request)
    return blp


def documented_errors(blp: Blueprint, *statuses: int):
    """Stack `alt_response`s so the OpenAPI document lists the error shape."""
    def decorate(func):
        for status in statuses or DOCUMENTED_ERRORS:
            func = blp.alt_response(status, schema="ApiError", description="错误：{code, status, message, errors}")(func)
        return func
    return decorate
