"""Uploaded files: the row holds metadata; the bytes live in the storage backend."""

from __future__ import annotations

import enum

from tortoise import fields

from models.hydration import FastHydration


class FilePurpose(enum.StrEnum):
    AVATAR = "AVATAR"
    PRODUCT_IMAGE = "PRODUCT_IMAGE"
    ATTACHMENT = "ATTACHMENT"


class FileStatus(enum.StrEnum):
    PENDING = "PENDING"  # a presigned upload not yet confirmed
    READY = "READY"


class File(FastHydration):
    id = fields.BigIntField(primary_key=True)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="files", on_delete=fields.CASCADE
    )
    storage_key = fields.CharField(max_length=255, unique=True)
    filename = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=100)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64, null=True)
    purpose = fields.CharEnumField(FilePurpose, max_length=16)
    status = fields.CharEnumField(FileStatus, max_length=8, default=FileStatus.READY)
    created_at = fields.DatetimeField(auto_now_add=True)

    owner_id: int

    class Meta:
        table = "files"
        indexes = (("owner_id", "created_at"), ("status", "created_at"))


class ProductImage(FastHydration):
    id = fields.BigIntField(primary_key=True)
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="images", on_delete=fields.CASCADE
    )
    file: fields.ForeignKeyRelation[File] = fields.ForeignKeyField(
        "models.File", related_name="product_images", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    product_id: int
    file_id: int

    class Meta:
        table = "product_images"
        unique_together = (("product_id", "file_id"),)


from models.catalogue import Product  # noqa: E402
from models.user import User  # noqa: E402
