"""File, PresignedUpload and the inputs and enums of uploads."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from models.files import File as FileModel
from models.files import FilePurpose, FileStatus
from resolvers.prefetch import prefetched, to_one
from resolvers.relations import users_by_id
from services.files import FileService
from vocabulary.cache_hints import FILE_MAX_AGE, FILE_URL_MAX_AGE, cache_control
from vocabulary.context import Info
from vocabulary.relay import Node, to_global_id
from vocabulary.type_checks import decided_by_class

if TYPE_CHECKING:
    from schema.types.user import User

UserRef = Annotated["User", strawberry.lazy("schema.types.user")]

strawberry.enum(
    FilePurpose,
    name="FilePurpose",
    description="What a file is for: AVATAR and PRODUCT_IMAGE accept images only.",
)
strawberry.enum(
    FileStatus,
    name="FileStatus",
    description="PENDING: a direct upload not confirmed yet (confirmUpload); READY: stored.",
)


@strawberry.type(
    name="File",
    description=(
        "An uploaded file. Its type is recognised from its bytes; its bytes live under a "
        "random key; `filename` is the client's name, sanitised."
    ),
    directives=[cache_control(max_age=FILE_MAX_AGE)],
)
class File(Node):
    filename: str = strawberry.field(description="The client's name, sanitised.")
    content_type: str = strawberry.field(description="Detected from the bytes, not the client.")
    size: int = strawberry.field(description="Bytes.")
    purpose: FilePurpose
    status: FileStatus = strawberry.field(
        description="An addition to the contract: PENDING until a direct upload is confirmed."
    )
    created_at: datetime

    @classmethod
    @decided_by_class
    def is_type_of(cls, obj: object, _info: object) -> bool:
        return isinstance(obj, (FileModel, cls))

    @strawberry.field  # type: ignore[misc]
    def id(self, root: strawberry.Parent[FileModel]) -> strawberry.ID:  # type: ignore[override]
        return to_global_id("File", root.id)

    @strawberry.field(
        description=(
            "An expiring download URL (FILE_URL_TTL_SECONDS): served by the app with the "
            "local backend, a presigned GET with S3. Always an attachment."
        ),
        directives=[cache_control(max_age=FILE_URL_MAX_AGE)],
    )
    async def url(self, root: strawberry.Parent[FileModel], info: Info) -> str:
        context = info.context
        return await FileService(context.container.storage, context.settings).url(root)

    @strawberry.field(metadata=prefetched(to_one("owner_id", users_by_id)))
    async def owner(self, root: strawberry.Parent[FileModel], info: Info) -> UserRef:
        return await info.context.loaders.users.by_id.load(root.owner_id)  # type: ignore[return-value]


@strawberry.type(description="Where a browser uploads a file directly (S3 backend only).")
class PresignedUpload:
    file: File = strawberry.field(description="PENDING until confirmUpload checks the object.")
    upload_url: str = strawberry.field(description="PUT the bytes here.")
    headers: JSON = strawberry.field(
        description=(
            "Headers the PUT must carry, exactly (Content-Type). Content-Length is signed "
            "too: the body must be `size` bytes."
        )
    )
    expires_at: datetime


@strawberry.input(description="A direct upload to announce: the object must match it.")
class CreateUploadUrlInput:
    filename: str
    content_type: str
    size: int
    purpose: FilePurpose
