"""the list of every agreement: indexes for its pages and filters, the company name to sort by
and the text it searches (kept from the details), and the home page's figures

Revision ID: 0016
Revises: 0015
"""

import json

from alembic import op
import sqlalchemy as sa


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _search_fields(details: dict) -> dict:  # type: ignore[type-arg]
    # as dpa_service.counterparties.models.search_fields, frozen here with the migration
    signatory = details.get("signatory") or {}
    name = str(details.get("legal_name", ""))
    parts = (name, str(details.get("registration_number", "")), str(signatory.get("email", "")))
    return {
        "name_key": name.casefold()[:300],
        "search_text": "\n".join(p.casefold() for p in parts)[:1000],
    }


def upgrade() -> None:
    op.add_column(
        "counterparties",
        sa.Column("name_key", sa.String(length=300), nullable=False, server_default=""),
    )
    op.add_column(
        "counterparties",
        sa.Column("search_text", sa.String(length=1000), nullable=False, server_default=""),
    )
    conn = op.get_bind()
    table = sa.table(
        "counterparties",
        sa.column("id", sa.String),
        sa.column("name_key", sa.String),
        sa.column("search_text", sa.String),
    )
    rows = conn.execute(sa.text("SELECT id, details FROM counterparties")).all()
    for row_id, details in rows:
        if isinstance(details, str):
            details = json.loads(details)
        conn.execute(
            table.update().where(table.c.id == row_id).values(**_search_fields(details or {}))
        )
    op.create_index("ix_counterparties_name_key_id", "counterparties", ["name_key", "id"])
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
    op.drop_index("ix_counterparties_name_key_id", "counterparties")
    op.drop_column("counterparties", "search_text")
    op.drop_column("counterparties", "name_key")
