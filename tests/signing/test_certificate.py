"""The certificate of completion prints every piece of evidence, literally and extractably."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import struct
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from dpa_service.signing import certificate
from dpa_service.signing.certificate import (
    CertificateFontMissing,
    CompletionCertificate,
    EventRecord,
    PartyRecord,
    describe_device,
    render_certificate,
)
from tests.pdf_text import pdf_text

AGREEMENT_ID = "3f2b8c1e-7d4a-4c6b-9e1f-0a2b3c4d5e6f"
ISSUER = 'dpa-service for SIA "A.U. Holding" (Klusaro)'
RIGA = timezone(timedelta(hours=2))  # EET, as Riga is in November
T0 = datetime(2026, 11, 27, 10, 15, 3, tzinfo=UTC)
CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)
HOSTILE = "<b>x</b> & {{ 7*7 }} </para> &amp;"
LATVIAN = "ā č ē ģ ī ķ ļ ņ š ū ž Ā Č Ē Ģ Ī Ķ Ļ Ņ Š Ū Ž"
POLISH = "ą ć ę ł ń ó ś ź ż Ą Ł"
GERMAN = "ä ö ü ß Ä Ö Ü"
HEBREW = "דוד כהן"
ARABIC = "محمد"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def png(width: int, height: int) -> bytes:
    """An RGBA PNG of a diagonal stroke on a transparent background, without Pillow."""
    stroke, clear = b"\x10\x20\x60\xff", b"\x00\x00\x00\x00"
    rows = b"".join(
        b"\x00"  # filter type: none
        + b"".join(stroke if abs(x * height // width - y) < 3 else clear for x in range(width))
        for y in range(height)
    )

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def controller(**changes: object) -> PartyRecord:
    party = PartyRecord(
        role="Controller (signer)",
        organisation="SIA Zaļā Ēka",
        name="Jānis Bērziņš",
        title="Valdes loceklis",
        email="janis@zala-eka.lv",
        auth_method="E-mail link + one-time code",
        ip="203.0.113.7",
        user_agent=CHROME_LINUX,
        device="Chrome 156 on Linux",
        sent_at=T0,
        # an aware non-UTC time must be printed converted to UTC
        viewed_at=datetime(2026, 11, 27, 12, 20, 0, tzinfo=RIGA),
        consented_at=T0 + timedelta(minutes=6),
        signed_at=T0 + timedelta(minutes=7, seconds=30),
        consent_text_version="consent-2026-01",
        drawn_signature_png=None,
    )
    return dataclasses.replace(party, **changes)  # type: ignore[arg-type]


def processor(**changes: object) -> PartyRecord:
    party = PartyRecord(
        role="Processor (countersigner)",
        organisation='SIA "A.U. Holding"',
        name="Anna Kowalska",
        title="Authorised signatory",
        email="legal@klusaro.example",
        auth_method="Authorised signatory (automatic)",
        ip=None,
        user_agent=None,
        device=None,
        sent_at=None,
        viewed_at=None,
        consented_at=None,
        signed_at=T0 + timedelta(minutes=8),
        consent_text_version=None,
        drawn_signature_png=None,
    )
    return dataclasses.replace(party, **changes)  # type: ignore[arg-type]


EVENT_TYPES = ["version.created", "link.created", "viewed", "consented", "signed", "countersigned"]


def events(count: int) -> list[EventRecord]:
    return [
        EventRecord(
            at=T0 + timedelta(seconds=17 * i),
            type=EVENT_TYPES[i % len(EVENT_TYPES)] if i < count - 1 else "completed",
            actor="janis@zala-eka.lv" if i % 2 else "system",
            detail=f"step {i} of the ceremony",
            hash=sha(f"event {i}"),
        )
        for i in range(count)
    ]


def make_certificate(**changes: object) -> CompletionCertificate:
    cert = CompletionCertificate(
        agreement_id=AGREEMENT_ID,
        version=2,
        title="Data Processing Agreement — SIA Zaļā Ēka",
        original_sha256=sha("original"),
        final_sha256=sha("final"),
        completed_at=T0 + timedelta(minutes=8, seconds=1),
        parties=[controller(), processor()],
        events=events(15),
        issuer=ISSUER,
    )
    return dataclasses.replace(cert, **changes)  # type: ignore[arg-type]


def section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def test_every_field_both_hashes_and_every_event_are_printed() -> None:
    cert = make_certificate()
    text = pdf_text(render_certificate(cert))

    assert text.startswith("Certificate of completion")
    for summary in (AGREEMENT_ID, cert.title, ISSUER, cert.original_sha256, cert.final_sha256):
        assert summary in text
    assert "Completed at 2026-11-27 10:23:04 UTC" in text

    party = cert.parties[0]
    assert party.user_agent is not None
    for value in (
        party.role,
        party.organisation,
        party.name,
        party.title,
        party.email,
        party.auth_method,
        party.ip,
        party.device,
        party.consent_text_version,
    ):
        assert value is not None and value in text
    # a long user agent wraps; its words all survive, in order
    assert " ".join(party.user_agent.split()) in text
    assert "Sent 2026-11-27 10:15:03 UTC" in text
    assert "Viewed 2026-11-27 10:20:00 UTC" in text  # 12:20 in Riga
    assert "Consented to e-signing 2026-11-27 10:21:03 UTC" in text
    assert "Signed 2026-11-27 10:22:33 UTC" in text

    countersigner = section(text, "Party 2: Processor (countersigner)", "Event log")
    for value in ('SIA "A.U. Holding"', "Anna Kowalska", "Authorised signatory (automatic)"):
        assert value in countersigner
    for label in ("IP address", "User agent", "Device", "Sent", "Viewed", "Drawn signature"):
        assert f"{label} —" in countersigner
    assert "Signed 2026-11-27 10:23:03 UTC" in countersigner

    log = text[text.index("Event log") :]
    for number, event in enumerate(cert.events, start=1):
        time = event.at.strftime("%Y-%m-%d %H:%M:%S UTC")
        assert f"{number} {time} {event.type} {event.actor} {event.detail}" in log
        assert f"SHA-256 {event.hash}" in log


def test_metadata_title_and_same_values_give_the_same_bytes() -> None:
    cert = make_certificate()
    pdf = render_certificate(cert)
    info = PdfReader(io.BytesIO(pdf)).metadata
    assert info is not None
    assert info.title == f"Certificate of completion — {AGREEMENT_ID} v2"
    assert info.author == ISSUER
    assert info["/CreationDate"] == "D:20261127102304+00'00'"
    assert render_certificate(cert) == pdf


def test_diacritics_and_right_to_left_letters_survive_extraction() -> None:
    cert = make_certificate(
        parties=[
            controller(organisation=f"SIA {LATVIAN}", name=f"{HEBREW} {ARABIC}"),
            processor(name=POLISH, title=GERMAN),
        ]
    )
    text = pdf_text(render_certificate(cert))
    for value in (LATVIAN, POLISH, GERMAN):
        assert value in text
    # Without a bidi algorithm (reportlab's optional rlbidi) the letters are written in logical
    # order, which pypdf reads as visual order and reverses: accept either order.
    assert f"{HEBREW} {ARABIC}" in text or f"{HEBREW} {ARABIC}"[::-1] in text


def test_hostile_values_print_literally() -> None:
    cert = make_certificate(
        title=HOSTILE,
        parties=[controller(name=HOSTILE, organisation=f"{HOSTILE} Ltd"), processor()],
        events=[dataclasses.replace(e, detail=HOSTILE, actor=HOSTILE) for e in events(3)],
    )
    text = pdf_text(render_certificate(cert))
    assert f"Document title {HOSTILE}" in text
    assert f"Name {HOSTILE}" in text
    assert f"Organisation {HOSTILE} Ltd" in text
    assert text.count(HOSTILE) == 3 + 2 * 3


def test_unprintable_characters_are_shown_as_replacement_characters() -> None:
    name = "Eve\x00\u202eil\ud800 中 😀"
    cert = make_certificate(parties=[controller(name=name), processor()])
    text = pdf_text(render_certificate(cert))
    assert "Name Eve\ufffd\ufffdil\ufffd \ufffd \ufffd" in text


def test_long_values_wrap_inside_the_page() -> None:
    long_name = " ".join(["Bērziņš-Ozoliņa"] * 20)  # 300 characters
    unbroken = "x" * 300
    huge_agent = CHROME_LINUX + " Extension/1.0" * 1500  # more than a page of text
    cert = make_certificate(
        title=unbroken,
        parties=[
            controller(name=long_name, user_agent=huge_agent, email=f"{'e' * 200}@example.lv"),
            processor(organisation=long_name),
        ],
        events=[dataclasses.replace(e, detail=long_name) for e in events(4)],
    )
    pdf = render_certificate(cert)
    reader = PdfReader(io.BytesIO(pdf))
    raw = "\n".join(page.extract_text() for page in reader.pages)
    text = pdf_text(pdf)

    assert f"Name {long_name}" in text
    # a value split across a page break continues after that page's footer (and the event
    # log's repeated header)
    unbroken_pages = re.sub(
        r"Agreement \S+ · version 2 · certificate page \d+ of \d+ (# Time \(UTC\) Event Actor Detail )?",
        "",
        text,
    )
    assert unbroken_pages.count(long_name) == 1 + 1 + 4
    assert unbroken not in text  # split across lines, and nothing dropped:
    assert unbroken in re.sub(r"\s", "", text)
    longest = max(len(line) for line in raw.splitlines())
    assert longest < 130, longest  # nothing runs off the page's 174 mm text width
    assert len(reader.pages) > 3


def test_sixty_events_span_pages_with_page_x_of_y_footers() -> None:
    cert = make_certificate(events=events(60))
    reader = PdfReader(io.BytesIO(render_certificate(cert)))
    total = len(reader.pages)
    assert total >= 3
    for number, page in enumerate(reader.pages, start=1):
        page_text = " ".join(page.extract_text().split())
        footer = f"Agreement {AGREEMENT_ID} · version 2 · certificate page {number} of {total}"
        assert footer in page_text
    text = pdf_text(render_certificate(cert))
    for event in cert.events:
        assert event.hash in text
    assert "Time (UTC)" in reader.pages[-1].extract_text()  # the header repeats


def image_placements(pdf: bytes) -> list[tuple[int, int, float, float]]:
    """(pixel width, pixel height, drawn width, drawn height) of every image on every page."""
    placements = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        xobjects = resources.get("/XObject", {})
        content = page.get_contents()
        assert content is not None
        stream = content.get_data().decode("latin-1")
        for name, ref in xobjects.items():
            image = ref.get_object()
            if image["/Subtype"] != "/Image":
                continue
            drawn = re.search(
                rf"([\d.]+) 0 0 ([\d.]+) [\d.-]+ [\d.-]+ cm\s+{re.escape(name)} Do", stream
            )
            assert drawn is not None, stream
            placements.append((image["/Width"], image["/Height"], float(drawn[1]), float(drawn[2])))
    return placements


def test_drawn_signature_is_embedded_as_an_image_at_most_60_mm_wide() -> None:
    wide, small = png(600, 200), png(90, 30)
    cert = make_certificate(
        parties=[controller(drawn_signature_png=wide), processor(drawn_signature_png=small)]
    )
    placements = sorted(image_placements(render_certificate(cert)))
    assert [(w, h) for w, h, _, _ in placements] == [(90, 30), (600, 200)]
    (_, _, small_w, small_h), (_, _, wide_w, wide_h) = placements
    assert (small_w, small_h) == (90, 30)  # not enlarged
    assert wide_w == pytest.approx(60 / 25.4 * 72, abs=0.01)
    assert wide_w / wide_h == pytest.approx(3)


def test_unreadable_signature_image_is_reported_not_fatal() -> None:
    cert = make_certificate(parties=[controller(drawn_signature_png=b"GIF89a..."), processor()])
    pdf = render_certificate(cert)
    assert image_placements(pdf) == []
    assert "Drawn signature Not shown: 9 bytes that are not a usable PNG image" in pdf_text(pdf)


def test_invalid_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        render_certificate(make_certificate(completed_at=datetime(2026, 11, 27, 10, 0)))
    naive_party = controller(signed_at=datetime(2026, 11, 27, 10, 0))
    with pytest.raises(ValueError, match="naive datetime"):
        render_certificate(make_certificate(parties=[naive_party]))
    with pytest.raises(ValueError, match="final_sha256"):
        render_certificate(make_certificate(final_sha256=sha("final").upper()))


def test_missing_fonts_raise_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(certificate, "FONT_DIR", tmp_path)
    with pytest.raises(CertificateFontMissing, match="fonts-dejavu"):
        certificate._register_fonts.__wrapped__()


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36",
            "Chrome 131 on Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari 17 on iOS",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Firefox 128 on Linux",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/156.0.0.0 Safari/537.36",
            "Headless Chrome 156 on Linux",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge 131 on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.1 Safari/605.1.15",
            "Safari 18 on macOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36 OPR/86.0.0.0",
            "Opera 86 on Android",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
            "Chrome 131 on iOS",
        ),
        (
            "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)",
            "Unknown browser on Windows",
        ),
        ("curl/8.5.0", "Unknown device"),
        ("", "Unknown device"),
        (None, None),
    ],
)
def test_describe_device(user_agent: str | None, expected: str | None) -> None:
    assert describe_device(user_agent) == expected


def test_verification_url_request_signature_ids_and_consent_hash_are_printed() -> None:
    url = "https://dpa.klusaro.com/verify"
    cert = make_certificate(
        verification_url=url,
        requested_by="user:sanita@klusaro.com (sales)",
        parties=[
            controller(signature_id="sig-controller-1", consent_text_sha256=sha("consent")),
            processor(
                signature_id="sig-processor-2",
                signing_statement="Applied automatically on behalf of the processor by the service",
            ),
        ],
    )
    pdf = render_certificate(cert)
    text = pdf_text(pdf)

    assert f"uploading it at {url}" in text
    assert "Request sent by user:sanita@klusaro.com (sales)" in text
    assert "Signature id sig-controller-1" in text and "Signature id sig-processor-2" in text
    assert f"Consent text SHA-256 {sha('consent')}" in text
    assert "Signature Applied automatically on behalf of the processor by the service" in text
    # the QR code: many small filled squares on the first page, encoding the address
    first_page = PdfReader(io.BytesIO(pdf)).pages[0].get_contents()
    assert first_page is not None and first_page.get_data().count(b" re") > 100
    assert certificate._qr_code(url, 70).value == url
    with pytest.raises(ValueError, match="consent text"):
        render_certificate(make_certificate(parties=[controller(consent_text_sha256="abc")]))


def test_the_event_log_reads_back_as_printed_across_pages() -> None:
    long_detail = " ".join(["Bērziņš-Ozoliņa"] * 20) + " 7 2026-01-01 00:00:00 UTC decoy"
    for cert in (
        make_certificate(events=events(60)),
        make_certificate(events=[dataclasses.replace(e, detail=long_detail) for e in events(8)]),
    ):
        printed = certificate.read_event_log(render_certificate(cert))
        assert printed == [
            (e.at.strftime("%Y-%m-%d %H:%M:%S"), e.type, e.hash) for e in cert.events
        ]
    assert certificate.read_event_log(render_certificate(make_certificate(events=[]))) == []
