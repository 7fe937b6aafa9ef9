"""Check an uploaded template DOCX before anything is stored; every refusal says why.

In order: the file name and the package (`package`: a real DOCX within expansion limits, safely
parsed XML); the Jinja (`jinja_checks`: parses, no Python internals, only values the context
provides, the master's clause places); and finally a trial render of the whole DPA with the
sample workspace in the sandbox, in a child process with time and memory limits, unsigned and
signed (`trial`).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import subprocess
import sys
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from docxtpl import DocxTemplate
from jinja2 import TemplateSyntaxError, meta, nodes

from dpa_service.clauses import jinja_checks, package
from dpa_service.clauses.builtin import load_templates
from dpa_service.clauses.package import TemplateRejected
from dpa_service.clauses.sample import BUILTIN_TEMPLATES, edge_case_details, sample_context
from dpa_service.rendering import check
from dpa_service.rendering.document import CLAUSE_KEYS, TemplateRenderError, render_dpa, sandbox

log = logging.getLogger(__name__)

TRIAL_TIMEOUT_S = 60.0  # the whole check, wall clock
TRIAL_MEMORY_BYTES = 1536 * 1024 * 1024
TRIAL_CPU_SECONDS = 60
TRIAL_RENDER_BUDGET_S = 10.0  # one trial render; a generation should take well under a second


# A 1×1 PNG standing in for a drawn signature in the signed trial render.
_SIGNATURE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5c5e3"
    "8c0000000049454e44ae426082"
)


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


def validate_template(
    data: bytes,
    *,
    filename: str,
    template_key: str,
    companions: Mapping[str, bytes] | None = None,
    language: str = "en",
) -> ValidatedTemplate:
    """Check an upload for `template_key` in `language`; raise TemplateRejected (422) with the
    reason.

    Nothing of the upload is parsed, compiled or rendered here: after the file name, the whole
    check runs in a child process with CPU, memory and wall-clock limits (`trial`), so a
    template built to exhaust the service exhausts only that child. `companions` is the rest of
    the template set the trial render merges this one with (the current approved set of the
    same language); by default the built-in set of that language in templates/. Variables and
    the trial renders use sample workspaces in `language`, so a Latvian template is checked
    against the Latvian context (dates, cases of figures …).
    """
    name = package.check_filename(filename, template_key)
    package.sniff(data)  # the size and the first bytes only: nothing is parsed here
    builtin = BUILTIN_TEMPLATES if language == "en" else BUILTIN_TEMPLATES / language
    templates = dict(companions) if companions is not None else load_templates(builtin)
    shape = sample_context(signed=True, language=language)
    trials = [
        ("the sample workspace", sample_context(language=language)),
        ("the sample, signed", shape),
    ] + [
        (label, sample_context(details=details, signed=True, language=language))
        for label, details in edge_case_details(language).items()
    ]
    found = _in_child(
        {
            "data": data,
            "template_key": template_key,
            "companions": templates,
            "trials": trials,
            "shape": shape,
            "signature_png": _SIGNATURE_PNG,
            "memory_bytes": TRIAL_MEMORY_BYTES,
            "cpu_seconds": TRIAL_CPU_SECONDS,
            "render_budget_s": TRIAL_RENDER_BUDGET_S,
        }
    )
    return ValidatedTemplate(
        template_key=template_key,
        filename=name,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        entries=int(found["entries"]),
        expanded_bytes=int(found["expanded_bytes"]),
        variables=tuple(found["variables"]),
        parts=tuple(found["parts"]),
    )


def _in_child(payload: dict[str, Any]) -> dict[str, Any]:
    """Run `check_upload` in `python -m dpa_service.clauses.trial`; its findings, or raise
    TemplateRejected with the reason (also when the child runs out of time or memory)."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "dpa_service.clauses.trial"],
            input=msgspec.msgpack.encode(payload),
            capture_output=True,
            timeout=TRIAL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TemplateRejected(
            f"the check of the template did not finish within {TRIAL_TIMEOUT_S:g} s; the "
            "template does too much work"
        ) from None
    try:
        outcome = json.loads(proc.stdout or b"{}")
    except ValueError:
        outcome = {}
    if outcome.get("ok"):
        return dict(outcome)
    error = outcome.get("error")
    if not error:
        log.warning(
            "template check ended with code %s: %s",
            proc.returncode,
            proc.stderr.decode("utf-8", "replace")[-2000:],
        )
        error = (
            "the trial render failed: the check ended with code "
            f"{proc.returncode} (most likely it ran out of time or memory)"
        )
    raise TemplateRejected(error)


def check_upload(
    data: bytes,
    *,
    template_key: str,
    companions: Mapping[str, bytes],
    trials: list[tuple[str, dict[str, Any]]],
    shape: dict[str, Any],
    render_budget_s: float,
    signature_png: bytes,
) -> dict[str, Any]:
    """The whole check of an upload (in the child): the package, the Jinja, the trial renders.
    Returns what `ValidatedTemplate` records; raises TemplateRejected."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            package.check_directory(infos)
            parts, expanded = package.read_entries(zf, infos)
    except zipfile.BadZipFile as exc:
        raise TemplateRejected(f"not a DOCX: the ZIP archive is damaged ({exc})") from None
    package.check_package(parts)

    try:
        tpl = DocxTemplate(io.BytesIO(data))
        tpl.init_docx()
        sources = jinja_checks.jinja_sources(tpl)
    except Exception as exc:  # python-docx raises many kinds for a broken package
        raise TemplateRejected(f"not a DOCX Word can open: {type(exc).__name__}: {exc}") from None

    env = sandbox()
    asts: list[nodes.Template] = []
    jinja_parts: list[str] = []
    for label, source in sources:
        try:
            ast = env.parse(source)
            if raw := jinja_checks.raw_markup(ast):
                raise TemplateRejected(
                    f"the template uses {', '.join(sorted(raw))} in {label}, which would print a "
                    "value as raw markup (a company name could then break or hide parts of the "
                    "agreement); values are always printed as text"
                )
            env.compile(ast)  # also catches unknown filters and tests
        except TemplateSyntaxError as exc:
            raise TemplateRejected(
                f"Jinja syntax error in {label}, line {exc.lineno}{jinja_checks.near(source, exc.lineno)}: "
                f"{exc.message}"
            ) from None
        asts.append(ast)
        if "{{" in source or "{%" in source:
            jinja_parts.append(label)

    internals = set().union(*(jinja_checks.internal_names(ast) for ast in asts))
    if internals:
        raise TemplateRejected(
            "the template reaches for Python internals "
            f"({', '.join(sorted(internals))}); templates may only print the agreement's values"
        )

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
    paths = jinja_checks.VariablePaths(shape, stored)
    for ast in asts:
        paths.visit(ast, {})
    unknown = sorted((names - allowed) | paths.unknown)
    if unknown:
        raise TemplateRejected(
            f"the template uses values the rendering context does not provide: "
            f"{', '.join(unknown)} (available: {', '.join(sorted(shape))})"
        )

    if template_key == "master":
        counts = jinja_checks.marker_counts(tpl)
        wrong = [f"{{{{p {k}_clause }}}} ({n} found)" for k, n in counts.items() if n != 1]
        if wrong:
            raise TemplateRejected(
                "the master must have each clause place exactly once, alone in its paragraph: "
                + ", ".join(wrong)
            )

    _check_markers(data, template_key)
    templates = dict(companions)
    templates[template_key] = data
    render_trials(templates, trials, render_budget_s, signature_png)
    return {
        "entries": len(infos),
        "expanded_bytes": expanded,
        "variables": list(jinja_checks.leaf_paths(paths.used | (names & allowed))),
        "parts": jinja_parts,
    }


def _check_markers(data: bytes, template_key: str) -> None:
    """The markers the check of every filled DPA relies on (rendering/check.py): a bookmark
    `dpa_clause_<n>` at each clause heading and, in the master, the two signature blocks'.
    Word keeps bookmarks while the text around them is edited."""
    markers = check.template_markers(data)
    missing = [] if any(m.startswith(check.CLAUSE_PREFIX) for m in markers) else ["dpa_clause_<n>"]
    if template_key == "master":
        missing += [m for m in check.SIGNATURE_MARKERS if m not in markers]
    if missing:
        raise TemplateRejected(
            "the template lacks the bookmarks that mark its clauses and signature blocks: "
            f"{', '.join(missing)}. Start from the current template (Word keeps its bookmarks "
            "while you edit the text) or add them with Insert › Bookmark at the headings."
        )


def render_trials(
    templates: Mapping[str, bytes],
    trials: list[tuple[str, dict[str, Any]]],
    budget_s: float,
    signature_png: bytes,
) -> None:
    """Render the whole DPA once per trial workspace in the sandbox; each must succeed and
    finish within `budget_s` (a template that is only slow for long names is slow in
    production too). Raises TemplateRejected naming the workspace."""
    for label, context in trials:
        signed = bool((context.get("signatures") or {}).get("controller"))
        started = time.monotonic()
        try:
            render_dpa(templates, context, {"controller": signature_png} if signed else None)
        except TemplateRenderError as exc:
            if "SecurityError" in str(exc):
                raise TemplateRejected(
                    "the template tries something the sandbox refuses (Python internals, or "
                    f"building huge values): {exc}"
                ) from None
            raise TemplateRejected(f"the trial render with {label} failed: {exc}") from None
        except MemoryError:
            raise TemplateRejected(
                f"the trial render with {label} failed: the template needs too much memory"
            ) from None
        except RecursionError:
            raise TemplateRejected(
                f"the trial render with {label} failed: the template recurses too deeply"
            ) from None
        except Exception as exc:  # a bad template can make docxtpl fail in many ways
            raise TemplateRejected(
                f"the trial render with {label} failed: {type(exc).__name__}: {exc}"[:2000]
            ) from None
        took = time.monotonic() - started
        if took > budget_s:
            raise TemplateRejected(
                f"the trial render with {label} took {took:.1f} s (at most {budget_s:g} s); "
                "the template does too much work"
            )
