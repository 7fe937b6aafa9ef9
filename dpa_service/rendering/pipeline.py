"""From templates and a context to the final PDF bytes: fill, convert, stamp metadata, hash."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dpa_service.rendering.converter import ConverterPool
from dpa_service.rendering.document import render_dpa
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
) -> RenderedDPA:
    t0 = time.perf_counter()
    docx = render_dpa(templates, context, drawings)
    t1 = time.perf_counter()
    raw = pool.convert(docx)
    t2 = time.perf_counter()
    agreement = context["agreement"]
    pdf, pages = with_metadata(
        raw,
        {
            "AgreementId": str(agreement["id"]),
            "AgreementVersion": str(agreement["version"]),
            "TemplateVersions": ",".join(f"{k}={v}" for k, v in sorted(template_versions.items())),
            "SubprocessorListVersion": str(context["subprocessors"]["version"]),
            "State": state,
        },
    )
    return RenderedDPA(
        pdf=pdf,
        docx=docx,
        sha256=sha256_hex(pdf),
        pages=pages,
        fill_ms=(t1 - t0) * 1000,
        convert_ms=(t2 - t1) * 1000,
    )
