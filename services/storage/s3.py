"""The S3 backend (``STORAGE_BACKEND=s3``) through aiobotocore: one session and one client
for the process, opened at start-up (or on first use) and closed at shutdown.

Downloads are presigned GET URLs that make S3 answer with ``Content-Disposition:
attachment`` and the detected type. Direct browser uploads are presigned PUT URLs whose
signature covers ``Content-Type`` and ``Content-Length``: S3 refuses a body of another
size or type, and ``confirmUpload`` checks the object again before the file is READY.

Every failure is a ``StorageError`` (the service layer answers SERVICE_UNAVAILABLE), and no
operation outlasts its deadline: ``max_attempts`` x (``connect_timeout`` + ``read_timeout``)
for all its attempts together. aiobotocore's own timeouts do not bound everything: botocore
sends every file-like upload with ``Expect: 100-continue`` and aiohttp (3.14) starts its read
timer only once the body is written, so a put to a server that accepts the connection and
never answers would wait forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.exceptions import BotoCoreError, ClientError

from services.storage.base import CHUNK_SIZE, ObjectInfo, PresignedPut, StorageError
from services.storage.names import content_disposition

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
# What aiobotocore raises when S3 cannot be reached or fails (a body read cut short may also
# surface as aiohttp's own error).
_FAILURES = (BotoCoreError, ClientError, aiohttp.ClientError)

T = TypeVar("T")


_session: AioSession | None = None


def shared_session() -> AioSession:
    """One botocore session for the process: it caches the parsed service models, so
    clients after the first are cheap to create."""
    global _session
    if _session is None:
        _session = get_session()
    return _session


def _is_missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING_CODES


class S3Storage:
    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        region: str,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        max_attempts: int = 2,
    ) -> None:
        self.bucket = bucket
        self.deadline = max_attempts * (connect_timeout + read_timeout)
        self._client_args: dict[str, Any] = {
            "region_name": region,
            "endpoint_url": endpoint_url,
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
            "config": AioConfig(
                signature_version="s3v4",
                # A custom endpoint (MinIO, moto) is usually reached by path, not subdomain.
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                # total_max_attempts counts the first attempt; botocore's max_attempts
                # counts retries only (3 meant four attempts).
                retries={"total_max_attempts": max_attempts, "mode": "standard"},
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                # botocore >= 1.36 adds CRC32 checksums to every upload by default, which
                # some S3-compatible servers refuse: only where an operation requires one.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        }
        self._client: S3Client | None = None
        self._stack: AsyncExitStack | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        await self.client()

    async def close(self) -> None:
        async with self._lock:
            if self._stack is not None:
                await self._stack.aclose()
            self._stack = None
            self._client = None

    async def client(self) -> S3Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                stack = AsyncExitStack()
                self._client = await stack.enter_async_context(
                    shared_session().create_client("s3", **self._client_args)
                )
                self._stack = stack
            return self._client

    async def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (development and tests)."""
        client = await self.client()
        async with self._bounded(f"bucket {self.bucket}"):
            try:
                await client.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if not _is_missing(exc):
                    raise
                await client.create_bucket(Bucket=self.bucket)

    @asynccontextmanager
    async def _bounded(self, what: str) -> AsyncIterator[None]:
        """One operation: within the deadline, and any failure of S3 as a StorageError."""
        try:
            async with asyncio.timeout(self.deadline):
                yield
        except TimeoutError as exc:
            raise StorageError(f"{what}: no answer from S3 within {self.deadline:g} s") from exc
        except _FAILURES as exc:
            raise StorageError(f"{what}: {exc}") from exc

    async def _call(self, what: str, operation: Awaitable[T]) -> T:
        async with self._bounded(what):
            return await operation

    # --- objects -----------------------------------------------------------------------

    async def put(self, key: str, source: BinaryIO, *, size: int, content_type: str) -> None:
        client = await self.client()
        await self._call(
            f"put {key}",
            client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=source,
                ContentLength=size,
                ContentType=content_type,
            ),
        )

    async def stream(self, key: str, *, limit: int | None = None) -> AsyncIterator[bytes]:
        client = await self.client()
        extra: dict[str, Any] = {}
        if limit is not None:
            if limit <= 0:
                return
            extra["Range"] = f"bytes=0-{limit - 1}"
        async with self._bounded(f"get {key}"):
            try:
                response = await client.get_object(Bucket=self.bucket, Key=key, **extra)
            except ClientError as exc:
                if _is_missing(exc):
                    raise FileNotFoundError(key) from exc
                raise
        async with response["Body"] as body:
            chunks = body.iter_chunks(CHUNK_SIZE)
            while True:
                # The deadline covers each read, never the consumer's work between them.
                async with self._bounded(f"get {key}"):
                    chunk = await anext(chunks, None)
                if chunk is None:
                    return
                yield chunk

    async def head(self, key: str) -> ObjectInfo | None:
        client = await self.client()
        async with self._bounded(f"head {key}"):
            try:
                response = await client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if _is_missing(exc):
                    return None
                raise
        return ObjectInfo(
            key=key,
            size=response["ContentLength"],
            content_type=response.get("ContentType") or "application/octet-stream",
            modified_at=response["LastModified"],
        )

    async def delete(self, key: str) -> None:
        client = await self.client()
        await self._call(f"delete {key}", client.delete_object(Bucket=self.bucket, Key=key))

    async def objects(self) -> AsyncIterator[ObjectInfo]:
        client = await self.client()
        pages = aiter(client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket))
        while True:
            async with self._bounded(f"list {self.bucket}"):
                page = await anext(pages, None)
            if page is None:
                return
            for item in page.get("Contents", []):
                yield ObjectInfo(
                    key=item["Key"], size=item["Size"], modified_at=item["LastModified"]
                )

    # --- URLs --------------------------------------------------------------------------

    async def download_url(
        self, key: str, *, filename: str, content_type: str, expires_in: int
    ) -> str:
        client = await self.client()
        # Signed here, without a request to S3 (the credentials may need one, bounded too).
        return await self._call(
            f"presign get {key}",
            client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ResponseContentDisposition": content_disposition(filename),
                    "ResponseContentType": content_type,
                },
                ExpiresIn=expires_in,
            ),
        )

    async def presigned_put(
        self, key: str, *, content_type: str, size: int, expires_in: int
    ) -> PresignedPut:
        client = await self.client()
        url = await self._call(
            f"presign put {key}",
            client.generate_presigned_url(
                "put_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ContentType": content_type,
                    "ContentLength": size,
                },
                ExpiresIn=expires_in,
            ),
        )
        return PresignedPut(
            url=url,
            # Content-Length is signed too; browsers and curl set it from the body.
            headers={"Content-Type": content_type},
            expires_at=datetime.now(UTC) + timedelta(seconds=expires_in),
        )
