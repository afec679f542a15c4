"""The schema comes only from migrations; models and migrations must not drift apart."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kb.db import Base


def test_models_and_migrations_describe_the_same_schema(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_migration_0008_repairs_lone_surrogates_stored_in_json_columns(committed_database_url):
    """A "\\ud800" stored before input refused it: every answer showing the row failed to encode (a 500)."""
    import json

    import pytest
    from sqlalchemy import create_engine, text

    from kb.migrate import upgrade

    upgrade(committed_database_url, "0008")  # the repair runs on rows already there: take it back to before it
    from alembic import command

    from kb.migrate import alembic_config
    command.downgrade(alembic_config(committed_database_url), "0005")
    engine = create_engine(committed_database_url)
    stored = '["\\ud800问题？", "\\ud83d\\ude00", "正常"]'  # a lone surrogate, a pair (an emoji), plain text
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO synonym_groups (id, terms, note, updated_at) "
                              "VALUES (4242, :terms, 'x', CURRENT_TIMESTAMP)"), {"terms": stored})
    except Exception as exc:  # PostgreSQL's json input refuses a lone surrogate escape: nothing to repair there
        engine.dispose()
        pytest.skip(f"this database does not store lone surrogates: {type(exc).__name__}")
    upgrade(committed_database_url)
    with engine.connect() as conn:
        terms = json.loads(conn.execute(text("SELECT CAST(terms AS TEXT) FROM synonym_groups WHERE id = 4242"))
                           .scalar_one())
    engine.dispose()
    assert terms == ["\ufffd问题？", "\U0001F600", "正常"]
    json.dumps(terms, ensure_ascii=False).encode("utf-8")  # answers encode again
