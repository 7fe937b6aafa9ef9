"""The archive: write-once objects under keys like agreements/<id>/v<n>/draft.pdf."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol


class ArchiveError(Exception):
    """The archive could not store or return an object."""


class ObjectExists(ArchiveError):
    """A key is written once; a second write is refused and the original stays intact."""


class ObjectMissing(ArchiveError):
    pass


@dataclass(frozen=True)
class StoredObject:
    key: str
    sha256: str
    size: int
    version_id: str | None = None


def version_key(agreement_id: str, version: int, artifact: str) -> str:
    return f"agreements/{agreement_id}/v{version}/{artifact}"


class Archive(Protocol):
    name: str

    def put(self, key: str, data: bytes, sha256: str, content_type: str) -> StoredObject: ...

    def get(self, key: str) -> bytes: ...

    def stream(self, key: str, chunk_size: int = 65536) -> Iterator[bytes]: ...

    def check(self) -> None:
        """Raise ArchiveError when the archive cannot be used."""
