"""HTTP: request a workspace's DPA, list and read agreements, download a version's PDF."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, HttpMethod, Response, get, post, route
from litestar.di import NamedDependency, Provide
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.agreements import listing, service
from dpa_service.agreements.listing import BadParameter, Filters
from dpa_service.agreements.models import VERSION_STATES
from dpa_service.agreements.schemas import (
    AgreementList,
    AgreementOut,
    AgreementRequest,
    VersionOut,
    summary_out,
    version_out,
)
from dpa_service.archive import service as archive_service
from dpa_service.archive.base import Archive
from dpa_service.clock import iso
from dpa_service.config import Settings
from dpa_service.db import MAX_INTEGER
from dpa_service.errors import NotFound
from dpa_service.http.auth import roles
from dpa_service.http.downloads import archived_pdf
from dpa_service.http.idempotency import Idempotency
from dpa_service.http.params import VersionNumber, WorkspaceIdParam
from dpa_service.rendering.converter import ConverterPool

READERS = ("app", "admin", "legal", "sales")
STAFF = ("legal", "sales", "admin")
PDF_METHODS = [HttpMethod.GET, HttpMethod.HEAD]  # HEAD: the headers (hash, size) alone
_TEMPLATE = re.compile(r"^((?:[a-z]{2}/)?[a-z_]{1,40}):([1-9][0-9]{0,8})$")
# A day as the OpenAPI schema gives it (the handler checks that it exists, 2026-02-30 does not)
# (years 0001-9999: Python has no year 0)
_YEAR = r"([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_DAY = r"^$|^" + _YEAR + r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


def _day(name: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadParameter(name, f"{value[:40]!r} is not a date (YYYY-MM-DD)") from None


def list_filters(
    version_state: Annotated[
        list[str] | None,
        QueryParameter(
            name="state",
            description="The latest version's state; repeat for several: "
            + ", ".join(VERSION_STATES),
            schema_extra={"items": Schema(type=OpenAPIType.STRING, enum=["", *VERSION_STATES])},
        ),
    ] = None,
    kind: Annotated[
        str | None,
        QueryParameter(
            description="workspace or prospect",
            max_length=20,
            schema_extra={"enum": ["", *listing.KINDS]},
        ),
    ] = None,
    q: Annotated[
        str | None,
        QueryParameter(
            description="Part of the company name, registration number or signatory e-mail "
            "(any case), or a whole workspace or agreement id",
            max_length=200,
        ),
    ] = None,
    date_field: Annotated[
        str,
        QueryParameter(
            description="Which time `since` and `until` bound: " + ", ".join(listing.DATE_FIELDS),
            max_length=20,
            schema_extra={"enum": list(listing.DATE_FIELDS)},
        ),
    ] = "created",
    since: Annotated[
        str | None,
        QueryParameter(
            description="From this day (UTC, YYYY-MM-DD), inclusive",
            max_length=10,
            schema_extra={"pattern": _DAY},
        ),
    ] = None,
    until: Annotated[
        str | None,
        QueryParameter(
            description="To this day (UTC, YYYY-MM-DD), inclusive",
            max_length=10,
            schema_extra={"pattern": _DAY},
        ),
    ] = None,
    template: Annotated[
        str | None,
        QueryParameter(
            description="Made from this template version, `key:version`: `security:2`, "
            "`lv/master:1`",
            max_length=60,
            # both alternatives anchored: a pattern matches anywhere in the value
            schema_extra={"pattern": "^$|" + _TEMPLATE.pattern},
        ),
    ] = None,
    subprocessor_list_version: Annotated[
        str | None,
        QueryParameter(
            description="Made from this subprocessor list version (a number)",
            max_length=10,
            pattern=r"^[0-9]*$",
        ),
    ] = None,
    awaiting_countersignature: Annotated[
        bool,
        QueryParameter(description="Only those signed by the controller, waiting for Klusaro"),
    ] = False,
    expiring_within_days: Annotated[
        int | None,
        QueryParameter(
            description="Only those out for signing whose version (and so every signing link "
            "of it) expires within this many days",
            ge=1,
            le=366,
        ),
    ] = None,
    outdated: Annotated[
        bool,
        QueryParameter(
            description="Only those whose latest (not closed) version was made from a template, "
            "subprocessor list or processor profile that is no longer the approved one"
        ),
    ] = False,
    sort: Annotated[
        str,
        QueryParameter(
            description="created (oldest first), -created (newest first), company, -company",
            max_length=20,
            schema_extra={"enum": list(listing.SORTS)},
        ),
    ] = "-created",
) -> Filters:
    """The list's filters from the query: the API and the staff pages read the same ones."""
    # An empty value is no filter: the staff page's form sends every field.
    states = tuple(dict.fromkeys(s for s in version_state or () if s))
    for state in states:
        if state not in VERSION_STATES:
            raise BadParameter("state", f"{state[:30]!r} is not one of {', '.join(VERSION_STATES)}")
    if kind and kind not in listing.KINDS:
        raise BadParameter("kind", "it is workspace or prospect")
    if date_field not in listing.DATE_FIELDS:
        raise BadParameter("date_field", f"it is one of {', '.join(listing.DATE_FIELDS)}")
    if sort not in listing.SORTS:
        raise BadParameter("sort", f"it is one of {', '.join(listing.SORTS)}")
    made_from = None
    if template:
        match = _TEMPLATE.match(template)
        if not match:
            raise BadParameter("template", "give key:version, e.g. security:2 or lv/master:1")
        made_from = (match.group(1), int(match.group(2)))
    if subprocessor_list_version and not 1 <= int(subprocessor_list_version) <= MAX_INTEGER:
        raise BadParameter("subprocessor_list_version", "it is a version number (1, 2, …)")
    start, end = _day("since", since), _day("until", until)
    if start and end and end < start:
        raise BadParameter("until", "it is before since")
    return Filters(
        states=states,
        kind=kind or None,
        q=(q or "").strip(),
        date_field=date_field,
        since=start,
        until=end,
        template=made_from,
        subprocessor_list_version=int(subprocessor_list_version)
        if subprocessor_list_version
        else None,
        awaiting_countersignature=awaiting_countersignature,
        expiring_within_days=expiring_within_days,
        outdated=outdated,
        sort=sort,
    )


FILTERS = {"filters": Provide(list_filters, sync_to_thread=False)}
Limit = Annotated[
    int, QueryParameter(description="Agreements on a page", ge=1, le=listing.MAX_LIMIT)
]
Cursor = Annotated[
    str | None,
    QueryParameter(
        description="`next_cursor` of the page before (same filters and sort)", max_length=400
    ),
]


class AgreementController(Controller):
    tags = ["agreements"]

    @post(
        "/api/v1/workspaces/{workspace_id:str}/agreements",
        guards=[roles("app", "admin")],
        sync_to_thread=True,
        responses={200: ResponseSpec(data_container=VersionOut, description="The current version")},
    )
    def request_dpa(
        self,
        workspace_id: WorkspaceIdParam,
        db: NamedDependency[Session],
        idempotency: NamedDependency[Idempotency],
        pool: NamedDependency[ConverterPool],
        settings: NamedDependency[Settings],
        user: NamedDependency[Principal],
        data: JSONBody[AgreementRequest | None] = None,
    ) -> Response[VersionOut]:
        """The workspace's DPA: its current version, or a new one if details changed or asked for.

        201 when a new version was made, 200 when the current one still holds. 503 with
        Retry-After when the converter is saturated. With an `Idempotency-Key` header, a retry
        of the same request gets the first answer back and makes nothing new.
        """
        if (earlier := idempotency.earlier()) is not None:
            return earlier
        outcome = service.request_dpa(
            session=db,
            pool=pool,
            settings=settings,
            workspace_id=workspace_id,
            new_version=bool(data and data.new_version),
            actor=user.actor,
        )
        body = version_out(outcome.version, workspace_id, settings.public_url)
        return idempotency.remember(body, 201 if outcome.created else 200)

    @get("/api/v1/agreements", guards=[roles(*STAFF)], sync_to_thread=True, dependencies=FILTERS)
    def list_all(
        self,
        db: NamedDependency[Session],
        settings: NamedDependency[Settings],
        filters: NamedDependency[Filters],
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> AgreementList:
        """Every agreement (workspaces' and prospects') with its latest version, filtered.

        Pages are read by keyset: pass `next_cursor` as `cursor` with the same filters for the
        next one. For staff (legal, sales, admin); a parameter that cannot be used is a 400
        naming it.
        """
        page = listing.list_agreements(session=db, filters=filters, limit=limit, cursor=cursor)
        return AgreementList(
            items=[summary_out(row, settings.public_url) for row in page.rows],
            limit=page.limit,
            next_cursor=page.next_cursor,
        )

    @get("/api/v1/agreements/{agreement_id:uuid}", guards=[roles(*READERS)], sync_to_thread=True)
    def show(
        self,
        agreement_id: FromPath[UUID],
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        settings: NamedDependency[Settings],
    ) -> AgreementOut:
        agreement, counterparty = service.get_agreement(
            session=db, agreement_id=str(agreement_id), for_role=user.role
        )
        versions = [
            version_out(
                v,
                counterparty.external_id,
                settings.public_url,
                archive_service.state_of(session=db, agreement_id=agreement.id, version=v.number),
            )
            for v in agreement.versions
        ]
        return AgreementOut(
            agreement_id=agreement.id,
            workspace_id=counterparty.external_id,
            created_at=iso(agreement.created_at),
            current_version=versions[-1].version,
            versions=versions,
        )

    @get(
        "/api/v1/agreements/{agreement_id:uuid}/versions/{number:int}",
        guards=[roles(*READERS)],
        sync_to_thread=True,
    )
    def show_version(
        self,
        agreement_id: FromPath[UUID],
        number: VersionNumber,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        settings: NamedDependency[Settings],
    ) -> VersionOut:
        """One version, as it appears in the agreement's `versions`."""
        _, counterparty = service.get_agreement(
            session=db, agreement_id=str(agreement_id), for_role=user.role
        )
        version = service.get_version(session=db, agreement_id=str(agreement_id), number=number)
        return version_out(
            version,
            counterparty.external_id,
            settings.public_url,
            archive_service.state_of(session=db, agreement_id=version.agreement_id, version=number),
        )

    @route(
        "/api/v1/agreements/{agreement_id:uuid}/versions/{number:int}/pdf",
        http_method=PDF_METHODS,
        guards=[roles(*READERS)],
        sync_to_thread=True,
        media_type="application/pdf",
    )
    def download(
        self,
        agreement_id: FromPath[UUID],
        number: VersionNumber,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        archive: NamedDependency[Archive],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        """The exact archived PDF bytes; its SHA-256 is in the ETag and X-Content-SHA256.

        With DPA_S3_PRESIGNED_DOWNLOADS a 307 to a short-lived S3 URL instead.
        """
        service.get_agreement(session=db, agreement_id=str(agreement_id), for_role=user.role)
        version = service.get_version(session=db, agreement_id=str(agreement_id), number=number)
        filename = f"dpa-{version.agreement_id}-v{number}.pdf"
        return archived_pdf(
            session=db,
            archive=archive,
            settings=settings,
            key=version.draft_pdf_key,
            sha256=version.draft_pdf_sha256,
            filename=filename,
            read_by="API download",
        )

    @route(
        "/api/v1/agreements/{agreement_id:uuid}/versions/{number:int}/completed.pdf",
        http_method=PDF_METHODS,
        guards=[roles(*READERS)],
        sync_to_thread=True,
        media_type="application/pdf",
    )
    def download_completed(
        self,
        agreement_id: FromPath[UUID],
        number: VersionNumber,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        archive: NamedDependency[Archive],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        """The sealed, countersigned PDF with its certificate of completion (404 until then)."""
        service.get_agreement(session=db, agreement_id=str(agreement_id), for_role=user.role)
        version = service.get_version(session=db, agreement_id=str(agreement_id), number=number)
        if not version.final_pdf_key or not version.final_pdf_sha256:
            raise NotFound(f"version {number} is {version.state}; it has no completed PDF")
        filename = f"dpa-{version.agreement_id}-v{number}-signed.pdf"
        return archived_pdf(
            session=db,
            archive=archive,
            settings=settings,
            key=version.final_pdf_key,
            sha256=version.final_pdf_sha256,
            filename=filename,
            read_by="API download",
        )
