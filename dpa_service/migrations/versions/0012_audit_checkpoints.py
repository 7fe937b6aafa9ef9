"""audit checkpoints

Revision ID: 0012
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_checkpoints',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('agreements', sa.Integer(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints')),
    sa.UniqueConstraint('key', name=op.f('uq_audit_checkpoints_key')),
    sa.UniqueConstraint('number', name=op.f('uq_audit_checkpoints_number'))
    )
    # Every existing chain is anchored by the first checkpoint.
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anchored_seq', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.alter_column('anchored_seq', server_default=None)
    # Checkpoints are archive objects of no agreement.
    with op.batch_alter_table('archive_objects', schema=None) as batch_op:
        batch_op.alter_column('agreement_id', existing_type=sa.String(length=36), nullable=True)
        batch_op.alter_column('version', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM archive_objects WHERE agreement_id IS NULL")
    with op.batch_alter_table('archive_objects', schema=None) as batch_op:
        batch_op.alter_column('version', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('agreement_id', existing_type=sa.String(length=36), nullable=False)
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_column('anchored_seq')
    op.drop_table('audit_checkpoints')
