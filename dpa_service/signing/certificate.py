"""The certificate of completion: who signed a DPA version, how, and its audit trail, as a PDF."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from pypdf import PdfReader
from reportlab.graphics.barcode.qr import QrCode
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from dpa_service.i18n import gettext_for

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
SANS = "DejaVuSans"
SANS_BOLD = "DejaVuSans-Bold"
MONO = "DejaVuSansMono"
_FONT_FILES = {SANS: "DejaVuSans.ttf", SANS_BOLD: "DejaVuSans-Bold.ttf", MONO: "DejaVuSansMono.ttf"}

MISSING = "—"
SIGNATURE_MAX_WIDTH = 60 * mm
# A drawn signature is a wide strip; the height cap stops a hostile 1×10000 PNG from taking a page.
SIGNATURE_MAX_HEIGHT = 25 * mm
# Drawn signatures are a few hundred pixels; refuse to decode anything near a decompression bomb.
SIGNATURE_MAX_PIXELS = 16_000_000

_MARGIN = 18 * mm
_GREY = colors.HexColor("#555555")
_RULE = colors.HexColor("#BBBBBB")
_SHADE = colors.HexColor("#F2F2F2")
_HEX64 = re.compile(r"[0-9a-f]{64}")
# Controls, lone surrogates and bidi overrides are invisible or unencodable; they are shown as
# U+FFFD so a value can neither break the PDF nor silently reorder what a reader sees.
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_WHITESPACE = re.compile(r"\s+")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class CertificateFontMissing(RuntimeError):
    """The DejaVu TrueType fonts the certificate embeds are not installed."""


@dataclass(frozen=True)
class PartyRecord:
    """One signatory's evidence; every datetime must be timezone-aware (printed in UTC)."""

    role: str  # "Controller (signer)", "Processor (countersigner)"
    organisation: str
    name: str
    title: str
    email: str
    auth_method: str
    ip: str | None
    user_agent: str | None
    device: str | None  # describe_device(user_agent), stored when the signature was taken
    sent_at: datetime | None
    viewed_at: datetime | None
    consented_at: datetime | None
    signed_at: datetime | None
    consent_text_version: str | None
    drawn_signature_png: bytes | None
    signature_id: str | None = None
    consent_text_sha256: str | None = None  # of the disclosure text shown
    # how the signature was given, in words: typed by the signer, applied automatically...
    signing_statement: str | None = None


@dataclass(frozen=True)
class EventRecord:
    """One audit event of the version, as chained in the audit log."""

    at: datetime
    type: str  # "version.created", "viewed", "signed", "completed", ...
    actor: str
    detail: str
    hash: str  # the event's SHA-256 in the audit chain, lowercase hex


@dataclass(frozen=True)
class CompletionCertificate:
    agreement_id: str
    version: int
    title: str
    original_sha256: str  # the exact PDF shown to and signed by the controller
    final_sha256: str  # the signed agreement, signature blocks filled, before this is appended
    completed_at: datetime
    parties: Sequence[PartyRecord]
    events: Sequence[EventRecord]
    issuer: str
    language: str = "en"  # of the labels and notes (values are printed as given)
    requested_by: str | None = None  # who sent the signing request (the API caller, the seller)
    verification_url: str | None = None  # where anyone can check the file (also as a QR code)


# ---------------------------------------------------------------------------------------------
# Device description

# Order matters: Edge, Opera and Samsung Internet also announce "Chrome/", and every Chromium
# browser announces "Safari/", so the more specific tokens are tried first.
_BROWSERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Edge", re.compile(r"\b(?:Edg|Edge|EdgA|EdgiOS)/(\d+)")),
    ("Opera", re.compile(r"\b(?:OPR|OPiOS)/(\d+)")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/(\d+)")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/(\d+)")),
    ("Headless Chrome", re.compile(r"\bHeadlessChrome/(\d+)")),
    ("Chromium", re.compile(r"\bChromium/(\d+)")),
    ("Chrome", re.compile(r"\b(?:Chrome|CriOS)/(\d+)")),
)
_SAFARI_VERSION = re.compile(r"\bVersion/(\d+)")


def _browser(user_agent: str) -> str | None:
    for family, pattern in _BROWSERS:
        match = pattern.search(user_agent)
        if match:
            return f"{family} {match.group(1)}"
    if "Safari/" in user_agent:
        match = _SAFARI_VERSION.search(user_agent)
        return f"Safari {match.group(1)}" if match else "Safari"
    return None


def _operating_system(user_agent: str) -> str | None:
    # Versions are left out on purpose: browsers freeze them (Windows NT 10.0 is also Windows 11,
    # Mac OS X 10_15_7 is every recent macOS), so printing one would overstate the evidence.
    if "Windows" in user_agent:
        return "Windows"
    if "iPad" in user_agent:
        return "iPadOS"
    if "iPhone" in user_agent or "iPod" in user_agent:
        return "iOS"
    # Android and ChromeOS user agents also say "Linux"; macOS is tested after iOS, whose user
    # agents say "like Mac OS X".
    if "Android" in user_agent:
        return "Android"
    if "CrOS" in user_agent:
        return "ChromeOS"
    if "Macintosh" in user_agent or "Mac OS X" in user_agent:
        return "macOS"
    if "Linux" in user_agent:
        return "Linux"
    return None


def describe_device(user_agent: str | None) -> str | None:
    """'Chrome 156 on Linux' from a User-Agent header; None when there was no header."""
    if user_agent is None:
        return None
    browser = _browser(user_agent)
    system = _operating_system(user_agent)
    if browser and system:
        return f"{browser} on {system}"
    if browser:
        return browser
    if system:
        return f"Unknown browser on {system}"
    return "Unknown device"


# ---------------------------------------------------------------------------------------------
# Rendering


def _with_font_program_widths(font: TTFont) -> TTFont:
    """Repair reportlab's (<= 5.1) advance widths for glyphs past hhea.numberOfHMetrics.

    Its hmtx reader stores those glyphs' shared advance already scaled to 1000 units (a float)
    where the others keep font units (ints), and the embedded subset's hmtx then disagrees with
    /Widths (DejaVu Sans Mono: 294 against 602), which PDF/A-2 forbids (6.2.11.5). The scaled
    entries are the floats; each takes the last advance read from the file.
    """
    last = None
    for index, (advance, lsb) in enumerate(font.face.hmetrics):
        if isinstance(advance, float):
            font.face.hmetrics[index] = (last, lsb)
        else:
            last = advance
    return font


@cache
def _register_fonts() -> None:
    # reportlab's built-in fonts are Latin-1 only: ā, ł or א would come out as black boxes and
    # vanish from text extraction, so the certificate embeds DejaVu.
    for name, file_name in _FONT_FILES.items():
        path = FONT_DIR / file_name
        if not path.is_file():
            raise CertificateFontMissing(
                f"font {path} not found: the certificate of completion needs the DejaVu fonts "
                "(Debian/Ubuntu package fonts-dejavu-core)"
            )
        pdfmetrics.registerFont(TTFont(name, str(path)))
        # After registering: registerFont keeps a font already registered under the name.
        font = pdfmetrics.getFont(name)
        assert isinstance(font, TTFont)
        _with_font_program_widths(font)
    pdfmetrics.registerFontFamily(
        SANS, normal=SANS, bold=SANS_BOLD, italic=SANS, boldItalic=SANS_BOLD
    )


_BODY = ParagraphStyle("certificate-body", fontName=SANS, fontSize=9, leading=11.5)
_SMALL = ParagraphStyle("certificate-small", parent=_BODY, fontSize=7.5, leading=9.5)
_TITLE = ParagraphStyle(
    "certificate-title", parent=_BODY, fontName=SANS_BOLD, fontSize=17, leading=21
)
_HEADING = ParagraphStyle(
    "certificate-heading",
    parent=_BODY,
    fontName=SANS_BOLD,
    fontSize=11,
    leading=14,
    spaceBefore=10,
    spaceAfter=4,
)
_NOTE = ParagraphStyle("certificate-note", parent=_BODY, fontSize=8, leading=10, textColor=_GREY)
# 64 hex digits at 8 pt DejaVu Sans Mono are 308 pt wide, and 7 pt in the event log: one line
# in their column, so a hash is copied out of the PDF in one piece.
_HASH_FONT = (MONO, 8, 11.5)
_EVENT_HASH_FONT = (MONO, 7, 9.5)
_PAD = 3.0
_FOOTER_SIZE = 7.5


@cache
def _printable() -> frozenset[str]:
    """Characters DejaVu Sans has a glyph for, within the Basic Multilingual Plane."""
    return frozenset(chr(cp) for cp in pdfmetrics.getFont(SANS).face.charToGlyph if cp <= 0xFFFF)


def _clean(value: str) -> str:
    value = _UNPRINTABLE.sub("\ufffd", value)
    if value.isascii():
        return value
    # A character DejaVu lacks (CJK) would print as an empty box and extract as nothing, and
    # reportlab writes invalid ToUnicode entries for characters beyond the BMP (emoji), so both
    # are shown as U+FFFD: visibly "something was here" rather than silently missing.
    printable = _printable()
    return "".join(c if c in printable else "\ufffd" for c in value)


def _plain(value: str) -> str:
    """A value for a single line: the canvas, a table cell, the Info dictionary."""
    return _WHITESPACE.sub(" ", _clean(value)).strip()


def _cell(value: str | None, style: ParagraphStyle, width: float) -> str | Paragraph:
    """A table cell in `style`: plain text when it fits on one line, else a wrapping paragraph.

    Plain cells cost a fraction of a Paragraph (no markup parse, no line breaking, drawn with
    one call); the table's FONT commands give them the paragraph's font.
    """
    text = _plain(value) if value else ""
    if not text:
        return MISSING
    if pdfmetrics.stringWidth(text, style.fontName, style.fontSize) <= width - 2 * _PAD:
        return text
    # Values are untrusted: escaped, they print literally instead of being read as markup.
    return Paragraph(escape(text), style)


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        # Same rule as the database layer: a naive datetime is a bug, not an implicit zone.
        raise ValueError(f"naive datetime {moment.isoformat()} in a certificate of completion")
    return moment.astimezone(UTC)


def _utc(moment: datetime | None) -> str | None:
    return None if moment is None else _as_utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


def _check_hash(field: str, value: str) -> None:
    if not _HEX64.fullmatch(value):
        raise ValueError(f"{field} is not a lowercase hex SHA-256: {value[:80]!r}")


class _DrawnSignature(Flowable):
    """An image drawn from the reader that already decoded it, so the PNG is decoded once."""

    def __init__(self, reader: ImageReader, width: float, height: float) -> None:
        super().__init__()
        self._reader = reader
        self.width = width
        self.height = height
        self.hAlign = "LEFT"

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.canv.drawImage(self._reader, 0, 0, self.width, self.height, mask="auto")


def _signature_image(png: bytes, width: float) -> Flowable | str | Paragraph:
    try:
        # Only PNG is promised; not handing other formats to Pillow keeps its parsers out of reach.
        if not png.startswith(_PNG_SIGNATURE):
            raise ValueError("not a PNG")
        reader = ImageReader(io.BytesIO(png))
        width_px, height_px = reader.getSize()
        if width_px * height_px > SIGNATURE_MAX_PIXELS:
            raise ValueError("too many pixels")
        # Decode now: an image that fails only while its page is drawn would abort the PDF.
        reader.getRGBData()
    except Exception:
        # The rest of the evidence must still be issued; say plainly that the image is unusable
        # (in fixed words: reportlab's messages carry memory addresses, the PDF would vary).
        return _cell(f"Not shown: {len(png)} bytes that are not a usable PNG image", _BODY, width)
    scale = min(1.0, SIGNATURE_MAX_WIDTH / width_px, SIGNATURE_MAX_HEIGHT / height_px)
    return _DrawnSignature(reader, width_px * scale, height_px * scale)


_FIELD_STYLE = [
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("FONT", (0, 0), (-1, -1), SANS, _BODY.fontSize, _BODY.leading),
    ("TEXTCOLOR", (0, 0), (0, -1), _GREY),
    ("LINEBELOW", (0, 0), (-1, -1), 0.25, _RULE),
    ("LEFTPADDING", (0, 0), (-1, -1), _PAD),
    ("RIGHTPADDING", (0, 0), (-1, -1), _PAD),
    ("TOPPADDING", (0, 0), (-1, -1), 2.5),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
]


def _field_table(
    rows: list[tuple[str, Any]], label_width: float, width: float, hash_rows: Sequence[int] = ()
) -> Table:
    # splitInRow lets a pathological value (a 20 000-character user agent) continue on the next
    # page instead of raising a LayoutError.
    table = Table(
        [list(row) for row in rows],
        colWidths=[label_width, width - label_width],
        hAlign="LEFT",
        splitInRow=1,
    )
    commands = list(_FIELD_STYLE)
    commands += [("FONT", (1, row), (1, row), *_HASH_FONT) for row in hash_rows]
    table.setStyle(TableStyle(commands))
    return table


def _qr_code(url: str, size: float) -> QrCode:
    # The flowable draws filled rectangles on the canvas; reportlab's Drawing would select its
    # default font (Helvetica, never embedded) around them.
    return QrCode(url, width=size, height=size, qrLevel="M")


def _summary(cert: CompletionCertificate, width: float, _: Callable[[str], str]) -> list[Flowable]:
    label_width = 48 * mm
    value_width = width - label_width
    rows: list[tuple[str, Any]] = [
        (_("Agreement"), _cell(cert.agreement_id, _BODY, value_width)),
        (_("Version"), str(cert.version)),
        (_("Document title"), _cell(cert.title, _BODY, value_width)),
        (_("Completed at"), _utc(cert.completed_at)),
        (_("Original document SHA-256"), cert.original_sha256),
        (_("Final document SHA-256"), cert.final_sha256),
        (_("Request sent by"), _cell(cert.requested_by, _BODY, value_width)),
        (_("Issued by"), _cell(cert.issuer, _BODY, value_width)),
    ]
    flowables: list[Flowable] = [
        _field_table(rows, label_width, width, hash_rows=(4, 5)),
        Spacer(1, 2 * mm),
        Paragraph(
            escape(
                _(
                    "The original document is the exact PDF shown to and signed by the "
                    "controller. The final document is the signed agreement with its signature "
                    "blocks filled in, as it was before this certificate was appended to it; the "
                    "hash of the combined file is therefore different. Every SHA-256 is taken "
                    "over the exact bytes. The whole file is sealed by the service; the times "
                    "below are those of its audit log and its seal."
                )
            ),
            _NOTE,
        ),
    ]
    if cert.verification_url:
        url = _plain(cert.verification_url)
        qr_size = 26 * mm
        text = Paragraph(
            escape(
                _(
                    "Anyone holding this file can check that it is genuine and unmodified by "
                    "uploading it at {url} (the QR code opens that page)."
                )
            ).replace("{url}", f"<b>{escape(url)}</b>"),
            _BODY,
        )
        verify = Table(
            [[text, _qr_code(url, qr_size)]],
            colWidths=[width - qr_size - 4 * _PAD, qr_size + 2 * _PAD],
            hAlign="LEFT",
        )
        verify.setStyle(
            TableStyle(
                [
                    # a table cell without a FONT command selects Helvetica (never embedded)
                    ("FONT", (0, 0), (-1, -1), SANS, _BODY.fontSize, _BODY.leading),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("LEFTPADDING", (0, 0), (-1, -1), _PAD),
                    ("RIGHTPADDING", (0, 0), (-1, -1), _PAD),
                ]
            )
        )
        flowables += [Spacer(1, 2 * mm), verify]
    return flowables


def _party(index: int, party: PartyRecord, width: float, _: Callable[[str], str]) -> Flowable:
    label_width = 42 * mm
    value_width = width - label_width

    def cell(value: str | None) -> str | Paragraph:
        return _cell(value, _BODY, value_width)

    png = party.drawn_signature_png
    rows: list[tuple[str, Any]] = [
        (_("Role"), cell(party.role)),
        (_("Organisation"), cell(party.organisation)),
        (_("Name"), cell(party.name)),
        (_("Title"), cell(party.title)),
        (_("E-mail"), cell(party.email)),
        (_("Signature"), cell(party.signing_statement)),
        (_("Signature id"), cell(party.signature_id)),
        (_("Authentication"), cell(party.auth_method)),
        (_("IP address"), cell(party.ip)),
        (_("User agent"), cell(party.user_agent)),
        (_("Device"), cell(party.device)),
        (_("Sent"), cell(_utc(party.sent_at))),
        (_("Viewed"), cell(_utc(party.viewed_at))),
        (_("Consented to e-signing"), cell(_utc(party.consented_at))),
        (_("Consent text version"), cell(party.consent_text_version)),
        (_("Consent text SHA-256"), party.consent_text_sha256 or MISSING),
        (_("Signed"), cell(_utc(party.signed_at))),
        (_("Drawn signature"), MISSING if png is None else _signature_image(png, value_width)),
    ]
    consent_hash_row = 15
    heading = Paragraph(
        escape(_("Party {number}: {role}").format(number=index, role=_plain(party.role))),
        _HEADING,
    )
    hash_rows = (consent_hash_row,) if party.consent_text_sha256 else ()
    # Keep a party's heading with its details; a section longer than a page still splits.
    return KeepTogether([heading, _field_table(rows, label_width, width, hash_rows=hash_rows)])


def _event_log(
    events: Sequence[EventRecord], width: float, _: Callable[[str], str]
) -> list[Flowable]:
    heading = Paragraph(escape(_("Event log")), _HEADING)
    if not events:
        return [heading, Paragraph(escape(_("No events were recorded.")), _BODY)]
    size = _SMALL.fontSize
    number_width = pdfmetrics.stringWidth(str(len(events)), SANS, size) + 2 * _PAD + 1
    time_width = pdfmetrics.stringWidth("0000-00-00 00:00:00 UTC", SANS, size) + 2 * _PAD + 1
    event_width = 30 * mm
    actor_width = 45 * mm
    detail_width = width - number_width - time_width - event_width - actor_width
    data: list[list[Any]] = [["#", _("Time (UTC)"), _("Event"), _("Actor"), _("Detail")]]
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONT", (0, 0), (-1, -1), SANS, size, _SMALL.leading),
        ("FONT", (0, 0), (-1, 0), SANS_BOLD, size, _SMALL.leading),
        ("LEFTPADDING", (0, 0), (-1, -1), _PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), _PAD),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("BACKGROUND", (0, 0), (-1, 0), _SHADE),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, _GREY),
    ]
    for number, event in enumerate(events, start=1):
        row = len(data)
        data.append(
            [
                str(number),
                _utc(event.at),
                _cell(event.type, _SMALL, event_width),
                _cell(event.actor, _SMALL, actor_width),
                _cell(event.detail, _SMALL, detail_width),
            ]
        )
        # The full hash sits on its own line under its event, so it is copied in one piece and
        # can be matched against the audit chain.
        data.append(["", f"SHA-256 {event.hash}", "", "", ""])
        commands += [
            ("SPAN", (1, row + 1), (-1, row + 1)),
            ("NOSPLIT", (0, row), (-1, row + 1)),
            ("FONT", (1, row + 1), (1, row + 1), *_EVENT_HASH_FONT),
            ("TEXTCOLOR", (1, row + 1), (1, row + 1), _GREY),
            ("TOPPADDING", (0, row + 1), (-1, row + 1), 0),
            ("BOTTOMPADDING", (0, row + 1), (-1, row + 1), 3),
            ("LINEBELOW", (0, row + 1), (-1, row + 1), 0.25, _RULE),
        ]
    table = Table(
        data,
        colWidths=[number_width, time_width, event_width, actor_width, detail_width],
        repeatRows=1,
        hAlign="LEFT",
        splitInRow=1,
    )
    table.setStyle(TableStyle(commands))
    return [heading, table]


class _CertificateCanvas(Canvas):
    """Holds pages back until the end, so each footer can say 'page X of Y'."""

    def __init__(
        self, *args: Any, footer: str, pdf_date: str, page_label: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._page_label = page_label  # "certificate page {number} of {total}"
        self._held_pages: list[dict[str, Any]] = []
        # With invariant=1 reportlab stamps 2000-01-01 and a content-derived /ID; dating the file
        # at completion keeps the output a pure function of the certificate's values.
        self.setDateFormatter(lambda *_: pdf_date)

    def showPage(self) -> None:
        self._held_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._held_pages)
        for number, state in enumerate(self._held_pages, start=1):
            self.__dict__.update(state)
            self.setFont(SANS, _FOOTER_SIZE)
            self.setFillColor(_GREY)
            page = self._page_label.format(number=number, total=total)
            self.drawCentredString(A4[0] / 2, 10 * mm, f"{self._footer} · {page}")
            super().showPage()
        super().save()


def _footer(agreement_id: str, version: int, _: Callable[[str], str]) -> str:
    words = _("Agreement {agreement} · version {version}")
    footer = words.format(agreement=agreement_id, version=version)
    page = _("certificate page {number} of {total}").format(number=999, total=999)
    room = A4[0] - 2 * _MARGIN - pdfmetrics.stringWidth(f" · {page}", SANS, _FOOTER_SIZE)
    # Agreement ids are UUIDs; anything longer is shortened here and printed whole in the summary.
    while agreement_id and pdfmetrics.stringWidth(footer, SANS, _FOOTER_SIZE) > room:
        agreement_id = agreement_id[: len(agreement_id) * 4 // 5]
        footer = words.format(agreement=f"{agreement_id}…", version=version)
    return footer


def render_certificate(cert: CompletionCertificate) -> bytes:
    """The certificate as an A4 PDF; the same values always give the same bytes."""
    _register_fonts()
    _check_hash("original_sha256", cert.original_sha256)
    _check_hash("final_sha256", cert.final_sha256)
    for number, event in enumerate(cert.events, start=1):
        _check_hash(f"hash of event {number}", event.hash)
    for party in cert.parties:
        if party.consent_text_sha256 is not None:
            _check_hash("consent text SHA-256", party.consent_text_sha256)
    completed = _as_utc(cert.completed_at)
    _ = gettext_for(cert.language)

    page_width, page_height = A4
    width = page_width - 2 * _MARGIN
    agreement_id = _plain(cert.agreement_id)
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=_("Certificate of completion — {agreement} v{version}").format(
            agreement=agreement_id, version=cert.version
        ),
        author=_plain(cert.issuer),
        subject=_plain(cert.title),
        creator="dpa-service",
        invariant=1,
        # reportlab's canvas otherwise selects Helvetica at the top of every page, a font that
        # is never embedded (PDF/A-2 wants every font used embedded).
        initialFontName=SANS,
        initialFontSize=_BODY.fontSize,
        initialLeading=_BODY.leading,
    )
    frame = Frame(
        _MARGIN,
        _MARGIN,
        width,
        page_height - 2 * _MARGIN,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc.addPageTemplates([PageTemplate(id="certificate", frames=[frame])])

    story: list[Flowable] = [
        Paragraph(escape(_("Certificate of completion")), _TITLE),
        Spacer(1, 4 * mm),
        *_summary(cert, width, _),
    ]
    story += [_party(index, party, width, _) for index, party in enumerate(cert.parties, start=1)]
    story += _event_log(cert.events, width, _)

    canvasmaker: Callable[..., Canvas] = partial(
        _CertificateCanvas,
        footer=_footer(agreement_id, cert.version, _),
        page_label=_("certificate page {number} of {total}"),
        pdf_date=completed.strftime("D:%Y%m%d%H%M%S+00'00'"),
    )
    doc.build(story, canvasmaker=canvasmaker)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Reading it back

_FOOTER_MARK = "· certificate page "
_LOGGED = re.compile(
    r"(?:^|\s)(\d+) (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) UTC (\S+) .*?SHA-256 ([0-9a-f]{64})(?=\s|$)",
    re.S,
)


def read_event_log(pdf: bytes) -> list[tuple[str, str, str]]:
    """The event log printed in a completed PDF's certificate of completion, in order:
    (time "YYYY-MM-DD HH:MM:SS", event type, SHA-256). Empty when there is none."""
    reader = PdfReader(io.BytesIO(pdf))
    pages: list[str] = []
    for page in reversed(reader.pages):  # the certificate is appended: read back to its start
        text = page.extract_text() or ""
        if _FOOTER_MARK not in text:
            break
        pages.insert(0, _WHITESPACE.sub(" ", text))
    text = " ".join(pages)
    if "Event log" not in text:
        return []
    log = text[text.index("Event log") :]
    found: list[tuple[str, str, str]] = []
    expected = 1
    for match in _LOGGED.finditer(log):
        if int(match.group(1)) != expected:
            continue  # digits inside an actor or a detail, not a row number
        found.append((match.group(2), match.group(3), match.group(4)))
        expected += 1
    return found
