"""The values a DPA template can print, built from a counterparty's details. Pure: no database.

One context is made per language (`en`, `lv`): labels, dates, country names and figures come
in the words of that language, so the Latvian templates print Latvian forms. The processor's own
facts come from its governed profile (see `facts`), never from code; a value legal has not
confirmed is printed as "[to be confirmed: …]".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import InitVar, dataclass
from datetime import date, datetime
from typing import Any

from dpa_service.rendering.countries import country_name, is_country_code
from dpa_service.rendering.facts import (
    LANGUAGES,
    MEASURE_HEADINGS,
    SECURITY_FIGURES,
    SECURITY_VALUES,
    builtin_authorities,
    builtin_processor_profile,
    validate_processor_profile,
)

__all__ = [
    "DATA_CATEGORIES",
    "DATA_SUBJECTS",
    "LANGUAGES",
    "TERM_BOUNDS",
    "AgreementMeta",
    "Terms",
    "build_context",
    "build_contexts",
    "country_name",
    "format_date",
    "format_timestamp",
]

# -- the processing, by the features (data categories) a workspace uses --------------------------

# English label and description, as the workspace API and the sales pages list them.
DATA_CATEGORIES: dict[str, tuple[str, str]] = {
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
        "e-mails and notifications exchanged with customers",
    ),
}
# Only where a subprocessor on the list sends text messages ("sms": true) are texts claimed.
COMMUNICATIONS_WITH_SMS = {
    "en": "e-mails, text messages and notifications exchanged with customers",
    "lv": "ar klientiem apmainītās e-pasta vēstules, īsziņas un paziņojumi",
}

DATA_SUBJECTS: dict[str, str] = {
    "customers": "Customers of the controller",
    "prospects": "Prospective customers (leads) of the controller",
    "end_users": "Users of the controller's booking forms and customer portals",
    "workers": "Workers and staff of the controller",
    "contact_persons": "Contact persons at the controller's business customers and suppliers",
}

_CATEGORIES_LV: dict[str, tuple[str, str]] = {
    "leads": (
        "Potenciālie klienti",
        "potenciālo klientu vārdi, uzvārdi, kontaktinformācija un viņu iesniegtie pieprasījumi",
    ),
    "contacts": (
        "Kontakti",
        "vārdi, uzvārdi, e-pasta adreses, tālruņa numuri, pasta adreses un piezīmes",
    ),
    "booking_forms": (
        "Rezervācijas veidlapas",
        "rezervācijas veidlapās iesniegtās atbildes, pieprasītie datumi un laiki",
    ),
    "customer_requests": (
        "Klientu pieprasījumi",
        "pieprasīto pakalpojumu apraksti, ziņojumi un pielikumi",
    ),
    "jobs": (
        "Informācija par darbiem",
        "darbu izpildes adreses, grafiki, norīkotie darbinieki, piezīmes un fotoattēli",
    ),
    "invoices_quotes": (
        "Rēķini un piedāvājumi",
        "maksātāju vārdi un adreses, rēķinu un piedāvājumu pozīcijas, summas un maksājumu statuss",
    ),
    "documents": (
        "Augšupielādētie dokumenti",
        "pārziņa augšupielādētās datnes ar tajās ietvertajiem personas datiem",
    ),
    "workers": (
        "Informācija par darbiniekiem",
        "darbinieku vārdi, uzvārdi, kontaktinformācija, amati, darba grafiki un darba laika "
        "uzskaite",
    ),
    "communications": (
        "Saziņa ar klientiem",
        "ar klientiem apmainītās e-pasta vēstules un paziņojumi",
    ),
}

_SUBJECTS_LV: dict[str, str] = {
    "customers": "Pārziņa klienti",
    "prospects": "Pārziņa potenciālie klienti",
    "end_users": "Pārziņa rezervācijas veidlapu un klientu portālu lietotāji",
    "workers": "Pārziņa darbinieki un personāls",
    "contact_persons": "Pārziņa komercklientu un piegādātāju kontaktpersonas",
}


@dataclass(frozen=True)
class CategoryUse:
    """What choosing a feature means for the description of the processing (Annex I, Part B)."""

    purpose: Mapping[str, str]
    subjects: tuple[str, ...]  # the usual data subjects (keys of DATA_SUBJECTS)
    operation: Mapping[str, str] | None = None  # a processing operation only this feature adds


# One table: each category's purpose, usual data subjects and any operation of its own.
CATEGORY_USES: dict[str, CategoryUse] = {
    "leads": CategoryUse(
        purpose={
            "en": "recording enquiries from potential customers and following them up",
            "lv": "potenciālo klientu pieprasījumu uzskaite un turpmāka saziņa ar viņiem",
        },
        subjects=("prospects",),
    ),
    "contacts": CategoryUse(
        purpose={
            "en": "keeping the controller's address book of customers and other contacts",
            "lv": "pārziņa klientu un citu kontaktpersonu adrešu grāmatas uzturēšana",
        },
        subjects=("customers", "contact_persons"),
    ),
    "booking_forms": CategoryUse(
        purpose={
            "en": "taking bookings through the controller's booking forms and customer portals",
            "lv": "rezervāciju pieņemšana ar pārziņa rezervācijas veidlapām un klientu portāliem",
        },
        subjects=("customers", "end_users"),
        operation={
            "en": "collecting data through booking forms and customer portals that the "
            "controller embeds in its website",
            "lv": "datu vākšana ar rezervācijas veidlapām un klientu portāliem, kurus pārzinis "
            "iegulst savā tīmekļvietnē",
        },
    ),
    "customer_requests": CategoryUse(
        purpose={
            "en": "receiving and answering customers' requests for services",
            "lv": "klientu pakalpojumu pieprasījumu saņemšana un atbildēšana uz tiem",
        },
        subjects=("customers", "end_users"),
    ),
    "jobs": CategoryUse(
        purpose={
            "en": "planning, scheduling and recording the jobs carried out for the controller's "
            "customers",
            "lv": "pārziņa klientiem veicamo darbu plānošana, grafiku sastādīšana un uzskaite",
        },
        subjects=("customers", "workers"),
    ),
    "invoices_quotes": CategoryUse(
        purpose={
            "en": "preparing quotes and invoices and recording payments",
            "lv": "cenu piedāvājumu un rēķinu sagatavošana un maksājumu uzskaite",
        },
        subjects=("customers", "contact_persons"),
    ),
    "documents": CategoryUse(
        purpose={
            "en": "storing and sharing the documents the controller uploads",
            "lv": "pārziņa augšupielādēto dokumentu glabāšana un kopīgošana",
        },
        subjects=("customers",),
        operation={
            "en": "storing uploaded files and making them available through time-limited links",
            "lv": "augšupielādēto datņu glabāšana un to pieejamības nodrošināšana ar saitēm, "
            "kuru derīguma laiks ir ierobežots",
        },
    ),
    "workers": CategoryUse(
        purpose={
            "en": "organising the controller's workers and staff: schedules, assignments and "
            "time records",
            "lv": "pārziņa darbinieku darba organizēšana: grafiki, uzdevumi un darba laika "
            "uzskaite",
        },
        subjects=("workers",),
    ),
    "communications": CategoryUse(
        purpose={
            "en": "sending and keeping the messages exchanged between the controller and its "
            "customers",
            "lv": "pārziņa un tā klientu saziņas ziņojumu nosūtīšana un glabāšana",
        },
        subjects=("customers",),
        operation={
            "en": "sending messages and notifications to the controller's customers on its behalf",
            "lv": "ziņojumu un paziņojumu sūtīšana pārziņa klientiem pārziņa vārdā",
        },
    ),
}
assert set(CATEGORY_USES) == set(DATA_CATEGORIES) == set(_CATEGORIES_LV)
assert set(DATA_SUBJECTS) == set(_SUBJECTS_LV)
GENERAL = "general"  # a subprocessor entry that serves every workspace (hosting, backups …)


def _category(key: str, language: str, sms: bool) -> tuple[str, str]:
    label, description = DATA_CATEGORIES[key] if language == "en" else _CATEGORIES_LV[key]
    if key == "communications" and sms:
        description = COMMUNICATIONS_WITH_SMS[language]
    return label, description


def category_label(key: str, language: str = "en") -> str:
    """A data category's label ("Booking forms", "Rezervācijas veidlapas")."""
    return _category(key, language, False)[0]


def _subject(key: str, language: str) -> str:
    return DATA_SUBJECTS[key] if language == "en" else _SUBJECTS_LV[key]


# -- words in each language: dates, figures, countries, transfer mechanisms -----------------------

_MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "lv": [
        "janvāris",
        "februāris",
        "marts",
        "aprīlis",
        "maijs",
        "jūnijs",
        "jūlijs",
        "augusts",
        "septembris",
        "oktobris",
        "novembris",
        "decembris",
    ],
}

# A figure with its unit in the cases the Latvian sentences need; Latvian numerals ending in 1
# (but not 11) take the singular: "21 diena", "21 dienas laikā".
_UNITS: dict[str, dict[str, Any]] = {
    "hours": {
        "en": ("hour", "hours"),
        "lv": (
            {
                "text": "stunda",
                "gen": "stundas",
                "acc": "stundu",
                "dat": "stundai",
                "loc": "stundā",
            },
            {
                "text": "stundas",
                "gen": "stundu",
                "acc": "stundas",
                "dat": "stundām",
                "loc": "stundās",
            },
        ),
    },
    "days": {
        "en": ("day", "days"),
        "lv": (
            {"text": "diena", "gen": "dienas", "acc": "dienu", "dat": "dienai", "loc": "dienā"},
            {"text": "dienas", "gen": "dienu", "acc": "dienas", "dat": "dienām", "loc": "dienās"},
        ),
    },
    "months": {
        "en": ("month", "months"),
        "lv": (
            {
                "text": "mēnesis",
                "gen": "mēneša",
                "acc": "mēnesi",
                "dat": "mēnesim",
                "loc": "mēnesī",
            },
            {
                "text": "mēneši",
                "gen": "mēnešu",
                "acc": "mēnešus",
                "dat": "mēnešiem",
                "loc": "mēnešos",
            },
        ),
    },
}
CASES = ("text", "gen", "acc", "dat", "loc")

UNCONFIRMED = {
    "en": ("[to be confirmed: {}]", "[to be confirmed]"),
    "lv": ("[vēl jāapstiprina: {}]", "[vēl jāapstiprina]"),
}

_PLACES = {
    "EU": {"en": "European Union", "lv": "Eiropas Savienība"},
    "GLOBAL": {"en": "data centres worldwide", "lv": "datu centri visā pasaulē"},
}

MECHANISMS: dict[str, dict[str, tuple[str, str]]] = {
    # code: {language: (full wording for Annex III, short form for the table)}
    "dpf": {
        "en": (
            "adequacy decision for the EU–US Data Privacy Framework (Commission Implementing "
            "Decision (EU) 2023/1795 of 10 July 2023), the recipient being certified under it",
            "EU–US Data Privacy Framework (adequacy decision)",
        ),
        "lv": (
            "lēmums par aizsardzības līmeņa pietiekamību attiecībā uz ES un ASV datu privātuma "
            "regulējumu (Komisijas Īstenošanas lēmums (ES) 2023/1795, 2023. gada 10. jūlijs), "
            "saņēmējam esot sertificētam saskaņā ar šo regulējumu",
            "ES un ASV datu privātuma regulējums (lēmums par aizsardzības līmeņa pietiekamību)",
        ),
    },
    "adequacy": {
        "en": (
            "adequacy decision of the European Commission for the destination country "
            "(Article 45 GDPR)",
            "adequacy decision",
        ),
        "lv": (
            "Eiropas Komisijas lēmums par aizsardzības līmeņa pietiekamību attiecībā uz "
            "galamērķa valsti (Regulas 45. pants)",
            "lēmums par aizsardzības līmeņa pietiekamību",
        ),
    },
    "scc_module_3": {
        "en": (
            "Standard Contractual Clauses (Commission Implementing Decision (EU) 2021/914), "
            "Module 3: transfer from processor to processor, with the supplementary measures "
            "shown",
            "SCCs, Module 3",
        ),
        "lv": (
            "līguma standartklauzulas (Komisijas Īstenošanas lēmums (ES) 2021/914), 3. modulis: "
            "nosūtīšana no apstrādātāja apstrādātājam, kopā ar norādītajiem papildu pasākumiem",
            "līguma standartklauzulas, 3. modulis",
        ),
    },
}

_SUMMARY = {
    "en": {
        "none": "None needed: processing in the EEA",
        "onward": "No transfer by the processor; onward transfer by the subprocessor to {} ({}): ",
        "direct": "",
    },
    "lv": {
        "none": "Nav vajadzīgs: apstrāde notiek EEZ",
        "onward": "Apstrādātājs datus nenosūta; apakšapstrādātāja tālāka nosūtīšana saņēmējam "
        "{} ({}): ",
        "direct": "",
    },
}


def place_name(code: str, language: str) -> str:
    """A processing location: a country code, "EU" or "GLOBAL"."""
    if code in _PLACES:
        return _PLACES[code][language]
    return country_name(code, language)


def format_date(value: date, language: str = "en") -> str:
    """ "2 December 2026" / "2026. gada 2. decembris"."""
    month = _MONTHS[language][value.month - 1]
    if language == "lv":
        return f"{value.year}. gada {value.day}. {month}"
    return f"{value.day} {month} {value.year}"


def format_timestamp(value: datetime, language: str = "en") -> str:
    """A UTC time with its zone labelled, as signature blocks print it."""
    return f"{format_date(value, language)}, {value:%H:%M} UTC"


def _singular(n: int, language: str) -> bool:
    if language == "lv":
        return n % 10 == 1 and n % 100 != 11
    return n == 1


def quantity(n: int, unit: str, language: str, *, confirmed: bool = True) -> dict[str, Any]:
    """A figure with its unit in every case the templates use (`text`, `gen`, `acc`, `dat`,
    `loc`; in English all are the same): "48 hours", lv "48 stundu" (gen) …"""
    forms = _UNITS[unit][language]
    if language == "en":
        word = forms[0] if _singular(n, language) else forms[1]
        texts = dict.fromkeys(CASES, f"{n} {word}")
    else:
        words = forms[0] if _singular(n, language) else forms[1]
        texts = {case: f"{n} {words[case]}" for case in CASES}
    if not confirmed:
        texts = {case: UNCONFIRMED[language][0].format(t) for case, t in texts.items()}
    return {"value": n, "unit": unit, "confirmed": confirmed, **texts}


def _join(items: Iterable[str]) -> str:
    return ", ".join(items)


# -- the agreement's figures, with the bounds that make them lawful and sensible ---------------------

TERM_BOUNDS: dict[str, tuple[int, int | None, str]] = {
    # field: (minimum, maximum or None, why)
    "breach_notice_hours": (1, 72, "the controller itself must notify within 72 hours (Art. 33)"),
    "subprocessor_notice_days": (14, None, "the controller needs time to object (Art. 28(2))"),
    "return_deletion_days": (1, 90, "data may not be kept long after the end (Art. 28(3)(g))"),
    "audit_notice_days": (14, 60, "a reasonable notice that does not defeat the audit right"),
}


@dataclass(frozen=True)
class Terms:
    """The configurable figures of the DPA. Out-of-range values are refused wherever Terms is
    built (settings, a preview): see TERM_BOUNDS. `check=False` rebuilds the figures frozen
    on a version that was made and signed before the bounds existed: what was signed is
    countersigned as it was, never refused afterwards."""

    breach_notice_hours: int = 48
    subprocessor_notice_days: int = 30
    return_deletion_days: int = 30
    audit_notice_days: int = 30
    governing_law: str = "Latvia"
    courts: str = "Riga, Latvia"
    check: InitVar[bool] = True

    def __post_init__(self, check: bool) -> None:
        if not check:
            return
        for name, (low, high, why) in TERM_BOUNDS.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{name} must be a whole number, not {value!r}")
            if value < low or (high is not None and value > high):
                allowed = f"{low}–{high}" if high is not None else f"at least {low}"
                raise ValueError(f"{name} is {value}; it must be {allowed}: {why}")


@dataclass(frozen=True)
class AgreementMeta:
    id: str
    version: int
    issued_at: datetime
    # When the main agreement took effect; the DPA applies from then (clause 14.1). None prints
    # the rule without a date.
    effective_on: date | None = None


# -- the parts of the context ---------------------------------------------------------------------


def _show(node: Mapping[str, Any], language: str) -> str:
    """A profile value as printed: its words in `language`, marked while unconfirmed."""
    value = node["value"]
    if isinstance(value, dict):
        value = value[language]
    marked, unknown = UNCONFIRMED[language]
    if value is None:
        return unknown
    text = str(value)
    return text if node["confirmed"] else marked.format(text)


def _processor(
    profile: Mapping[str, Any], language: str, signatory: tuple[str, str] | None
) -> dict[str, Any]:
    identity, address = profile["identity"], profile["address"]
    privacy, security = profile["privacy_contact"], profile["security"]
    unconfirmed = [
        f"{section}.{name}"
        for section in ("identity", "address", "privacy_contact", "signatory", "security")
        for name, node in profile[section].items()
        if isinstance(node, dict) and node.get("confirmed") is False
    ] + [
        f"measures.{heading}[{i}]"
        for heading in MEASURE_HEADINGS
        for i, item in enumerate(profile["measures"][heading])
        if not item["confirmed"]
    ]
    if signatory and signatory[0]:
        # A named signatory given by the caller (the configured or the actual countersigner).
        person = {
            "name": signatory[0],
            "title": signatory[1] or _show(profile["signatory"]["title"], language),
        }
        unconfirmed = [p for p in unconfirmed if not p.startswith("signatory.")]
    else:
        person = {
            "name": _show(profile["signatory"]["name"], language),
            "title": _show(profile["signatory"]["title"], language),
        }
    code = str(address["country"]["value"])
    street, city = _show(address["street"], language), _show(address["city"], language)
    postal_code = _show(address["postal_code"], language)
    country = country_name(code, language)
    return {
        "legal_name": _show(identity["legal_name"], language),
        "trade_name": _show(identity["trade_name"], language),
        "registration_number": _show(identity["registration_number"], language),
        "address": {
            "street": street,
            "city": city,
            "postal_code": postal_code,
            "country": code,
            "country_name": country,
            # the Latvian form of a Latvian address: street, city, postal code
            "line": f"{street}, {city}, {postal_code}, {country}",
        },
        "email": _show(identity["email"], language),
        "privacy_contact": _show(privacy["name"], language),
        "privacy_email": _show(privacy["email"], language),
        "signatory": person,
        "profile_version": profile["version"],
        "security": {
            **{
                name: quantity(
                    security[name]["value"],
                    security[name]["unit"],
                    language,
                    confirmed=security[name]["confirmed"],
                )
                for name in SECURITY_FIGURES
            },
            **{name: _show(security[name], language) for name in SECURITY_VALUES},
        },
        "measures": {
            heading: [
                {"title": item["title"][language], "text": _show(item, language)}
                for item in profile["measures"][heading]
            ]
            for heading in MEASURE_HEADINGS
        },
        "unconfirmed": unconfirmed,
    }


def _authority(
    country: str, authorities: Mapping[str, Any], language: str
) -> dict[str, Any] | None:
    entry = authorities["authorities"].get(country)
    if entry is None:
        return None
    name = entry["name"][language]
    official = entry["official_name"]
    shown = name if entry.get("generic") or official == name else f"{name} ({official})"
    return {
        "name": shown,
        "official_name": official,
        "country": country,
        "country_name": country_name(country, language),
    }


def _processing(details: Mapping[str, Any], language: str, sms: bool) -> dict[str, Any]:
    chosen = [k for k in DATA_CATEGORIES if k in details["data_categories"]]
    implied = {s for k in chosen for s in CATEGORY_USES[k].subjects}
    subjects = [k for k in DATA_SUBJECTS if k in details["data_subjects"] or k in implied]
    purposes: list[str] = []
    operations: list[str] = []
    for key in chosen:
        use = CATEGORY_USES[key]
        if use.purpose[language] not in purposes:
            purposes.append(use.purpose[language])
        if use.operation and use.operation[language] not in operations:
            operations.append(use.operation[language])
    categories = []
    for key in chosen:
        label, description = _category(key, language, sms)
        categories.append({"key": key, "label": label, "description": description})
    return {
        "data_categories": categories,
        "data_subjects": [{"key": k, "label": _subject(k, language)} for k in subjects],
        "purposes": purposes,
        "operations": operations,
    }


def _applies(entry: Mapping[str, Any], chosen: set[str]) -> bool:
    served = entry.get("categories")
    if not served:  # an entry without the field (an older list) serves everyone
        return True
    return GENERAL in served or bool(chosen & set(served))


def _entry(entry: Mapping[str, Any], language: str, chosen: set[str]) -> dict[str, Any]:
    translated = (entry.get("translations") or {}).get(language) or {}
    structured = "processing_locations" in entry
    transfers = []
    for t in entry.get("transfers") or []:
        country = country_name(t["country"], language)
        transfers.append(
            {
                "importer": t["importer"],
                "country": t["country"],
                "country_name": country,
                "onward": t.get("by") == "subprocessor",
                "mechanisms": [
                    {
                        "code": m,
                        "label": MECHANISMS[m][language][0],
                        "short": MECHANISMS[m][language][1],
                    }
                    for m in t["mechanisms"]
                ],
            }
        )
    if structured:
        location = _join(place_name(p, language) for p in entry["processing_locations"])
        in_eea = not transfers
        words = _SUMMARY[language]
        if not transfers:
            safeguard = words["none"]
        else:
            parts = []
            for t in transfers:
                order = "; ".join(
                    f"{i}) {m['short']}" for i, m in enumerate(t["mechanisms"], start=1)
                )
                prefix = (
                    words["onward"].format(t["importer"], t["country_name"]) if t["onward"] else ""
                )
                parts.append(prefix + order)
            safeguard = " · ".join(parts)
    else:
        code = str(entry.get("location", ""))
        location = place_name(code, language) if (code in _PLACES or _is_country(code)) else code
        in_eea = bool(entry.get("in_eea"))
        safeguard = str(entry.get("transfer_safeguard", ""))
    contracting = entry.get("contracting_entity")
    categories = list(entry.get("categories") or [GENERAL])
    served = [c for c in categories if c != GENERAL]
    return {
        "name": entry["name"],
        "purpose": translated.get("purpose") or entry["purpose"],
        "location": location,
        "transfer_safeguard": safeguard,
        "in_eea": in_eea,
        "contracting_entity": (
            f"{contracting['name']} ({country_name(contracting['country'], language)})"
            if contracting
            else entry["name"]
        ),
        "transfers": transfers,
        "supplementary_measures": [m[language] for m in entry.get("supplementary_measures") or []],
        "general": GENERAL in categories,
        # only the features this controller uses
        "serves": _join(
            _category(c, language, False)[0] for c in DATA_CATEGORIES if c in served and c in chosen
        ),
    }


def _is_country(code: str) -> bool:
    return is_country_code(code.upper())


def _terms(terms: Terms, language: str) -> dict[str, Any]:
    return {
        "breach_notice_hours": terms.breach_notice_hours,
        "subprocessor_notice_days": terms.subprocessor_notice_days,
        "governing_law": terms.governing_law,
        "courts": terms.courts,
        "return_deletion_days": terms.return_deletion_days,
        "audit_notice_days": terms.audit_notice_days,
        "breach_notice": quantity(terms.breach_notice_hours, "hours", language),
        "subprocessor_notice": quantity(terms.subprocessor_notice_days, "days", language),
        "return_deletion": quantity(terms.return_deletion_days, "days", language),
        "audit_notice": quantity(terms.audit_notice_days, "days", language),
    }


def languages_of(details: Mapping[str, Any]) -> list[str]:
    """The languages of the agreement in document order: its language first (it prevails), then
    the other one when the details ask for a bilingual agreement."""
    language = details.get("language") or "en"
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}: the DPA is available in {', '.join(LANGUAGES)}")
    if details.get("bilingual"):
        return [language, *(lang for lang in LANGUAGES if lang != language)]
    return [language]


def build_context(
    *,
    details: Mapping[str, Any],
    agreement: AgreementMeta,
    subprocessor_entries: Sequence[Mapping[str, Any]],
    subprocessor_list_version: int,
    subprocessor_list_approved_on: datetime,
    terms: Terms,
    processor_signatory: tuple[str, str] | None = None,
    signatures: Mapping[str, Any] | None = None,
    processor_profile: Mapping[str, Any] | None = None,
    authorities: Mapping[str, Any] | None = None,
    language: str | None = None,
) -> dict[str, Any]:
    """The context of one language version of the DPA.

    `details` is a validated workspace (see counterparties.schemas.CounterpartyDetails); its
    `language` prevails and `bilingual` asks for both languages. `language` picks the version
    this context is for (default: the agreement's language); `build_contexts` makes them all.
    `processor_profile` and `authorities` default to the built-in files in templates/; the
    service should pass the approved profile it records on the agreement version.
    `processor_signatory` (name, title), when it has a name, is printed instead of the
    profile's signatory (the configured or actual countersigner).
    """
    languages = languages_of(details)
    lang = language or languages[0]
    if lang not in languages:
        raise ValueError(f"language {lang!r} is not a language of this agreement ({languages})")
    profile = processor_profile if processor_profile is not None else builtin_processor_profile()
    validate_processor_profile(profile)
    table = authorities if authorities is not None else builtin_authorities()
    bilingual = len(languages) > 1
    address = details["address"]
    chosen = set(details["data_categories"])
    listed = [e for e in subprocessor_entries if _applies(e, chosen)]
    sms = any(e.get("sms") for e in listed)
    entries = [_entry(e, lang, chosen) for e in listed]
    return {
        "agreement": {
            "id": agreement.id,
            "version": agreement.version,
            "date": format_date(agreement.issued_at, lang),
            "effective_date": (
                format_date(agreement.effective_on, lang) if agreement.effective_on else None
            ),
            "language": lang,
            "prevailing_language": languages[0],
            "languages": languages,
            "bilingual": bilingual,
            "part": languages.index(lang) + 1,
            # both parties sign once, in the prevailing version
            "signature_blocks": lang == languages[0],
        },
        "processor": _processor(profile, lang, processor_signatory),
        "controller": {
            "legal_name": details["legal_name"],
            "registration_number": details["registration_number"],
            "vat_number": details.get("vat_number"),
            "address": {**address, "country_name": country_name(address["country"], lang)},
            "signatory": dict(details["signatory"]),
            "dpo": dict(details["dpo"]) if details.get("dpo") else None,
            "supervisory_authority": _authority(address["country"], table, lang),
        },
        "processing": _processing(details, lang, sms),
        "subprocessors": {
            "version": subprocessor_list_version,
            "approved_on": format_date(subprocessor_list_approved_on, lang),
            "entries": entries,
            "has_transfers": any(not e["in_eea"] for e in entries),
        },
        "terms": _terms(terms, lang),
        "signatures": {
            party: ({"drawing": None, **dict(value)} if value else None)
            for party, value in {
                "controller": None,
                "processor": None,
                **(signatures or {}),
            }.items()
        },
    }


def build_contexts(**kwargs: Any) -> dict[str, dict[str, Any]]:
    """One context per language of the agreement, in document order (the prevailing first);
    takes the keyword arguments of `build_context` except `language`."""
    return {
        lang: build_context(**kwargs, language=lang) for lang in languages_of(kwargs["details"])
    }


def __getattr__(name: str) -> Any:
    # The processor's name for e-mails and the certificate, read from the built-in profile.
    # Deprecated: take it from the approved profile the agreement version records.
    if name == "PROCESSOR":
        identity = builtin_processor_profile()["identity"]
        return {
            "legal_name": identity["legal_name"]["value"],
            "trade_name": identity["trade_name"]["value"],
        }
    raise AttributeError(name)
