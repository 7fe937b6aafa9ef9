"""The embedded archive: a local folder (default `signed/`), each file written once and read-only."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dpa_service.archive.base import (
    ArchiveError,
    ObjectExists,
    ObjectMissing,
    StoredObject,
    check_key,
)


class LocalArchive:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).parts)

    def put(
        self,
        key: str,
        data: bytes,
        sha256: str,
        content_type: str,
        metadata: Mapping[str, str] | None = None,  # a folder has nowhere to keep it
    ) -> StoredObject:
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ArchiveError(f"checksum mismatch before writing {key}")
        path = self._path(key)
        # unique per attempt: two threads of one worker may write the same key at once
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.link(tmp, path)  # atomic, and fails if the key exists: write-once
            path.chmod(0o444)
            written = path.read_bytes()
        except FileExistsError:
            raise ObjectExists(f"{key} already exists in the archive") from None
        except OSError as exc:  # disk full, permissions: recorded as a failed attempt
            raise ArchiveError(f"cannot write {key}: {exc}") from exc
        finally:
            tmp.unlink(missing_ok=True)
        if hashlib.sha256(written).hexdigest() != sha256:
            raise ArchiveError(f"checksum mismatch after writing {key}")
        return StoredObject(key=key, sha256=sha256, size=len(data))

    def get(self, key: str, version_id: str | None = None) -> bytes:
        # a folder keeps one version of a file: `version_id` is never recorded for it
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ObjectMissing(f"{key} is not in the archive") from None

    def stream(
        self, key: str, chunk_size: int = 65536, version_id: str | None = None
    ) -> Iterator[bytes]:
        path = self._path(key)
        if not path.is_file():
            raise ObjectMissing(f"{key} is not in the archive")

        def chunks() -> Iterator[bytes]:
            with open(path, "rb") as fh:
                while chunk := fh.read(chunk_size):
                    yield chunk

        return chunks()

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArchiveError(f"archive folder {self.root} is not usable: {exc}") from exc
        if not os.access(self.root, os.W_OK):
            raise ArchiveError(f"archive folder {self.root} is not writable")

    def head(self, key: str, version_id: str | None = None) -> StoredObject | None:
        path = self._path(key)
        if not path.is_file():
            return None
        digest = hashlib.sha256()
        size = 0
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        return StoredObject(key=key, sha256=digest.hexdigest(), size=size)

    def list_keys(self, prefix: str = "agreements/") -> list[str]:
        # a prefix need not end at a folder boundary ("agreements/ab" matches "agreements/abc/..."),
        # so walk from the deepest whole folder it names and filter on the full prefix
        folder = prefix.rpartition("/")[0]
        start = self._path(folder) if folder else self.root
        keys: list[str] = []
        for dirpath, _, filenames in os.walk(start):
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                if name.startswith(".") and name.endswith(".tmp"):  # put's .<name>.<pid>.tmp
                    continue
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def describe(self) -> dict[str, Any]:
        return {"folder": str(self.root)}
