"""Staff web UI (/staff/agreements): every agreement in one list with its CSV export, and one
agreement's page — versions, audit timeline, documents — with the actions its state allows
for the user's role: countersign (legal), void, resend, remind, a new signing link."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post, route
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Stream, Template
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.agreements import listing, service
from dpa_service.agreements.lifecycle import OPEN_FOR_SIGNING
from dpa_service.agreements.listing import Filters
from dpa_service.agreements.models import VERSION_STATES, AgreementVersion
from dpa_service.agreements.routes import FILTERS, PDF_METHODS, Cursor
from dpa_service.archive.base import Archive
from dpa_service.clock import iso_or_none, utcnow
from dpa_service.config import Settings
from dpa_service.errors import Conflict, NotFound, Unprocessable
from dpa_service.http.auth import roles
from dpa_service.http.downloads import archived_pdf
from dpa_service.http.errors import back_with
from dpa_service.http.params import VersionNumber
from dpa_service.i18n import N_
from dpa_service.rendering.converter import ConverterPool
from dpa_service.sales import flows
from dpa_service.signing import service as signing
from dpa_service.signing.completion import Countersigner, complete
from dpa_service.signing.schemas import CountersignRequest
from dpa_service.signing.seal import Sealer

log = logging.getLogger(__name__)

HOME = "/staff/agreements"
STAFF = ("legal", "sales", "admin")
SENDERS = ("sales", "admin")  # void, resend, remind, new links: as the API allows them
BACK = {"back": HOME + "/{agreement_id}"}
LIST_BACK = {"back": HOME, "back_on_get": True}
PAGE_SIZE = 50
# What the staff pages call each method of countersigning (the certificate prints it).
STAFF_COUNTERSIGNATURE = N_("Legal user (staff web UI)")
CSV_COLUMNS = (
    "agreement_id",
    "kind",
    "workspace_id",
    "legal_name",
    "registration_number",
    "signatory_email",
    "version",
    "state",
    "created_at",
    "sent_at",
    "viewed_at",
    "signed_at",
    "completed_at",
    "closed_at",
    "expires_at",
    "template_versions",
    "subprocessor_list_version",
    "processor_profile_version",
    "outdated",
    "archive",
)


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ (or a tab or carriage
    return) would run as a formula, so it gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_row(row: listing.Row) -> list[str]:
    version, party = row.version, row.counterparty
    details = party.details
    values: list[object] = [
        row.agreement.id,
        party.kind,
        party.external_id if party.kind == "workspace" else "",
        details.get("legal_name", ""),
        details.get("registration_number", ""),
        (details.get("signatory") or {}).get("email", ""),
        version.number,
        version.state,
        iso_or_none(row.agreement.created_at),
        iso_or_none(version.sent_at),
        iso_or_none(version.viewed_at),
        iso_or_none(version.signed_at),
        iso_or_none(version.completed_at),
        iso_or_none(version.closed_at),
        iso_or_none(version.expires_at),
        " ".join(f"{k}:{v['version']}" for k, v in sorted(version.template_versions.items())),
        version.subprocessor_list_version,
        version.processor_profile_version,
        "yes" if row.outdated else "no",
        row.archive,
    ]
    return [csv_cell(v) for v in values]


def csv_lines(rows: Iterable[listing.Row], every: int = 500) -> Iterator[str]:
    """The CSV text (header first), `every` rows at a time."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for n, row in enumerate(rows, 1):
        writer.writerow(_csv_row(row))
        if n % every == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _export(factory: Callable[[], Session], filters: Filters) -> Iterator[str]:
    """Every row the filters select, read a batch at a time in a read-only session of the
    export's own: the download starts at once and is never held in memory whole."""
    with factory() as session:
        yield from csv_lines(listing.every_row(session=session, filters=filters))


def _query_of(request: Request[Any, Any, Any], **changes: str | None) -> str:
    """The page's query with `changes` (None removes a parameter)."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    items += [(k, v) for k, v in changes.items() if v]
    return urlencode(items)


@dataclass
class VoidForm:
    reason: str = ""
    number: int = 0


@dataclass
class CountersignForm:
    name: str = ""
    title: str = ""
    sha256: str = ""  # the document's hash shown on the page: what the person read
    confirm: str = ""


@dataclass
class VersionForm:
    number: int = 0


def _actions(role: str, kind: str, version: AgreementVersion, newest: bool) -> dict[str, bool]:
    """What the page offers for the latest version, for this role (the services still decide)."""
    sender = role in SENDERS
    return {
        "countersign": role == "legal" and version.state == "signed",
        "void": sender and version.state in ("draft", "sent", "viewed", "signed"),
        "resend": sender and kind == "prospect" and version.state in OPEN_FOR_SIGNING,
        "remind": sender and kind == "prospect" and version.state in OPEN_FOR_SIGNING,
        "new_link": sender
        and kind == "workspace"
        and newest
        and version.state in ("draft", *OPEN_FOR_SIGNING),
    }


class AgreementPages(Controller):
    path = HOME
    include_in_schema = False
    guards = [roles(*STAFF)]

    # A filter that cannot be used (until before since, say): back to the unfiltered list, which
    # says why, with the form to correct it, rather than a bare error page.
    @get("/", sync_to_thread=True, dependencies=FILTERS, opt=LIST_BACK)
    def list_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        filters: NamedDependency[Filters],
        cursor: Cursor = None,
    ) -> Template:
        page = listing.list_agreements(session=db, filters=filters, limit=PAGE_SIZE, cursor=cursor)
        return Template(
            "staff/agreements.html",
            context={
                "page": page,
                "f": filters,
                "states": VERSION_STATES,
                "kinds": listing.KINDS,
                "sorts": {
                    "-created": "newest first",
                    "created": "oldest first",
                    "company": "company A–Z",
                    "-company": "company Z–A",
                },
                "date_fields": listing.DATE_FIELDS,
                "next_query": _query_of(request, cursor=page.next_cursor)
                if page.next_cursor
                else None,
                "first_query": _query_of(request, cursor=None) if cursor else None,
                "csv_query": _query_of(request, cursor=None),
                "now": utcnow(),
            },
        )

    @get("/export.csv", dependencies=FILTERS, opt=LIST_BACK)
    async def export(self, state: State, filters: NamedDependency[Filters]) -> Stream:
        """Every agreement the filters select (not just one page), as CSV, streamed."""
        stamp = utcnow().strftime("%Y%m%d-%H%M")
        return Stream(
            _export(state.session_factory, filters),  # a sync iterator: read in a thread
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="agreements-{stamp}.csv"'},
        )

    @get("/{agreement_id:uuid}", sync_to_thread=True)
    def show(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        agreement_id: FromPath[UUID],
    ) -> Template:
        return _agreement_page(db, user, str(agreement_id))

    @route(
        "/{agreement_id:uuid}/versions/{number:int}/documents/{artifact:str}",
        http_method=PDF_METHODS,
        sync_to_thread=True,
    )
    def document(
        self,
        db: NamedDependency[Session],
        archive: NamedDependency[Archive],
        settings: NamedDependency[Settings],
        agreement_id: FromPath[UUID],
        number: VersionNumber,
        artifact: FromPath[str],
    ) -> Response[Any]:
        """The draft or the completed PDF, shown in the page (inline), checked against its hash."""
        version = service.get_version(session=db, agreement_id=str(agreement_id), number=number)
        if artifact == "draft.pdf":
            key, sha256, suffix = version.draft_pdf_key, version.draft_pdf_sha256, ""
        elif artifact == "completed.pdf" and version.final_pdf_key and version.final_pdf_sha256:
            key, sha256, suffix = version.final_pdf_key, version.final_pdf_sha256, "-signed"
        else:
            raise NotFound(f"version {number} has no {artifact[:40]}")
        return archived_pdf(
            session=db,
            archive=archive,
            settings=settings,
            key=key,
            sha256=sha256,
            filename=f"dpa-{version.agreement_id}-v{number}{suffix}.pdf",
            read_by="staff page",
            disposition="inline",
        )

    @get(
        "/{agreement_id:uuid}/versions/{number:int}/countersign",
        guards=[roles("legal")],
        sync_to_thread=True,
    )
    def countersign_page(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        agreement_id: FromPath[UUID],
        number: VersionNumber,
    ) -> Template | Redirect:
        """The document and its hash first, then the countersigner's name and title."""
        agreement, party = service.get_agreement(session=db, agreement_id=str(agreement_id))
        version = service.get_version(session=db, agreement_id=agreement.id, number=number)
        if version.state != "signed":
            # Also where a refused countersignature comes back (a second tab, a double click,
            # a version voided meanwhile): the agreement page shows its state and what to do.
            return back_with(
                f"{HOME}/{agreement.id}",
                error=f"Version {number} is {version.state}; only a version the controller has "
                "signed can be countersigned.",
            )
        controller = signing.signatures_of(session=db, version_id=version.id).get("controller")
        return Template(
            "staff/agreement_countersign.html",
            context={"agreement": agreement, "party": party, "v": version, "signer": controller},
        )

    @post(
        "/{agreement_id:uuid}/versions/{number:int}/countersign",
        guards=[roles("legal")],
        status_code=303,
        sync_to_thread=True,
        opt={"back": HOME + "/{agreement_id}/versions/{number}/countersign"},
    )
    def countersign(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        pool: NamedDependency[ConverterPool],
        sealer: NamedDependency[Sealer],
        settings: NamedDependency[Settings],
        agreement_id: FromPath[UUID],
        number: VersionNumber,
        data: URLEncodedBody[CountersignForm],
    ) -> Redirect:
        """Klusaro's countersignature by this legal user, recorded as them (as by the API)."""
        version = service.get_version(session=db, agreement_id=str(agreement_id), number=number)
        if not data.confirm:
            raise Unprocessable("Tick the box to confirm you have read this document.")
        if data.sha256 != version.draft_pdf_sha256:
            raise Conflict("The document changed since the page was opened; read it again.")
        try:
            who = msgspec.convert(
                {
                    "name": data.name.strip(),
                    "title": data.title.strip(),
                    **({"email": user.email} if user.email else {}),
                },
                CountersignRequest,
            )
        except msgspec.ValidationError as exc:
            field = "Name" if "name" in str(exc) else "Title"
            raise Unprocessable(
                f"{field}: give it in plain text (at most 300 characters)."
            ) from None
        complete(
            session=db,
            version=version,
            countersigner=Countersigner(
                name=who.name,
                title=who.title,
                email=who.email,
                method=STAFF_COUNTERSIGNATURE,
                actor=user.actor,
            ),
            pool=pool,
            sealer=sealer,
            settings=settings,
        )
        log.info("agreement %s v%d countersigned by %s", agreement_id, number, user.actor)
        return back_with(
            f"{HOME}/{agreement_id}",
            done=f"Version {number} is countersigned by {who.name} and completed.",
        )

    @post(
        "/{agreement_id:uuid}/void",
        guards=[roles(*SENDERS)],
        status_code=303,
        sync_to_thread=True,
        opt=BACK,
    )
    def void(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        agreement_id: FromPath[UUID],
        data: URLEncodedBody[VoidForm],
    ) -> Redirect:
        if not data.reason.strip():
            raise Unprocessable("Give the reason for voiding.")
        version = signing.void(
            session=db,
            agreement_id=str(agreement_id),
            number=data.number,
            reason=data.reason.strip()[:1000],
            actor=user.actor,
        )
        return back_with(
            f"{HOME}/{agreement_id}",
            done=f"Version {version.number} is void; its links no longer work.",
        )

    @post(
        "/{agreement_id:uuid}/resend",
        guards=[roles(*SENDERS)],
        status_code=303,
        sync_to_thread=True,
        opt=BACK,
    )
    def resend(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        settings: NamedDependency[Settings],
        agreement_id: FromPath[UUID],
    ) -> Redirect:
        _, party = service.get_agreement(session=db, agreement_id=str(agreement_id))
        sent = flows.resend(session=db, settings=settings, prospect_id=party.id, actor=user.actor)
        return back_with(
            f"{HOME}/{agreement_id}",
            done=f"A new link was sent to {sent.email.to_addr}; the earlier links no longer work.",
        )

    @post(
        "/{agreement_id:uuid}/remind",
        guards=[roles(*SENDERS)],
        status_code=303,
        sync_to_thread=True,
        opt=BACK,
    )
    def remind(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        settings: NamedDependency[Settings],
        agreement_id: FromPath[UUID],
    ) -> Redirect:
        _, party = service.get_agreement(session=db, agreement_id=str(agreement_id))
        sent = flows.remind(session=db, settings=settings, prospect_id=party.id, actor=user.actor)
        return back_with(
            f"{HOME}/{agreement_id}", done=f"A reminder was sent to {sent.email.to_addr}."
        )

    @post(
        "/{agreement_id:uuid}/signing-link",
        guards=[roles(*SENDERS)],
        status_code=200,
        sync_to_thread=True,
        opt=BACK,
    )
    def new_link(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        settings: NamedDependency[Settings],
        agreement_id: FromPath[UUID],
        data: URLEncodedBody[VersionForm],
    ) -> Template:
        """A new signing link for a workspace's signatory, shown once (only its hash is kept)."""
        _, party = service.get_agreement(session=db, agreement_id=str(agreement_id))
        if party.kind != "workspace":
            raise Conflict("A prospect's DPA goes out by e-mail: use Resend.")
        link, secret = signing.create_link(
            session=db,
            agreement_id=str(agreement_id),
            number=data.number,
            embedded=False,
            require_code=False,
            actor=user.actor,
            settings=settings,
            requested_by=user.name,
        )
        page = _agreement_page(db, user, str(agreement_id))
        page.context["new_link"] = {
            "url": f"{settings.public_url.rstrip('/')}/sign/{secret}",
            "expires_at": link.expires_at,
        }
        return page


def _agreement_page(db: Session, user: Principal, agreement_id: str) -> Template:
    agreement, party = service.get_agreement(session=db, agreement_id=agreement_id)
    versions = list(agreement.versions)
    latest = versions[-1]
    approved = listing.Approved.now(db)
    outdated = approved.outdates(latest)
    actions = _actions(user.role, party.kind, latest, newest=True)
    # A stale draft gets no link (signing.service.create_link): the next request replaces it.
    actions["new_link"] = actions["new_link"] and not (outdated and latest.state == "draft")
    return Template(
        "staff/agreement.html",
        context={
            "agreement": agreement,
            "party": party,
            "d": party.details,
            "versions": list(reversed(versions)),
            "v": latest,
            "outdated": outdated,
            "documents": listing.documents(session=db, agreement_id=agreement.id),
            "events": listing.timeline(session=db, agreement_id=agreement.id),
            "actions": actions,
        },
    )
