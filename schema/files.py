"""The file fields of the Query and Mutation roots (merged in schema.roots).

Uploads follow the GraphQL multipart request spec (with the CSRF header): at most
UPLOAD_MAX_FILES files of UPLOAD_MAX_BYTES each per request, JPEG/PNG/GIF/WebP/PDF
recognised from their bytes.
"""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

from models.files import FilePurpose
from resolvers import files as file_resolvers
from schema.permissions import HasPermission, authenticated, requires
from schema.types.catalogue import Product
from schema.types.files import CreateUploadUrlInput, File, PresignedUpload
from schema.types.user import User
from services.files import MAX_PRODUCT_IMAGES
from vocabulary.cache_hints import VIEWER_ONLY
from vocabulary.context import Info
from vocabulary.directives import cost, list_size
from vocabulary.enums import Permission


@strawberry.type
class FileQuery:
    @strawberry.field(
        description="A file: its owner or an ADMIN; null for everyone else.",
        directives=[VIEWER_ONLY],
    )
    async def file(self, info: Info, id: strawberry.ID) -> File | None:
        return await file_resolvers.resolve_file(info, id)  # type: ignore[return-value]


@strawberry.type
class FileMutation:
    @strawberry.mutation(
        description="Upload one file (multipart request; 5 MB max; type from the bytes).",
        extensions=authenticated(),
    )
    async def upload_file(self, info: Info, file: Upload, purpose: FilePurpose) -> File:
        return await file_resolvers.upload_file(info, file, purpose)  # type: ignore[return-value]

    @strawberry.mutation(
        description=(
            "Upload up to UPLOAD_MAX_FILES (5) files at once: every file is checked before "
            "any is stored, so one bad file stores nothing."
        ),
        extensions=authenticated(),
        directives=[cost(10), list_size(assumed_size=5)],
    )
    async def upload_files(
        self, info: Info, files: list[Upload], purpose: FilePurpose
    ) -> list[File]:
        return await file_resolvers.upload_files(info, cast("list[object]", files), purpose)  # type: ignore[return-value]

    @strawberry.mutation(
        description="Set your avatar (an image); the previous one is deleted.",
        extensions=authenticated(),
    )
    async def set_avatar(self, info: Info, file: Upload) -> User:
        return await file_resolvers.set_avatar(info, file)  # type: ignore[return-value]

    @strawberry.mutation(
        description=f"Add an image to a product (WRITE_PRODUCTS; at most {MAX_PRODUCT_IMAGES}).",
        extensions=requires(HasPermission(Permission.WRITE_PRODUCTS)),
    )
    async def add_product_image(
        self, info: Info, product_id: strawberry.ID, file: Upload
    ) -> Product:
        return await file_resolvers.add_product_image(info, product_id, file)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description=(
            "S3 backend only: a presigned PUT for a direct browser upload, bound to the "
            "declared size and type. The file stays PENDING until confirmUpload."
        ),
        extensions=authenticated(),
    )
    async def create_upload_url(self, info: Info, input: CreateUploadUrlInput) -> PresignedUpload:
        upload = await file_resolvers.create_upload_url(
            info, input.filename, input.content_type, input.size, input.purpose
        )
        return PresignedUpload(
            file=cast("Any", upload.file),
            upload_url=upload.url,
            headers=JSON(upload.headers),
            expires_at=upload.expires_at,
        )

    @strawberry.mutation(
        description=(
            "An addition to the contract: check a direct upload (size, then the type and "
            "SHA-256 from its bytes) and mark it READY; a mismatch deletes it."
        ),
        extensions=authenticated(),
    )
    async def confirm_upload(self, info: Info, id: strawberry.ID) -> File:
        return await file_resolvers.confirm_upload(info, id)  # type: ignore[return-value]

    @strawberry.mutation(
        description="Delete a file and its stored object: its owner or an ADMIN.",
        extensions=authenticated(),
    )
    async def delete_file(self, info: Info, id: strawberry.ID) -> bool:
        return await file_resolvers.delete_file(info, id)
