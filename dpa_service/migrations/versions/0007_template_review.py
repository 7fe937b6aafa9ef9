"""template_review: who wrote, submitted, reviewed and retired each template version; its history

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("template_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("size", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("filename", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("author_subject", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reviewer", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("reviewer_subject", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("review_comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))

    # Rows so far are the built-in set (0002): its author and reviewer are "built-in".
    op.execute(
        "UPDATE template_versions SET size = length(content), author_subject = 'built-in', "
        "reviewer = approved_by, reviewer_subject = 'built-in', reviewed_at = approved_at, "
        "submitted_at = created_at WHERE author_subject IS NULL"
    )
    with op.batch_alter_table("template_versions", schema=None) as batch_op:
        batch_op.alter_column("size", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("author_subject", existing_type=sa.String(length=100), nullable=False)

    op.create_table(
        "template_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("template_key", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_subject", sa.String(length=100), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["template_versions.id"],
            name=op.f("fk_template_events_version_id_template_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_events")),
    )
    with op.batch_alter_table("template_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_template_events_template_key"), ["template_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_template_events_version_id"), ["version_id"], unique=False
        )

    # The history of every existing version starts with its registration.
    op.execute(
        "INSERT INTO template_events (version_id, template_key, version, type, from_state, "
        "to_state, actor, actor_subject, actor_role, comment, created_at) "
        "SELECT id, template_key, version, 'registered', NULL, state, author, author_subject, "
        "'system', change_note, created_at FROM template_versions"
    )


def downgrade() -> None:
    with op.batch_alter_table("template_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_template_events_version_id"))
        batch_op.drop_index(batch_op.f("ix_template_events_template_key"))
    op.drop_table("template_events")
    with op.batch_alter_table("template_versions", schema=None) as batch_op:
        batch_op.drop_column("retired_at")
        batch_op.drop_column("review_comment")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewer_subject")
        batch_op.drop_column("reviewer")
        batch_op.drop_column("submitted_at")
        batch_op.drop_column("author_subject")
        batch_op.drop_column("filename")
        batch_op.drop_column("size")
