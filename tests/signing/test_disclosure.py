"""The e-signature disclosure: what eIDAS Art. 25 allows us to say, versioned, hashed, and the
consent recorded to the words the page showed."""

from __future__ import annotations

import hashlib
import html

from sqlalchemy import select

from dpa_service.audit.models import AuditEvent
from dpa_service.signing.disclosure import (
    DISCLOSURE_TEXT,
    DISCLOSURE_VERSION,
    EARLIER,
    disclosure_sha256,
    disclosure_text,
    disclosure_version,
)
from dpa_service.signing.models import Signature
from tests.conftest import Api
from tests.signing.helpers import issue, open_page, sign, version_state


def test_the_disclosure_says_what_a_simple_electronic_signature_is_under_eidas() -> None:
    assert "with the same effect as a handwritten one" in EARLIER["esign-disclosure-2026-11"]
    assert "will be your signature, with the same effect" not in DISCLOSURE_TEXT
    for words in (
        "simple electronic signature",
        "not a qualified electronic signature",
        "may not be denied legal effect or admissibility as evidence",
        "Article 25",
        "agree to conclude this agreement electronically and to be bound by it",
        "authorised to sign for the company",
    ):
        assert words in DISCLOSURE_TEXT, words
    # every version keeps its words, so an old signature's consent text hash can be derived
    old = EARLIER["esign-disclosure-2026-11"]
    assert disclosure_sha256("esign-disclosure-2026-11") == hashlib.sha256(old.encode()).hexdigest()
    assert disclosure_sha256("no-such-version") is None
    # the Latvian text is the catalogue's translation, recorded under its own version
    latvian = disclosure_text("lv")
    assert "vienkāršs elektroniskais paraksts" in latvian and "25. pants" in latvian
    assert "tādām pašām sekām kā pašrocīgam parakstam" in EARLIER["esign-disclosure-2026-11-lv"]
    assert disclosure_version("lv") == f"{DISCLOSURE_VERSION}-lv"
    assert (
        disclosure_sha256(disclosure_version("lv")) == hashlib.sha256(latvian.encode()).hexdigest()
    )


def test_the_signer_consents_to_the_text_shown_and_its_hash_is_recorded(
    api: Api, workspace_id: str
) -> None:
    issued = issue(api, workspace_id)
    page, csrf = open_page(api, issued)
    assert html.escape(DISCLOSURE_TEXT, quote=False) in page.text
    assert f'name="disclosure_version" value="{DISCLOSURE_VERSION}"' in page.text

    stale = sign(api, issued, csrf, disclosure_version="esign-disclosure-2026-11")
    assert stale.status_code == 409 and "reload" in stale.text
    assert version_state(api, issued)["state"] == "viewed"

    assert sign(api, issued, csrf, disclosure_version=DISCLOSURE_VERSION).status_code == 303
    with api.session() as s:
        signature = s.scalars(
            select(Signature).where(
                Signature.document_sha256 == issued.sha256, Signature.party == "controller"
            )
        ).one()
        consented = s.scalars(
            select(AuditEvent).where(
                AuditEvent.agreement_id == issued.agreement_id, AuditEvent.type == "consented"
            )
        ).one()
    assert signature.consent_text_version == DISCLOSURE_VERSION
    assert consented.data["disclosure_sha256"] == disclosure_sha256(DISCLOSURE_VERSION)
