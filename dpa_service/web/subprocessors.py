"""Subprocessor pages: the public list with its history and Atom feed, the objection page a
notice links to, and the staff pages where legal proposes, reviews and approves changes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.clock import iso, utcnow
from dpa_service.config import Settings
from dpa_service.errors import DomainError, NotFound, Unprocessable
from dpa_service.http.auth import roles
from dpa_service.http.client import client_of
from dpa_service.http.errors import PageAnswer, back_with, message_page
from dpa_service.http.params import VersionNumber
from dpa_service.i18n import gettext_for, language_of, negotiate, template_words
from dpa_service.rendering.context import DATA_CATEGORIES, format_date, format_timestamp
from dpa_service.rendering.countries import country_choices
from dpa_service.subprocessors import changes, service
from dpa_service.subprocessors import entries as entry_values
from dpa_service.subprocessors.models import SubprocessorListVersion
from dpa_service.subprocessors.schemas import MAX_ENTRIES
from dpa_service.web.forms import FORM
from dpa_service.web.subprocessor_feed import atom_feed

log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store"}
BLANK_ROWS = 3
LOCATIONS: list[tuple[str, str]] = [("EU", "European Union"), *country_choices("en")]


LANGUAGE_LINKS = [("en", "English"), ("lv", "Latviešu")]


def _when(at: Any, language: str = "en") -> str:
    return format_timestamp(at, language) if at else ""


def _day(at: Any, language: str = "en") -> str:
    return format_date(at, language) if at else ""


def _counterparties(count: int) -> str:
    """ "1 counterparty", "3 counterparties" (staff pages are in English)."""
    return f"{count} counterpart{'y' if count == 1 else 'ies'}"


def _entry_view(entry: dict[str, Any], language: str = "en") -> dict[str, Any]:
    """An entry as a page shows it, in `language` (its Latvian purpose, places in Latvian)."""
    view = {
        **entry,
        "purpose": entry_values.purpose_in(entry, language),
        "location_name": entry_values.location_name(entry["location"], language),
    }
    entity = entry.get("contracting_entity")
    view["contracting_entity"] = (
        entry_values.field_text("contracting_entity", entity, language) if entity else None
    )
    return view


def _diff_view(diff: dict[str, Any] | None, language: str = "en") -> dict[str, Any] | None:
    if diff is None:
        return None
    _ = gettext_for(language)
    return {
        "added": [_entry_view(e, language) for e in diff["added"]],
        "removed": [_entry_view(e, language) for e in diff["removed"]],
        "changed": [
            {
                "name": c["name"],
                "fields": [
                    {
                        "label": _(entry_values.FIELD_LABELS.get(f["field"], f["field"])),
                        "before": entry_values.field_text(f["field"], f["before"], language),
                        "after": entry_values.field_text(f["field"], f["after"], language),
                    }
                    for f in c["fields"]
                ],
            }
            for c in diff["changed"]
        ],
        "lines": entry_values.describe(diff, language),
        "empty": entry_values.is_empty(diff),
    }


# -- public: the list, its history and the feed -----------------------------------------------


class PublicSubprocessorPages(Controller):
    path = "/subprocessors"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        lang: Annotated[str | None, QueryParameter(description="en or lv")] = None,
    ) -> Template:
        """The list and its history in English or Latvian (`?lang=`, else Accept-Language)."""
        language = negotiate(request.headers.get("accept-language"), lang)
        current = service.current_approved(session=db)
        history = service.history(session=db)
        now = utcnow()
        return Template(
            "subprocessors.html",
            context={
                **template_words(language),
                "language_links": LANGUAGE_LINKS,
                "version": current.version,
                "approved_on": _day(current.approved_at or current.created_at, language),
                "entries": [_entry_view(e, language) for e in current.entries],
                "history": [
                    {
                        "version": h.version,
                        "date": _day(h.approved_at, language),
                        "iso": iso(h.approved_at),
                        "diff": _diff_view(h.diff, language),
                        "count": len(h.entries),
                        "deadline": _when(h.objection_deadline, language),
                        "objections_open": bool(
                            h.objection_deadline and now < h.objection_deadline
                        ),
                    }
                    for h in history
                ],
            },
            headers={"Content-Language": language, "Vary": "Accept-Language"},
        )

    @get("/feed.atom", sync_to_thread=True)
    def feed(
        self, db: NamedDependency[Session], settings: NamedDependency[Settings]
    ) -> Response[bytes]:
        body = atom_feed(service.history(session=db), base_url=settings.public_url)
        return Response(body, media_type="application/atom+xml; charset=utf-8")


# -- public: the objection link of a notice -----------------------------------------------------


@dataclass
class ObjectionForm:
    reason: str = ""


def _objection_page(
    access: service.NoticeAccess,
    token: str,
    *,
    error: str | None = None,
    reason: str = "",
    status: int = 200,
) -> Template:
    now = utcnow()
    language = language_of(access.counterparty.details)
    return Template(
        "objection.html",
        context={
            **template_words(language),
            "token": token,
            "controller": access.counterparty.details.get("legal_name", ""),
            "version": access.change.version,
            "approved_on": _day(access.change.approved_at, language),
            "deadline": _when(access.notice.expires_at, language),
            "diff": _diff_view(access.change.diff, language),
            "objection": access.objection,
            "objected_at": (
                _when(access.objection.created_at, language) if access.objection else ""
            ),
            "closed": service.closed(access, now),
            "error": gettext_for(language)(error) if error else None,
            "reason": reason,
            "max_reason": service.REASON_MAX,
        },
        status_code=status,
        headers=NO_STORE,
    )


class ObjectionPages(Controller):
    path = "/objections"
    include_in_schema = False

    @get("/{token:str}", sync_to_thread=True)
    def show(self, token: FromPath[str], db: NamedDependency[Session]) -> Template:
        try:
            access = service.open_notice(session=db, token=token)
        except NotFound:
            return message_page(
                "This link is not valid",
                "Check that you opened the whole link from the e-mail.",
                404,
                headers=NO_STORE,
            )
        status = 410 if service.closed(access) and access.objection is None else 200
        return _objection_page(access, token, status=status)

    @post("/{token:str}", sync_to_thread=True, status_code=303)
    def object_to(
        self,
        token: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[Session],
        data: Annotated[ObjectionForm, FORM],
    ) -> Template | Redirect:
        try:
            access = service.open_notice(session=db, token=token)
        except NotFound:
            return message_page(
                "This link is not valid",
                "Check that you opened the whole link from the e-mail.",
                404,
                headers=NO_STORE,
            )
        ip, agent = client_of(request)
        try:
            service.record_objection(
                session=db, token=token, reason=data.reason, ip=ip, user_agent=agent
            )
        except DomainError as exc:
            if exc.status_code == 422:
                page = _objection_page(
                    access, token, error=exc.detail, reason=data.reason[:5000], status=422
                )
                raise PageAnswer(page) from exc
            fresh = service.open_notice(session=db, token=token)
            raise PageAnswer(
                _objection_page(fresh, token, error=exc.detail, status=exc.status_code)
            ) from exc
        return Redirect(f"/objections/{token}", status_code=303, headers=NO_STORE)


# -- staff: propose, review, approve -----------------------------------------------------------


def _version_view(v: SubprocessorListVersion) -> dict[str, Any]:
    return {
        "version": v.version,
        "state": v.state,
        "author": v.author,
        "author_subject": v.author_subject,
        "change_note": v.change_note,
        "created": _when(v.created_at),
        "submitted": _when(v.submitted_at),
        "reviewer": v.reviewer,
        "reviewed": _when(v.reviewed_at),
        "review_comment": v.review_comment,
        "approved": _when(v.approved_at),
        "retired": _when(v.retired_at),
        "based_on": v.based_on,
        "sha256": v.sha256,
        "count": len(v.entries),
        "entries": [_entry_view(e) for e in v.entries],
    }


CATEGORY_CHOICES: list[tuple[str, str]] = [("general", "Every workspace (general)")] + [
    (key, label) for key, (label, _) in DATA_CATEGORIES.items()
]


def form_row(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry as the edit form shows it: the four text fields, and the structured fields as
    lines people can edit ("importer | country | by | mechanisms", "English | Latvian")."""
    entity = entry.get("contracting_entity") or {}
    return {
        "name": entry["name"],
        "purpose": entry["purpose"],
        "location": entry["location"],
        "transfer_safeguard": entry["transfer_safeguard"],
        "entity_name": entity.get("name", ""),
        "entity_country": entity.get("country", ""),
        "places": ", ".join(entry.get("processing_locations") or []),
        "transfers": "\n".join(
            f"{t['importer']} | {t['country']} | {t['by']} | {', '.join(t['mechanisms'])}"
            for t in entry.get("transfers") or []
        ),
        "measures": "\n".join(
            f"{m['en']} | {m['lv']}" for m in entry.get("supplementary_measures") or []
        ),
        "categories": list(entry.get("categories") or []),
        "sms": bool(entry.get("sms")),
        "purpose_lv": ((entry.get("translations") or {}).get("lv") or {}).get("purpose", ""),
    }


def _lines(text: str) -> list[list[str]]:
    return [[p.strip() for p in line.split("|")] for line in text.splitlines() if line.strip()]


def _details(raw: dict[str, Any], label: str, problems: list[str]) -> dict[str, Any]:
    """The structured fields of one form row (only those it fills in)."""
    out: dict[str, Any] = {}
    if raw["entity_name"] or raw["entity_country"]:
        out["contracting_entity"] = {
            "name": raw["entity_name"],
            "country": raw["entity_country"],
        }
    places = [p.strip().upper() for p in raw["places"].replace(";", ",").split(",") if p.strip()]
    if places:
        out["processing_locations"] = places
        # Structured entries always say which transfers and measures apply, if none.
        out["transfers"] = []
        out["supplementary_measures"] = []
    for parts in _lines(raw["transfers"]):
        if len(parts) != 4:
            problems.append(
                f"{label}: write each transfer as “importer | country code | processor or "
                "subprocessor | mechanisms in order”"
            )
            continue
        importer, country, by, mechanisms = parts
        out.setdefault("transfers", []).append(
            {
                "importer": importer,
                "country": country.upper(),
                "by": by.lower(),
                "mechanisms": [m.strip() for m in mechanisms.split(",") if m.strip()],
            }
        )
    for parts in _lines(raw["measures"]):
        if len(parts) != 2:
            problems.append(f"{label}: write each supplementary measure as “English | Latvian”")
            continue
        out.setdefault("supplementary_measures", []).append({"en": parts[0], "lv": parts[1]})
    if raw["categories"]:
        out["categories"] = raw["categories"]
    if raw["sms"]:
        out["sms"] = True
    if raw["purpose_lv"]:
        out["translations"] = {"lv": {"purpose": raw["purpose_lv"]}}
    return out


def _form_rows(
    data: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[str], list[dict[str, Any]]]:
    """The entries of the edit form (blank and removed rows dropped), the problems found, and
    the rows as they were typed (to show the form again)."""
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    typed: list[dict[str, Any]] = []
    for i in range(MAX_ENTRIES + BLANK_ROWS):
        if f"name_{i}" not in data:
            continue

        def value(field: str, i: int = i) -> str:
            raw = data.get(f"{field}_{i}", "")
            return str(raw[0] if isinstance(raw, list) else raw).strip()

        def values(field: str, i: int = i) -> list[str]:
            raw = data.get(f"{field}_{i}", [])
            chosen = {str(v) for v in (raw if isinstance(raw, list) else [raw]) if v}
            return [key for key, _ in CATEGORY_CHOICES if key in chosen]

        row: dict[str, Any] = {
            "name": value("name"),
            "purpose": value("purpose"),
            "location": value("location"),
            "transfer_safeguard": value("safeguard"),
        }
        if value("remove") or not any(row.values()):
            continue
        missing = [entry_values.FIELD_LABELS[f] for f, v in row.items() if not v]
        label = f"row {i + 1} ({row['name'] or 'no name'})"
        if missing:
            problems.append(f"{label}: {', '.join(missing)} missing")
        extra = {
            "entity_name": value("entity_name"),
            "entity_country": value("entity_country"),
            "places": value("places"),
            "transfers": value("transfers"),
            "measures": value("measures"),
            "categories": values("categories"),
            "sms": bool(value("sms")),
            "purpose_lv": value("purpose_lv"),
        }
        rows.append({**row, **_details(extra, label, problems)})
        typed.append({**row, **extra})
    return rows, problems, typed


class StaffSubprocessorPages(Controller):
    path = "/staff/subprocessors"
    include_in_schema = False
    guards = [roles("legal", "admin")]

    @get("/", sync_to_thread=True)
    def index(self, db: NamedDependency[Session]) -> Template:
        current = service.current_approved(session=db)
        versions = service.list_versions(session=db)
        return Template(
            "staff/subprocessors.html",
            context={
                "current": _version_view(current),
                "open": [_version_view(v) for v in versions if v.state in ("draft", "in_review")],
                "history": [
                    _version_view(v)
                    for v in versions
                    if v.state in ("approved", "retired", "rejected")
                ],
                "changes": [
                    {
                        "id": c.id,
                        "version": c.version,
                        "approved": _when(c.approved_at),
                        "deadline": _when(c.objection_deadline),
                        "notices": c.notices,
                        "objections": n,
                        "lines": entry_values.describe(c.diff),
                    }
                    for c, n in service.list_changes(session=db)
                ],
            },
        )

    @post(
        "/drafts",
        guards=[roles("legal")],
        sync_to_thread=True,
        status_code=303,
        opt={"back": "/staff/subprocessors/"},
    )
    def start_draft(
        self, db: NamedDependency[Session], user: NamedDependency[Principal]
    ) -> Redirect:
        draft = service.create_draft(session=db, author=user, entries=None)
        return Redirect(f"/staff/subprocessors/versions/{draft.version}/edit", status_code=303)

    @get("/versions/{number:int}/edit", guards=[roles("legal")], sync_to_thread=True)
    def edit_form(
        self, db: NamedDependency[Session], user: NamedDependency[Principal], number: VersionNumber
    ) -> Template | Redirect:
        version = service.get_version(session=db, number=number)
        if version.state != "draft" or version.author_subject != user.subject:
            return Redirect(f"/staff/subprocessors/versions/{number}", status_code=303)
        rows = [form_row(e) for e in version.entries]
        return _edit_page(db, user, version, rows, version.change_note)

    @post(
        "/versions/{number:int}/edit",
        guards=[roles("legal")],
        sync_to_thread=True,
        status_code=303,
    )
    def save(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        number: VersionNumber,
        data: Annotated[dict[str, Any], FORM],
    ) -> Redirect:
        version = service.get_version(session=db, number=number)
        rows, problems, typed = _form_rows(data)
        note_raw = data.get("change_note", "")
        # whole (the service refuses one too long, as the API does); a browser sends the line
        # breaks its textarea counted once (maxlength) as CRLF
        note = str(note_raw[0] if isinstance(note_raw, list) else note_raw).replace("\r\n", "\n")
        action = str(data.get("action", "save"))
        try:
            if problems:
                raise Unprocessable("; ".join(problems))
            entries = entry_values.parse(rows)
            service.update_draft(
                session=db, number=number, actor=user, entries=entries, change_note=note
            )
            if action == "submit":
                service.submit(session=db, number=number, actor=user)
        except DomainError as exc:
            db.refresh(version)  # submitted or approved meanwhile by another request?
            if version.state != "draft" or version.author_subject != user.subject:
                raise PageAnswer(
                    back_with(f"/staff/subprocessors/versions/{number}", error=exc.detail)
                ) from exc
            status = exc.status_code if exc.status_code in (403, 409) else 422
            raise PageAnswer(
                _edit_page(db, user, version, typed, note, error=exc.detail, status=status)
            ) from exc
        if action == "submit":
            return back_with(
                f"/staff/subprocessors/versions/{number}",
                done=f"Version {number} is ready for review by another legal user.",
            )
        return back_with(f"/staff/subprocessors/versions/{number}/edit", done="Draft saved.")

    @get("/versions/{number:int}", sync_to_thread=True)
    def review(
        self, db: NamedDependency[Session], user: NamedDependency[Principal], number: VersionNumber
    ) -> Template:
        version = service.get_version(session=db, number=number)
        return _review_page(db, user, version)

    @post(
        "/versions/{number:int}/approve",
        guards=[roles("legal")],
        sync_to_thread=True,
        status_code=303,
        opt={"back": "/staff/subprocessors/versions/{number}"},
    )
    def approve(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        settings: NamedDependency[Settings],
        number: VersionNumber,
    ) -> Redirect:
        done = changes.approve_and_notify(
            session=db, number=number, reviewer=user, settings=settings
        )
        return back_with(
            f"/staff/subprocessors/versions/{number}",
            done=f"Approved. {_counterparties(done.change.notices)} with a completed DPA "
            f"{'is' if done.change.notices == 1 else 'are'} being notified; objections are open "
            f"until {_when(done.change.objection_deadline)}.",
        )

    @post(
        "/versions/{number:int}/reject",
        guards=[roles("legal")],
        sync_to_thread=True,
        status_code=303,
        opt={"back": "/staff/subprocessors/versions/{number}"},
    )
    def reject(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        number: VersionNumber,
        data: Annotated[dict[str, Any], FORM],
    ) -> Redirect:
        raw = data.get("comment", "")
        comment = str(raw[0] if isinstance(raw, list) else raw)
        service.reject(session=db, number=number, reviewer=user, comment=comment)
        return back_with(f"/staff/subprocessors/versions/{number}", done="Rejected.")

    @get("/changes/{change_id:uuid}", sync_to_thread=True)
    def change(self, db: NamedDependency[Session], change_id: FromPath[UUID]) -> Template:
        change = service.get_change(session=db, change_id=str(change_id))
        return Template(
            "staff/subprocessors_change.html",
            context={
                "change": {
                    "id": change.id,
                    "version": change.version,
                    "previous_version": change.previous_version,
                    "approved": _when(change.approved_at),
                    "deadline": _when(change.objection_deadline),
                    "open": utcnow() < change.objection_deadline,
                    "notices": change.notices,
                    "diff": _diff_view(change.diff),
                },
                "objections": [
                    {
                        "at": _when(o.created_at),
                        "counterparty": cp.details.get("legal_name", ""),
                        "workspace_id": cp.external_id,
                        "reason": o.reason,
                        "ip": o.ip or "",
                    }
                    for o, _, cp in service.objections(session=db, change_id=change.id)
                ],
            },
        )


def _edit_page(
    db: Session,
    user: Principal,
    version: SubprocessorListVersion,
    rows: list[dict[str, Any]],
    change_note: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> Template:
    current = service.current_approved(session=db)
    known = {code for code, _ in LOCATIONS}
    blank = form_row(dict.fromkeys(entry_values.TEXT_FIELDS, ""))
    return Template(
        "staff/subprocessors_edit.html",
        context={
            "version": _version_view(version),
            "current_version": current.version,
            "rows": rows + [dict(blank) for _ in range(BLANK_ROWS)],
            "categories": CATEGORY_CHOICES,
            "change_note": change_note,
            "locations": LOCATIONS,
            "known_locations": known,
            "countries": country_choices("en"),
            "error": error,
        },
        status_code=status,
    )


def _review_page(
    db: Session,
    user: Principal,
    version: SubprocessorListVersion,
    *,
    error: str | None = None,
    status: int = 200,
) -> Template:
    current = service.current_approved(session=db)
    diff = service.diff_against_current(session=db, version=version)
    return Template(
        "staff/subprocessors_version.html",
        context={
            "version": _version_view(version),
            "current_version": current.version,
            "stale": version.state in ("draft", "in_review")
            and version.based_on != current.version,
            "diff": _diff_view(diff),
            "is_author": version.author_subject == user.subject,
            "error": error,
        },
        status_code=status,
    )
