"""A workspace in Latvian (or in both languages) gets its DPA, signing pages, e-mails and certificate
of completion in Latvian, through the service: the approved Latvian template set, the approved
processor profile, the Latvian message catalogue."""

from __future__ import annotations

import email
import re
import time
from email import policy
from pathlib import Path
from typing import Any

import pytest

from dpa_service.signing.disclosure import DISCLOSURE_VERSION
from tests.conftest import Api, workspace
from tests.pdf_text import pdf_text
from tests.rendering.test_dpa_documents import ART_28_3_LV, ENGLISH_WORDS, GDPR_TERMS_LV, between
from tests.signing.helpers import CSRF, issue, sign, version_state


def _dpa(api: Api, workspace_id: str, data: dict[str, Any]) -> tuple[dict[str, Any], str]:
    assert api.put_workspace(workspace_id, data).status_code in (200, 201)
    r = api.request_dpa(workspace_id, new_version=True)
    assert r.status_code == 201, r.text
    pdf = api.client.get(r.json()["download_url"], headers=api.headers())
    assert pdf.status_code == 200
    return r.json(), pdf_text(pdf.content)


@pytest.fixture(scope="module")
def latvian(api: Api) -> tuple[dict[str, Any], str]:
    return _dpa(api, "lv-only-dpa", workspace(language="lv"))


@pytest.fixture(scope="module")
def bilingual(api: Api) -> tuple[dict[str, Any], str]:
    return _dpa(api, "lv-en-dpa", workspace(language="lv", bilingual=True))


def test_a_latvian_workspace_gets_the_latvian_template_set(
    latvian: tuple[dict[str, Any], str],
) -> None:
    version, _ = latvian
    assert version["languages"] == ["lv"]
    assert sorted(version["template_versions"]) == [
        "lv/confidentiality",
        "lv/master",
        "lv/security",
        "lv/subprocessors",
    ]
    assert version["processor_profile_version"] >= 1 and version["unconfirmed"] == []


def test_a_latvian_dpa_states_every_point_of_article_28_3_in_latvian(
    latvian: tuple[dict[str, Any], str],
) -> None:
    _, text = latvian
    obligations = between(text, "6. Apstrādātāja pienākumi", "7. Paziņošana")
    for letter, heading in ART_28_3_LV.items():
        assert heading in obligations, letter
    for words in (
        "tikai saskaņā ar pārziņa dokumentētiem norādījumiem",  # (a)
        "ir apņēmušās ievērot konfidencialitāti",  # (b)
        "iepriekšēju vispārēju rakstisku atļauju",  # (d)
        "Pēc pārziņa izvēles apstrādātājs pārziņa personas datus dzēš vai atdod",  # (g)
        "ļauj veikt un veicina revīzijas, tostarp pārbaudes",  # (h)
    ):
        assert words in obligations
    lowered = text.lower()
    for term in GDPR_TERMS_LV:
        assert term in lowered, term


def test_a_latvian_dpa_names_the_authority_and_prints_the_workspace_values_in_latvian(
    latvian: tuple[dict[str, Any], str],
) -> None:
    _, text = latvian
    assert "Kompetentā uzraudzības iestāde: Datu valsts inspekcija" in text
    assert "Fizisko personu datu apstrādes likums" in text
    w = workspace()
    for value in (
        w["legal_name"],
        w["registration_number"],
        w["vat_number"],
        f"{w['address']['street']}, {w['address']['city']}, {w['address']['postal_code']}, Latvija",
        w["signatory"]["name"],
        w["signatory"]["email"],
        w["dpo"]["name"],
    ):
        assert value in text, value
    # dates and figures in Latvian forms; the effective date is the workspace's start here
    assert re.search(r"Izdošanas datums: \d{4}\. gada \d{1,2}\. [a-zā-ž]+", text)
    assert re.search(r"Spēkā stāšanās datums: \d{4}\. gada \d{1,2}\. [a-zā-ž]+", text)
    assert "ne vēlāk kā 48 stundu laikā" in text


def test_a_latvian_dpa_has_no_english_clause_text(latvian: tuple[dict[str, Any], str]) -> None:
    _, text = latvian
    words = set(re.findall(r"[A-Za-zĀ-ž]+", text.lower()))
    assert not words & set(ENGLISH_WORDS), sorted(words & set(ENGLISH_WORDS))
    for heading in ("Data Processing Agreement", "Annex", "Subprocessors", "Signatures"):
        assert heading not in text, heading


def test_a_bilingual_dpa_has_both_texts_the_prevailing_first(
    bilingual: tuple[dict[str, Any], str],
) -> None:
    version, text = bilingual
    assert version["languages"] == ["lv", "en"]
    assert {"master", "lv/master", "security", "lv/security"} <= set(version["template_versions"])
    assert text.index("Personas datu apstrādes līgums") < text.index("Data Processing Agreement")
    assert "noteicošais ir teksts latviešu valodā" in text
    assert "If they differ, the Latvian text prevails." in text
    assert "(a) Documented instructions." in text
    for heading in ART_28_3_LV.values():
        assert heading in text


def _mail_to(mail_dir: Path, to: str, subject_has: str, timeout: float = 15) -> Any:
    """The newest e-mail to `to` whose subject contains `subject_has` (the outbox delivers in
    the background)."""
    deadline = time.monotonic() + timeout
    while True:
        for path in sorted(mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
            msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if msg["To"] == to and subject_has in str(msg["Subject"]):
                return msg
        if time.monotonic() > deadline:
            raise AssertionError(f"no e-mail to {to} about {subject_has!r}")
        time.sleep(0.05)


def test_a_latvian_signing_ceremony_speaks_latvian(api: Api, workspace_id: str) -> None:
    """Code page, code e-mail, signing page, confirmation and certificate of completion."""
    to = f"{workspace_id}@example.lv"
    data = workspace(language="lv")
    data["signatory"] = {**data["signatory"], "email": to}
    issued = issue(api, workspace_id, data, require_code=True)

    page = api.client.get(issued.path)
    assert page.status_code == 200 and '<html lang="lv">' in page.text
    assert "Apstipriniet, ka tas esat jūs" in page.text and "Confirm it is you" not in page.text
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    sent = api.client.post(f"{issued.path}/code/send", data={"_csrf_token": csrf})
    assert sent.status_code == 200 and "Kods ir nosūtīts" in sent.text
    mail = _mail_to(api.settings.mail_dir, to, "Jūsu kods")
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Jūsu vienreizējais kods ir" in body
    code = re.search(r"\b(\d{6})\b", body).group(1)  # type: ignore[union-attr]
    wrong = api.client.post(
        f"{issued.path}/code", data={"_csrf_token": csrf, "code": f"{(int(code) + 1) % 10**6:06d}"}
    )
    assert wrong.status_code == 422 and "Kods nav pareizs" in wrong.text
    r = api.client.post(
        f"{issued.path}/code", data={"_csrf_token": csrf, "code": code}, follow_redirects=False
    )
    assert r.status_code == 303

    page = api.client.get(issued.path)
    for words in ("Parakstīt līgumu", "Piekrītiet parakstīt elektroniski", "Jūs gatavojaties"):
        assert words in page.text, words
    assert f"{DISCLOSURE_VERSION}-lv" in page.text
    refused = sign(api, issued, csrf, consent="")
    assert refused.status_code == 422
    assert "Lūdzu, apstipriniet, ka piekrītat parakstīt elektroniski." in refused.text
    assert sign(api, issued, csrf).status_code == 303
    assert version_state(api, issued)["state"] == "completed"  # countersigned automatically

    done = api.client.get(f"{issued.path}/done")
    assert "Līgumu ir parakstījušas abas puses" in done.text
    assert re.search(r"Jūs parakstījāt \d{4}\. gada \d{1,2}\. [a-zā-ž]+, \d\d:\d\d UTC", done.text)
    completed = api.client.get(f"{issued.path}/signed.pdf")
    assert completed.status_code == 200
    text = pdf_text(completed.content)
    certificate = text[text.index("Pabeigšanas apliecinājums") :]
    for words in (
        "Pārzinis (parakstītājs)",
        "Apstrādātājs (otrais parakstītājs)",
        "Notikumu žurnāls",
        "Sākotnējā dokumenta SHA-256",
        f"{DISCLOSURE_VERSION}-lv",
        "Iegultā saite (lietotne Klusaro) + pa e-pastu nosūtīts vienreizējais kods",
    ):
        assert words in certificate, words
    assert "Certificate of completion" not in text
    # the signature blocks carry the signing times the way Latvian writes dates
    assert re.search(r"\d{4}\. gada \d{1,2}\. [a-zā-ž]+, \d\d:\d\d UTC", text)
