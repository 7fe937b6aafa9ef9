"""Fill the DOCX templates in a Jinja sandbox: values are printed literally, never run or spliced.

The clause templates are merged into the master once per template set (at the places of its
`{{p <key>_clause }}` paragraphs, with their styles and numbering), and the merged template's
compiled Jinja code is cached; a DPA is then one docxtpl render of the merged template. A clause
may end in an annex, after a `{#p annex #}` paragraph: the merge moves it to the master's
`{#p annexes #}` paragraph, so that the annexes follow the signatures in the order of the clauses.
A bilingual DPA is one render per language, joined into one document.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import io
import re
import threading
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm
from docxcompose.composer import Composer
from docxtpl import DocxTemplate, InlineImage
from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from lxml import etree

from dpa_service.rendering.check import IncompleteDocument, check_document, required_markers

CLAUSE_KEYS = ("security", "confidentiality", "subprocessors")
# Jinja comments (docxtpl drops a `{#p … #}` paragraph), so they print nothing wherever they stay.
_CLAUSE_ANNEX = re.compile(r"\s*\{#p\s+annex\s*#\}\s*")
_MASTER_ANNEXES = re.compile(r"\s*\{#p\s+annexes\s*#\}\s*")
TITLES = {"en": "Data Processing Agreement", "lv": "Personas datu apstrādes līgums"}


class TemplateRenderError(Exception):
    """A template could not be filled (bad syntax, unknown variable, forbidden access)."""


# The most characters or items one template expression may build with *, ** or +.
MAX_BUILT = 100_000
# Filters whose output is markup Jinja will not escape: with them a value could become XML.
RAW_MARKUP_FILTERS = ("safe", "xmlattr", "urlize", "tojson")


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


class _Sandbox(SandboxedEnvironment):
    """The sandbox, remembering compiled templates by the hash of their source.

    Beyond Jinja's own sandbox: `*`, `**` and `+` are intercepted, so they are never folded
    into a constant while compiling (`'A' * 999999999` would be built right then) and refuse to
    build a string or a list longer than MAX_BUILT when a template runs; and the filters that
    emit unescaped markup do not exist here.
    """

    max_cached = 64
    intercepted_binops = frozenset({"*", "**", "+"})

    def __init__(self) -> None:
        # autoescape: values become XML text, so "</w:t>" or "&" in a name cannot alter the document.
        super().__init__(autoescape=True, undefined=StrictUndefined)
        for name in RAW_MARKUP_FILTERS:
            self.filters.pop(name, None)
        self._compiled: dict[bytes, Template] = {}
        self._lock = threading.Lock()

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and not -64 <= right <= 64:
            raise SecurityError(f"the power {right} is too large for a template")
        built = None
        if operator == "*" and isinstance(right, int) and (n := _size(left)) is not None:
            built = n * right
        elif operator == "*" and isinstance(left, int) and (n := _size(right)) is not None:
            built = n * left
        elif operator == "+" and (a := _size(left)) is not None and (b := _size(right)) is not None:
            built = a + b
        if built is not None and built > MAX_BUILT:
            raise SecurityError(f"a template may build at most {MAX_BUILT} characters or items")
        return super().call_binop(context, operator, left, right)

    def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> Template:
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        key = hashlib.sha256(source.encode()).digest()
        with self._lock:
            cached = self._compiled.get(key)
        if cached is None:
            cached = super().from_string(source)
            with self._lock:
                if len(self._compiled) >= self.max_cached:
                    self._compiled.clear()
                self._compiled[key] = cached
        return cached


_SANDBOX = _Sandbox()


def sandbox() -> SandboxedEnvironment:
    return _SANDBOX


def _render(tpl: DocxTemplate, context: Mapping[str, Any]) -> None:
    try:
        tpl.render(dict(context), jinja_env=_SANDBOX, autoescape=True)
    except TemplateError as exc:
        raise TemplateRenderError(f"{type(exc).__name__}: {exc}") from exc


def _paragraph_text(p: Any) -> str:
    return "".join(t.text or "" for t in p.iter(qn("w:t")))


@functools.lru_cache(maxsize=8)
def merge_templates(master: bytes, *clauses: bytes) -> bytes:
    """The master with each clause template's body in place of its `{{p <key>_clause }}` line,
    and the clauses' annexes at the master's `{#p annexes #}` line (or after their clause when
    the master has no such line)."""
    tpl = DocxTemplate(io.BytesIO(master))
    tpl.init_docx()
    body = tpl.docx.element.body
    annex_places = [
        p for p in body.iter(qn("w:p")) if _MASTER_ANNEXES.fullmatch(_paragraph_text(p))
    ]
    if len(annex_places) > 1:
        raise TemplateRenderError("the master may have only one {#p annexes #} line")
    for key, clause in zip(CLAUSE_KEYS, clauses, strict=True):
        marker = re.compile(r"\s*\{\{p\s+" + key + r"_clause\s*\}\}\s*")
        places = [p for p in body.iter(qn("w:p")) if marker.fullmatch(_paragraph_text(p))]
        if len(places) != 1:
            raise TemplateRenderError(
                f"the master must have exactly one {{{{p {key}_clause }}}} line"
            )
        subdoc = tpl.new_subdoc(io.BytesIO(clause))  # brings the clause's styles and numbering
        elements = [e for e in subdoc.subdocx.element.body if e.tag != qn("w:sectPr")]
        split = next(
            (
                i
                for i, e in enumerate(elements)
                if e.tag == qn("w:p") and _CLAUSE_ANNEX.fullmatch(_paragraph_text(e))
            ),
            None,
        )
        annex = [] if split is None else elements[split + 1 :]
        place = places[0]
        for element in elements if split is None else elements[:split]:
            place.addprevious(copy.deepcopy(element))
        annex_place = annex_places[0] if annex_places else place
        for element in annex:
            annex_place.addprevious(copy.deepcopy(element))
        place.getparent().remove(place)
    for place in annex_places:
        place.getparent().remove(place)
    out = io.BytesIO()
    tpl.docx.save(out)
    return slim_styles(out.getvalue())


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_STYLE_REF = re.compile(rb'w:(?:pStyle|rStyle|tblStyle|numStyleLink|styleLink) w:val="([^"]+)"')


def slim_styles(docx: bytes) -> bytes:
    """Drop the styles nothing uses (and Word's legacy stylesWithEffects copy).

    python-docx's base template carries ~750 KB of style definitions that docxtpl re-parses and
    LibreOffice imports on every document; keeping only the used styles (with the styles they
    are based on, linked to or followed by, and the defaults) makes each conversion ~20% faster
    and changes nothing on the page.
    """
    with zipfile.ZipFile(io.BytesIO(docx)) as zin:
        parts = {name: zin.read(name) for name in zin.namelist()}
    used: set[bytes] = set()
    for name, data in parts.items():
        if name.startswith("word/") and name.endswith(".xml") and "styles" not in name:
            used |= set(_STYLE_REF.findall(data))
    styles = etree.fromstring(parts["word/styles.xml"])
    by_id = {st.get(_W + "styleId", "").encode(): st for st in styles.iter(_W + "style")}
    keep = {sid for sid, st in by_id.items() if st.get(_W + "default") == "1"}
    todo = list(used | keep)
    while todo:
        sid = todo.pop()
        keep.add(sid)
        st = by_id.get(sid)
        for tag in ("basedOn", "link", "next"):
            ref = st.find(_W + tag) if st is not None else None
            if ref is not None and (value := ref.get(_W + "val", "").encode()) not in keep:
                todo.append(value)
    for sid, st in by_id.items():
        if sid not in keep:
            styles.remove(st)
    for latent in styles.findall(_W + "latentStyles"):
        styles.remove(latent)
    parts["word/styles.xml"] = etree.tostring(
        styles, xml_declaration=True, encoding="UTF-8", standalone=True
    )
    if parts.pop("word/stylesWithEffects.xml", None) is not None:
        for name in ("[Content_Types].xml", "word/_rels/document.xml.rels"):
            parts[name] = re.sub(
                rb"<(?:Override|Relationship)[^>]*stylesWithEffects[^>]*/>", b"", parts[name]
            )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)
    return out.getvalue()


# What a DPA's PDF says it is about (its Keywords); no tool names (a template's own keywords
# named docxtpl, and LibreOffice printed them). LibreOffice splits keywords at spaces too, so
# each is one word.
KEYWORDS = "GDPR, Art.28, DPA, Klusaro"
_CORE_PROPERTIES = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"


def _set_keywords(core: Any, keywords: str) -> None:
    """Replace every keywords element of the core properties with one in the right namespace.

    python-docx looks its `cp:keywords` up under the prefix `cp`, which docxcompose registers
    for the custom-properties namespace: setting `core_properties.keywords` then adds a second,
    misnamed element and LibreOffice keeps printing the template's.
    """
    for element in list(core):
        if etree.QName(element).localname == "keywords":
            core.remove(element)
    element = etree.SubElement(core, f"{{{_CORE_PROPERTIES}}}keywords")
    element.text = keywords


def render_template(
    template: bytes, context: Mapping[str, Any], drawings: Mapping[str, bytes] | None = None
) -> bytes:
    """Render one DOCX template (a clause alone, or a merged DPA).

    `drawings` maps a party ("controller", "processor") to the PNG of its drawn signature,
    placed as `signatures.<party>.drawing`.
    """
    tpl = DocxTemplate(io.BytesIO(template))
    if drawings:
        context = dict(context)
        signatures = {k: (dict(v) if v else v) for k, v in context["signatures"].items()}
        for party, png in drawings.items():
            signatures[party]["drawing"] = InlineImage(tpl, io.BytesIO(png), height=Mm(14))
        context["signatures"] = signatures
    _render(tpl, context)
    # Set after rendering, so a name is never parsed as a template; `.docx`, not get_docx(),
    # which would reload the unrendered template.
    props = tpl.docx.core_properties
    controller = context.get("controller") or {}
    agreement = context.get("agreement") or {}
    if controller and agreement:
        language = agreement.get("language", "en")
        title = TITLES.get(language, TITLES["en"])
        props.title = f"{title} — {controller['legal_name']}"[:250]
        props.subject = f"Agreement {agreement['id']} version {agreement['version']}"
        _set_keywords(props._element, KEYWORDS)
        props.language = language
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def render_dpa(
    templates: Mapping[str, bytes],
    context: Mapping[str, Any],
    drawings: Mapping[str, bytes] | None = None,
) -> bytes:
    """Merge the clauses into the master (cached per template set), render it and check the
    result (rendering/check.py): a document that lost, repeated or hid part of the agreement
    raises TemplateRenderError and goes no further."""
    merged = merge_templates(templates["master"], *(templates[k] for k in CLAUSE_KEYS))
    docx = render_template(merged, context, drawings)
    signature_blocks = bool((context.get("agreement") or {}).get("signature_blocks", True))
    try:
        check_document(docx, required_markers(merged, signature_blocks))
    except IncompleteDocument as exc:
        raise TemplateRenderError(str(exc)) from None
    return docx


def join_documents(first: bytes, *others: bytes) -> bytes:
    """One document: `first`, then each of `others` from a new page (styles, numbering and
    images brought along; the first document's page setup, footer and properties are kept)."""
    doc = Document(io.BytesIO(first))
    composer = Composer(doc)
    for other in others:
        doc.add_page_break()
        composer.append(Document(io.BytesIO(other)))
    out = io.BytesIO()
    composer.save(out)
    return out.getvalue()


def render_dpa_versions(
    versions: Sequence[tuple[Mapping[str, bytes], Mapping[str, Any]]],
    drawings: Mapping[str, bytes] | None = None,
) -> bytes:
    """A DPA in one or more languages: each (template set, context) rendered on its own, in
    order, and joined. One version is the one-render fast path of `render_dpa`. Drawn
    signatures go to the version that prints the signature blocks."""
    if not versions:
        raise ValueError("no language version to render")
    if len(versions) == 1:
        return render_dpa(versions[0][0], versions[0][1], drawings)
    rendered = [
        render_dpa(
            templates,
            context,
            drawings if context["agreement"].get("signature_blocks", True) else None,
        )
        for templates, context in versions
    ]
    return join_documents(*rendered)
