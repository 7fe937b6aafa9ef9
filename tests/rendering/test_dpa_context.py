"""The DPA context: bounded figures, facts from the governed profile, a description that follows
the chosen features, subprocessors by feature, transfers in order, words in each language."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from dpa_service.rendering.context import (
    CATEGORY_USES,
    DATA_SUBJECTS,
    TERM_BOUNDS,
    AgreementMeta,
    Terms,
    build_context,
    country_name,
    format_date,
    languages_of,
    quantity,
)
from dpa_service.rendering.facts import (
    MEASURE_HEADINGS,
    ProfileError,
    builtin_authorities,
    builtin_processor_profile,
    unconfirmed_fields,
    validate_processor_profile,
)
from tests.rendering.dpa import (
    APPROVED,
    ISSUED,
    SUBPROCESSORS,
    confirmed_profile,
    contexts,
    details,
)

# -- figures ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "low", "high"),
    [
        ("breach_notice_hours", 1, 72),
        ("subprocessor_notice_days", 14, None),
        ("return_deletion_days", 1, 90),
        ("audit_notice_days", 14, 60),
    ],
)
def test_terms_accept_the_edges_of_their_bounds_and_refuse_beyond(
    field: str, low: int, high: int | None
) -> None:
    assert TERM_BOUNDS[field][:2] == (low, high)
    Terms(**{field: low})
    if high is not None:
        Terms(**{field: high})
        with pytest.raises(ValueError, match=f"{field} is {high + 1}; it must be {low}–{high}"):
            Terms(**{field: high + 1})
    else:
        Terms(**{field: 3650})
    with pytest.raises(ValueError, match=f"{field} is {low - 1}"):
        Terms(**{field: low - 1})


@pytest.mark.parametrize("value", [-5, 0, 96, 1000])
def test_a_breach_notice_of_minus_five_or_96_hours_is_refused(value: int) -> None:
    with pytest.raises(ValueError, match="breach_notice_hours"):
        Terms(breach_notice_hours=value)


@pytest.mark.parametrize("value", [True, 48.0, "48", None])
def test_terms_figures_are_whole_numbers(value: object) -> None:
    with pytest.raises(ValueError, match="whole number"):
        Terms(breach_notice_hours=value)  # type: ignore[arg-type]


def test_figures_in_the_cases_latvian_sentences_need() -> None:
    assert quantity(48, "hours", "lv")["gen"] == "48 stundu"
    assert quantity(21, "hours", "lv")["gen"] == "21 stundas"  # numerals ending in 1 are singular
    assert quantity(11, "hours", "lv")["gen"] == "11 stundu"  # … but not 11
    assert quantity(30, "days", "lv")["acc"] == "30 dienas"
    assert quantity(31, "days", "lv")["acc"] == "31 dienu"
    assert quantity(6, "months", "lv")["loc"] == "6 mēnešos"
    assert quantity(1, "months", "lv")["loc"] == "1 mēnesī"
    assert quantity(1, "hours", "en")["text"] == "1 hour"
    assert quantity(35, "days", "en", confirmed=False)["text"] == "[to be confirmed: 35 days]"
    assert quantity(35, "days", "lv", confirmed=False)["gen"] == "[vēl jāapstiprina: 35 dienu]"


def test_dates_and_countries_in_latvian_forms() -> None:
    assert format_date(dt.date(2026, 12, 2), "lv") == "2026. gada 2. decembris"
    assert format_date(dt.date(2025, 3, 1), "lv") == "2025. gada 1. marts"
    assert format_date(dt.date(2026, 12, 2), "en") == "2 December 2026"
    assert country_name("LV", "lv") == "Latvija"
    assert country_name("US", "lv") == "Amerikas Savienotās Valstis"
    assert country_name("DE", "en") == "Germany"


# -- agreement, effective date, languages --------------------------------------------------------------


def test_the_effective_date_is_printed_apart_from_the_issue_date() -> None:
    agreement = contexts()["en"]["agreement"]
    assert agreement["date"] == "2 December 2026"
    assert agreement["effective_date"] == "1 March 2025"
    assert contexts(effective_on=None)["en"]["agreement"]["effective_date"] is None
    lv = contexts(details(language="lv"))["lv"]["agreement"]
    assert (lv["date"], lv["effective_date"]) == ("2026. gada 2. decembris", "2025. gada 1. marts")


def test_a_bilingual_agreement_has_the_prevailing_language_first_and_signs_once() -> None:
    assert languages_of(details()) == ["en"]
    assert languages_of(details(language="lv", bilingual=True)) == ["lv", "en"]
    assert languages_of(details(language="en", bilingual=True)) == ["en", "lv"]
    both = contexts(details(language="lv", bilingual=True))
    assert list(both) == ["lv", "en"]
    assert both["lv"]["agreement"]["signature_blocks"] is True
    assert both["en"]["agreement"]["signature_blocks"] is False
    assert {c["agreement"]["prevailing_language"] for c in both.values()} == {"lv"}
    with pytest.raises(ValueError, match="language 'de'"):
        languages_of(details(language="de"))


def test_every_language_has_the_same_context_shape() -> None:
    """The template validator checks uploads against the English sample: the Latvian context must
    offer exactly the same names."""

    def shape(value: object) -> object:
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        if isinstance(value, list):
            return [shape(v) for v in value]
        return type(value).__name__ if value is not None else None

    both = contexts(details(language="lv", bilingual=True))
    assert shape(both["lv"]) == shape(both["en"])


# -- processing follows the chosen categories ---------------------------------------------------------


def test_a_contacts_only_workspace_gets_only_what_contacts_imply() -> None:
    ctx = contexts(details(data_categories=["contacts"], data_subjects=["customers"]))["en"]
    processing = ctx["processing"]
    assert [c["key"] for c in processing["data_categories"]] == ["contacts"]
    assert processing["purposes"] == [CATEGORY_USES["contacts"].purpose["en"]]
    assert processing["operations"] == []
    assert [s["key"] for s in processing["data_subjects"]] == ["customers", "contact_persons"]
    names = [e["name"] for e in ctx["subprocessors"]["entries"]]
    assert "Stripe Payments Europe, Limited" not in names  # invoices only
    assert "Plausible Insights OÜ" not in names  # booking forms only
    assert "Brevo SAS" not in names  # messages only
    assert "Hetzner Online GmbH" in names and "Cloudflare, Inc." in names  # general


def test_implied_subjects_are_added_to_the_chosen_ones() -> None:
    ctx = contexts(details(data_categories=["leads", "booking_forms"], data_subjects=["workers"]))
    keys = [s["key"] for s in ctx["en"]["processing"]["data_subjects"]]
    assert keys == [
        k for k in DATA_SUBJECTS if k in {"workers", "prospects", "customers", "end_users"}
    ]


def test_texts_are_claimed_only_where_a_subprocessor_sends_them() -> None:
    data = details(data_categories=["communications"])
    (ctx,) = contexts(data).values()
    assert "text messages" not in ctx["processing"]["data_categories"][0]["description"]
    sms = {
        "name": "SMS Gateway SIA",
        "purpose": "Text messages sent on behalf of the workspace",
        "location": "LV",
        "in_eea": True,
        "transfer_safeguard": "None",
        "categories": ["communications"],
        "sms": True,
    }
    (ctx,) = contexts(data, entries=[*SUBPROCESSORS, sms]).values()
    assert "text messages" in ctx["processing"]["data_categories"][0]["description"]
    (ctx,) = contexts(details(data_categories=["contacts"]), entries=[*SUBPROCESSORS, sms]).values()
    assert "SMS Gateway SIA" not in [e["name"] for e in ctx["subprocessors"]["entries"]]


def test_a_subprocessor_entry_of_an_older_list_is_listed_as_it_was_approved() -> None:
    older = {
        "name": "Old Host AB",
        "purpose": "Hosting",
        "location": "SE",
        "in_eea": True,
        "transfer_safeguard": "Processing within the EEA",
    }
    (ctx,) = contexts(details(data_categories=["contacts"]), entries=[older]).values()
    (entry,) = ctx["subprocessors"]["entries"]
    assert entry["location"] == "Sweden" and entry["general"] is True
    assert entry["transfer_safeguard"] == "Processing within the EEA"
    assert entry["transfers"] == [] and entry["contracting_entity"] == "Old Host AB"


# -- transfers --------------------------------------------------------------------------------------


def test_each_subprocessor_has_entity_location_mechanisms_in_order_and_real_measures() -> None:
    entries = {e["name"]: e for e in contexts()["en"]["subprocessors"]["entries"]}
    hetzner = entries["Hetzner Online GmbH"]
    assert hetzner["transfers"] == [] and hetzner["in_eea"]
    assert hetzner["contracting_entity"] == "Hetzner Online GmbH (Germany)"

    stripe = entries["Stripe Payments Europe, Limited"]
    assert stripe["contracting_entity"] == "Stripe Payments Europe, Limited (Ireland)"
    (onward,) = stripe["transfers"]
    assert onward["onward"] and onward["importer"] == "Stripe, Inc."
    assert [m["code"] for m in onward["mechanisms"]] == ["dpf", "scc_module_3"]
    assert stripe["transfer_safeguard"].startswith("No transfer by the processor")

    cloudflare = entries["Cloudflare, Inc."]
    (direct,) = cloudflare["transfers"]
    assert not direct["onward"] and direct["country_name"] == "United States"
    assert [m["code"] for m in direct["mechanisms"]] == ["dpf", "scc_module_3"]
    assert "2023/1795" in direct["mechanisms"][0]["label"]
    assert "Module 3" in direct["mechanisms"][1]["label"]
    # Cloudflare terminates TLS: encryption in transit is no supplementary measure against it
    assert not any("encrypt" in m for m in cloudflare["supplementary_measures"])
    assert cloudflare["transfer_safeguard"].index("Data Privacy Framework") < cloudflare[
        "transfer_safeguard"
    ].index("SCCs")


def test_the_built_in_list_has_the_structured_transfer_fields() -> None:
    for entry in SUBPROCESSORS:
        assert (
            entry["contracting_entity"]["name"] and len(entry["contracting_entity"]["country"]) == 2
        )
        assert entry["processing_locations"], entry["name"]
        assert entry["categories"], entry["name"]
        assert entry["translations"]["lv"]["purpose"], entry["name"]
        for transfer in entry["transfers"]:
            assert transfer["mechanisms"][0] in ("adequacy", "dpf"), "adequacy comes first"
            assert transfer["by"] in ("processor", "subprocessor")
        for measure in entry["supplementary_measures"]:
            assert set(measure) == {"en", "lv"}


# -- the processor profile -------------------------------------------------------------------------------


def test_processor_facts_come_from_the_profile_and_unconfirmed_ones_are_marked() -> None:
    processor = contexts()["en"]["processor"]
    assert processor["legal_name"] == 'SIA "A.U. Holding"'
    assert processor["registration_number"] == "[to be confirmed]"
    assert processor["address"]["street"] == "[to be confirmed: Brīvības iela 312-11]"
    assert processor["address"]["city"] == "Rīga"
    assert processor["security"]["backup_retention"]["text"] == "[to be confirmed: 35 days]"
    assert processor["signatory"]["name"] == "[to be confirmed]"
    assert "identity.registration_number" in processor["unconfirmed"]
    lv = contexts(details(language="lv"))["lv"]["processor"]
    assert lv["registration_number"] == "[vēl jāapstiprina]"
    assert lv["measures"]["storage"][0]["title"] == "Paroļu aizsardzība ar jaucējfunkciju"


def test_unconfirmed_fields_lists_what_blocks_sending() -> None:
    fields = unconfirmed_fields(builtin_processor_profile())
    assert "identity.registration_number" in fields and "address.street" in fields
    assert "signatory.name" in fields and "security.backup_retention" in fields
    assert "identity.legal_name" not in fields  # stated on the Klusaro GDPR page
    assert unconfirmed_fields(confirmed_profile()) == []
    processor = contexts(profile=confirmed_profile(backup_retention=21))["en"]["processor"]
    assert processor["unconfirmed"] == []
    assert processor["security"]["backup_retention"]["text"] == "21 days"
    assert processor["registration_number"] == "40000000000"


def test_a_named_signatory_given_by_the_caller_replaces_the_profiles() -> None:
    (ctx,) = contexts().values()
    assert "signatory.name" in ctx["processor"]["unconfirmed"]
    ctx = build_context(
        details=details(),
        agreement=AgreementMeta("X", 1, ISSUED),
        subprocessor_entries=SUBPROCESSORS,
        subprocessor_list_version=1,
        subprocessor_list_approved_on=APPROVED,
        terms=Terms(),
        processor_signatory=("Anna Ūdre", "Member of the Board"),
    )
    assert ctx["processor"]["signatory"] == {"name": "Anna Ūdre", "title": "Member of the Board"}
    assert not any(p.startswith("signatory.") for p in ctx["processor"]["unconfirmed"])


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("identity", "legal_name"), {"value": "X"}, "confirmed"),
        (("identity", "registration_number"), {"value": None, "confirmed": True}, "unknown"),
        (
            ("security", "backup_retention"),
            {"value": 0, "unit": "days", "confirmed": True},
            "at least 1",
        ),
        (("security", "rpo"), {"value": 4, "confirmed": True}, "unit"),
        (("privacy_contact", "name"), {"value": {"en": "Officer"}, "confirmed": True}, "languages"),
    ],
)
def test_a_malformed_profile_is_refused(path: tuple[str, str], value: object, message: str) -> None:
    profile = copy.deepcopy(builtin_processor_profile())
    profile[path[0]][path[1]] = value
    with pytest.raises(ProfileError, match=message):
        validate_processor_profile(profile)


def test_the_profile_has_a_measure_under_every_annex_ii_heading() -> None:
    profile = builtin_processor_profile()
    assert list(profile["measures"]) == list(MEASURE_HEADINGS)


# -- the competent supervisory authority ------------------------------------------------------------------


def test_the_authority_follows_the_controllers_country() -> None:
    def authority(country: str, language: str = "en") -> object:
        address = {"street": "Iela 1", "city": "Pilsēta", "postal_code": "1000", "country": country}
        data = details(address=address, language=language)
        return contexts(data)[language]["controller"]["supervisory_authority"]

    lv = authority("LV", "lv")
    assert isinstance(lv, dict) and lv["name"] == "Datu valsts inspekcija"
    en = authority("LV")
    assert (
        isinstance(en, dict)
        and en["name"] == "the Data State Inspectorate (Datu valsts inspekcija)"
    )
    de = authority("DE")
    assert isinstance(de, dict) and "federal state" in de["name"]
    assert authority("US") is None  # outside the EEA: the generic rule is printed
    table = builtin_authorities()["authorities"]
    eea = (
        "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO"
    )
    assert set(table) == set(eea.split())
