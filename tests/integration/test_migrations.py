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


def test_migration_0011_seals_the_secrets_stored_in_clear_and_its_downgrade_opens_them(committed_database_url,
                                                                                       secret_box):
    """Webhook and robot secrets stored before 0011 were clear text: after it, only sealed values are stored."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from kb.migrate import alembic_config, upgrade

    command.downgrade(alembic_config(committed_database_url), "0010")
    engine = create_engine(committed_database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO units (id, code, name, kind, created_at) "
                              "VALUES (77, 'MG', '迁移单位', 'town', CURRENT_TIMESTAMP)"))
            conn.execute(text("INSERT INTO webhook_subscriptions (id, url, secret, events, active, created_at, "
                              "updated_at) VALUES (5, 'https://s.example.cn/h', 'whsec-clear-0123456789', '[]', :t, "
                              "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"t": True})
            conn.execute(text("INSERT INTO unit_robots (id, unit_id, channel, url, secret) "
                              "VALUES (6, 77, 'dingtalk', 'https://oapi.dingtalk.com/x', 'SEC-robot-clear')"))
        upgrade(committed_database_url, secret_box=secret_box)
        with engine.connect() as conn:
            hook = conn.execute(text("SELECT sealed_secret FROM webhook_subscriptions WHERE id = 5")).scalar_one()
            robot = conn.execute(text("SELECT sealed_secret FROM unit_robots WHERE id = 6")).scalar_one()
        assert "clear" not in hook and "clear" not in robot
        assert secret_box.open(hook) == "whsec-clear-0123456789" and secret_box.open(robot) == "SEC-robot-clear"

        command.downgrade(alembic_config(committed_database_url, secret_box), "0010")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT secret FROM webhook_subscriptions WHERE id = 5")).scalar_one() \
                == "whsec-clear-0123456789"
        upgrade(committed_database_url, secret_box=secret_box)
    finally:
        engine.dispose()
