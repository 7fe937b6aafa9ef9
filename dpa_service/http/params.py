"""Path and query parameters shared by the API routes."""

from __future__ import annotations

from typing import Annotated

from litestar.params import PathParameter

WorkspaceIdParam = Annotated[
    str,
    PathParameter(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$", description="The Klusaro workspace id"
    ),
]

# Version numbers are database integers: a number beyond them names nothing (404, see
# http/errors.on_validation_error), rather than reaching the database and failing there.
MAX_NUMBER = 2**31 - 1
VersionNumber = Annotated[
    int, PathParameter(ge=1, le=MAX_NUMBER, description="A version number (1, 2, …)")
]
