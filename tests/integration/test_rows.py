"""models/rows.py builds, from the rows of a statement written by hand, exactly the instances
``Model.raw`` (Tortoise's own ``_init_from_db`` per row) builds from the same rows, for every
model and column type we use, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from tortoise import Tortoise
from tortoise.models import Model

from core.shortcuts import use_library_shortcuts
from loaders.pages import first_rows_per_parent
from models.audit import AuditAction, AuditLog
from models.auth import RefreshToken
from models.catalogue import Product
from models.files import File, FilePurpose
from models.notifications import Notification, NotificationKind
from models.orders import Order, OrderItem
from models.posts import Comment, Post
from models.rows import fetch_models, hydrator, models_by_ids
from models.user import User
from models.wallet import Transfer
from services.pagination import Ordering
from tests import factories


@pytest.fixture(autouse=True)
def shortcuts_on() -> Iterator[None]:
    """These tests pin the shortcut itself, whatever LIBRARY_SHORTCUTS says (an app built
    earlier in the session sets it process-wide)."""
    from core import shortcuts

    before = shortcuts.enabled
    use_library_shortcuts(True)
    yield
    use_library_shortcuts(before)


async def stock_raw(model: type[Model], sql: str) -> list[Any]:
    """What Tortoise itself builds: ``Model.raw`` with the shortcuts off."""
    use_library_shortcuts(False)
    try:
        return await model.raw(sql)
    finally:
        use_library_shortcuts(True)


def state(instance: Model) -> list[tuple[str, Any, Any, int]]:
    """The instance's attributes in order, each with its tzinfo object and fold when a
    datetime (``==`` ignores both)."""
    return [
        (name, value, getattr(value, "tzinfo", None), getattr(value, "fold", 0))
        for name, value in instance.__dict__.items()
    ]


def select(model: type[Model], pk: int) -> str:
    return f'SELECT * FROM "{model._meta.db_table}" WHERE "id" = {int(pk)}'  # noqa: S608


@pytest.fixture
async def one_of_each(db: None) -> dict[type[Model], int]:
    buyer = await factories.create_user(balance_cents=10_000)
    seller = await factories.create_user()
    await User.filter(id=buyer.id).update(email_verified_at=datetime.now(UTC))
    post = await factories.create_post(seller, tags=["lamps", "diy"])
    comment = await factories.create_comment(post, buyer)
    product = await factories.create_product(seller)
    order = await factories.create_order(buyer, [(product, 2)])
    item = await OrderItem.get(order_id=order.id)
    transfer = await factories.create_transfer(buyer, seller)
    notification = await Notification.create(
        user=buyer, kind=next(iter(NotificationKind)), title="Hi", body="B", data={"a": [1]}
    )
    audit = await AuditLog.create(action=next(iter(AuditAction)), data={"k": "v"})
    token = await RefreshToken.create(
        user=buyer,
        token_hash=uuid.uuid4().hex,
        family_id=uuid.uuid4(),
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    file = await File.create(
        owner=seller,
        storage_key=uuid.uuid4().hex,
        filename="a.png",
        content_type="image/png",
        size=3,
        purpose=next(iter(FilePurpose)),
    )
    return {
        User: buyer.id,
        Post: post.id,
        Comment: comment.id,
        Product: product.id,
        Order: order.id,
        OrderItem: item.id,
        Transfer: transfer.id,
        Notification: notification.id,
        AuditLog: audit.id,
        RefreshToken: token.id,
        File: file.id,
    }


async def test_every_model_of_the_app_is_covered(one_of_each):
    models = {m for m in Tortoise.apps["models"].values() if m.__name__ != "Aerich"}
    without_rows = {"PostTag", "OneTimeToken", "LedgerEntry", "IdempotencyRecord"}
    without_rows |= {"Device", "ProductImage"}

    assert {m.__name__ for m in models - set(one_of_each)} <= without_rows


async def test_a_row_becomes_the_instance_model_raw_builds(one_of_each):
    for model, pk in one_of_each.items():
        fast = await fetch_models(model, select(model, pk))
        stock = await stock_raw(model, select(model, pk))

        assert [state(one) for one in fast] == [state(one) for one in stock], model


async def test_a_column_that_is_no_field_is_left_out_as_model_raw_does(one_of_each):
    post = await Post.get(id=one_of_each[Post])
    for _ in range(3):
        await factories.create_comment(post, await User.get(id=one_of_each[User]))

    grouped = await first_rows_per_parent(
        Comment, "post_id", [post.id], Ordering("created_at", False), 2
    )
    use_library_shortcuts(False)
    stock = await first_rows_per_parent(
        Comment, "post_id", [post.id], Ordering("created_at", False), 2
    )

    assert [state(one) for one in grouped[post.id]] == [state(one) for one in stock[post.id]]
    assert all("row_rank" not in comment.__dict__ for comment in grouped[post.id])


async def test_a_row_missing_a_field_is_partial_as_model_raw_makes_it(one_of_each):
    sql = f'SELECT "id", "title" FROM "posts" WHERE "id" = {one_of_each[Post]}'  # noqa: S608

    (fast,) = await fetch_models(Post, sql)
    (stock,) = await stock_raw(Post, sql)

    assert fast._partial
    assert state(fast) == state(stock)


async def test_no_row_is_no_instance(db):
    assert await fetch_models(Post, 'SELECT * FROM "posts"') == []


async def test_a_fetched_instance_saves_like_a_loaded_one(one_of_each):
    (post,) = await fetch_models(Post, select(Post, one_of_each[Post]))
    post.title = "Renamed"
    await post.save(update_fields=["title"])

    assert (await Post.get(id=post.id)).title == "Renamed"


async def test_models_by_ids_reads_those_rows_and_no_other(one_of_each):
    users = await User.all().order_by("id")

    found = await models_by_ids(User, [users[1].id, users[1].id, 10**9])

    assert [state(user) for user in found] == [state(users[1])]


async def test_no_ids_is_no_statement(db, sql_statements):
    sql_statements.reset()

    assert await models_by_ids(User, []) == []
    assert sql_statements.statements == []


async def test_with_library_shortcuts_off_no_row_goes_through_the_hydrator(
    one_of_each, monkeypatch: pytest.MonkeyPatch
):
    def refuse(*_: Any) -> None:
        raise AssertionError("the shortcut ran")

    monkeypatch.setattr("models.rows.hydrator", refuse)
    use_library_shortcuts(False)

    (post,) = await fetch_models(Post, select(Post, one_of_each[Post]))

    assert post.id == one_of_each[Post]


def tortoise_built(model: type[Model], row: dict[str, Any]) -> Model:
    return Model._init_from_db.__func__(model, **row)  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize(
    "created_at",
    [
        # asyncpg's timestamptz values are in datetime.timezone.utc (UTC).
        datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC),
        datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC, fold=1),
        datetime(2026, 3, 1, 14, 30, 5, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 3, 1, 12, 30, 5),
        "2026-03-01 12:30:05.123456+00:00",
        None,
    ],
    ids=["utc", "utc-fold", "other-offset", "naive", "text", "null"],
)
def test_a_datetime_value_becomes_the_one_tortoise_would_convert(db, created_at):
    row = {
        "id": 7,
        "post_id": 3,
        "author_id": 5,
        "body": "b",
        "created_at": created_at,
        "row_rank": 1,
    }
    hydrate = hydrator(Comment, tuple(row))
    assert hydrate is not None

    fast, stock = hydrate(tuple(row.values())), tortoise_built(Comment, row)

    assert state(fast) == state(stock)
