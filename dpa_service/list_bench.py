"""`dpa-service bench-list`: the list of every agreement at scale.

Seeds N agreements (default 100,000) straight into the configured database with bulk inserts —
counterparties, agreements and their versions in every state, made from the approved templates
— then times `GET /api/v1/agreements` through the app (first page, a deep keyset page, a text
search, filters) and, on PostgreSQL, prints the plan of the main query. The seeded rows have no
audit events and no archived files: they exist to measure the list, never to be signed.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, text

from dpa_service.accounts.service import create_token
from dpa_service.agreements import listing
from dpa_service.agreements.listing import Filters
from dpa_service.agreements.models import Agreement, AgreementVersion
from dpa_service.clauses import service as clauses
from dpa_service.clock import utcnow
from dpa_service.config import Settings
from dpa_service.counterparties.models import Counterparty, search_fields
from dpa_service.db import make_session_factory
from dpa_service.profile import service as profiles
from dpa_service.subprocessors import service as subprocessors

# The latest version's state, weighted roughly as a year of business would leave them.
STATE_WEIGHTS = {
    "draft": 8,
    "sent": 12,
    "viewed": 8,
    "signed": 4,
    "completed": 50,
    "declined": 3,
    "expired": 8,
    "voided": 7,
}
WORDS = ("Logi", "Koks", "Jūra", "Bite", "Saule", "Vējš", "Akmens", "Upe", "Mežs", "Tilts")


def seed(
    session_factory: Any,
    n: int,
    *,
    now: datetime | None = None,
    name_prefix: str = "SIA Bench",
    rng_seed: int = 14,
    batch: int = 5000,
) -> int:
    """Insert `n` agreements (one version each; a tenth have a superseded version 1 before a
    completed version 2) in batches; returns the number of versions inserted."""
    now = now or utcnow()
    rng = random.Random(rng_seed)
    states = list(STATE_WEIGHTS)
    weights = list(STATE_WEIGHTS.values())
    with session_factory() as session:
        record = clauses.current_sets(session=session, languages=["en"])["en"].record()
        sp_list = subprocessors.current_approved(session=session)
        profile = profiles.current_approved(session=session)
        made_from = {
            "template_versions": record,
            "subprocessor_list_version_id": sp_list.id,
            "subprocessor_list_version": sp_list.version,
            "processor_profile_version_id": profile.id,
            "processor_profile_version": profile.version,
        }
    inserted = 0
    run = uuid.uuid4().hex[:6]
    for start in range(0, n, batch):
        parties: list[dict[str, Any]] = []
        agreements: list[dict[str, Any]] = []
        versions: list[dict[str, Any]] = []
        for i in range(start, min(n, start + batch)):
            created = now - timedelta(seconds=rng.randint(3600, 365 * 86400))
            party_id, agreement_id = str(uuid.uuid4()), str(uuid.uuid4())
            prospect = rng.random() < 0.2
            name = f"{name_prefix} {WORDS[i % len(WORDS)]} {i:06d}"
            details = {
                "legal_name": name,
                "registration_number": f"4{rng.randint(0, 10**10 - 1):010d}",
                "address": {
                    "street": "Brīvības iela 1",
                    "city": "Rīga",
                    "postal_code": "LV-1001",
                    "country": "LV",
                },
                "signatory": {
                    "name": "Bench Signatory",
                    "title": "CEO",
                    "email": f"owner{i:06d}-{run}@example.lv",
                },
                "data_categories": ["leads"],
                "data_subjects": ["customers"],
                "language": "en",
            }
            digest = hashlib.sha256(name.encode()).hexdigest()
            parties.append(
                {
                    "id": party_id,
                    "kind": "prospect" if prospect else "workspace",
                    "external_id": party_id if prospect else f"ws-{run}-{i:06d}",
                    "details": details,
                    "details_sha256": digest,
                    "created_at": created,
                    "updated_at": created,
                    "owner_subject": "user:bench" if prospect else None,
                    "owner_name": "Bench Seller" if prospect else None,
                    **search_fields(details),  # Core inserts skip the model's events
                }
            )
            agreements.append(
                {
                    "id": agreement_id,
                    "counterparty_id": party_id,
                    "created_at": created,
                    "audit_seq": 0,
                    "audit_head": "0" * 64,
                    "anchored_seq": 0,
                }
            )
            number = 1
            if rng.random() < 0.1:
                versions.append(
                    _version(agreement_id, 1, "superseded", created, now, rng, digest, made_from)
                )
                number = 2
            state = rng.choices(states, weights)[0]
            versions.append(
                _version(agreement_id, number, state, created, now, rng, digest, made_from)
            )
        with session_factory() as session:
            # Core inserts of uniform rows: one multi-row INSERT per thousand rows
            for table, rows in (
                (Counterparty.__table__, parties),
                (Agreement.__table__, agreements),
                (AgreementVersion.__table__, versions),
            ):
                session.execute(insert(table), rows)  # type: ignore[arg-type]
            session.commit()
        inserted += len(versions)
    return inserted


def _version(
    agreement_id: str,
    number: int,
    state: str,
    created: datetime,
    now: datetime,
    rng: random.Random,
    digest: str,
    made_from: dict[str, Any],
) -> dict[str, Any]:
    made = created + timedelta(minutes=number)
    span = max(60, int((now - made).total_seconds()))
    sent = viewed = signed = completed = closed = expires = None
    if state != "draft":
        sent = made + timedelta(seconds=rng.randint(30, min(span, 86400)))
        expires = sent + timedelta(days=30)
    if state in ("sent", "viewed"):
        # still open: it expires in the next 30 days
        expires = now + timedelta(seconds=rng.randint(3600, 30 * 86400))
        sent = min(sent or now, expires - timedelta(days=30)) if sent else None
    if state in ("viewed", "signed", "completed", "superseded", "declined"):
        viewed = (sent or made) + timedelta(minutes=rng.randint(1, 600))
    if state in ("signed", "completed", "superseded"):
        signed = (viewed or made) + timedelta(minutes=rng.randint(1, 3 * 1440))
    if state in ("completed", "superseded"):
        completed = (signed or made) + timedelta(minutes=rng.randint(1, 1440))
    if state in ("declined", "expired", "voided", "superseded"):
        closed = (completed or viewed or sent or made) + timedelta(days=rng.randint(1, 30))
    clip = [
        t if t is None or t < now else now - timedelta(seconds=1)
        for t in (sent, viewed, signed, completed, closed)
    ]
    sent, viewed, signed, completed, closed = clip
    key = f"agreements/{agreement_id}/v{number}/draft.pdf"
    return {
        "id": str(uuid.uuid4()),
        "agreement_id": agreement_id,
        "number": number,
        "state": state,
        "counterparty_snapshot": {},
        "counterparty_sha256": digest,
        "terms": None,
        "unconfirmed": [],
        "effective_on": None,
        "draft_pdf_key": key,
        "draft_pdf_sha256": hashlib.sha256(key.encode()).hexdigest(),
        "pages": 15,
        "created_at": made,
        "sent_at": sent,
        "viewed_at": viewed,
        "signed_at": signed,
        "completed_at": completed,
        "closed_at": closed,
        "expires_at": expires,
        "final_pdf_key": None,
        "final_pdf_sha256": None,
        "signed_body_sha256": None,
        **made_from,
    }


def _explain(engine: Engine, filters: Filters, session_factory: Any) -> list[str]:
    """PostgreSQL's plan (with timings) of the list's first-page query."""
    if engine.dialect.name != "postgresql":
        return []
    with session_factory() as session:
        query = listing.page_query(session=session, filters=filters, limit=50, now=utcnow())
        compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
        rows = session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).all()
    return [row[0] for row in rows]


def run_list_bench(
    settings: Settings, engine: Engine, *, n: int, runs: int = 5, seed_rows: bool = True
) -> dict[str, Any]:
    """Seed (unless told not to), then time the list through the app's HTTP interface."""
    from litestar.testing import TestClient

    from dpa_service.app import create_app

    factory = make_session_factory(engine)
    figures: dict[str, Any] = {"database": engine.dialect.name}
    if seed_rows:
        started = time.monotonic()
        figures["versions_inserted"] = seed(factory, n)
        figures["seed_s"] = round(time.monotonic() - started, 1)
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
    with factory() as session:
        figures["agreements"] = session.scalar(select(text("count(*)")).select_from(Agreement))
        token = create_token(session=session, role="legal", name="bench-list")[1]
        session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    app = create_app(settings, engine=engine)
    timings: dict[str, Any] = {}
    with TestClient(app, base_url=settings.public_url) as client:

        def timed(name: str, params: dict[str, Any]) -> dict[str, Any]:
            spent = []
            body: dict[str, Any] = {}
            for _ in range(runs):
                started = time.monotonic()
                answer = client.get("/api/v1/agreements", params=params, headers=headers)
                spent.append((time.monotonic() - started) * 1000)
                answer.raise_for_status()
                body = answer.json()
            timings[name] = {
                "params": {k: v for k, v in params.items() if k != "cursor"},
                "median_ms": round(statistics.median(spent), 1),
                "max_ms": round(max(spent), 1),
                "items": len(body["items"]),
            }
            return body

        timed("first_page", {"limit": 50})
        # a deep page: follow the cursor 200 pages of 200 in (agreement 40,000 onwards)
        cursor = None
        walk_started = time.monotonic()
        for _ in range(200):
            params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            cursor = client.get("/api/v1/agreements", params=params, headers=headers).json()[
                "next_cursor"
            ]
            if cursor is None:
                break
        figures["walk_200_pages_of_200_s"] = round(time.monotonic() - walk_started, 2)
        if cursor:
            timed("deep_keyset_page", {"limit": 50, "cursor": cursor})
        timed("search_company", {"q": "Jūra 0421", "limit": 50})
        timed("search_email", {"q": "owner077", "limit": 50})
        timed("filter_awaiting_countersignature", {"awaiting_countersignature": "true"})
        timed("filter_expiring_7_days", {"expiring_within_days": 7})
        timed("filter_state_and_kind", {"state": ["sent", "viewed"], "kind": "prospect"})
        timed("filter_outdated", {"outdated": "true"})
        timed("sort_company", {"sort": "company", "limit": 50})
    figures["timings"] = timings
    spent = []
    for _ in range(runs):  # the staff home page's figures: counts, median, weekly completions
        with factory() as session:
            started = time.monotonic()
            listing.overview(session=session)
            spent.append((time.monotonic() - started) * 1000)
    figures["home_overview"] = {
        "median_ms": round(statistics.median(spent), 1),
        "max_ms": round(max(spent), 1),
    }
    figures["explain_first_page"] = _explain(engine, Filters(), factory)
    figures["explain_expiring"] = _explain(engine, Filters(expiring_within_days=7), factory)
    return figures
