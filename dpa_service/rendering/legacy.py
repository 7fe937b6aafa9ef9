"""The context agreement versions made before issue 13 were rendered with. Pure: no database.

A version is re-rendered when it completes (signature blocks filled). A version made before the
processor profile, languages and the new context existed was filled by this code, from the
templates it recorded; completing it with today's context would print other words (the
processor's address as it is now, implied data subjects …) than the controller signed. So such a
version is completed with the context it was made with, frozen here unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from dpa_service.rendering.context import DATA_SUBJECTS, Terms, country_name

# Wording and processor facts as they were printed until issue 13 (not to be edited: they are
# what the documents made then say).
_CATEGORIES: dict[str, tuple[str, str]] = {
    "leads": (
        "Leads",
        "names and contact details of potential customers and the enquiry they made",
    ),
    "contacts": ("Contacts", "names, e-mail addresses, phone numbers, postal addresses and notes"),
    "booking_forms": (
        "Booking forms",
        "answers submitted through booking forms, requested dates and times",
    ),
    "customer_requests": (
        "Customer requests",
        "descriptions of requested services, messages and attachments",
    ),
    "jobs": ("Job information", "job addresses, schedules, assigned staff, job notes and photos"),
    "invoices_quotes": (
        "Invoices and quotes",
        "billing names and addresses, line items, amounts and payment status",
    ),
    "documents": (
        "Uploaded documents",
        "files the controller uploads, with any personal data they contain",
    ),
    "workers": (
        "Worker and staff information",
        "names, contact details, roles, schedules and time records of staff",
    ),
    "communications": (
        "Customer communications",
        "e-mails, text messages and notifications exchanged with customers",
    ),
}
_PROCESSOR = {
    "legal_name": 'SIA "A.U. Holding"',
    "trade_name": "Klusaro",
    "address": {
        "street": "Brivibas street 312-11",
        "city": "Riga",
        "postal_code": "LV-1006",
        "country": "LV",
        "country_name": "Latvia",
    },
    "email": "info@klusaro.com",
    "privacy_contact": "Privacy Officer",
}


def build_legacy_context(
    *,
    details: Mapping[str, Any],
    agreement_id: str,
    version: int,
    issued_at: datetime,
    subprocessor_entries: Sequence[Mapping[str, Any]],
    subprocessor_list_version: int,
    subprocessor_list_approved_on: datetime,
    terms: Terms,
    processor_signatory: tuple[str, str] = ("", "Authorised signatory"),
    signatures: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    address = details["address"]
    entries = [dict(e) for e in subprocessor_entries]
    return {
        "agreement": {
            "id": agreement_id,
            "version": version,
            "date": f"{issued_at:%-d %B %Y}",
            "language": details.get("language", "en"),
        },
        "processor": {
            **_PROCESSOR,
            "signatory": {"name": processor_signatory[0], "title": processor_signatory[1]},
        },
        "controller": {
            "legal_name": details["legal_name"],
            "registration_number": details["registration_number"],
            "vat_number": details.get("vat_number"),
            "address": {**address, "country_name": country_name(address["country"])},
            "signatory": dict(details["signatory"]),
            "dpo": dict(details["dpo"]) if details.get("dpo") else None,
        },
        "processing": {
            "data_categories": [
                {"key": k, "label": _CATEGORIES[k][0], "description": _CATEGORIES[k][1]}
                for k in _CATEGORIES
                if k in details["data_categories"]
            ],
            "data_subjects": [
                {"key": k, "label": DATA_SUBJECTS[k]}
                for k in DATA_SUBJECTS
                if k in details["data_subjects"]
            ],
        },
        "subprocessors": {
            "version": subprocessor_list_version,
            "approved_on": f"{subprocessor_list_approved_on:%-d %B %Y}",
            "entries": entries,
            "has_transfers": any(not e["in_eea"] for e in entries),
        },
        "terms": {
            "breach_notice_hours": terms.breach_notice_hours,
            "subprocessor_notice_days": terms.subprocessor_notice_days,
            "governing_law": terms.governing_law,
            "courts": terms.courts,
            "return_deletion_days": terms.return_deletion_days,
            "audit_notice_days": terms.audit_notice_days,
        },
        "signatures": {
            party: ({"drawing": None, **dict(value)} if value else None)
            for party, value in {
                "controller": None,
                "processor": None,
                **(signatures or {}),
            }.items()
        },
    }
