"""What background work is given: the database, the archive, the settings, and where it renders
and seals, the converter pool and the sealer. Built by `dpa_service.runtime`."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy.orm import sessionmaker

from dpa_service.archive.base import Archive
from dpa_service.config import Settings
from dpa_service.rendering.converter import ConverterPool
from dpa_service.signing.seal import Sealer


@dataclass(frozen=True)
class JobContext:
    session_factory: sessionmaker  # type: ignore[type-arg]
    archive: Archive
    settings: Settings
    pool: ConverterPool | None = None  # work that renders (re-issue, countersigning) needs one
    sealer: Sealer | None = None  # completing a stuck version needs it too
    # set when the process is shutting down: finish the item in hand, take no new work
    stopping: threading.Event = field(default_factory=threading.Event, compare=False)
