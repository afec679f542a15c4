"""Chinese for marshmallow's English field errors, applied by the error handler to every 422.

Only the texts change: `errors` keeps its machine-readable shape (field → list of messages, nested
like the input). Messages our schemas and use cases write are Chinese already and pass through, as
does any English text not in the table.
"""
from __future__ import annotations

import re

EXACT = {
    "Missing data for required field.": "缺少必填字段",
    "Field may not be null.": "不能为 null",
    "Unknown field.": "不接受此字段（未知字段）",
    "Invalid input type.": "类型错误：应为 JSON 对象",
    "Invalid type.": "类型错误",
    "Invalid value.": "取值无效",
    "Invalid input.": "取值无效",
    "Not a valid string.": "应为字符串",
    "Not a valid utf-8 string.": "应为 UTF-8 字符串",
    "Not a valid integer.": "应为整数",
    "Not a valid number.": "应为数字",
    "Number too large.": "数值过大",
    "Special numeric values (nan or infinity) are not permitted.": "不接受 NaN 或无穷大",
    "Not a valid boolean.": "应为布尔值 true 或 false",
    "Not a valid date.": "应为日期，格式 YYYY-MM-DD",
    "Not a valid datetime.": "应为日期时间，如 2026-11-02T10:00:00+08:00",
    "Not a valid aware datetime.": "应为带时区的日期时间，如 2026-11-02T10:00:00+08:00",
    "Not a valid naive datetime.": "应为不带时区的日期时间",
    "Not a valid time.": "应为时间，格式 HH:MM:SS",
    "Not a valid period of time.": "应为时长",
    "Not a valid list.": "应为列表（JSON 数组）",
    "Not a valid tuple.": "应为列表（JSON 数组）",
    "Not a valid mapping type.": "应为 JSON 对象",
    "Not a valid URL.": "应为有效的网址（URL）",
    "Not a valid email address.": "应为有效的电子邮件地址",
    "Not a valid UUID.": "应为有效的 UUID",
    "String does not match expected pattern.": "格式不符合要求",
}

_COMPARISONS = {"greater than or equal to": "不小于", "greater than": "大于",
                "less than or equal to": "不大于", "less than": "小于"}
_OP = "(greater than or equal to|greater than|less than or equal to|less than)"

PATTERNS: tuple[tuple[re.Pattern, object], ...] = (
    (re.compile(r"Length must be between (\S+) and (\S+)\."), lambda m: f"长度须在 {m[1]} 到 {m[2]} 之间"),
    (re.compile(r"Shorter than minimum length (\S+)\."), lambda m: f"长度不能少于 {m[1]}"),
    (re.compile(r"Longer than maximum length (\S+)\."), lambda m: f"长度不能超过 {m[1]}"),
    (re.compile(r"Length must be (\S+)\."), lambda m: f"长度须为 {m[1]}"),
    (re.compile(r"Must be one of: (.*)\."), lambda m: f"须为以下之一：{m[1]}"),
    (re.compile(r"One or more of the choices you made was not in: (.*)\."), lambda m: f"所选值须在以下范围内：{m[1]}"),
    (re.compile(r"Must be equal to (.*)\."), lambda m: f"须等于 {m[1]}"),
    (re.compile(rf"Must be {_OP} (\S+) and {_OP} (\S+)\."),
     lambda m: f"须{_COMPARISONS[m[1]]} {m[2]} 且{_COMPARISONS[m[3]]} {m[4]}"),
    (re.compile(rf"Must be {_OP} (\S+)\."), lambda m: f"须{_COMPARISONS[m[1]]} {m[2]}"),
)


def translate_message(message: str) -> str:
    if message in EXACT:
        return EXACT[message]
    for pattern, render in PATTERNS:
        match = pattern.fullmatch(message)
        if match:
            return render(match)
    return message


def translate(errors):
    """The same structure with each English default message in Chinese; iterative, so depth is no risk."""
    if isinstance(errors, str):
        return translate_message(errors)
    root = {"": errors}
    stack = [root]
    while stack:
        node = stack.pop()
        keys = node.keys() if isinstance(node, dict) else range(len(node))
        for key in list(keys):
            value = node[key]
            if isinstance(value, str):
                node[key] = translate_message(value)
            elif isinstance(value, (dict, list)):
                value = node[key] = dict(value) if isinstance(value, dict) else list(value)
                stack.append(value)
    return root[""]
