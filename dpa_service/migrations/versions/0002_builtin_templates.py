"""Register the built-in templates and subprocessor list as approved version 1.

Revision ID: 0002
Revises: 0001
"""

import hashlib
import json
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from dpa_service.clauses.builtin import load_subprocessors, load_templates
from dpa_service.config import Settings

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

AUTHOR = "built-in"


def upgrade() -> None:
    templates_dir = Settings.from_env().templates_dir
    now = datetime.now(UTC)
    template_versions = sa.table(
        "template_versions",
        sa.column("id", sa.String),
        sa.column("template_key", sa.String),
        sa.column("version", sa.Integer),
        sa.column("state", sa.String),
        sa.column("sha256", sa.String),
        sa.column("content", sa.LargeBinary),
        sa.column("change_note", sa.Text),
        sa.column("author", sa.String),
        sa.column("approved_by", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("approved_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        template_versions,
        [
            {
                "id": str(uuid.uuid4()),
                "template_key": key,
                "version": 1,
                "state": "approved",
                "sha256": hashlib.sha256(content).hexdigest(),
                "content": content,
                "change_note": "Built-in template set",
                "author": AUTHOR,
                "approved_by": AUTHOR,
                "created_at": now,
                "approved_at": now,
            }
            for key, content in load_templates(templates_dir).items()
        ],
    )
    entries = load_subprocessors(templates_dir)
    canonical = json.dumps(entries, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    lists = sa.table(
        "subprocessor_list_versions",
        sa.column("id", sa.String),
        sa.column("version", sa.Integer),
        sa.column("state", sa.String),
        sa.column("entries", sa.JSON),
        sa.column("sha256", sa.String),
        sa.column("author", sa.String),
        sa.column("approved_by", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("approved_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        lists,
        [
            {
                "id": str(uuid.uuid4()),
                "version": 1,
                "state": "approved",
                "entries": entries,
                "sha256": hashlib.sha256(canonical.encode()).hexdigest(),
                "author": AUTHOR,
                "approved_by": AUTHOR,
                "created_at": now,
                "approved_at": now,
            }
        ],
    )


def downgrade() -> None:
    op.execute("DELETE FROM subprocessor_list_versions WHERE author = 'built-in'")
    op.execute("DELETE FROM template_versions WHERE author = 'built-in'")
