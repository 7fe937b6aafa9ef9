"""The Jinja in a template's parts: parses, reaches for no Python internals, and reads only
values the rendering context provides; the master keeps the places the clauses merge into."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Any

from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from jinja2 import nodes
from jinja2 import sandbox as jinja_sandbox

from dpa_service.clauses.package import FOOTNOTES
from dpa_service.rendering.document import CLAUSE_KEYS, RAW_MARKUP_FILTERS

_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")


# Besides every _name: what the sandbox refuses on frames, generators and coroutines.
_UNSAFE_NAMES = frozenset(
    set(jinja_sandbox.UNSAFE_FUNCTION_ATTRIBUTES)
    | set(jinja_sandbox.UNSAFE_METHOD_ATTRIBUTES)
    | set(jinja_sandbox.UNSAFE_GENERATOR_ATTRIBUTES)
    | set(jinja_sandbox.UNSAFE_COROUTINE_ATTRIBUTES)
    | set(jinja_sandbox.UNSAFE_ASYNC_GENERATOR_ATTRIBUTES)
    | {"mro", "format_map"}
)


def _prepared(tpl: DocxTemplate, xml: str) -> str:
    """A part's XML exactly as docxtpl hands it to Jinja (so `{%p`, `{%tr` … work)."""
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", tpl.patch_xml(xml))


def jinja_sources(tpl: DocxTemplate) -> list[tuple[str, str]]:
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


def near(source: str, lineno: int | None) -> str:
    if not lineno:
        return ""
    lines = source.splitlines()
    if not 0 < lineno <= len(lines):
        return ""
    text = re.sub(r"<[^>]+>", "", lines[lineno - 1]).strip()
    if not text:
        return ""
    return f' (near "{text[:100]}{"…" if len(text) > 100 else ""}")'


def raw_markup(ast: nodes.Template) -> set[str]:
    """What would print a value unescaped: the markup filters, and turning autoescape off."""
    found = {f"|{n.name}" for n in ast.find_all(nodes.Filter) if n.name in RAW_MARKUP_FILTERS}
    for node in ast.find_all((nodes.EvalContextModifier, nodes.ScopedEvalContextModifier)):
        if any(option.key == "autoescape" for option in node.options):
            found.add("{% autoescape %}")
    return found


def internal_names(ast: nodes.Template) -> set[str]:
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


class VariablePaths:
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


def marker_counts(tpl: DocxTemplate) -> dict[str, int]:
    counts = dict.fromkeys(CLAUSE_KEYS, 0)
    for p in tpl.docx.element.body.iter(qn("w:p")):
        text = "".join(t.text or "" for t in p.iter(qn("w:t")))
        for key in CLAUSE_KEYS:
            if re.fullmatch(r"\s*\{\{p\s+" + key + r"_clause\s*\}\}\s*", text):
                counts[key] += 1
    return counts


def leaf_paths(paths: set[str]) -> tuple[str, ...]:
    """`controller.address.city` but not `controller` or `controller.address` as well."""
    return tuple(sorted(p for p in paths if not any(q.startswith(p + ".") for q in paths)))
