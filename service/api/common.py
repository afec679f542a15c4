"""Shared blueprint pieces: authentication, the argument parser and documented error responses."""
from __future__ import annotations

import functools
import json

from flask_smorest import Blueprint
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

from kb.access import require_role
from kb.models import Role
from service.auth import authenticate_request, current_actor
from service.errors import JsonBodyRefused

DOCUMENTED_ERRORS = (401, 403, 404, 409, 413, 422)


MAX_NUMBER_DIGITS = 4000  # below Python's int parsing limit (4300 digits, a ValueError: a 500 if unchecked)


def _printable(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("utf-8")  # a lone surrogate as \ud800


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    """Python keeps the last of two equal keys: {"decision": "return", "decision": "publish"} would publish."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JsonBodyRefused("duplicate_json_key",
                                      f"请求体 JSON 中字段“{_printable(key)}”出现了不止一次，无法确定以哪个为准")
            seen.add(key)
    return obj


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise JsonBodyRefused("json_number_too_long", f"请求体 JSON 中的数字过长（超过 {MAX_NUMBER_DIGITS} 位）")
    return int(text)


def _refuse_constant(name: str):
    raise JsonBodyRefused("malformed_json", f"请求体不是合法的 JSON：{name} 不是 JSON 的取值")


def load_json_body(data: bytes):
    """The request body as JSON, strictly: UTF-8, no repeated keys, no NaN/Infinity, numbers of bounded length."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:  # as webargs does: a malformed body, a 400
        raise json.JSONDecodeError(f"Bytes decoding error : {exc.reason}", doc=str(exc.object), pos=exc.start) from None
    return json.loads(text, object_pairs_hook=_refuse_duplicate_keys, parse_int=_bounded_int,
                      parse_constant=_refuse_constant)


class KbParser(FlaskParser):
    """webargs' parser with a strict JSON loader (:func:`load_json_body`).

    JSON nested deeper than Python's parser can follow is a 400, not a RecursionError.
    """

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        try:
            return load_json_body(req.get_data(cache=True))
        except RecursionError as exc:
            abort(400, exc=exc, messages={"json": ["JSON nested too deeply."]})
        except JsonBodyRefused as exc:
            abort(400, exc=exc, messages={"json": [exc.message]})


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
            func = blp.alt_response(status, schema="Error", description="错误：{code, status, message, errors}")(func)
        return func
    return decorate


def roles(*allowed: Role):
    """Who may call the view, checked before its arguments are read (put it above ``@blp.arguments``).

    A caller whose role may not do this gets the 403 whatever it sent, not a 422
    about a body it could never send. The use case checks again (and checks the
    unit): this only answers first. Records ``allowed`` on the view for the tests.
    """
    def decorate(func):
        @functools.wraps(func)
        def checked(*args, **kwargs):
            require_role(current_actor(), *allowed)
            return func(*args, **kwargs)
        checked._allowed_roles = allowed
        return checked
    return decorate


ANY_ROLE = tuple(Role)
