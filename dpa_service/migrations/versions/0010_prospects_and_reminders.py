"""prospects_and_reminders

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # -- prospects: counterparties owned by a sales user, convertible into workspaces
    with op.batch_alter_table('counterparties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_subject', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('owner_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('owner_email', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('converted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_counterparties_owner_subject'), ['owner_subject'], unique=False)

    # -- the e-mails that invited a signatory: send, resend, reminders (one per schedule step)
    op.create_table('signing_invitations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agreement_id', sa.String(length=36), nullable=False),
    sa.Column('version_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('reminder_number', sa.Integer(), nullable=True),
    sa.Column('link_id', sa.String(length=36), nullable=True),
    sa.Column('email_id', sa.String(length=36), nullable=True),
    sa.Column('to_addr', sa.String(length=254), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_signing_invitations_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['email_id'], ['outbound_emails.id'], name=op.f('fk_signing_invitations_email_id_outbound_emails')),
    sa.ForeignKeyConstraint(['link_id'], ['signing_links.id'], name=op.f('fk_signing_invitations_link_id_signing_links')),
    sa.ForeignKeyConstraint(['version_id'], ['agreement_versions.id'], name=op.f('fk_signing_invitations_version_id_agreement_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_invitations')),
    sa.UniqueConstraint('version_id', 'reminder_number', name=op.f('uq_signing_invitations_version_id'))
    )
    with op.batch_alter_table('signing_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signing_invitations_agreement_id'), ['agreement_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('signing_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signing_invitations_agreement_id'))
    op.drop_table('signing_invitations')
    with op.batch_alter_table('counterparties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_counterparties_owner_subject'))
        batch_op.drop_column('converted_at')
        batch_op.drop_column('owner_email')
        batch_op.drop_column('owner_name')
        batch_op.drop_column('owner_subject')
