"""indexes for the list of every agreement and the staff home page's figures

Revision ID: 0016
Revises: 0015
"""

from alembic import op


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_agreements_created_at_id", "agreements", ["created_at", "id"])
    op.create_index(
        "ix_agreement_versions_state_expires_at", "agreement_versions", ["state", "expires_at"]
    )
    op.create_index("ix_agreement_versions_signed_at", "agreement_versions", ["signed_at"])
    op.create_index("ix_agreement_versions_completed_at", "agreement_versions", ["completed_at"])


def downgrade() -> None:
    op.drop_index("ix_agreement_versions_completed_at", "agreement_versions")
    op.drop_index("ix_agreement_versions_signed_at", "agreement_versions")
    op.drop_index("ix_agreement_versions_state_expires_at", "agreement_versions")
    op.drop_index("ix_agreements_created_at_id", "agreements")
