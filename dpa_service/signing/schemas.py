"""Signing API bodies."""

from __future__ import annotations

from typing import Annotated

import msgspec

from dpa_service.counterparties.schemas import Email, Strict, Text, WorkspaceId, check_email
from dpa_service.text import SAID, check_printable


class LinkRequest(Strict):
    embedded: bool = False
    workspace_id: WorkspaceId | None = None  # required for embedded links: the link is bound to it
    require_code: bool = False
    # the Klusaro app's user who asked for the signature (name or e-mail): printed in the
    # certificate of completion as who sent the request, beside the calling token
    requested_by: Text | None = None

    def __post_init__(self) -> None:
        if self.requested_by is not None:  # printed in the certificate of completion
            check_printable({"requested_by": self.requested_by})


class LinkOut(msgspec.Struct):
    link_id: str
    url: str
    kind: str
    expires_at: str
    require_code: bool


class CountersignRequest(Strict):
    name: Text
    title: Text
    email: Email = "info@klusaro.com"

    def __post_init__(self) -> None:
        check_printable({"name": self.name, "title": self.title})  # printed in the DPA
        self.email = check_email(self.email, "email")


class VoidRequest(Strict):
    reason: Annotated[
        str,
        msgspec.Meta(min_length=1, max_length=1000, extra_json_schema={"extra": {"pattern": SAID}}),
    ]
