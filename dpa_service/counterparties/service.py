"""Workspaces: upsert the details the Klusaro app pushes; find them for generation.
Prospects: companies sales sends a DPA to before they are customers; converted into workspaces."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dpa_service import audit
from dpa_service.accounts.service import Principal
from dpa_service.agreements.models import Agreement
from dpa_service.clock import utcnow
from dpa_service.counterparties.models import Counterparty
from dpa_service.counterparties.schemas import CounterpartyDetails
from dpa_service.errors import Conflict, NotFound
from dpa_service.ids import new_id

WORKSPACE = "workspace"
PROSPECT = "prospect"


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
    if _claims_another_company(row, data):
        raise Conflict(
            f"workspace {workspace_id!r} was made from the prospect "
            f"{row.details['legal_name']!r} (registration number "
            f"{row.details['registration_number']}), but these details are for registration "
            f"number {data['registration_number']}; check the workspace id the prospect was "
            "converted to"
        )
    if row.details_sha256 != digest:
        row.details = data
        row.details_sha256 = digest
        row.updated_at = utcnow()
        session.flush()
    return row, False


def _claims_another_company(row: Counterparty, data: dict[str, Any]) -> bool:
    """A converted prospect's first details from the Klusaro app must be the same company:
    a mistyped workspace id must not hand its signed agreements to someone else."""
    if row.converted_at is None or row.updated_at > row.converted_at:
        return False

    def norm(value: object) -> str:
        return "".join(str(value or "").split()).casefold()

    return norm(row.details.get("registration_number")) != norm(data.get("registration_number"))


def get_workspace(*, session: Session, workspace_id: str) -> Counterparty:
    row = session.scalar(
        select(Counterparty).where(
            Counterparty.kind == WORKSPACE, Counterparty.external_id == workspace_id
        )
    )
    if row is None:
        raise NotFound(f"workspace {workspace_id!r} is not known; PUT its details first")
    return row


# -- prospects ----------------------------------------------------------------------------------


def create_prospect(
    *, session: Session, details: CounterpartyDetails, owner: Principal
) -> Counterparty:
    """A new prospect owned by `owner` (the sales user, or the token, that created it)."""
    data = details.to_dict()
    prospect_id = new_id()
    row = Counterparty(
        id=prospect_id,
        kind=PROSPECT,
        external_id=prospect_id,  # unique among prospects; replaced by the workspace id later
        details=data,
        details_sha256=details_sha256(data),
        owner_subject=owner.subject,
        owner_name=owner.name[:200],
        owner_email=owner.email or None,
    )
    session.add(row)
    session.flush()
    return row


def get_prospect(*, session: Session, prospect_id: str) -> Counterparty:
    """A prospect, also after it was converted into a workspace (its history stays readable)."""
    row = session.get(Counterparty, prospect_id)
    if row is None or (row.kind != PROSPECT and row.converted_at is None):
        raise NotFound(f"prospect {prospect_id!r} not found")
    return row


def get_open_prospect(*, session: Session, prospect_id: str) -> Counterparty:
    """A prospect sales may still act on: not yet converted into a workspace."""
    row = get_prospect(session=session, prospect_id=prospect_id)
    if row.kind != PROSPECT:
        raise Conflict(
            f"prospect {prospect_id!r} became workspace {row.external_id!r}; "
            "its DPA is now requested through the workspace"
        )
    return row


def convert_prospect(
    *, session: Session, prospect_id: str, workspace_id: str, actor: str
) -> Counterparty:
    """The prospect becomes the Klusaro workspace `workspace_id`. It keeps its id, so its
    agreement, every version and the audit trail stay attached to it."""
    row = get_open_prospect(session=session, prospect_id=prospect_id)
    taken = session.scalar(
        select(Counterparty.id).where(
            Counterparty.kind == WORKSPACE, Counterparty.external_id == workspace_id
        )
    )
    if taken is not None:
        raise Conflict(f"workspace {workspace_id!r} exists already; pick the new workspace's id")
    now = utcnow()
    row.kind = WORKSPACE
    row.external_id = workspace_id
    row.converted_at = now
    row.updated_at = now
    try:
        session.flush()  # the unique key (kind, external_id) decides a race for the same id
    except IntegrityError:
        session.rollback()
        raise Conflict(f"workspace {workspace_id!r} exists already") from None
    agreement_id = session.scalar(select(Agreement.id).where(Agreement.counterparty_id == row.id))
    if agreement_id is not None:
        audit.record(
            session=session,
            agreement_id=agreement_id,
            type="prospect.converted",
            actor=actor,
            data={"prospect_id": row.id, "workspace_id": workspace_id},
        )
    return row
