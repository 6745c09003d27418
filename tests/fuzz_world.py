"""The small fixed database the fuzz tests run against, so generated requests find real
rows and resolvers do real work: the same rows with the same ids every time it is built.

``seed_scale(20)``: 20 users (the active demo accounts first: admin 1, moderator 2, uma 3,
bo 4, cy 5; password ``Agora-demo-1``), 10 products, 20 posts in every status with tags and
~100 comments, orders in every status, transfers and their ledger; plus notifications, a
device and files, which the scale seed does not make.
"""

from __future__ import annotations

from models.files import File, FilePurpose, FileStatus, ProductImage
from models.notifications import Device, DevicePlatform, Notification, NotificationKind
from models.user import User
from services.passwords import PasswordHasher
from services.seed import seed_scale
from tests.tables import delete_all_rows

WORLD_POSTS = 20
ADMIN_ID = 1
MODERATOR_ID = 2
USER_ID = 3  # uma, a USER with orders, transfers, notifications and files
# Primary keys that exist for most types (comments and ledger entries go further).
MAX_WORLD_PK = 25


async def build_world(hasher: PasswordHasher) -> None:
    """Replace whatever the database holds with the fuzz world."""
    await delete_all_rows()
    await seed_scale(WORLD_POSTS, hasher)
    await Notification.bulk_create(
        [
            Notification(
                user_id=user_id,
                kind=kind,
                title=f"{kind.value.title()} for user {user_id}",
                body="Something happened.",
                data={"orderId": "T3JkZXI6MQ=="},
            )
            for user_id in (USER_ID, ADMIN_ID)
            for kind in (NotificationKind.WELCOME, NotificationKind.ORDER_UPDATED)
        ]
    )
    await Device.create(user_id=USER_ID, token="device-token-uma", platform=DevicePlatform.IOS)
    owner = await User.get(id=USER_ID)
    await File.bulk_create(
        [
            _file(owner.id, "attachment", FilePurpose.ATTACHMENT, FileStatus.READY),
            _file(owner.id, "pending", FilePurpose.ATTACHMENT, FileStatus.PENDING),
            _file(ADMIN_ID, "product", FilePurpose.PRODUCT_IMAGE, FileStatus.READY),
        ]
    )
    image = await File.get(storage_key="fuzz-product")
    await ProductImage.create(product_id=1, file_id=image.id)


def _file(owner_id: int, name: str, purpose: FilePurpose, status: FileStatus) -> File:
    return File(
        owner_id=owner_id,
        storage_key=f"fuzz-{name}",
        filename=f"{name}.png",
        content_type="image/png",
        size=68,
        sha256="0" * 64,
        purpose=purpose,
        status=status,
    )
