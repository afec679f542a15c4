"""Repair stored text holding a lone UTF-16 surrogate

Before input refused them, a JSON string such as "\\ud800问题？" reached JSON
columns (a change request's proposal, audit before/after, synonym terms, ...):
stored as the ASCII escape, read back as a string no UTF-8 answer can encode,
so every list showing the row answered 500. Each lone surrogate becomes
U+FFFD (the replacement character); the rest of the text is kept. Text
columns cannot hold one (the drivers refuse to encode it), so only JSON
columns are read, and only rows whose text has a \\uD8xx–\\uDFxx escape.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 16:40:00
"""
from __future__ import annotations

import json
import re

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_LONE = re.compile("[\ud800-\udfff]")  # json.loads pairs real surrogate pairs into one character


def _repaired(value):
    """`value` with each lone surrogate in its strings (and keys) replaced; iterative."""
    if isinstance(value, str):
        return _LONE.sub("\ufffd", value)
    root = [value]
    stack = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, str):
            container[key] = _LONE.sub("\ufffd", item)
        elif isinstance(item, dict):
            fixed = {(_LONE.sub("\ufffd", k) if isinstance(k, str) else k): v for k, v in item.items()}
            container[key] = fixed
            stack.extend((fixed, k) for k in fixed)
        elif isinstance(item, list):
            stack.extend((item, i) for i in range(len(item)))
    return root[0]


def upgrade() -> None:
    bind = op.get_bind()
    metadata = sa.MetaData()
    metadata.reflect(bind)
    for table in metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        if not keys:
            continue
        for column in table.columns:
            if not isinstance(column.type, sa.JSON):
                continue
            as_text = sa.cast(column, sa.Text)
            rows = bind.execute(sa.select(*keys, as_text).where(sa.func.lower(as_text).like("%\\ud%", escape="!")))
            for *key_values, text in rows.all():
                if text is None:
                    continue
                fixed = _repaired(json.loads(text))
                if json.dumps(fixed) == json.dumps(json.loads(text)):
                    continue  # a \\ud7.. escape, or a pair
                condition = sa.and_(*(k == v for k, v in zip(keys, key_values)))
                bind.execute(sa.update(table).where(condition).values({column.name: fixed}))


def downgrade() -> None:
    pass  # the repair cannot be undone, and nothing needs it undone
