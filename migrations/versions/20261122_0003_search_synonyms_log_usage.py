"""search synonyms log usage

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22 09:11:26.556941
"""
from alembic import op
import sqlalchemy as sa
import kb.models.types


revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('search_settings_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_settings_revisions'))
    )
    op.create_table('synonym_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('updated_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_synonym_groups'))
    )
    op.create_table('search_logs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('search_key', sa.String(length=32), nullable=False),
    sa.Column('searched_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('query_key', sa.String(length=200), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('result_count', sa.Integer(), nullable=False),
    sa.Column('top_entry_ids', sa.JSON(), nullable=False),
    sa.Column('latency_ms', sa.Double(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_search_logs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_logs')),
    sa.UniqueConstraint('search_key', name=op.f('uq_search_logs_search_key'))
    )
    with op.batch_alter_table('search_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_logs_query_key'), ['query_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_logs_searched_at'), ['searched_at'], unique=False)

    op.create_table('knowledge_usages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('used_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('search_key', sa.String(length=32), nullable=True),
    sa.Column('ticket_number', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['knowledge_entries.id'], name=op.f('fk_knowledge_usages_entry_id_knowledge_entries')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_knowledge_usages_unit_id_units')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_knowledge_usages_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_usages'))
    )
    with op.batch_alter_table('knowledge_usages', schema=None) as batch_op:
        batch_op.create_index('ix_knowledge_usages_entry_used', ['entry_id', 'used_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_knowledge_usages_search_key'), ['search_key'], unique=False)
        batch_op.create_index('ix_knowledge_usages_unit_used', ['unit_id', 'used_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('knowledge_usages', schema=None) as batch_op:
        batch_op.drop_index('ix_knowledge_usages_unit_used')
        batch_op.drop_index(batch_op.f('ix_knowledge_usages_search_key'))
        batch_op.drop_index('ix_knowledge_usages_entry_used')

    op.drop_table('knowledge_usages')
    with op.batch_alter_table('search_logs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_logs_searched_at'))
        batch_op.drop_index(batch_op.f('ix_search_logs_query_key'))

    op.drop_table('search_logs')
    op.drop_table('synonym_groups')
    op.drop_table('search_settings_revisions')
