"""Check an uploaded template DOCX before anything is stored; every refusal says why.

In order: the file name and size; a real DOCX (a ZIP with a Word main part, not macro-enabled, no
macros, ActiveX or embedded binaries, no links to external content) within expansion limits that
are checked on the central directory and again while reading; safely parsed XML; Jinja that
parses and compiles, reaches for no Python internals and uses only values the rendering context
provides; for the master, the clause places the merge needs; and finally a trial render of the
whole DPA with the sample workspace in the sandbox, in a child process with time and memory
limits, unsigned and signed.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import posixpath
import re
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2 import sandbox as jinja_sandbox
from lxml import etree

from dpa_service.clauses.builtin import load_subprocessors, load_templates
from dpa_service.clauses.models import TEMPLATE_KEYS
from dpa_service.clock import utcnow
from dpa_service.config import REPO_ROOT
from dpa_service.counterparties.schemas import parse_details
from dpa_service.errors import DomainError
from dpa_service.rendering.context import AgreementMeta, Terms, build_context
from dpa_service.rendering.document import CLAUSE_KEYS, sandbox

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_EXPANDED_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 1000
# Word's XML compresses up to ~40:1; a stream of zeros ~1000:1. Small entries cannot hurt.
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024
TRIAL_TIMEOUT_S = 30.0
TRIAL_MEMORY_BYTES = 1536 * 1024 * 1024
TRIAL_CPU_SECONDS = 30

SAMPLE_WORKSPACE = REPO_ROOT / "examples" / "workspace.json"
BUILTIN_TEMPLATES = REPO_ROOT / "templates"

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
_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")

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
# Besides every _name: what the sandbox refuses on frames, generators and coroutines.
_UNSAFE_NAMES = frozenset(
    set(jinja_sandbox.UNSAFE_FUNCTION_ATTRIBUTES)
    | set(jinja_sandbox.UNSAFE_METHOD_ATTRIBUTES)
    | set(jinja_sandbox.UNSAFE_GENERATOR_ATTRIBUTES)
    | set(jinja_sandbox.UNSAFE_COROUTINE_ATTRIBUTES)
    | set(jinja_sandbox.UNSAFE_ASYNC_GENERATOR_ATTRIBUTES)
    | {"mro", "format_map"}
)
# A 1×1 PNG standing in for a drawn signature in the signed trial render.
_SIGNATURE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5c5e3"
    "8c0000000049454e44ae426082"
)


class TemplateRejected(DomainError):
    """The upload is not an acceptable template; the message says why (HTTP 422)."""

    status_code = 422


@dataclass(frozen=True)
class ValidatedTemplate:
    template_key: str
    filename: str
    size: int
    sha256: str  # of the exact bytes uploaded
    entries: int
    expanded_bytes: int
    variables: tuple[str, ...]  # the context values it uses, e.g. "controller.legal_name"
    parts: tuple[str, ...] = field(default=())  # where it has Jinja: body, footer1.xml …


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


def _sniff(data: bytes) -> None:
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


def _check_directory(infos: list[zipfile.ZipInfo]) -> None:
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


def _read_entries(
    zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]
) -> tuple[dict[str, bytes], int]:
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


def _check_package(parts: dict[str, bytes]) -> None:
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


def _prepared(tpl: DocxTemplate, xml: str) -> str:
    """A part's XML exactly as docxtpl hands it to Jinja (so `{%p`, `{%tr` … work)."""
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", tpl.patch_xml(xml))


def _jinja_sources(tpl: DocxTemplate) -> list[tuple[str, str]]:
    """Every piece docxtpl renders: body, headers, footers, footnotes, document properties."""
    sources = [("the document body", _prepared(tpl, tpl.get_xml()))]
    for uri, kind in ((tpl.HEADER_URI, "header"), (tpl.FOOTER_URI, "footer")):
        for _, part in tpl.get_headers_footers(uri):
            label = f"the {kind} {posixpath.basename(str(part.partname))}"
            sources.append((label, _prepared(tpl, tpl.get_part_xml(part))))
    for part in tpl.docx.part.package.parts:
        if part.content_type == FOOTNOTES:
            blob = part.blob.decode("utf-8") if isinstance(part.blob, bytes) else part.blob
            sources.append(("the footnotes", _prepared(tpl, blob)))
    props = tpl.docx.core_properties
    for prop in _PROPERTIES:
        value = getattr(props, prop)
        if value:
            sources.append((f"the document property {prop!r}", value))
    return sources


def _near(source: str, lineno: int | None) -> str:
    if not lineno:
        return ""
    lines = source.splitlines()
    if not 0 < lineno <= len(lines):
        return ""
    text = re.sub(r"<[^>]+>", "", lines[lineno - 1]).strip()
    if not text:
        return ""
    return f' (near "{text[:100]}{"…" if len(text) > 100 else ""}")'


def _internals(ast: nodes.Template) -> set[str]:
    found: set[str] = set()
    for node in ast.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        name: Any = None
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            name = node.arg.value
        elif isinstance(node, nodes.Filter) and node.name == "attr" and node.args:
            arg = node.args[0]
            name = arg.value if isinstance(arg, nodes.Const) else None
        if isinstance(name, str) and (name.startswith("_") or name in _UNSAFE_NAMES):
            found.add(name)
    return found


class _Paths:
    """Which `a.b.c` paths into the sample context a template reads, and which do not exist."""

    def __init__(self, context: Mapping[str, Any], stored: set[str]) -> None:
        self.context = context
        self.stored = stored  # names a template assigns itself: their shape is unknown
        self.used: set[str] = set()
        self.unknown: set[str] = set()

    def resolve(
        self, node: nodes.Node, scope: dict[str, tuple[Any, str]]
    ) -> tuple[Any, str] | None:
        if isinstance(node, nodes.Name):
            if node.name in scope:
                return scope[node.name]
            if node.name in self.stored or node.name not in self.context:
                return None
            return self.context[node.name], node.name
        key: Any = None
        if isinstance(node, nodes.Getattr):
            key = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            key = node.arg.value
        if not isinstance(key, str):
            return None
        base = self.resolve(node.node, scope)  # type: ignore[attr-defined]
        if base is None or not isinstance(base[0], dict):
            return None
        value, path = base
        if key in value:
            self.used.add(f"{path}.{key}")
            return value[key], f"{path}.{key}"
        if not hasattr(dict, key):  # .items(), .get() … are fine
            self.unknown.add(f"{path}.{key}")
        return None

    def visit(self, node: nodes.Node, scope: dict[str, tuple[Any, str]]) -> None:
        if isinstance(node, nodes.For):
            self.visit(node.iter, scope)
            inner = dict(scope)
            bound = self.resolve(node.iter, scope)
            if isinstance(node.target, nodes.Name):
                element: Any = None
                items = bound[0] if bound else None
                if isinstance(items, list) and items and all(isinstance(e, dict) for e in items):
                    element = {k: v for e in items for k, v in e.items()}
                inner[node.target.name] = (element, node.target.name)
            else:
                for name in node.target.find_all(nodes.Name):
                    inner[name.name] = (None, name.name)
            for child in [*([node.test] if node.test else []), *node.body]:
                self.visit(child, inner)
            for child in node.else_:
                self.visit(child, scope)
            return
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            self.resolve(node, scope)
        for child in node.iter_child_nodes():
            self.visit(child, scope)


def _marker_counts(tpl: DocxTemplate) -> dict[str, int]:
    counts = dict.fromkeys(CLAUSE_KEYS, 0)
    for p in tpl.docx.element.body.iter(qn("w:p")):
        text = "".join(t.text or "" for t in p.iter(qn("w:t")))
        for key in CLAUSE_KEYS:
            if re.fullmatch(r"\s*\{\{p\s+" + key + r"_clause\s*\}\}\s*", text):
                counts[key] += 1
    return counts


def _leaves(paths: set[str]) -> tuple[str, ...]:
    """`controller.address.city` but not `controller` or `controller.address` as well."""
    return tuple(sorted(p for p in paths if not any(q.startswith(p + ".") for q in paths)))


def sample_details() -> dict[str, Any]:
    return parse_details(SAMPLE_WORKSPACE.read_bytes()).to_dict()


def sample_context(
    *,
    signed: bool = False,
    subprocessor_entries: Iterable[Mapping[str, Any]] | None = None,
    subprocessor_list_version: int = 1,
    subprocessor_list_approved_on: datetime | None = None,
    terms: Terms | None = None,
    processor_signatory: tuple[str, str] = ("Anna Example", "Member of the Board"),
    agreement_id: str = "PREVIEW",
) -> dict[str, Any]:
    """The rendering context for the sample workspace (examples/workspace.json).

    `signed` fills both signature blocks, as the completed PDF has them.
    """
    details = sample_details()
    now = utcnow()
    entries = (
        list(subprocessor_entries)
        if subprocessor_entries is not None
        else load_subprocessors(BUILTIN_TEMPLATES)
    )
    signatures = None
    if signed:
        label = f"{now:%-d %B %Y %H:%M} UTC"
        signatures = {
            "controller": {
                "name": details["signatory"]["name"],
                "title": details["signatory"]["title"],
                "signed_at": label,
            },
            "processor": {
                "name": processor_signatory[0],
                "title": processor_signatory[1],
                "signed_at": label,
            },
        }
    return build_context(
        details=details,
        agreement=AgreementMeta(id=agreement_id, version=1, issued_at=now),
        subprocessor_entries=entries,
        subprocessor_list_version=subprocessor_list_version,
        subprocessor_list_approved_on=subprocessor_list_approved_on or now,
        terms=terms or Terms(),
        processor_signatory=processor_signatory,
        signatures=signatures,
    )


def trial_render(templates: Mapping[str, bytes], contexts: list[dict[str, Any]]) -> None:
    """Render the whole DPA once per context in the sandbox, in a child process with CPU,
    memory and wall-clock limits, so a template that loops or allocates without end is refused
    instead of stalling the service. Raises TemplateRejected with the render's error."""
    payload = msgspec.msgpack.encode(
        {
            "templates": dict(templates),
            "contexts": contexts,
            "signature_png": _SIGNATURE_PNG,
            "memory_bytes": TRIAL_MEMORY_BYTES,
            "cpu_seconds": TRIAL_CPU_SECONDS,
        }
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "dpa_service.clauses.trial"],
            input=payload,
            capture_output=True,
            timeout=TRIAL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TemplateRejected(
            f"the trial render with the sample workspace did not finish within "
            f"{TRIAL_TIMEOUT_S:g} s; the template does too much work"
        ) from None
    try:
        outcome = json.loads(proc.stdout or b"{}")
    except ValueError:
        outcome = {}
    if outcome.get("ok"):
        return
    error = outcome.get("error")
    if not error:
        log.warning(
            "template trial render ended with code %s: %s",
            proc.returncode,
            proc.stderr.decode("utf-8", "replace")[-2000:],
        )
        error = (
            f"the render process ended with code {proc.returncode} "
            "(most likely it ran out of time or memory)"
        )
    if error.startswith("SecurityError"):
        raise TemplateRejected(
            "the template tries to reach Python internals, which the sandbox refuses: " + error
        )
    raise TemplateRejected(f"the trial render with the sample workspace failed: {error}")


def validate_template(
    data: bytes,
    *,
    filename: str,
    template_key: str,
    companions: Mapping[str, bytes] | None = None,
) -> ValidatedTemplate:
    """Check an upload for `template_key`; raise TemplateRejected (422) with the reason.

    `companions` is the rest of the template set the trial render merges this one with (the
    current approved set); by default the built-in set in templates/.
    """
    name = check_filename(filename, template_key)
    _sniff(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            _check_directory(infos)
            parts, expanded = _read_entries(zf, infos)
    except zipfile.BadZipFile as exc:
        raise TemplateRejected(f"not a DOCX: the ZIP archive is damaged ({exc})") from None
    _check_package(parts)

    try:
        tpl = DocxTemplate(io.BytesIO(data))
        tpl.init_docx()
        sources = _jinja_sources(tpl)
    except Exception as exc:  # python-docx raises many kinds for a broken package
        raise TemplateRejected(f"not a DOCX Word can open: {type(exc).__name__}: {exc}") from None

    env = sandbox()
    asts: list[nodes.Template] = []
    jinja_parts: list[str] = []
    for label, source in sources:
        try:
            ast = env.parse(source)
            env.compile(ast)  # also catches unknown filters and tests
        except TemplateSyntaxError as exc:
            raise TemplateRejected(
                f"Jinja syntax error in {label}, line {exc.lineno}{_near(source, exc.lineno)}: "
                f"{exc.message}"
            ) from None
        asts.append(ast)
        if "{{" in source or "{%" in source:
            jinja_parts.append(label)

    internals = set().union(*(_internals(ast) for ast in asts))
    if internals:
        raise TemplateRejected(
            "the template reaches for Python internals "
            f"({', '.join(sorted(internals))}); templates may only print the agreement's values"
        )

    shape = sample_context(signed=True)
    allowed = set(shape)
    if template_key == "master":
        allowed |= {f"{key}_clause" for key in CLAUSE_KEYS}
    names = set().union(*(meta.find_undeclared_variables(ast) for ast in asts))
    stored: set[str] = set()
    for ast in asts:
        stored |= {n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for ast in asts:
        # Jinja's globals (range, cycler, lipsum, …) are not the context either.
        names |= {
            n.name
            for n in ast.find_all(nodes.Name)
            if n.ctx == "load" and n.name in env.globals and n.name not in stored
        }
    paths = _Paths(shape, stored)
    for ast in asts:
        paths.visit(ast, {})
    unknown = sorted((names - allowed) | paths.unknown)
    if unknown:
        raise TemplateRejected(
            f"the template uses values the rendering context does not provide: "
            f"{', '.join(unknown)} (available: {', '.join(sorted(shape))})"
        )

    if template_key == "master":
        counts = _marker_counts(tpl)
        wrong = [f"{{{{p {k}_clause }}}} ({n} found)" for k, n in counts.items() if n != 1]
        if wrong:
            raise TemplateRejected(
                "the master must have each clause place exactly once, alone in its paragraph: "
                + ", ".join(wrong)
            )

    templates = dict(companions) if companions is not None else load_templates(BUILTIN_TEMPLATES)
    templates[template_key] = data
    trial_render(templates, [sample_context(), shape])

    return ValidatedTemplate(
        template_key=template_key,
        filename=name,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        entries=len(infos),
        expanded_bytes=expanded,
        variables=_leaves(paths.used | (names & allowed)),
        parts=tuple(jinja_parts),
    )
