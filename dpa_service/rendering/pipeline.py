"""From templates and a context to the final PDF bytes: fill, convert, stamp metadata, hash."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dpa_service.rendering.converter import ConverterPool
from dpa_service.rendering.document import render_dpa_versions
from dpa_service.rendering.pdf import sha256_hex, with_metadata


@dataclass(frozen=True)
class RenderedDPA:
    pdf: bytes
    docx: bytes
    sha256: str
    pages: int
    fill_ms: float
    convert_ms: float


def render_pdf(
    pool: ConverterPool,
    templates: Mapping[str, bytes],
    context: Mapping[str, Any],
    template_versions: Mapping[str, int],
    drawings: Mapping[str, bytes] | None = None,
    state: str = "draft",
    *,
    other_languages: Sequence[tuple[Mapping[str, bytes], Mapping[str, Any]]] = (),
) -> RenderedDPA:
    """`templates` and `context` are the agreement's (prevailing) language version; a bilingual
    DPA passes the other version as `other_languages` [(its template set, its context)], which
    follows it in the same document (see context.build_contexts). `template_versions` names
    every template used, e.g. {"master": 3, …, "lv/master": 1, …}."""
    t0 = time.perf_counter()
    docx = render_dpa_versions([(templates, context), *other_languages], drawings)
    t1 = time.perf_counter()
    raw = pool.convert(docx)
    t2 = time.perf_counter()
    agreement = context["agreement"]
    metadata = {
        "AgreementId": str(agreement["id"]),
        "AgreementVersion": str(agreement["version"]),
        "TemplateVersions": ",".join(f"{k}={v}" for k, v in sorted(template_versions.items())),
        "SubprocessorListVersion": str(context["subprocessors"]["version"]),
        "State": state,
        "Languages": ",".join(
            str(c["agreement"].get("language", "en"))
            for c in (context, *(o[1] for o in other_languages))
        ),
    }
    profile_version = (context.get("processor") or {}).get("profile_version")
    if profile_version is not None:
        metadata["ProcessorProfileVersion"] = str(profile_version)
    pdf, pages = with_metadata(raw, metadata)
    return RenderedDPA(
        pdf=pdf,
        docx=docx,
        sha256=sha256_hex(pdf),
        pages=pages,
        fill_ms=(t1 - t0) * 1000,
        convert_ms=(t2 - t1) * 1000,
    )
