"""Legal's processor profile pages: the approved profile with the values not yet confirmed, a
draft editor (values and their confirmation), review with the changes, approve or reject."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.errors import DomainError, Unprocessable
from dpa_service.http.auth import roles
from dpa_service.http.errors import PageAnswer, back_with
from dpa_service.http.params import VersionNumber
from dpa_service.profile import service
from dpa_service.profile.models import ProcessorProfileVersion
from dpa_service.rendering.context import format_timestamp
from dpa_service.rendering.countries import country_choices
from dpa_service.rendering.facts import LANGUAGES, unconfirmed_fields
from dpa_service.web.forms import FORM

BASE = "/staff/processor-profile"


def _when(at: Any) -> str:
    return format_timestamp(at) if at else ""


def _fields(profile: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per value, in the order the DPA prints them."""
    rows = []
    for path, node in service.nodes(profile):
        value = node.get("value")
        title = node.get("title")
        rows.append(
            {
                "path": path,
                "title": title.get("en") if isinstance(title, dict) else "",
                "wording": isinstance(value, dict),
                "value": value if not isinstance(value, dict) else None,
                "words": value if isinstance(value, dict) else {},
                "unit": node.get("unit"),
                "country": path == service.COUNTRY_PATH,
                "confirmed": bool(node.get("confirmed")),
                "shown": service.value_text(node, path),
            }
        )
    return rows


def _view(row: ProcessorProfileVersion) -> dict[str, Any]:
    return {
        "version": row.version,
        "state": row.state,
        "author": row.author,
        "change_note": row.change_note,
        "created": _when(row.created_at),
        "submitted": _when(row.submitted_at),
        "reviewer": row.reviewer,
        "reviewed": _when(row.reviewed_at),
        "review_comment": row.review_comment,
        "approved": _when(row.approved_at),
        "retired": _when(row.retired_at),
        "based_on": row.based_on,
        "sha256": row.sha256,
        "unconfirmed": unconfirmed_fields(row.profile),
        "fields": _fields(row.profile),
    }


def _first(data: Mapping[str, Any], key: str) -> str:
    raw = data.get(key, "")
    return str(raw[0] if isinstance(raw, list) else raw).strip()


def profile_from_form(profile: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """`profile` with the values and confirmations of the edit form (`v:<path>`,
    `v:<path>:<language>` for wording, `c:<path>` ticked when confirmed)."""
    out = copy.deepcopy(dict(profile))
    for path, node in service.nodes(out):
        target: dict[str, Any] = node  # type: ignore[assignment]
        if isinstance(target.get("value"), dict):
            target["value"] = {lang: _first(data, f"v:{path}:{lang}") for lang in LANGUAGES}
        elif target.get("unit"):
            raw = _first(data, f"v:{path}")
            try:
                target["value"] = int(raw)
            except ValueError:
                raise Unprocessable(f"{path}: a whole number, not {raw[:40]!r}") from None
        else:
            raw = _first(data, f"v:{path}")
            target["value"] = raw or None  # empty: not known yet
        target["confirmed"] = bool(_first(data, f"c:{path}"))
    return out


class ProcessorProfilePages(Controller):
    path = BASE
    include_in_schema = False
    guards = [roles("legal", "admin")]

    @get("/", sync_to_thread=True)
    def index(self, db: NamedDependency[Session]) -> Template:
        current = service.current_approved(session=db)
        versions = service.list_versions(session=db)
        return Template(
            "staff/profile.html",
            context={
                "current": _view(current),
                "open": [_view(v) for v in versions if v.state in ("draft", "in_review")],
                "history": [
                    _view(v) for v in versions if v.state in ("approved", "retired", "rejected")
                ],
            },
        )

    @post(
        "/drafts",
        guards=[roles("legal")],
        sync_to_thread=True,
        status_code=303,
        opt={"back": f"{BASE}/"},
    )
    def start_draft(
        self, db: NamedDependency[Session], user: NamedDependency[Principal]
    ) -> Redirect:
        draft = service.create_draft(session=db, author=user)
        return Redirect(f"{BASE}/versions/{draft.version}/edit", status_code=303)

    @get("/versions/{number:int}/edit", guards=[roles("legal")], sync_to_thread=True)
    def edit_form(
        self, db: NamedDependency[Session], user: NamedDependency[Principal], number: VersionNumber
    ) -> Template | Redirect:
        row = service.get_version(session=db, number=number)
        if row.state != "draft" or row.author_subject != user.subject:
            return Redirect(f"{BASE}/versions/{number}", status_code=303)
        return _edit_page(row, _fields(row.profile), row.change_note)

    @post(
        "/versions/{number:int}/edit", guards=[roles("legal")], sync_to_thread=True, status_code=303
    )
    def save(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        number: VersionNumber,
        data: Annotated[dict[str, Any], FORM],
    ) -> Redirect:
        row = service.get_version(session=db, number=number)
        # whole (the service refuses one too long, as the API does); a browser sends the line
        # breaks its textarea counted once (maxlength) as CRLF
        note = _first(data, "change_note").replace("\r\n", "\n")
        action = _first(data, "action") or "save"
        try:
            profile = profile_from_form(row.profile, data)
            service.update_draft(
                session=db, number=number, actor=user, profile=profile, change_note=note
            )
            if action == "submit":
                service.submit(session=db, number=number, actor=user)
        except DomainError as exc:
            db.refresh(row)
            if row.state != "draft" or row.author_subject != user.subject:
                raise PageAnswer(back_with(f"{BASE}/versions/{number}", error=exc.detail)) from exc
            typed = _typed(row.profile, data)
            status = exc.status_code if exc.status_code in (403, 409) else 422
            raise PageAnswer(_edit_page(row, typed, note, error=exc.detail, status=status)) from exc
        if action == "submit":
            return back_with(
                f"{BASE}/versions/{number}",
                done=f"Version {number} is ready for review by another legal user.",
            )
        return back_with(f"{BASE}/versions/{number}/edit", done="Draft saved.")

    @get("/versions/{number:int}", sync_to_thread=True)
    def review(
        self, db: NamedDependency[Session], user: NamedDependency[Principal], number: VersionNumber
    ) -> Template:
        row = service.get_version(session=db, number=number)
        changes = service.diff_against_current(session=db, version=row)
        return Template(
            "staff/profile_version.html",
            context={
                "version": _view(row),
                "changes": changes,
                "is_author": row.author_subject == user.subject,
                "current_version": service.current_approved(session=db).version,
            },
        )

    @post(
        "/versions/{number:int}/approve",
        guards=[roles("legal")],
        sync_to_thread=True,
        status_code=303,
        opt={"back": f"{BASE}/versions/{{number}}"},
    )
    def approve(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        number: VersionNumber,
        data: Annotated[dict[str, Any], FORM],
    ) -> Redirect:
        done = service.approve(
            session=db, number=number, reviewer=user, comment=_first(data, "comment")
        )
        left = unconfirmed_fields(done.version.profile)
        note = f"Approved. New DPAs print profile version {number}." + (
            f" {len(left)} value(s) are still not confirmed: such DPAs cannot be sent."
            if left
            else " Every value is confirmed."
        )
        return back_with(f"{BASE}/versions/{number}", done=note)

    @post(
        "/versions/{number:int}/reject",
        guards=[roles("legal")],
        sync_to_thread=True,
        status_code=303,
        opt={"back": f"{BASE}/versions/{{number}}"},
    )
    def reject(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        number: VersionNumber,
        data: Annotated[dict[str, Any], FORM],
    ) -> Redirect:
        service.reject(session=db, number=number, reviewer=user, comment=_first(data, "comment"))
        return back_with(f"{BASE}/versions/{number}", done="Rejected.")


def _typed(profile: Mapping[str, Any], data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The form's rows as they were typed, to show them again after a refusal."""
    rows = _fields(profile)
    for row in rows:
        path = row["path"]
        if row["wording"]:
            row["words"] = {lang: _first(data, f"v:{path}:{lang}") for lang in LANGUAGES}
        else:
            row["value"] = _first(data, f"v:{path}")
        row["confirmed"] = bool(_first(data, f"c:{path}"))
    return rows


def _edit_page(
    row: ProcessorProfileVersion,
    fields: list[dict[str, Any]],
    change_note: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> Template:
    return Template(
        "staff/profile_edit.html",
        context={
            "version": _view(row),
            "fields": fields,
            "languages": LANGUAGES,
            "countries": country_choices("en"),
            "change_note": change_note,
            "error": error,
        },
        status_code=status,
    )
