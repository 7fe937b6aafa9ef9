"""Path and query parameters shared by the API routes."""

from __future__ import annotations

from typing import Annotated

from litestar.params import PathParameter

from dpa_service.counterparties.schemas import WORKSPACE_ID
from dpa_service.db import MAX_INTEGER

WorkspaceIdParam = Annotated[
    str,
    PathParameter(pattern=WORKSPACE_ID, description="The Klusaro workspace id"),
]

# Version numbers are database integers: a number beyond them names nothing (404, see
# http/errors.on_validation_error), rather than reaching the database and failing there.
VersionNumber = Annotated[
    int, PathParameter(ge=1, le=MAX_INTEGER, description="A version number (1, 2, …)")
]
