"""File uploads, direct uploads, deletion and lookups."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile

from models.files import File, FilePurpose
from models.user import User
from resolvers.invalidation import users_changed
from resolvers.prefetch import current_field, fields_of, prefetch, prefetch_one
from services.errors import BadUserInput
from services.files import DirectUpload, FileService, IncomingFile, can_manage
from vocabulary.context import Info
from vocabulary.relay import int_pk, optional_int_pk


def file_service(info: Info) -> FileService:
    return FileService(info.context.container.storage, info.context.settings)


def incoming(value: object, argument: str) -> IncomingFile:
    """A file part of the multipart request; anything else (a string in JSON variables)
    is refused."""
    if not isinstance(value, UploadFile):
        raise BadUserInput(
            f"`{argument}` must be a file part of a multipart request "
            "(GraphQL multipart request spec)",
            argument=argument,
        )
    return IncomingFile(argument=argument, filename=value.filename, source=value.file)


async def upload_file(info: Info, file: object, purpose: FilePurpose) -> File:
    user = info.context.require_user()
    stored = await file_service(info).upload(user, incoming(file, "file"), purpose)
    await prefetch_one(info, stored)
    return stored


async def upload_files(info: Info, files: list[object], purpose: FilePurpose) -> list[File]:
    user = info.context.require_user()
    service = file_service(info)
    service.check_count(len(files))  # before a single byte is read or stored
    parts = [incoming(value, f"files.{index}") for index, value in enumerate(files)]
    stored = await service.upload_many(user, parts, purpose)
    await prefetch(info, stored, fields_of(current_field(info).selections))
    return stored


async def set_avatar(info: Info, file: object) -> User:
    user = info.context.require_user()
    updated = await file_service(info).set_avatar(user, incoming(file, "file"))
    await users_changed(info, [user.id])
    await prefetch_one(info, updated)
    return updated


async def add_product_image(info: Info, product_id: str, file: object) -> Any:
    user = info.context.require_user()
    product = await file_service(info).add_product_image(
        user, int_pk(product_id, "Product"), incoming(file, "file")
    )
    await prefetch_one(info, product)
    return product


async def create_upload_url(
    info: Info, filename: str, content_type: str, size: int, purpose: FilePurpose
) -> DirectUpload:
    user = info.context.require_user()
    return await file_service(info).create_upload_url(user, filename, content_type, size, purpose)


async def confirm_upload(info: Info, global_id: str) -> File:
    user = info.context.require_user()
    file = await file_service(info).confirm_upload(user, int_pk(global_id, "File"))
    await prefetch_one(info, file)
    return file


async def delete_file(info: Info, global_id: str) -> bool:
    user = info.context.require_user()
    avatar_of = await file_service(info).delete(user, int_pk(global_id, "File"))
    if avatar_of:
        await users_changed(info, avatar_of)
    return True


async def resolve_file(info: Info, global_id: str) -> File | None:
    """A file for its owner or an admin; null for everyone else."""
    file_id = optional_int_pk(global_id, "File")
    if file_id is None:
        return None
    file = await info.context.loaders.files.by_id.load(file_id)
    if file is None or not can_manage(info.context.user, file):
        return None
    await prefetch_one(info, file)
    return file
