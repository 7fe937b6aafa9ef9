"""The archive: write-once objects under keys like agreements/<id>/v<n>/draft.pdf."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Protocol, runtime_checkable


class ArchiveError(Exception):
    """The archive could not store or return an object."""


class ArchiveUnreachable(ArchiveError):
    """The archive did not answer (network, server down): a passing condition, not a misconfiguration."""


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
    etag: str | None = None
    # the store's own SHA-256 as it reports it (S3: base64 of the digest); None when it keeps none
    checksum_sha256: str | None = None


def version_key(agreement_id: str, version: int, artifact: str) -> str:
    return f"agreements/{agreement_id}/v{version}/{artifact}"


def check_key(key: str) -> PurePosixPath:
    """The key as path parts; every backend accepts the same keys so archives stay portable."""
    path = PurePosixPath(key)
    parts = path.parts
    # S3 keeps "a//b" and "a/./b" apart from "a/b" while a folder cannot: only canonical keys
    if not parts or str(path) != key or any(p in ("..", "") or p.startswith("/") for p in parts):
        raise ArchiveError(f"invalid archive key {key!r}")
    return path


@runtime_checkable
class Archive(Protocol):
    name: str

    def put(
        self,
        key: str,
        data: bytes,
        sha256: str,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> StoredObject:
        """Store data under key once; ObjectExists if the key is taken, ArchiveError otherwise."""
        ...

    def get(self, key: str, version_id: str | None = None) -> bytes:
        """The bytes under key: of `version_id` where the store keeps versions, else the
        latest. ObjectMissing when there is no such object (or version)."""
        ...

    def stream(
        self, key: str, chunk_size: int = 65536, version_id: str | None = None
    ) -> Iterator[bytes]: ...

    def check(self) -> None:
        """Raise ArchiveError when the archive cannot be used."""

    def head(self, key: str, version_id: str | None = None) -> StoredObject | None:
        """What is stored under key (size, SHA-256 as the store reports it, version), or None
        when nothing is; the latest version unless `version_id` is given."""
        ...

    def list_keys(self, prefix: str = "agreements/") -> list[str]:
        """Every stored key starting with prefix, sorted."""
        ...

    def describe(self) -> dict[str, Any]:
        """Where and how objects are kept, for /ready."""
        ...
