"""The built-in template set and subprocessor list shipped in `templates/`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dpa_service.clauses.models import TEMPLATE_KEYS


def load_templates(templates_dir: Path) -> dict[str, bytes]:
    missing = [k for k in TEMPLATE_KEYS if not (templates_dir / f"{k}.docx").is_file()]
    if missing:
        raise FileNotFoundError(
            f"built-in templates missing in {templates_dir}: {', '.join(m + '.docx' for m in missing)}"
        )
    return {k: (templates_dir / f"{k}.docx").read_bytes() for k in TEMPLATE_KEYS}


def load_subprocessors(templates_dir: Path) -> list[dict[str, Any]]:
    data = json.loads((templates_dir / "subprocessors.json").read_text(encoding="utf-8"))
    return list(data["entries"])
