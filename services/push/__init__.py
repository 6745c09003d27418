"""Push notifications: a provider interface, a logging backend (default) and FCM HTTP v1
(``PUSH_BACKEND=fcm``). Services never send directly: ``notify`` queues ``send_push``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.push.base import (
    InvalidPushTokenError,
    PushDeliveryError,
    PushMessage,
    PushProvider,
    mask_token,
)
from services.push.fcm import FcmPushProvider, ServiceAccount
from services.push.log import LogPushProvider

if TYPE_CHECKING:
    from core.settings import Settings


def build_push_provider(settings: Settings) -> PushProvider:
    """FCM when ``PUSH_BACKEND=fcm`` (the service-account file is read now, so a bad one
    stops the start-up), else the log. Close it at shutdown."""
    if settings.push_backend == "log":
        return LogPushProvider()
    if not (settings.fcm_project_id and settings.fcm_service_account_file):
        raise ValueError("PUSH_BACKEND=fcm needs FCM_PROJECT_ID and FCM_SERVICE_ACCOUNT_FILE")
    return FcmPushProvider(
        settings.fcm_project_id,
        ServiceAccount.from_file(settings.fcm_service_account_file),
        endpoint=settings.fcm_endpoint,
        token_uri=settings.fcm_token_uri,
        timeout=settings.fcm_timeout_seconds,
    )


__all__ = [
    "FcmPushProvider",
    "InvalidPushTokenError",
    "LogPushProvider",
    "PushDeliveryError",
    "PushMessage",
    "PushProvider",
    "ServiceAccount",
    "build_push_provider",
    "mask_token",
]
