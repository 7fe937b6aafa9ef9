"""The configurable figures a DPA prints (breach notice hours, notice and deletion days), taken
from the settings when a version is made and frozen on it."""

from __future__ import annotations

from dpa_service.config import Settings
from dpa_service.rendering.context import Terms


def terms_from(settings: Settings) -> Terms:
    return Terms(
        breach_notice_hours=settings.breach_notice_hours,
        subprocessor_notice_days=settings.subprocessor_notice_days,
        return_deletion_days=settings.return_deletion_days,
        audit_notice_days=settings.audit_notice_days,
    )
