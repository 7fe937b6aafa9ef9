"""The workspace details the Klusaro app pushes, validated strictly (unknown fields are refused)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal, get_args

import msgspec
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from dpa_service.rendering.context import DATA_CATEGORIES, DATA_SUBJECTS, country_name
from dpa_service.text import END, check_printable

# One line of printable text: no control characters and nothing XML 1.0 cannot carry.
LINE = r"^(?=.*\S)[^\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]+$"

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=LINE)]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=LINE)]
# An address email-validator accepts (checked in __post_init__, which also normalises it): the
# schema says so, and that a special-use domain (.local, .test, localhost …) is refused.
_SPECIAL_USE = "|".join(re.escape(name) for name in sorted(SPECIAL_USE_DOMAIN_NAMES))
Email = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=254,
        extra_json_schema={
            "extra": {
                "format": "email",
                "pattern": rf"^(?![\s\S]*@(?:[^@]*\.)?(?:{_SPECIAL_USE})\.?$)",
            }
        },
    ),
]
_UNIQUE: dict[str, Any] = {"extra": {"unique_items": True}}
COUNTRY_CODE = r"^[A-Z]{2}$"
CountryCode = Annotated[str, msgspec.Meta(pattern=COUNTRY_CODE)]
# (END, not $: Python's $ would let a final line break through, making "ws-1\n" a workspace)
WORKSPACE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}" + END
WorkspaceId = Annotated[str, msgspec.Meta(pattern=WORKSPACE_ID)]
DataCategory = Literal[
    "leads",
    "contacts",
    "booking_forms",
    "customer_requests",
    "jobs",
    "invoices_quotes",
    "documents",
    "workers",
    "communications",
]
DataSubject = Literal["customers", "prospects", "end_users", "workers", "contact_persons"]
# The labels printed in the DPA live beside the context; both lists must name the same keys.
assert set(get_args(DataCategory)) == set(DATA_CATEGORIES)
assert set(get_args(DataSubject)) == set(DATA_SUBJECTS)


def check_email(value: str, field: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"{field}: {exc}") from None


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class Address(Strict):
    street: Text
    city: ShortText
    postal_code: Annotated[str, msgspec.Meta(min_length=1, max_length=20, pattern=LINE)]
    country: CountryCode

    def __post_init__(self) -> None:
        try:
            country_name(self.country)
        except ValueError:
            raise ValueError(
                f"address.country: {self.country!r} is not an ISO 3166-1 alpha-2 code"
            ) from None


class Signatory(Strict):
    name: Text
    title: Text
    email: Email

    def __post_init__(self) -> None:
        self.email = check_email(self.email, "signatory.email")


class Dpo(Strict):
    name: Text
    email: Email

    def __post_init__(self) -> None:
        self.email = check_email(self.email, "dpo.email")


class CounterpartyDetails(Strict):
    legal_name: Text
    registration_number: ShortText
    address: Address
    signatory: Signatory
    data_categories: Annotated[
        list[DataCategory], msgspec.Meta(min_length=1, max_length=9, extra_json_schema=_UNIQUE)
    ]
    data_subjects: Annotated[
        list[DataSubject], msgspec.Meta(min_length=1, max_length=5, extra_json_schema=_UNIQUE)
    ]
    vat_number: ShortText | None = None
    dpo: Dpo | None = None
    language: Literal["en", "lv"] = "en"
    bilingual: bool | msgspec.UnsetType = msgspec.UNSET  # left out of the stored details if unset
    # The day the main agreement (Klusaro's terms) took effect for this business: the DPA
    # applies from then. Left out of the stored details if unset (see agreements.service).
    main_agreement_start: (
        Annotated[date, msgspec.Meta(extra_json_schema={"extra": {"pattern": "^20[0-9]{2}-"}})]
        | msgspec.UnsetType
    ) = msgspec.UNSET

    def __post_init__(self) -> None:
        for field in ("data_categories", "data_subjects"):
            values = getattr(self, field)
            if len(set(values)) != len(values):
                raise ValueError(f"{field}: each value may appear once")
        start = self.main_agreement_start
        if isinstance(start, date) and not date(2000, 1, 1) <= start <= date(2099, 12, 31):
            raise ValueError(  # the schema's pattern says the same: ^20[0-9]{2}-
                "main_agreement_start: a date between 2000-01-01 and 2099-12-31"
            )
        # What is printed is exactly what was stored (see dpa_service.text for what is refused).
        check_printable(msgspec.to_builtins(self))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = msgspec.to_builtins(self)
        # Canonical order so the same details always hash the same.
        data["data_categories"] = [k for k in DATA_CATEGORIES if k in data["data_categories"]]
        data["data_subjects"] = [k for k in DATA_SUBJECTS if k in data["data_subjects"]]
        return data


def parse_details(raw: bytes | str) -> CounterpartyDetails:
    """Parse JSON outside HTTP (the CLI); raises msgspec.ValidationError or DecodeError."""
    return msgspec.json.decode(raw, type=CounterpartyDetails)


class WorkspaceOut(msgspec.Struct):
    workspace_id: str
    details: dict[str, Any]
    details_sha256: str
    created_at: str
    updated_at: str
    created: bool


# -- prospects (sales) --------------------------------------------------------------------------
