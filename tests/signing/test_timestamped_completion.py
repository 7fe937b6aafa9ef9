"""A completed agreement's seal holds up outside pyHanko and for the long term: poppler's pdfsig
(trusting the development CA and the TSA in a temporary NSS database) finds every signature
valid and trusted and the whole file signed; the last revision is the seal's or the document
timestamp's; a later annotation or overlay is not permitted and the service says `modified`.
With the loopback TSA (and its CRL) the file reaches PAdES B-LTA."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import crl as asn1_crl
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    validate_pdf_signature,
    validate_pdf_timestamp,
)
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from dpa_service.rendering.converter import ConverterPool
from dpa_service.signing.certs import to_asn1
from tests.conftest import Api, make_api
from tests.signing.helpers import issue, sign, version_state
from tests.signing.pdfsig import pdfsig, with_annotation, with_overlay
from tests.signing.tsa import LoopbackTSA


@pytest.fixture(scope="module")
def tsa() -> Iterator[LoopbackTSA]:
    with LoopbackTSA() as server:
        yield server


@pytest.fixture(scope="module")
def stamped(
    tsa: LoopbackTSA, pool: ConverterPool, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """The service with the loopback TSA, its root (DPA_TSA_CA_PEM) and its CRL
    (DPA_SEAL_CRL_FILES)."""
    tmp = tmp_path_factory.mktemp("tsa")
    roots, crl = tmp / "tsa-roots.pem", tmp / "tsa-root.crl"
    roots.write_bytes(tsa.ca_certificate.public_bytes(Encoding.PEM))
    crl.write_bytes(tsa.crl_pem)
    (tmp / "data").mkdir()
    yield from make_api(
        "sqlite",
        f"sqlite:///{tmp / 'data' / 'tsa.sqlite3'}",
        tmp,
        pool,
        tsa_url=tsa.url,
        tsa_ca_pem=roots,
        seal_crl_files=str(crl),
    )


def _completed_pdf(api: Api, workspace_id: str) -> bytes:
    issued = issue(api, workspace_id)
    assert sign(api, issued).status_code == 303
    state = version_state(api, issued)
    assert state["state"] == "completed"
    return bytes(api.client.get(state["completed_download_url"], headers=api.headers()).content)


def _dev_ca(api: Api) -> x509.Certificate:
    return x509.load_pem_x509_certificate(
        (api.settings.data_dir / "seal" / "dev-ca.pem").read_bytes()
    )


def _verdict(api: Api, pdf: bytes) -> dict[str, Any]:
    response = api.client.post(
        "/api/v1/verify", files={"file": ("dpa.pdf", pdf, "application/pdf")}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _context(roots: list[x509.Certificate], reader: PdfFileReader) -> ValidationContext:
    dss = DocumentSecurityStore.read_dss(reader)
    return ValidationContext(
        trust_roots=[to_asn1(r) for r in roots],
        other_certs=list(dss.load_certs()),
        crls=[asn1_crl.CertificateList.load(c.get_object().data) for c in dss.crls],
        allow_fetching=False,
        revocation_mode="hard-fail",  # the file's own revocation data must be enough
    )


def _assert_tampering_is_caught(api: Api, pdf: bytes, roots: list[x509.Certificate]) -> None:
    for tampered in (with_annotation(pdf), with_overlay(pdf)):
        entries = pdfsig(tampered, roots)
        # pdfsig has no DocMDP check: it can only say the signatures no longer cover the file
        assert entries and not any(e.total for e in entries), entries
        reader = PdfFileReader(io.BytesIO(tampered))
        status = validate_pdf_signature(
            reader.embedded_regular_signatures[0], _context(roots, reader)
        )
        assert status.intact and status.docmdp_ok is False  # pyHanko: not permitted
        assert status.modification_level == ModificationLevel.OTHER
        verdict = _verdict(api, tampered)
        assert verdict["status"] == "modified", verdict
        assert "after the seal" in verdict["seal"]["problem"]


def test_without_a_tsa_pdfsig_trusts_the_whole_file_and_catches_later_changes(
    api: Api, workspace_id: str
) -> None:
    pdf = _completed_pdf(api, workspace_id)
    roots = [_dev_ca(api)]

    (entry,) = pdfsig(pdf, roots)
    assert entry.kind == "ETSI.CAdES.detached"
    assert entry.valid and entry.trusted and entry.total
    reader = PdfFileReader(io.BytesIO(pdf))
    (seal,) = reader.embedded_regular_signatures
    assert seal.signed_revision == reader.xrefs.total_revisions - 1  # the seal's is the last
    status = validate_pdf_signature(seal, _context(roots, reader))
    assert status.bottom_line and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert seal.docmdp_level is not None  # a certification signature
    assert _verdict(api, pdf)["seal"]["level"] == "B-B"  # no time without a TSA

    _assert_tampering_is_caught(api, pdf, roots)


def test_with_a_tsa_the_completed_pdf_reaches_b_lta_and_pdfsig_agrees(
    stamped: Api, tsa: LoopbackTSA
) -> None:
    pdf = _completed_pdf(stamped, "lta-ws")
    roots = [_dev_ca(stamped), tsa.ca_certificate]

    entries = pdfsig(pdf, roots)
    assert [e.field for e in entries] == ["DPA-Seal", "DPA-Archive-Timestamp"]
    seal_entry, stamp_entry = entries
    assert seal_entry.valid and seal_entry.trusted
    # pdfsig cannot check a document timestamp, but says it covers the whole file
    assert stamp_entry.kind == "unknown" and stamp_entry.total

    reader = PdfFileReader(io.BytesIO(pdf))
    (seal,) = reader.embedded_regular_signatures
    (stamp,) = reader.embedded_timestamp_signatures
    assert stamp.signed_revision == reader.xrefs.total_revisions - 1
    context = _context(roots, reader)
    status = validate_pdf_signature(seal, context, ts_validation_context=context)
    # what follows the seal is validation data and the timestamp, which pyHanko confirms
    assert status.bottom_line and status.docmdp_ok
    assert status.modification_level == ModificationLevel.LTA_UPDATES
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    stamp_status = validate_pdf_timestamp(stamp, validation_context=context)
    assert stamp_status.intact and stamp_status.valid and stamp_status.trusted
    dss = DocumentSecurityStore.read_dss(reader)
    issuers = {
        asn1_crl.CertificateList.load(c.get_object().data).issuer.native["common_name"]
        for c in dss.crls
    }
    assert issuers == {
        "dpa-service Development CA (not for production)",
        "dpa-service test TSA root",
    }

    verdict = _verdict(stamped, pdf)
    assert verdict["status"] == "completed"
    seal_info = verdict["seal"]
    assert seal_info["level"] == "B-LTA" and seal_info["timestamped"]
    assert len(seal_info["document_timestamps"]) == 1
    stamped_at = datetime.fromisoformat(seal_info["timestamp_at"])
    assert abs(stamped_at - datetime.now(UTC)) < timedelta(minutes=5)
    # from now on the evidence rests on the TSA's chain, renewable by a new document timestamp
    until = datetime.fromisoformat(seal_info["evidence_valid_until"])
    assert until == tsa.ca_certificate.not_valid_after_utc.replace(microsecond=0)

    _assert_tampering_is_caught(stamped, pdf, roots)


def test_the_tsa_without_revocation_data_leaves_the_seal_at_b_t(
    tsa: LoopbackTSA, pool: ConverterPool, tmp_path: Path
) -> None:
    roots = tmp_path / "tsa-roots.pem"
    roots.write_bytes(tsa.ca_certificate.public_bytes(Encoding.PEM))
    (tmp_path / "data").mkdir()
    url = f"sqlite:///{tmp_path / 'data' / 'tsa.sqlite3'}"
    for api in make_api("sqlite", url, tmp_path, pool, tsa_url=tsa.url, tsa_ca_pem=roots):
        seal = _verdict(api, _completed_pdf(api, "bt-ws"))["seal"]
        assert seal["timestamped"] and seal["level"] == "B-T"
