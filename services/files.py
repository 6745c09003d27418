"""Uploaded files: the rules every upload passes, and the operations on File rows and the
objects behind them.

Every upload is checked before anything is stored: its size (read in chunks and hashed as
it is read, refused at ``UPLOAD_MAX_BYTES`` + 1 without reading further) and its type,
recognised from the first bytes (JPEG, PNG, GIF, WebP, PDF), never from the name or the
client's content type. The bytes come from Starlette's spool (memory up to 1 MB, then a
temporary file), so no upload is ever held whole in memory. Objects get random keys; the
client's filename is sanitised and kept only as metadata.

Consistency between rows and objects: an object is written before its row, and a row is
removed before its object. Whatever fails in between, the worst case is an object without
a row, which ``cleanup_orphans`` removes once it is a day old (as it removes PENDING rows
of direct uploads never confirmed). A storage that fails while a request needs it is
SERVICE_UNAVAILABLE (services/storage/unavailable.py); one that fails while an object is
only being removed leaves an orphan for the cleanup, and the request succeeds.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

from tortoise.transactions import in_transaction

from core.settings import Settings
from models.catalogue import Product
from models.files import File, FilePurpose, FileStatus, ProductImage
from models.user import Role, User
from services.errors import (
    BadUserInput,
    FieldProblem,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from services.storage import CHUNK_SIZE, DirectUploadUnsupported, LocalStorage, Storage, new_key
from services.storage.media import (
    ALLOWED_TYPES,
    EXTENSIONS,
    GIF,
    JPEG,
    PNG,
    SNIFF_BYTES,
    WEBP,
    normalize_media_type,
    sniff,
)
from services.storage.names import sanitize_filename
from services.storage.unavailable import storage_failed, storage_unavailable

logger = logging.getLogger(__name__)

IMAGE_TYPES: frozenset[str] = frozenset({JPEG, PNG, GIF, WEBP})
# Avatars and product images are shown inline by clients: images only. Attachments may
# also be PDF.
TYPES_BY_PURPOSE: dict[FilePurpose, frozenset[str]] = {
    FilePurpose.AVATAR: IMAGE_TYPES,
    FilePurpose.PRODUCT_IMAGE: IMAGE_TYPES,
    FilePurpose.ATTACHMENT: ALLOWED_TYPES,
}
MAX_PRODUCT_IMAGES = 10
ORPHAN_MIN_AGE = timedelta(days=1)
_KEY_BATCH = 500


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:g} MB"


@dataclass(frozen=True, slots=True)
class IncomingFile:
    """One uploaded file part: ``argument`` names it in errors (``file``, ``files.2``)."""

    argument: str
    filename: str | None
    source: BinaryIO


@dataclass(frozen=True, slots=True)
class CheckedUpload:
    incoming: IncomingFile
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class DirectUpload:
    """A PENDING file and where its bytes go (``createUploadUrl``)."""

    file: File
    url: str
    headers: dict[str, str]
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CleanupReport:
    pending_removed: int
    orphans_removed: int
    failures: int


def read_checked(source: BinaryIO, max_bytes: int) -> tuple[int, str, bytes]:
    """Read ``source`` from its start in chunks: (size, SHA-256 hex, first bytes).
    Raises PayloadTooLarge as soon as more than ``max_bytes`` have been read. Blocking:
    run it in a thread."""
    source.seek(0)
    digest = hashlib.sha256()
    size = 0
    head = b""
    while chunk := source.read(CHUNK_SIZE):
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"A file may be at most {_megabytes(max_bytes)}")
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        digest.update(chunk)
    source.seek(0)
    return size, digest.hexdigest(), head


def check_type(detected: str | None, purpose: FilePurpose, **extensions: object) -> str:
    allowed = TYPES_BY_PURPOSE[purpose]
    if detected is None or detected not in allowed:
        names = ", ".join(sorted(EXTENSIONS[t].upper() for t in allowed))
        raise UnsupportedMediaType(
            f"{purpose.value} files must be one of {names} (recognised from the content)",
            **extensions,
        )
    return detected


class FileService:
    def __init__(self, storage: Storage, settings: Settings) -> None:
        self.storage = storage
        self.settings = settings
        self.max_bytes = settings.upload_max_bytes
        self.max_files = settings.upload_max_files

    # --- checking ----------------------------------------------------------------------

    async def check(self, incoming: IncomingFile, purpose: FilePurpose) -> CheckedUpload:
        """Size, hash and type of one upload, before anything is stored."""
        try:
            size, sha256, head = await asyncio.to_thread(
                read_checked, incoming.source, self.max_bytes
            )
        except PayloadTooLarge as exc:
            raise PayloadTooLarge(exc.message, argument=incoming.argument) from exc
        if size == 0:
            raise ValidationFailed([FieldProblem(incoming.argument, "The file is empty")])
        content_type = check_type(sniff(head), purpose, argument=incoming.argument)
        return CheckedUpload(
            incoming=incoming,
            filename=sanitize_filename(
                incoming.filename, default_extension=EXTENSIONS[content_type]
            ),
            content_type=content_type,
            size=size,
            sha256=sha256,
        )

    def check_count(self, count: int, argument: str = "files") -> None:
        if count == 0:
            raise ValidationFailed([FieldProblem(argument, "Send at least one file")])
        if count > self.max_files:
            raise ValidationFailed(
                [FieldProblem(argument, f"At most {self.max_files} files per request, got {count}")]
            )

    async def check_all(
        self, incoming: Sequence[IncomingFile], purpose: FilePurpose, argument: str = "files"
    ) -> list[CheckedUpload]:
        """Every file checked, before any is stored."""
        self.check_count(len(incoming), argument)
        return [await self.check(item, purpose) for item in incoming]

    # --- storing -----------------------------------------------------------------------

    async def _put_objects(self, uploads: Sequence[CheckedUpload]) -> list[str]:
        """Store every object (or none: the ones already stored are removed on failure)."""
        keys: list[str] = []
        try:
            for upload in uploads:
                key = new_key()
                with storage_unavailable(self.storage, "put"):
                    await self.storage.put(
                        key,
                        upload.incoming.source,
                        size=upload.size,
                        content_type=upload.content_type,
                    )
                keys.append(key)
        except BaseException:
            await self._discard_objects(keys)
            raise
        return keys

    async def _discard_objects(self, keys: Sequence[str]) -> None:
        """Best effort: what cannot be removed now is an orphan for ``cleanup_orphans``."""
        for key in keys:
            try:
                await self.storage.delete(key)
            except Exception as exc:  # noqa: BLE001 - any storage fault: an orphan for the cleanup
                storage_failed(
                    self.storage,
                    "delete",
                    "could not remove object %s; left for the orphan cleanup: %s",
                    key,
                    exc,
                )

    @staticmethod
    def _row(owner_id: int, key: str, upload: CheckedUpload, purpose: FilePurpose) -> File:
        return File(
            owner_id=owner_id,
            storage_key=key,
            filename=upload.filename,
            content_type=upload.content_type,
            size=upload.size,
            sha256=upload.sha256,
            purpose=purpose,
            status=FileStatus.READY,
        )

    async def upload(self, owner: User, incoming: IncomingFile, purpose: FilePurpose) -> File:
        return (await self.upload_many(owner, [incoming], purpose, argument="file"))[0]

    async def upload_many(
        self,
        owner: User,
        incoming: Sequence[IncomingFile],
        purpose: FilePurpose,
        argument: str = "files",
    ) -> list[File]:
        """All or nothing: every file is checked before the first is stored."""
        uploads = await self.check_all(incoming, purpose, argument)
        keys = await self._put_objects(uploads)
        try:
            async with in_transaction():
                files = [
                    self._row(owner.id, k, u, purpose) for k, u in zip(keys, uploads, strict=True)
                ]
                for file in files:
                    await file.save()
        except BaseException:
            await self._discard_objects(keys)
            raise
        return files

    async def set_avatar(self, user: User, incoming: IncomingFile) -> User:
        """Store the new avatar, point the user at it, then remove the previous one."""
        (upload,) = await self.check_all([incoming], FilePurpose.AVATAR, "file")
        (key,) = await self._put_objects([upload])
        previous: File | None = None
        try:
            async with in_transaction():
                locked = await User.select_for_update().get(id=user.id)
                file = self._row(user.id, key, upload, FilePurpose.AVATAR)
                await file.save()
                if locked.avatar_id is not None:
                    previous = await File.get_or_none(id=locked.avatar_id)
                await User.filter(id=user.id).update(
                    avatar_id=file.id, updated_at=datetime.now(UTC)
                )
                if previous is not None:
                    await previous.delete()
        except BaseException:
            await self._discard_objects([key])
            raise
        if previous is not None:
            await self._discard_objects([previous.storage_key])
        user.avatar_id = file.id
        return user

    async def add_product_image(
        self, actor: User, product_id: int, incoming: IncomingFile
    ) -> Product:
        product = await Product.get_or_none(id=product_id)
        if product is None:
            raise NotFound("Product not found")
        if await ProductImage.filter(product_id=product_id).count() >= MAX_PRODUCT_IMAGES:
            raise ValidationFailed(
                [FieldProblem("productId", f"A product has at most {MAX_PRODUCT_IMAGES} images")]
            )
        (upload,) = await self.check_all([incoming], FilePurpose.PRODUCT_IMAGE, "file")
        (key,) = await self._put_objects([upload])
        try:
            async with in_transaction():
                file = self._row(actor.id, key, upload, FilePurpose.PRODUCT_IMAGE)
                await file.save()
                await ProductImage.create(product_id=product_id, file_id=file.id)
        except BaseException:
            await self._discard_objects([key])
            raise
        return product

    # --- direct uploads (S3) -----------------------------------------------------------

    async def create_upload_url(
        self, owner: User, filename: str, content_type: str, size: int, purpose: FilePurpose
    ) -> DirectUpload:
        if size < 1:
            raise ValidationFailed([FieldProblem("input.size", "Size must be at least 1 byte")])
        declared = normalize_media_type(content_type)
        check_type(declared, purpose, field="input.contentType")
        if size > self.max_bytes:
            raise PayloadTooLarge(
                f"A file may be at most {_megabytes(self.max_bytes)}", field="input.size"
            )
        key = new_key()
        try:
            with storage_unavailable(self.storage, "presign"):
                presigned = await self.storage.presigned_put(
                    key,
                    content_type=declared,
                    size=size,
                    expires_in=self.settings.file_url_ttl_seconds,
                )
        except DirectUploadUnsupported as exc:
            raise BadUserInput(
                "Direct uploads need the S3 storage backend: upload with the multipart "
                "request (uploadFile) instead"
            ) from exc
        file = await File.create(
            owner_id=owner.id,
            storage_key=key,
            filename=sanitize_filename(filename, default_extension=EXTENSIONS[declared]),
            content_type=declared,
            size=size,
            purpose=purpose,
            status=FileStatus.PENDING,
        )
        expires_at = presigned.expires_at or datetime.now(UTC) + timedelta(
            seconds=self.settings.file_url_ttl_seconds
        )
        return DirectUpload(file, presigned.url, dict(presigned.headers), expires_at)

    async def confirm_upload(self, actor: User, file_id: int) -> File:
        """Check a direct upload (size, then type and hash from the bytes themselves) and
        mark it READY; an object that does not match is removed with its row."""
        file = await self._owned(actor, file_id)
        if file.status is FileStatus.READY:
            return file
        with storage_unavailable(self.storage, "head"):
            info = await self.storage.head(file.storage_key)
        if info is None:
            raise BadUserInput("Nothing has been uploaded for this file yet")
        if info.size != file.size or info.size > self.max_bytes:
            await self._remove(file)
            if info.size > self.max_bytes:
                raise PayloadTooLarge(f"A file may be at most {_megabytes(self.max_bytes)}")
            raise BadUserInput(
                f"The uploaded object has {info.size} bytes, {file.size} were announced"
            )
        digest = hashlib.sha256()
        head = b""
        read = 0
        with storage_unavailable(self.storage, "get"):
            async for chunk in self.storage.stream(file.storage_key, limit=self.max_bytes + 1):
                read += len(chunk)
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                digest.update(chunk)
        if read != file.size:
            await self._remove(file)
            raise BadUserInput(f"The uploaded object has {read} bytes, {file.size} were announced")
        if sniff(head) != file.content_type:
            await self._remove(file)
            raise UnsupportedMediaType(
                f"The uploaded content is not {file.content_type} (recognised from the bytes)"
            )
        await File.filter(id=file.id, status=FileStatus.PENDING).update(
            status=FileStatus.READY, sha256=digest.hexdigest()
        )
        await file.refresh_from_db()
        return file

    # --- reading and removing ----------------------------------------------------------

    async def _owned(self, actor: User, file_id: int) -> File:
        file = await File.get_or_none(id=file_id)
        if file is None:
            raise NotFound("File not found")
        if not can_manage(actor, file):
            raise Forbidden("Only the owner of a file or an admin can do this")
        return file

    async def delete(self, actor: User, file_id: int) -> list[int]:
        """Remove a file: its row first (and the references to it), then its object.
        Returns the ids of users whose avatar it was."""
        file = await self._owned(actor, file_id)
        return await self._remove(file)

    async def remove_all_of(self, owner_id: int) -> int:
        """Every file of an account (its deletion erases personal data); returns how many."""
        files = await File.filter(owner_id=owner_id)
        for file in files:
            await self._remove(file)
        return len(files)

    async def _remove(self, file: File) -> list[int]:
        async with in_transaction():
            avatar_of = [user.id for user in await User.filter(avatar_id=file.id).only("id")]
            if avatar_of:
                await User.filter(id__in=avatar_of).update(avatar_id=None)
            await ProductImage.filter(file_id=file.id).delete()
            await File.filter(id=file.id).delete()
        await self._discard_objects([file.storage_key])
        return avatar_of

    async def url(self, file: File) -> str:
        with storage_unavailable(self.storage, "presign"):
            return await self.storage.download_url(
                file.storage_key,
                filename=file.filename,
                content_type=file.content_type,
                expires_in=self.settings.file_url_ttl_seconds,
            )


def can_manage(viewer: User | None, file: File) -> bool:
    """The owner of a file, or an admin."""
    return viewer is not None and (viewer.id == file.owner_id or viewer.role is Role.ADMIN)


async def cleanup_orphans(
    storage: Storage, older_than: timedelta = ORPHAN_MIN_AGE, *, now: datetime | None = None
) -> CleanupReport:
    """Remove what a failure or an abandoned direct upload left behind, once older than
    ``older_than`` (younger objects may belong to an upload in progress):
    PENDING rows and their objects, then objects that no row refers to. Idempotent."""
    cutoff = (now or datetime.now(UTC)) - older_than
    pending_removed = orphans_removed = failures = 0

    stale = await File.filter(status=FileStatus.PENDING, created_at__lt=cutoff)
    for file in stale:
        try:
            await storage.delete(file.storage_key)
        except Exception as exc:  # noqa: BLE001 - any storage fault: an orphan for the cleanup
            failures += 1
            storage_failed(
                storage, "delete", "cleanup: could not remove object %s: %s", file.storage_key, exc
            )
            continue
        pending_removed += await File.filter(id=file.id, status=FileStatus.PENDING).delete()

    batch: list[str] = []

    async def remove_unreferenced() -> None:
        nonlocal orphans_removed, failures
        rows = await File.filter(storage_key__in=batch).values("storage_key")
        known = {row["storage_key"] for row in rows}
        for key in batch:
            if key in known:
                continue
            try:
                await storage.delete(key)
                orphans_removed += 1
            except Exception as exc:  # noqa: BLE001 - any storage fault: an orphan for the cleanup
                failures += 1
                storage_failed(
                    storage, "delete", "cleanup: could not remove orphaned object %s: %s", key, exc
                )
        batch.clear()

    async for info in storage.objects():
        if info.modified_at < cutoff:
            batch.append(info.key)
            if len(batch) >= _KEY_BATCH:
                await remove_unreferenced()
    if batch:
        await remove_unreferenced()
    if isinstance(storage, LocalStorage):
        await asyncio.to_thread(storage.clear_partials, older_than.total_seconds())

    logger.info(
        "file cleanup: %d pending uploads and %d orphaned objects removed, %d failures",
        pending_removed,
        orphans_removed,
        failures,
        extra={
            "pendingRemoved": pending_removed,
            "orphansRemoved": orphans_removed,
            "failures": failures,
        },
    )
    return CleanupReport(pending_removed, orphans_removed, failures)
