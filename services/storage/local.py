"""The local-directory backend (the default): objects are files under one directory, and
the app serves them at ``/files/{key}`` behind an expiring HMAC-signed URL
(``server/files_route.py``).

Layout: ``<root>/<first two characters of the key>/<key>``; uploads are written to
``<root>/.partial/`` first and renamed into place, so an object is whole or absent.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlencode

from services.storage.base import (
    CHUNK_SIZE,
    DirectUploadUnsupported,
    ObjectInfo,
    PresignedPut,
    StorageError,
    is_valid_key,
)
from services.storage.media import SNIFF_BYTES, sniff

PARTIAL_DIR = ".partial"
DOWNLOAD_PATH = "/files/"
# Expiry times are rounded up to this step, so a file's URL stays the same for a while and
# browsers and CDNs can cache it (the URL then lives between ttl and ttl + step).
EXPIRY_STEP_SECONDS = 300
OCTET_STREAM = "application/octet-stream"


def derive_url_key(secret: str) -> bytes:
    """The URL-signing key: derived from a server secret, used for nothing else."""
    return hmac.new(secret.encode(), b"agora:file-download-url:v1", hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class SignedDownload:
    """What a download URL carries; the signature covers every other field."""

    key: str
    expires: int
    filename: str
    content_type: str

    def message(self) -> bytes:
        # JSON keeps the fields apart: no value can be shifted into its neighbour.
        return json.dumps([self.key, self.expires, self.filename, self.content_type]).encode()


class LocalStorage:
    name = "local"

    def __init__(
        self,
        root: Path | str,
        *,
        base_url: str,
        signing_key: bytes,
        previous_signing_keys: tuple[bytes, ...] = (),
    ) -> None:
        self.root = Path(root).resolve()
        self.base_url = base_url.rstrip("/")
        self._signing_key = signing_key
        # Keys of REFRESH_TOKEN_PREVIOUS_SECRETS: URLs signed before a rotation still verify.
        self._previous_signing_keys = previous_signing_keys

    async def start(self) -> None:
        await asyncio.to_thread(self._ensure_dirs)

    async def close(self) -> None:
        return None

    def _ensure_dirs(self) -> None:
        (self.root / PARTIAL_DIR).mkdir(parents=True, exist_ok=True)

    def path_for(self, key: str) -> Path:
        if not is_valid_key(key):
            raise FileNotFoundError(key)
        return self.root / key[:2] / key

    # --- objects -----------------------------------------------------------------------

    async def put(self, key: str, source: BinaryIO, *, size: int, content_type: str) -> None:
        await asyncio.to_thread(self._put, key, source, size)

    def _put(self, key: str, source: BinaryIO, size: int) -> None:
        target = self.path_for(key)
        self._ensure_dirs()
        partial = self.root / PARTIAL_DIR / f"{key}.{uuid.uuid4().hex}"
        try:
            written = 0
            with partial.open("xb") as out:
                while chunk := source.read(min(CHUNK_SIZE, size - written + 1)):
                    written += len(chunk)
                    if written > size:
                        break
                    out.write(chunk)
            if written != size:
                raise StorageError(f"expected {size} bytes for {key}, the source had {written}")
            target.parent.mkdir(exist_ok=True)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)

    async def stream(self, key: str, *, limit: int | None = None) -> AsyncIterator[bytes]:
        path = self.path_for(key)
        handle = await asyncio.to_thread(path.open, "rb")
        try:
            remaining = limit
            while remaining is None or remaining > 0:
                size = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
                chunk = await asyncio.to_thread(handle.read, size)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def head(self, key: str) -> ObjectInfo | None:
        return await asyncio.to_thread(self._head, key)

    def _head(self, key: str) -> ObjectInfo | None:
        try:
            path = self.path_for(key)
            with path.open("rb") as handle:
                stat = os.fstat(handle.fileno())
                content_type = sniff(handle.read(SNIFF_BYTES)) or OCTET_STREAM
        except FileNotFoundError:
            return None
        return ObjectInfo(
            key=key,
            size=stat.st_size,
            modified_at=datetime.fromtimestamp(stat.st_mtime, UTC),
            content_type=content_type,
        )

    async def delete(self, key: str) -> None:
        if not is_valid_key(key):
            return
        await asyncio.to_thread(self.path_for(key).unlink, missing_ok=True)

    async def objects(self) -> AsyncIterator[ObjectInfo]:
        for info in await asyncio.to_thread(self._list):
            yield info

    def _list(self) -> list[ObjectInfo]:
        found: list[ObjectInfo] = []
        if not self.root.is_dir():
            return found
        for shard in self.root.iterdir():
            if shard.name == PARTIAL_DIR or not shard.is_dir():
                continue
            for path in shard.iterdir():
                if not is_valid_key(path.name):
                    continue
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                found.append(
                    ObjectInfo(
                        key=path.name,
                        size=stat.st_size,
                        modified_at=datetime.fromtimestamp(stat.st_mtime, UTC),
                    )
                )
        return found

    def clear_partials(self, older_than_seconds: float) -> int:
        """Remove upload leftovers of crashed processes; returns how many."""
        removed = 0
        cutoff = time.time() - older_than_seconds
        directory = self.root / PARTIAL_DIR
        for path in directory.iterdir() if directory.is_dir() else ():
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    # --- URLs --------------------------------------------------------------------------

    async def download_url(
        self, key: str, *, filename: str, content_type: str, expires_in: int
    ) -> str:
        expires = -(-(int(time.time()) + expires_in) // EXPIRY_STEP_SECONDS) * EXPIRY_STEP_SECONDS
        return self.signed_url(SignedDownload(key, expires, filename, content_type))

    def signed_url(self, download: SignedDownload) -> str:
        query = urlencode(
            {
                "expires": download.expires,
                "filename": download.filename,
                "type": download.content_type,
                "signature": self.signature(download),
            }
        )
        return f"{self.base_url}{DOWNLOAD_PATH}{download.key}?{query}"

    def signature(self, download: SignedDownload, key: bytes | None = None) -> str:
        message = download.message()
        digest = hmac.new(key or self._signing_key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def verify(self, download: SignedDownload, signature: str, now: float | None = None) -> bool:
        """True when ``signature`` is ours (by the current or a previous key) for exactly
        these fields and not yet expired."""
        supplied = signature.encode()
        if not any(
            hmac.compare_digest(self.signature(download, key).encode(), supplied)
            for key in (self._signing_key, *self._previous_signing_keys)
        ):
            return False
        return download.expires > (time.time() if now is None else now)

    async def presigned_put(
        self, key: str, *, content_type: str, size: int, expires_in: int
    ) -> PresignedPut:
        raise DirectUploadUnsupported("the local storage backend has no direct uploads")
