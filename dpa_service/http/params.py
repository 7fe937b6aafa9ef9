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
