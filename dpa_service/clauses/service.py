"""Template versions: which approved version of each template generation uses."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from dpa_service.clauses.models import TEMPLATE_KEYS, TemplateVersion
from dpa_service.errors import ServiceUnavailable


@dataclass(frozen=True)
class TemplateSet:
    versions: dict[str, TemplateVersion]

    @property
    def contents(self) -> dict[str, bytes]:
        return {k: v.content for k, v in self.versions.items()}

    @property
    def numbers(self) -> dict[str, int]:
        return {k: v.version for k, v in self.versions.items()}

    def record(self) -> dict[str, dict[str, object]]:
        """What an agreement version stores about the templates it was made from."""
        return {
            k: {"id": v.id, "version": v.version, "sha256": v.sha256}
            for k, v in sorted(self.versions.items())
        }


def current_approved(*, session: Session) -> TemplateSet:
    """The newest approved version of every template."""
    rows = session.scalars(
        select(TemplateVersion)
        .where(TemplateVersion.state == "approved")
        .options(undefer(TemplateVersion.content))
        .order_by(TemplateVersion.template_key, TemplateVersion.version.desc())
    )
    newest: dict[str, TemplateVersion] = {}
    for row in rows:
        newest.setdefault(row.template_key, row)
    missing = [k for k in TEMPLATE_KEYS if k not in newest]
    if missing:
        raise ServiceUnavailable(f"no approved template for: {', '.join(missing)}")
    return TemplateSet(newest)
