"""subprocessor_changes: review of list versions, announced changes, notices and objections

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subprocessor_list_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("author_subject", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("based_on", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reviewer", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("reviewer_subject", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("review_comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))

    # Rows so far are the built-in list (0002): written and approved by "built-in".
    op.execute(
        "UPDATE subprocessor_list_versions SET change_note = 'Built-in subprocessor list', "
        "author_subject = 'built-in', reviewer = approved_by, reviewer_subject = 'built-in', "
        "reviewed_at = approved_at, submitted_at = created_at WHERE author_subject IS NULL"
    )
    with op.batch_alter_table("subprocessor_list_versions", schema=None) as batch_op:
        batch_op.alter_column("change_note", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("author_subject", existing_type=sa.String(length=100), nullable=False)

    op.create_table(
        "subprocessor_changes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        sa.Column("diff", sa.JSON(), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("objection_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notices", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["subprocessor_list_versions.id"],
            name=op.f("fk_subprocessor_changes_version_id_subprocessor_list_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subprocessor_changes")),
        sa.UniqueConstraint("version_id", name=op.f("uq_subprocessor_changes_version_id")),
    )
    op.create_table(
        "subprocessor_notices",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("change_id", sa.String(length=36), nullable=False),
        sa.Column("counterparty_id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_id", sa.String(length=36), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("objected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["subprocessor_changes.id"],
            name=op.f("fk_subprocessor_notices_change_id_subprocessor_changes"),
        ),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_subprocessor_notices_counterparty_id_counterparties"),
        ),
        sa.ForeignKeyConstraint(
            ["email_id"],
            ["outbound_emails.id"],
            name=op.f("fk_subprocessor_notices_email_id_outbound_emails"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subprocessor_notices")),
        sa.UniqueConstraint(
            "change_id", "counterparty_id", name=op.f("uq_subprocessor_notices_change_id")
        ),
        sa.UniqueConstraint("token_hash", name=op.f("uq_subprocessor_notices_token_hash")),
    )
    with op.batch_alter_table("subprocessor_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subprocessor_notices_counterparty_id"), ["counterparty_id"], unique=False
        )
    op.create_table(
        "subprocessor_objections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("notice_id", sa.String(length=36), nullable=False),
        sa.Column("change_id", sa.String(length=36), nullable=False),
        sa.Column("counterparty_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=400), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["subprocessor_changes.id"],
            name=op.f("fk_subprocessor_objections_change_id_subprocessor_changes"),
        ),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_subprocessor_objections_counterparty_id_counterparties"),
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["subprocessor_notices.id"],
            name=op.f("fk_subprocessor_objections_notice_id_subprocessor_notices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subprocessor_objections")),
        sa.UniqueConstraint("notice_id", name=op.f("uq_subprocessor_objections_notice_id")),
    )
    with op.batch_alter_table("subprocessor_objections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subprocessor_objections_change_id"), ["change_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("subprocessor_objections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subprocessor_objections_change_id"))
    op.drop_table("subprocessor_objections")
    with op.batch_alter_table("subprocessor_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subprocessor_notices_counterparty_id"))
    op.drop_table("subprocessor_notices")
    op.drop_table("subprocessor_changes")
    with op.batch_alter_table("subprocessor_list_versions", schema=None) as batch_op:
        batch_op.drop_column("retired_at")
        batch_op.drop_column("review_comment")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewer_subject")
        batch_op.drop_column("reviewer")
        batch_op.drop_column("submitted_at")
        batch_op.drop_column("based_on")
        batch_op.drop_column("author_subject")
        batch_op.drop_column("change_note")
