"""Sales web UI (/staff/prospects): create a prospect, send its DPA, follow it on the status
board, resend, remind now, void, convert into a workspace."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from dpa_service.accounts.service import Principal
from dpa_service.agreements.models import Agreement
from dpa_service.config import Settings
from dpa_service.counterparties import service as counterparties
from dpa_service.counterparties.schemas import CounterpartyDetails, WorkspaceId
from dpa_service.errors import Unprocessable
from dpa_service.http.auth import roles
from dpa_service.http.errors import PageAnswer, back_with
from dpa_service.rendering.context import DATA_CATEGORIES, DATA_SUBJECTS
from dpa_service.rendering.converter import ConverterPool
from dpa_service.rendering.countries import country_choices
from dpa_service.sales import flows, status

log = logging.getLogger(__name__)

SALES = ("sales", "admin")
HOME = "/staff/prospects"
# Where a field sits in the details, and how the form names it (for error messages).
LABELS = {
    "legal_name": "Legal name",
    "registration_number": "Registration number",
    "vat_number": "VAT number",
    "address.street": "Street",
    "address.city": "City",
    "address.postal_code": "Postal code",
    "address.country": "Country",
    "signatory.name": "Signatory name",
    "signatory.title": "Signatory title",
    "signatory.email": "Signatory e-mail",
    "signatory": "Signatory",
    "dpo.name": "DPO name",
    "dpo.email": "DPO e-mail",
    "dpo": "DPO",
    "data_categories": "Data categories",
    "data_subjects": "Data subjects",
}
_AT = re.compile(r" - at `\$\.?([^`]*)`")


@dataclass
class ProspectForm:
    legal_name: str = ""
    registration_number: str = ""
    vat_number: str = ""
    street: str = ""
    city: str = ""
    postal_code: str = ""
    country: str = ""
    signatory_name: str = ""
    signatory_title: str = ""
    signatory_email: str = ""
    dpo_name: str = ""
    dpo_email: str = ""
    # One ticked box arrives as a string, several as a list.
    data_categories: list[str] | str = field(default_factory=list)
    data_subjects: list[str] | str = field(default_factory=list)
    language: str = "en"
    bilingual: str = ""

    def ticked(self, name: str) -> list[str]:
        value = getattr(self, name)
        return [value] if isinstance(value, str) else list(value)

    def details(self) -> CounterpartyDetails:
        """The company details, validated exactly as the API validates them."""
        raw: dict[str, Any] = {
            "legal_name": self.legal_name.strip(),
            "registration_number": self.registration_number.strip(),
            "address": {
                "street": self.street.strip(),
                "city": self.city.strip(),
                "postal_code": self.postal_code.strip(),
                # the select's ISO code, as posted: upper-casing a typed "La" made Laos of Latvia
                "country": self.country.strip(),
            },
            "signatory": {
                "name": self.signatory_name.strip(),
                "title": self.signatory_title.strip(),
                "email": self.signatory_email.strip(),
            },
            "data_categories": self.ticked("data_categories"),
            "data_subjects": self.ticked("data_subjects"),
            "language": self.language.strip() or "en",
        }
        if self.bilingual:
            raw["bilingual"] = True
        if self.vat_number.strip():
            raw["vat_number"] = self.vat_number.strip()
        if self.dpo_name.strip() or self.dpo_email.strip():
            raw["dpo"] = {"name": self.dpo_name.strip(), "email": self.dpo_email.strip()}
        return msgspec.convert(raw, CounterpartyDetails)


def explain(exc: msgspec.ValidationError) -> str:
    """msgspec's message in the form's words: the field's label and what to change."""
    message = str(exc)
    match = _AT.search(message)
    path = re.sub(r"\[\d+\]", "", match.group(1)) if match else ""
    text = message[: match.start()] if match else message
    inner = re.match(r"^([a-z_]+(?:\.[a-z_]+)*): (.*)$", text)  # "signatory.email: …"
    if inner:
        path, text = inner.groups()
    if text.startswith(
        (
            "Expected `str` of length >= 1",
            "Expected `array` of length >= 1",
            "Object missing required field",
        )
    ):
        text = "this field is required"
    elif path == "address.country" and ("regex" in text or "ISO 3166" in text):
        text = "not a known country code; choose the country from the list"
    elif "matching regex" in text:
        text = "it is blank or contains characters that cannot be used (line breaks, controls)"
    elif length := re.match(r"Expected `str` of length <= (\d+)", text):
        text = f"at most {length.group(1)} characters"
    elif length := re.match(r"Expected `str` of length >= (\d+)", text):
        text = f"this field is required (at least {length.group(1)} characters)"
    elif enum := re.match(r"Invalid enum value (.*)", text):
        text = f"{enum.group(1)} is not one of the choices"
    label = LABELS.get(path, path.replace("_", " ") or "The form")
    return f"{label}: {text}"


def _form_page(form: ProspectForm, error: str | None = None, status: int = 200) -> Template:
    return Template(
        "staff/prospects_new.html",
        context={
            "form": form,
            "categories": [(k, v[0]) for k, v in DATA_CATEGORIES.items()],
            "subjects": list(DATA_SUBJECTS.items()),
            "countries": country_choices("en"),
            "ticked": set(form.ticked("data_categories")) | set(form.ticked("data_subjects")),
            "error": error,
        },
        status_code=status,
    )


@dataclass
class VoidForm:
    reason: str = ""


@dataclass
class ConvertForm:
    workspace_id: str = ""


BACK = {"back": HOME + "/{prospect_id}"}


class SalesPages(Controller):
    path = HOME
    include_in_schema = False
    guards = [roles(*SALES)]

    @get("/", sync_to_thread=True)
    def board(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        version_state: Annotated[str, QueryParameter(name="state", max_length=20)] = "",
        mine: FromQuery[str] = "",
        q: FromQuery[str] = "",
    ) -> Template:
        """The status board: every prospect's DPA, its state, dates and who acted."""
        state = version_state if version_state in status.BOARD_STATES else ""
        rows = status.board(
            session=db, state=state or None, owner=user.subject if mine else None, q=q[:200]
        )
        return Template(
            "staff/prospects.html",
            context={
                "rows": rows,
                "states": status.BOARD_STATES,
                "filters": {"state": state, "mine": bool(mine), "q": q[:200]},
            },
        )

    @get("/new", sync_to_thread=True)
    def new(self) -> Template:
        return _form_page(ProspectForm(country="LV"))

    @post("/", status_code=303, sync_to_thread=True)
    def create(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        data: URLEncodedBody[ProspectForm],
    ) -> Redirect:
        try:
            details = data.details()
        except msgspec.ValidationError as exc:
            raise PageAnswer(_form_page(data, explain(exc), 422)) from None
        row = counterparties.create_prospect(session=db, details=details, owner=user)
        log.info("prospect %s created by %s", row.id, user.actor)
        return back_with(
            f"{HOME}/{row.id}", done=f"Created {details.legal_name}. Send its DPA when ready."
        )

    @get("/{prospect_id:uuid}", sync_to_thread=True)
    def show(self, db: NamedDependency[Session], prospect_id: FromPath[UUID]) -> Template:
        row = status.get_status(session=db, prospect_id=str(prospect_id))
        agreement = db.scalar(select(Agreement).where(Agreement.counterparty_id == row.prospect.id))
        return Template(
            "staff/prospects_show.html",
            context={
                "row": row,
                "p": row.prospect,
                "versions": list(reversed(agreement.versions)) if agreement else [],
                "events": status.history(session=db, prospect_id=str(prospect_id)),
                "categories": {k: v[0] for k, v in DATA_CATEGORIES.items()},
                "subjects": DATA_SUBJECTS,
                "countries": dict(country_choices("en")),
            },
        )

    @post("/{prospect_id:uuid}/send", status_code=303, sync_to_thread=True, opt=BACK)
    def send(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        pool: NamedDependency[ConverterPool],
        settings: NamedDependency[Settings],
        prospect_id: FromPath[UUID],
    ) -> Redirect:
        done = flows.send(
            session=db, pool=pool, settings=settings, prospect_id=str(prospect_id), actor=user.actor
        )
        return back_with(
            f"{HOME}/{prospect_id}",
            done=f"Version {done.version.number} sent to {done.email.to_addr}.",
        )

    @post("/{prospect_id:uuid}/resend", status_code=303, sync_to_thread=True, opt=BACK)
    def resend(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        settings: NamedDependency[Settings],
        prospect_id: FromPath[UUID],
    ) -> Redirect:
        sent = flows.resend(
            session=db, settings=settings, prospect_id=str(prospect_id), actor=user.actor
        )
        return back_with(
            f"{HOME}/{prospect_id}",
            done=f"A new link was sent to {sent.email.to_addr}; the earlier links no longer work.",
        )

    @post("/{prospect_id:uuid}/remind", status_code=303, sync_to_thread=True, opt=BACK)
    def remind(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        settings: NamedDependency[Settings],
        prospect_id: FromPath[UUID],
    ) -> Redirect:
        sent = flows.remind(
            session=db, settings=settings, prospect_id=str(prospect_id), actor=user.actor
        )
        return back_with(
            f"{HOME}/{prospect_id}", done=f"A reminder was sent to {sent.email.to_addr}."
        )

    @post("/{prospect_id:uuid}/void", status_code=303, sync_to_thread=True, opt=BACK)
    def void(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        prospect_id: FromPath[UUID],
        data: URLEncodedBody[VoidForm],
    ) -> Redirect:
        version = flows.void(
            session=db, prospect_id=str(prospect_id), reason=data.reason, actor=user.actor
        )
        return back_with(
            f"{HOME}/{prospect_id}",
            done=f"Version {version.number} is void; its links no longer work.",
        )

    @post("/{prospect_id:uuid}/convert", status_code=303, sync_to_thread=True, opt=BACK)
    def convert(
        self,
        db: NamedDependency[Session],
        user: NamedDependency[Principal],
        prospect_id: FromPath[UUID],
        data: URLEncodedBody[ConvertForm],
    ) -> Redirect:
        try:
            workspace_id = msgspec.convert(data.workspace_id.strip(), WorkspaceId)
        except msgspec.ValidationError:
            raise Unprocessable(
                "A workspace id is 1-100 letters, digits and . _ : - (starting with a "
                "letter or digit)."
            ) from None
        counterparties.convert_prospect(
            session=db, prospect_id=str(prospect_id), workspace_id=workspace_id, actor=user.actor
        )
        return back_with(f"{HOME}/{prospect_id}", done=f"Converted into workspace {workspace_id}.")
