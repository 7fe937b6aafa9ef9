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
from dpa_service.clauses.sample import BUILTIN_TEMPLATES, sample_context
from dpa_service.rendering.document import CLAUSE_KEYS, sandbox

log = logging.getLogger(__name__)

TRIAL_TIMEOUT_S = 30.0
TRIAL_MEMORY_BYTES = 1536 * 1024 * 1024
TRIAL_CPU_SECONDS = 30


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
    language: str = "en",
) -> ValidatedTemplate:
    """Check an upload for `template_key` in `language`; raise TemplateRejected (422) with the
    reason.

    `companions` is the rest of the template set the trial render merges this one with (the
    current approved set of the same language); by default the built-in set of that language
    in templates/. Variables and the trial render use the sample workspace in `language`, so a
    Latvian template is checked against the Latvian context (dates, cases of figures …).
    """
    name = package.check_filename(filename, template_key)
    package.sniff(data)
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

    shape = sample_context(signed=True, language=language)
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

    builtin = BUILTIN_TEMPLATES if language == "en" else BUILTIN_TEMPLATES / language
    templates = dict(companions) if companions is not None else load_templates(builtin)
    templates[template_key] = data
    trial_render(templates, [sample_context(language=language), shape])

    return ValidatedTemplate(
        template_key=template_key,
        filename=name,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        entries=len(infos),
        expanded_bytes=expanded,
        variables=jinja_checks.leaf_paths(paths.used | (names & allowed)),
        parts=tuple(jinja_parts),
    )
