"""a Reply-To on queued e-mails (sales e-mails answer to the salesperson)

Revision ID: 0017
Revises: 0016
"""

from alembic import op
import sqlalchemy as sa


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbound_emails", sa.Column("reply_to", sa.String(length=254), nullable=True))


def downgrade() -> None:
    op.drop_column("outbound_emails", "reply_to")
