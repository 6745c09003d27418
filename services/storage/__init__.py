"""Where uploaded bytes live: the ``Storage`` interface and its backends.

``build_storage(settings)`` picks the backend from ``STORAGE_BACKEND``: ``local`` (a
directory served by the app through signed URLs; the default) or ``s3`` (aiobotocore).
"""

from __future__ import annotations

from core.settings import Settings
from services.storage.base import (
    CHUNK_SIZE,
    DirectUploadUnsupported,
    ObjectInfo,
    PresignedPut,
    Storage,
    StorageError,
    is_valid_key,
    new_key,
)
from services.storage.local import LocalStorage, derive_url_key
from services.storage.s3 import S3Storage


def build_storage(settings: Settings) -> Storage:
    if settings.storage_backend == "s3":
        if not settings.s3_bucket:
            raise ValueError("STORAGE_BACKEND=s3 needs S3_BUCKET")
        return S3Storage(
            settings.s3_bucket,
            region=settings.aws_region,
            endpoint_url=settings.s3_endpoint_url,
            access_key_id=settings.aws_access_key_id,
            secret_access_key=settings.aws_secret_access_key,
            connect_timeout=settings.s3_connect_timeout_seconds,
            read_timeout=settings.s3_read_timeout_seconds,
            max_attempts=settings.s3_max_attempts,
        )
    return LocalStorage(
        settings.storage_local_dir,
        base_url=settings.app_url,
        signing_key=derive_url_key(settings.refresh_signing_secret),
        previous_signing_keys=tuple(
            derive_url_key(secret) for secret in settings.refresh_token_previous_secrets
        ),
    )


__all__ = [
    "CHUNK_SIZE",
    "DirectUploadUnsupported",
    "LocalStorage",
    "ObjectInfo",
    "PresignedPut",
    "S3Storage",
    "Storage",
    "StorageError",
    "build_storage",
    "is_valid_key",
    "new_key",
]
