"""Fill the DOCX templates in a Jinja sandbox: values are printed literally, never run or spliced."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

CLAUSE_KEYS = ("security", "confidentiality", "subprocessors")


class TemplateRenderError(Exception):
    """A template could not be filled (bad syntax, unknown variable, forbidden access)."""


def sandbox() -> SandboxedEnvironment:
    # autoescape: values become XML text, so "</w:t>" or "&" in a name cannot alter the document.
    return SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)


def _render(tpl: DocxTemplate, context: Mapping[str, Any]) -> None:
    try:
        tpl.render(dict(context), jinja_env=sandbox(), autoescape=True)
    except TemplateError as exc:
        raise TemplateRenderError(f"{type(exc).__name__}: {exc}") from exc


def render_clause(template: bytes, context: Mapping[str, Any]) -> bytes:
    tpl = DocxTemplate(io.BytesIO(template))
    _render(tpl, context)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def render_dpa(templates: Mapping[str, bytes], context: Mapping[str, Any]) -> bytes:
    """Render each clause, embed them as subdocuments of the master, return the DOCX bytes."""
    master = DocxTemplate(io.BytesIO(templates["master"]))
    full = dict(context)
    for key in CLAUSE_KEYS:
        clause = render_clause(templates[key], context)
        full[f"{key}_clause"] = master.new_subdoc(io.BytesIO(clause))
    _render(master, full)
    props = master.get_docx().core_properties
    props.title = f"Data Processing Agreement — {context['controller']['legal_name']}"[:250]
    props.subject = (
        f"Agreement {context['agreement']['id']} version {context['agreement']['version']}"
    )
    props.author = context["processor"]["trade_name"]
    out = io.BytesIO()
    master.save(out)
    return out.getvalue()
