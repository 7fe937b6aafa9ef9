"""reissues

Revision ID: 0011
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reissues',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('created_by', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reissues'))
    )
    op.create_table('reissue_items',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('reissue_id', sa.String(length=36), nullable=False),
    sa.Column('agreement_id', sa.String(length=36), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('claim', sa.String(length=36), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('new_version', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=1000), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_reissue_items_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['reissue_id'], ['reissues.id'], name=op.f('fk_reissue_items_reissue_id_reissues')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reissue_items')),
    sa.UniqueConstraint('reissue_id', 'agreement_id', name=op.f('uq_reissue_items_reissue_id'))
    )
    with op.batch_alter_table('reissue_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reissue_items_reissue_id'), ['reissue_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reissue_items_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reissue_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reissue_items_state'))
        batch_op.drop_index(batch_op.f('ix_reissue_items_reissue_id'))
    op.drop_table('reissue_items')
    op.drop_table('reissues')
