"""webhook and robot secrets sealed at rest (kb.sealing): `secret` becomes `sealed_secret`

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 20:40:00
"""
from alembic import context, op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_TABLES = ("webhook_subscriptions", "unit_robots")


def _secret_box():
    """The box `kb migrate` hands over, else the one the environment's settings name."""
    box = context.config.attributes.get("secret_box")
    if box is None:
        from service.config import from_env, secret_box

        box = secret_box(from_env())
    return box


def _convert(table: str, source: str, target: str, convert) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, {source} FROM {table} WHERE {source} IS NOT NULL")).all()
    for row_id, value in rows:
        bind.execute(sa.text(f"UPDATE {table} SET {target} = :value WHERE id = :id"),
                     {"value": convert(value), "id": row_id})


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('sealed_secret', sa.Text(), nullable=True))
    box = None
    for table in _TABLES:
        if op.get_bind().execute(sa.text(f"SELECT 1 FROM {table} WHERE secret IS NOT NULL LIMIT 1")).first():
            box = box or _secret_box()
            _convert(table, "secret", "sealed_secret", box.seal)
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.drop_column('secret')
        batch_op.alter_column('sealed_secret', existing_type=sa.Text(), nullable=False)
    with op.batch_alter_table('unit_robots', schema=None) as batch_op:
        batch_op.drop_column('secret')


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('secret', sa.String(length=200), nullable=True))
    box = None
    for table in _TABLES:
        if op.get_bind().execute(sa.text(f"SELECT 1 FROM {table} WHERE sealed_secret IS NOT NULL LIMIT 1")).first():
            box = box or _secret_box()
            _convert(table, "sealed_secret", "secret", box.open)
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.drop_column('sealed_secret')
        batch_op.alter_column('secret', existing_type=sa.String(length=200), nullable=False)
    with op.batch_alter_table('unit_robots', schema=None) as batch_op:
        batch_op.drop_column('sealed_secret')
