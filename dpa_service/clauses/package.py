"""The DOCX package of an uploaded template: a real Word document within size and expansion
limits (checked on the ZIP directory and again while reading), no macros, ActiveX, embedded
binaries or external links, and XML parsed safely."""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from typing import Any

from lxml import etree

from dpa_service.clauses.models import TEMPLATE_KEYS
from dpa_service.errors import DomainError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


MAX_EXPANDED_BYTES = 50 * 1024 * 1024


MAX_ENTRIES = 1000


# Word's XML compresses up to ~40:1; a stream of zeros ~1000:1. Small entries cannot hurt.
MAX_RATIO = 100


RATIO_FLOOR = 1024 * 1024


MAIN_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


MAIN_DOTX = "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"


FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"


_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"


_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


_OFFICE_DOCUMENT = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
    "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument",
)


_HYPERLINK = "/relationships/hyperlink"


# What other files start with: (prefix, where it may start, what to tell the user).
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"%PDF-", 1024, "looks like a PDF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "looks like an old Word .doc (an OLE file)"),
    (b"{\\rtf", 0, "looks like an RTF document"),
    (b"\x89PNG", 0, "looks like a PNG image"),
    (b"\xff\xd8\xff", 0, "looks like a JPEG image"),
    (b"GIF8", 0, "looks like a GIF image"),
    (b"Rar!", 0, "looks like a RAR archive"),
    (b"7z\xbc\xaf", 0, "looks like a 7-Zip archive"),
    (b"\x1f\x8b", 0, "looks like a gzip file"),
)


class TemplateRejected(DomainError):
    """The upload is not an acceptable template; the message says why (HTTP 422)."""

    status_code = 422


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def check_filename(filename: str, template_key: str) -> str:
    if template_key not in TEMPLATE_KEYS:
        raise TemplateRejected(
            f"unknown template {template_key!r}; templates are: {', '.join(TEMPLATE_KEYS)}"
        )
    name = posixpath.basename(filename.replace("\\", "/")).strip()
    if not name or len(name) > 255:
        raise TemplateRejected("the file needs a name of 1-255 characters ending in .docx")
    lower = name.lower()
    if lower.endswith((".docm", ".dotm")):
        raise TemplateRejected(
            f"{name}: macro-enabled Word files are not accepted; save it as a Word document (.docx)"
        )
    if not lower.endswith(".docx"):
        raise TemplateRejected(f"{name}: the file name must end in .docx")
    return name


def sniff(data: bytes) -> None:
    if not data:
        raise TemplateRejected("the file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise TemplateRejected(
            f"the file is {_mb(len(data))}; at most {_mb(MAX_UPLOAD_BYTES)} is accepted"
        )
    if data.startswith(b"PK\x03\x04"):
        return
    for prefix, window, what in _SIGNATURES:
        if prefix in data[: window + len(prefix)]:
            raise TemplateRejected(f"not a DOCX: {what}")
    head = data[:512].lstrip().lower()
    if head.startswith((b"<?xml", b"<")):
        raise TemplateRejected("not a DOCX: looks like XML or HTML (a DOCX is a ZIP archive)")
    raise TemplateRejected("not a DOCX: it is not a ZIP archive")


def check_directory(infos: list[zipfile.ZipInfo]) -> None:
    """Limits from the central directory, before a byte is inflated."""
    if len(infos) > MAX_ENTRIES:
        raise TemplateRejected(
            f"the DOCX has {len(infos)} entries; at most {MAX_ENTRIES} are accepted"
        )
    seen: set[str] = set()
    declared = 0
    for info in infos:
        name = info.filename
        if name.lower() in seen:
            raise TemplateRejected(f"not a DOCX: the entry {name} appears twice")
        seen.add(name.lower())
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/"):
            raise TemplateRejected(f"not a DOCX: the entry name {name!r} is not allowed")
        if info.flag_bits & 0x1:
            raise TemplateRejected("the DOCX is encrypted or password-protected")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise TemplateRejected(
                f"not a DOCX: the entry {name} uses an unsupported compression method"
            )
        declared += info.file_size
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise TemplateRejected(
                f"the DOCX looks like a ZIP bomb: {name} expands {info.file_size // max(info.compress_size, 1)}-fold "
                f"(at most {MAX_RATIO}-fold is accepted)"
            )
    if declared > MAX_EXPANDED_BYTES:
        raise TemplateRejected(
            f"the DOCX looks like a ZIP bomb: it expands to {_mb(declared)}; "
            f"at most {_mb(MAX_EXPANDED_BYTES)} is accepted"
        )


def read_entries(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> tuple[dict[str, bytes], int]:
    """Inflate every entry, counting bytes as they come (declared sizes are not trusted).

    Keeps the XML parts; other entries (images) are read to enforce the limits, then dropped.
    """
    total = 0
    parts: dict[str, bytes] = {}
    for info in infos:
        if info.is_dir():
            continue
        keep = info.filename.lower().endswith((".xml", ".rels"))
        chunks: list[bytes] = []
        got = 0
        try:
            with zf.open(info) as fh:
                while chunk := fh.read(1 << 20):
                    got += len(chunk)
                    total += len(chunk)
                    if total > MAX_EXPANDED_BYTES:
                        raise TemplateRejected(
                            "the DOCX looks like a ZIP bomb: it expands beyond "
                            f"{_mb(MAX_EXPANDED_BYTES)}"
                        )
                    if got > info.file_size or (
                        got > RATIO_FLOOR and got > MAX_RATIO * max(info.compress_size, 1)
                    ):
                        raise TemplateRejected(
                            f"the DOCX looks like a ZIP bomb: {info.filename} expands beyond "
                            "its declared size or ratio"
                        )
                    if keep:
                        chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            raise TemplateRejected(
                f"not a DOCX: the ZIP archive is damaged ({info.filename}: {exc})"
            ) from None
        parts[info.filename] = b"".join(chunks)
    return parts, total


def parse_xml(name: str, data: bytes) -> Any:
    """Parse one part without entities, DTDs, network access or unbounded trees."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise TemplateRejected(f"not a DOCX: {name} is not well-formed XML ({exc})") from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise TemplateRejected(f"{name} declares a DTD; Word never writes one and it is refused")
    return root


def check_package(parts: dict[str, bytes]) -> None:
    names = {n.lower(): n for n in parts}
    if "[content_types].xml" not in names:
        if "mimetype" in names or "content.xml" in names:
            raise TemplateRejected("not a DOCX: looks like an OpenDocument (.odt) file")
        raise TemplateRejected(
            "not a DOCX: a ZIP archive without [Content_Types].xml (a renamed ZIP?)"
        )
    for required in ("_rels/.rels", "word/document.xml"):
        if required not in names:
            raise TemplateRejected(f"not a DOCX: it has no {required}")
    roots = {
        name: parse_xml(name, data)
        for name, data in parts.items()
        if name.lower().endswith((".xml", ".rels"))
    }
    types = roots[names["[content_types].xml"]]
    overrides = {
        (el.get("PartName") or "").lstrip("/").lower(): el.get("ContentType") or ""
        for el in types.iter(_CT + "Override")
    }
    defaults = [el.get("ContentType") or "" for el in types.iter(_CT + "Default")]
    for content_type in [*overrides.values(), *defaults]:
        lowered = content_type.lower()
        if "macroenabled" in lowered or "vbaproject" in lowered:
            raise TemplateRejected(
                "a macro-enabled Word file (.docm) is not accepted; save it as a Word document (.docx)"
            )
        if "activex" in lowered:
            raise TemplateRejected("the DOCX contains ActiveX controls; they are not accepted")
    main_targets = [
        (rel.get("Target") or "").lstrip("/").lower()
        for rel in roots[names["_rels/.rels"]].iter(_REL + "Relationship")
        if rel.get("Type") in _OFFICE_DOCUMENT
    ]
    if main_targets != ["word/document.xml"]:
        raise TemplateRejected("not a DOCX: its main part is not word/document.xml")
    main = overrides.get("word/document.xml")
    if main == MAIN_DOTX:
        raise TemplateRejected(
            "a Word template (.dotx) is not accepted; save it as a Word document (.docx)"
        )
    if main != MAIN_DOCX:
        raise TemplateRejected(
            f"not a DOCX: its main part has the content type {main or 'none'}, "
            "not a Word document's"
        )
    for lower, name in names.items():
        if "vbaproject" in lower or "vbadata" in lower:
            raise TemplateRejected(f"the DOCX contains macros ({name}); they are not accepted")
        if "activex" in lower:
            raise TemplateRejected(f"the DOCX contains ActiveX controls ({name})")
        if lower.endswith(".bin"):
            raise TemplateRejected(
                f"the DOCX contains an embedded binary object ({name}); it is not accepted"
            )
    for name, root in roots.items():
        if not name.lower().endswith(".rels"):
            continue
        for rel in root.iter(_REL + "Relationship"):
            kind = rel.get("Type") or ""
            if rel.get("TargetMode") == "External" and not kind.endswith(_HYPERLINK):
                raise TemplateRejected(
                    f"the DOCX links to external content ({kind.rsplit('/', 1)[-1]}: "
                    f"{rel.get('Target')}); embed it or remove the link"
                )
