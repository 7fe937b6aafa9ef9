"""Workspaces: upsert the details the Klusaro app pushes; find them for generation."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dpa_service.counterparties.models import Counterparty
from dpa_service.counterparties.schemas import CounterpartyDetails
from dpa_service.db import utcnow
from dpa_service.errors import NotFound

WORKSPACE = "workspace"


def details_sha256(details: dict[str, Any]) -> str:
    canonical = json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def upsert_workspace(
    *, session: Session, workspace_id: str, details: CounterpartyDetails
) -> tuple[Counterparty, bool]:
    """Returns the workspace and whether it was created."""
    data = details.to_dict()
    digest = details_sha256(data)
    row = session.scalar(
        select(Counterparty).where(
            Counterparty.kind == WORKSPACE, Counterparty.external_id == workspace_id
        )
    )
    if row is None:
        row = Counterparty(
            kind=WORKSPACE, external_id=workspace_id, details=data, details_sha256=digest
        )
        session.add(row)
        session.flush()
        return row, True
    if row.details_sha256 != digest:
        row.details = data
        row.details_sha256 = digest
        row.updated_at = utcnow()
        session.flush()
    return row, False


def get_workspace(*, session: Session, workspace_id: str) -> Counterparty:
    row = session.scalar(
        select(Counterparty).where(
            Counterparty.kind == WORKSPACE, Counterparty.external_id == workspace_id
        )
    )
    if row is None:
        raise NotFound(f"workspace {workspace_id!r} is not known; PUT its details first")
    return row
