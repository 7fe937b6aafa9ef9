"""The completed PDF: sealed (PAdES), certificate of completion, and verification by anyone."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from litestar.testing import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from reportlab.pdfgen import canvas
from sqlalchemy import delete, select, update

from dpa_service.app import create_app
from dpa_service.audit.models import AuditEvent
from dpa_service.rendering.converter import ConverterPool
from dpa_service.signing.certs import to_pyca
from dpa_service.signing.disclosure import DISCLOSURE_VERSION, disclosure_sha256
from dpa_service.signing.models import Signature
from tests.conftest import Api
from tests.pdf_text import pdf_text
from tests.signing.helpers import Issued, issue, open_page, sign, version_state
from tests.signing.test_seal import _make_p12


@pytest.fixture(scope="module")
def completed(api: Api) -> tuple[Issued, bytes, dict[str, Any]]:
    issued = issue(api, "verify-ws")
    _, csrf = open_page(api, issued)
    r = sign(api, issued, csrf)
    assert r.status_code == 303
    state = version_state(api, issued)
    pdf = api.client.get(state["completed_download_url"], headers=api.headers()).content
    return issued, pdf, state


def verify_upload(api: Api, pdf: bytes) -> Any:
    return api.client.post("/api/v1/verify", files={"file": ("dpa.pdf", pdf, "application/pdf")})


def test_seal_is_pades_and_valid_against_the_dev_ca(
    api: Api, completed: tuple[Issued, bytes, dict[str, Any]]
) -> None:
    _, pdf, _ = completed
    ca_pem = (api.settings.data_dir / "seal" / "dev-ca.pem").read_bytes()
    _, _, der = pem.unarmor(ca_pem)
    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(der)],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    reader = PdfFileReader(io.BytesIO(pdf))
    assert len(reader.embedded_signatures) == 1  # one seal over the whole document
    sig = reader.embedded_signatures[0]
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    status = validate_pdf_signature(sig, context)
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"


def test_certificate_of_completion_lists_every_field(
    api: Api, completed: tuple[Issued, bytes, dict[str, Any]]
) -> None:
    issued, pdf, state = completed
    text = pdf_text(pdf)
    cert = text[text.index("Certificate of completion") :]
    from dpa_service.signing.models import Signature

    with api.session() as s:
        controller = s.scalars(
            select(Signature).where(
                Signature.document_sha256 == issued.sha256, Signature.party == "controller"
            )
        ).one()
        processor = s.scalars(
            select(Signature).where(
                Signature.version_id == controller.version_id, Signature.party == "processor"
            )
        ).one()
    utc = lambda at: f"{at:%Y-%m-%d %H:%M}"  # noqa: E731 - seconds may be shown too
    for value in (
        issued.agreement_id,
        issued.sha256,  # the original document shown to the signer
        processor.document_sha256,  # the final signed document the certificate is appended to
        controller.name,
        controller.email,
        "Controller",
        controller.auth_method,
        controller.ip,
        "Chrome" if "Chrome" in (controller.user_agent or "") else "",
        utc(controller.signed_at),
        utc(controller.consented_at),
        processor.name,
        "Processor",
        "Authorised signatory (automatic)",
        "UTC",
        "version.sent",
        "version.viewed",
        "version.signed",
        "consented",
    ):
        assert value in cert, value
    assert utc(datetime.fromisoformat(state["sent_at"])) in cert
    assert utc(datetime.fromisoformat(state["viewed_at"])) in cert
    assert f"version {issued.version}" in cert


def test_verify_says_genuine_then_modified_then_unknown(
    api: Api, completed: tuple[Issued, bytes, dict[str, Any]]
) -> None:
    issued, pdf, state = completed
    genuine = verify_upload(api, pdf)
    assert genuine.status_code == 200, genuine.text
    body = genuine.json()
    assert body["status"] == "completed"
    assert body["agreement_id"] == issued.agreement_id and body["version"] == issued.version
    assert body["completed_at"] == state["completed_at"]
    assert body["seal"]["intact"] and body["seal"]["trusted"]

    tampered = bytearray(pdf)
    middle = len(pdf) // 3
    tampered[middle] = (tampered[middle] + 1) % 256
    modified = verify_upload(api, bytes(tampered)).json()
    assert modified["status"] == "modified", modified

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, "Data Processing Agreement (not from us)")
    c.save()
    assert verify_upload(api, buf.getvalue()).json()["status"] == "unknown"

    draft = api.client.get(f"{issued.version_path}/pdf", headers=api.headers()).content
    assert verify_upload(api, draft).json()["status"] == "draft"

    assert verify_upload(api, b"not a pdf").status_code == 422


def test_verify_page_and_cli(
    api: Api, completed: tuple[Issued, bytes, dict[str, Any]], tmp_path: Path
) -> None:
    issued, pdf, _ = completed
    page = api.client.get("/verify")
    token = page.text.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
    result = api.client.post(
        "/verify", data={"_csrf_token": token}, files={"file": ("dpa.pdf", pdf, "application/pdf")}
    )
    assert (
        result.status_code == 200
        and "Genuine" in result.text
        and issued.agreement_id in result.text
    )
    # times for people: "2 December 2026, 13:45 UTC", not RFC 3339
    completed = result.text.split("<dt>Completed</dt><dd>", 1)[1].split("</dd>", 1)[0]
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]+ \d{4}, \d{2}:\d{2} UTC", completed), completed
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", result.text)

    # the page speaks Latvian to a Latvian reader (?lang=, as the completed copy's e-mail links
    # it, or Accept-Language), the verdict included; nothing English is left on it
    form = api.client.get("/verify?lang=lv")
    assert form.status_code == 200 and "Pārbaudīt personas datu apstrādes līgumu" in form.text
    assert '<html lang="lv">' in form.text
    latvian = api.client.post(
        "/verify",
        data={"_csrf_token": token},
        files={"file": ("dpa.pdf", pdf, "application/pdf")},
        headers={"Accept-Language": "lv-LV,lv;q=0.9,en;q=0.5"},
    )
    summary = latvian.text.split('<p id="summary">', 1)[1].split("</p>", 1)[0]
    assert latvian.status_code == 200 and "<h2>Īsts</h2>" in latvian.text
    assert summary.startswith(f"Īsts: līgums {issued.agreement_id}, {issued.version}. versija")
    assert not re.search(r"Genuine|Completed|Seal|sealed|January|December", latvian.text)
    refused = api.client.post(
        "/verify?lang=lv",
        data={"_csrf_token": token},
        files={"file": ("x.pdf", b"not a pdf", "application/pdf")},
    )
    assert refused.status_code == 422 and "Fails nav PDF." in refused.text

    good = tmp_path / "good.pdf"
    good.write_bytes(pdf)
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(pdf + b"% a line added after sealing\n")
    env = {
        **os.environ,
        "DPA_DATABASE_URL": api.settings.database_url,
        "DPA_DATA_DIR": str(api.settings.data_dir),
    }
    ok = subprocess.run(
        [sys.executable, "-m", "dpa_service.cli", "verify", str(good)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("COMPLETED:")
    no = subprocess.run(
        [sys.executable, "-m", "dpa_service.cli", "verify", str(bad)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert no.returncode == 1 and no.stdout.startswith("MODIFIED: This file is not")
    assert "Modified:" not in no.stdout  # the verdict is said once


def _run_audit(api: Api) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DPA_DATABASE_URL": api.settings.database_url,
        "DPA_DATA_DIR": str(api.settings.data_dir),  # its seal and archive hold the anchors
        "DPA_ARCHIVE_DIR": str(api.settings.archive_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "dpa_service.cli", "verify", "--audit"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("tamper", ["edit", "delete-middle", "delete-last"])
def test_editing_or_deleting_any_audit_row_is_detected(
    api: Api, workspace_id: str, tamper: str
) -> None:
    issued = issue(api, workspace_id)
    assert sign(api, issued).status_code == 303
    with api.session() as s:
        seqs = s.scalars(
            select(AuditEvent.seq)
            .where(AuditEvent.agreement_id == issued.agreement_id)
            .order_by(AuditEvent.seq)
        ).all()
    assert len(seqs) >= 6
    before = _run_audit(api)
    assert issued.agreement_id not in before.stdout
    target = {"edit": seqs[2], "delete-middle": seqs[3], "delete-last": seqs[-1]}[tamper]
    where = (AuditEvent.agreement_id == issued.agreement_id, AuditEvent.seq == target)
    with api.session() as s:
        if tamper == "edit":
            s.execute(update(AuditEvent).where(*where).values(data={"ip": "10.9.9.9"}))
        else:
            s.execute(delete(AuditEvent).where(*where))
        s.commit()
    after = _run_audit(api)
    assert after.returncode == 1
    assert f"BROKEN agreement {issued.agreement_id}" in after.stdout


@pytest.fixture(scope="module")
def production(api: Api, pool: ConverterPool, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The same service and archive, now sealing with a configured certificate from another
    CA: what the development seal made is no longer trusted."""
    folder = tmp_path_factory.mktemp("production-seal")
    p12 = folder / "seal.p12"
    _make_p12(p12, "correct horse")
    settings = api.settings.with_(seal_p12=p12, seal_p12_password="correct horse")
    app = create_app(settings, pool=pool, archive=api.archive, engine=api.engine)
    with TestClient(app, base_url=settings.public_url) as client:
        yield dataclasses.replace(api, settings=settings, client=client, app=app)


def test_verify_tells_a_trusted_seal_from_our_bytes_sealed_by_an_untrusted_one(
    api: Api, production: Api, completed: tuple[Issued, bytes, dict[str, Any]], tmp_path: Path
) -> None:
    issued, pdf, _ = completed
    trusted = verify_upload(api, pdf).json()
    assert trusted["status"] == "completed" and trusted["seal"]["trusted"]
    assert trusted["seal"]["level"] == "B-B" and trusted["seal"]["certified"]
    assert trusted["seal"]["evidence_valid_until"].endswith("Z")
    assert "trusted Klusaro certificate" in trusted["message"]

    untrusted = verify_upload(production, pdf).json()
    assert untrusted["status"] == "untrusted", untrusted
    assert untrusted["agreement_id"] == issued.agreement_id
    assert untrusted["seal"]["intact"] and not untrusted["seal"]["trusted"]
    assert "not trusted here" in untrusted["message"]

    page = production.client.get("/verify")
    token = page.text.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
    shown = production.client.post(
        "/verify", data={"_csrf_token": token}, files={"file": ("dpa.pdf", pdf, "application/pdf")}
    )
    assert "Archived, but its seal is not trusted here" in shown.text
    assert "a certificate not trusted here" in shown.text

    copy = tmp_path / "copy.pdf"
    copy.write_bytes(pdf)
    env = {
        **os.environ,
        "DPA_DATABASE_URL": api.settings.database_url,
        "DPA_DATA_DIR": str(api.settings.data_dir),
        "DPA_SEAL_P12": str(production.settings.seal_p12),
        "DPA_SEAL_P12_PASSWORD": "correct horse",
    }
    command = [sys.executable, "-m", "dpa_service.cli", "verify", str(copy)]
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and refused.stdout.startswith("UNTRUSTED:"), refused.stdout
    assert "--trust-roots" in refused.stdout
    dev_ca = api.settings.data_dir / "seal" / "dev-ca.pem"
    told = subprocess.run(
        [*command, "--trust-roots", str(dev_ca)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert told.returncode == 0 and told.stdout.startswith("COMPLETED:"), told.stdout


def test_the_development_ca_publishes_the_crl_its_seal_names(
    api: Api, production: Api, completed: tuple[Issued, bytes, dict[str, Any]]
) -> None:
    response = api.client.get("/pki/dev-ca.crl")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/pkix-crl")
    crl = x509.load_der_x509_crl(response.content)
    ca = x509.load_pem_x509_certificate(
        (api.settings.data_dir / "seal" / "dev-ca.pem").read_bytes()
    )
    assert crl.issuer == ca.subject and crl.is_signature_valid(ca.public_key())
    seal = PdfFileReader(io.BytesIO(completed[1])).embedded_signatures[0].signer_cert
    points = to_pyca(seal).extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    urls = [name.value for point in points for name in point.full_name or []]
    assert urls == [f"{api.settings.public_url}/pki/dev-ca.crl"]

    assert production.client.get("/pki/dev-ca.crl").status_code == 404


def _certificate_text(pdf: bytes) -> str:
    text = pdf_text(pdf)
    return text[text.index("Certificate of completion") :]


def test_the_certificate_lists_every_event_through_completion_with_the_log_and_seal_times(
    api: Api, workspace_id: str
) -> None:
    issued = issue(api, workspace_id, requested_by="Līga Ozola (Klusaro app user)")
    assert sign(api, issued).status_code == 303
    state = version_state(api, issued)
    assert state["state"] == "completed"
    pdf = api.client.get(state["completed_download_url"], headers=api.headers()).content
    cert = _certificate_text(pdf)
    with api.session() as s:
        events = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.agreement_id == issued.agreement_id)
            .order_by(AuditEvent.seq)
        ).all()
        signatures = s.scalars(
            select(Signature).where(Signature.version_id == state_version_id(api, issued))
        ).all()

    types = [e.type for e in events]
    shown = events[: types.index("version.completed") + 1]
    assert [e.type for e in shown][-2:] == ["countersigned", "version.completed"]
    for number, event in enumerate(shown, start=1):
        assert f"{number} {event.created_at:%Y-%m-%d %H:%M:%S} UTC {event.type}" in cert
        assert f"SHA-256 {event.hash}" in cert
    for later in events[len(shown) :]:  # the seal's own record, copies: after the certificate
        assert later.hash not in cert

    completed_event = shown[-1]
    completed_at = datetime.fromisoformat(state["completed_at"])
    assert completed_at == completed_event.created_at == shown[-2].created_at
    assert f"Completed at {completed_at:%Y-%m-%d %H:%M:%S} UTC" in cert
    seal = verify_upload(api, pdf).json()["seal"]
    # the seal states it too (CMS signing time has whole seconds)
    assert datetime.fromisoformat(seal["signed_at"]) == completed_at.replace(microsecond=0)

    by_party = {sig.party: sig for sig in signatures}
    for sig in by_party.values():
        assert f"Signature id {sig.id}" in cert
    assert f"Consent text SHA-256 {disclosure_sha256(DISCLOSURE_VERSION)}" in cert
    processor = cert[cert.index("Party 2") :]
    assert "Applied automatically on behalf of the processor by the service" in processor
    assert "signed electronically by" not in processor.lower()
    assert "Request sent by Līga Ozola (Klusaro app user), through token:test-app (app)" in cert
    assert f"{api.settings.public_url}/verify" in cert


def state_version_id(api: Api, issued: Issued) -> str:
    from dpa_service.agreements.models import AgreementVersion

    with api.session() as s:
        return s.scalars(
            select(AgreementVersion.id).where(
                AgreementVersion.agreement_id == issued.agreement_id,
                AgreementVersion.number == issued.version,
            )
        ).one()
