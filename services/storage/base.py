"""The storage interface: where the bytes of uploaded files live.

Keys are random (``new_key``), never derived from a client's filename. A backend stores an
object with ``put`` (streamed from a file object), reads it with ``stream``, describes it
with ``head``, removes it with ``delete`` (a missing object is not an error) and hands out
expiring download URLs with ``download_url``. ``presigned_put`` exists only where clients
can upload directly (S3); the others raise ``DirectUploadUnsupported``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, Protocol, runtime_checkable

CHUNK_SIZE = 64 * 1024

# 32 random bytes, URL-safe base64: 43 characters of [A-Za-z0-9_-].
_KEY = re.compile(r"^[A-Za-z0-9_-]{32,128}$")


def new_key() -> str:
    """A fresh random object key (256 bits)."""
    return secrets.token_urlsafe(32)


def is_valid_key(key: str) -> bool:
    """Keys are plain tokens: no separators, dots or anything a path could be built from."""
    return bool(_KEY.match(key))


class StorageError(Exception):
    """The backend failed (I/O, network, the service); the caller decides what to keep."""


class DirectUploadUnsupported(StorageError):
    """This backend cannot hand clients a URL to upload to."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    key: str
    size: int
    modified_at: datetime
    content_type: str | None = None  # None in listings


@dataclass(frozen=True, slots=True)
class PresignedPut:
    """Where and how a client uploads: PUT ``url`` with exactly these ``headers``."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    expires_at: datetime | None = None


@runtime_checkable
class Storage(Protocol):
    name: str

    async def start(self) -> None:
        """Open connections (called at start-up; backends also open lazily)."""

    async def close(self) -> None:
        """Release connections (called at shutdown)."""

    async def put(self, key: str, source: BinaryIO, *, size: int, content_type: str) -> None:
        """Store ``size`` bytes read from ``source`` (positioned at the start) under ``key``.
        The object appears whole or not at all."""

    def stream(self, key: str, *, limit: int | None = None) -> AsyncIterator[bytes]:
        """The object's bytes in chunks (at most ``limit`` bytes when given); raises
        ``FileNotFoundError`` if there is no such object."""

    async def head(self, key: str) -> ObjectInfo | None:
        """Size, type and age of an object; None if there is none."""

    async def delete(self, key: str) -> None:
        """Remove an object; removing a missing object succeeds."""

    async def download_url(
        self, key: str, *, filename: str, content_type: str, expires_in: int
    ) -> str:
        """An expiring URL that serves the object as an attachment named ``filename``."""

    async def presigned_put(
        self, key: str, *, content_type: str, size: int, expires_in: int
    ) -> PresignedPut:
        """A URL a client PUTs exactly ``size`` bytes of ``content_type`` to."""

    def objects(self) -> AsyncIterator[ObjectInfo]:
        """Every stored object (for the orphan cleanup)."""
