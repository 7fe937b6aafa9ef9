"""The subprocessor list: the approved version generation uses."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dpa_service.errors import ServiceUnavailable
from dpa_service.subprocessors.models import SubprocessorListVersion


def current_approved(*, session: Session) -> SubprocessorListVersion:
    row = session.scalars(
        select(SubprocessorListVersion)
        .where(SubprocessorListVersion.state == "approved")
        .order_by(SubprocessorListVersion.version.desc())
        .limit(1)
    ).first()
    if row is None:
        raise ServiceUnavailable("no approved subprocessor list")
    return row
