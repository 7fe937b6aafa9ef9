"""The configurable figures a DPA prints (breach notice hours, notice and deletion days), taken
from the settings when a version is made and frozen on it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dpa_service.config import Settings, SettingsError
from dpa_service.rendering.context import Terms


def terms_from(settings: Settings) -> Terms:
    """The figures new DPAs print. A figure outside its bounds (rendering.context.TERM_BOUNDS)
    is a SettingsError naming the DPA_* variable; the service checks at start-up."""
    try:
        return Terms(
            breach_notice_hours=settings.breach_notice_hours,
            subprocessor_notice_days=settings.subprocessor_notice_days,
            return_deletion_days=settings.return_deletion_days,
            audit_notice_days=settings.audit_notice_days,
        )
    except ValueError as exc:
        field = str(exc).split(" ", 1)[0]
        raise SettingsError(f"DPA_{field.upper()}: {exc}") from None


def frozen_terms(values: Mapping[str, Any]) -> Terms:
    """The figures frozen on a version, as they were printed and signed: never checked again
    (a version made before the bounds existed is still countersigned as signed)."""
    return Terms(**values, check=False)
