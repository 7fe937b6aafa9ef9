"""request ids on queued work; archive objects claimed while being stored

Revision ID: 0015
Revises: 0014
"""

from alembic import op
import sqlalchemy as sa


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

QUEUED_WORK = ("archive_objects", "outbound_emails", "webhook_deliveries", "reissue_items")


def upgrade() -> None:
    for table in QUEUED_WORK:
        op.add_column(table, sa.Column("request_id", sa.String(length=64), nullable=True))
    op.add_column(
        "archive_objects", sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("archive_objects", "claimed_until")
    for table in QUEUED_WORK:
        op.drop_column(table, "request_id")
