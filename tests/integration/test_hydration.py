"""models/hydration.py builds exactly the instance Tortoise's own ``_init_from_db`` builds
from the same database row, for every kind of column, and still saves like one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from tortoise import Tortoise, connections
from tortoise.models import Model

from models.catalogue import Product
from models.hydration import FastHydration
from models.orders import Order, OrderItem
from models.posts import Comment, Post
from models.user import User
from models.wallet import Transfer
from tests import factories


async def raw_row(model: type[Model], pk: int) -> dict[str, Any]:
    """The row as the driver returns it (what ``_init_from_db`` receives)."""
    table = model._meta.db_table
    rows: list[dict[str, Any]] = await connections.get("default").execute_query_dict(
        f'SELECT * FROM "{table}" WHERE id = {int(pk)}'  # noqa: S608
    )
    return rows[0]


def tortoise_built(model: type[Model], row: dict[str, Any]) -> Model:
    return Model._init_from_db.__func__(model, **row)  # type: ignore[attr-defined,no-any-return]


@pytest.fixture(autouse=True)
def fast_hydration_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests pin the shortcut itself, whatever LIBRARY_SHORTCUTS says (an app built
    earlier in the session sets it process-wide)."""
    monkeypatch.setattr("core.shortcuts.enabled", True)


@pytest.fixture
async def one_of_each(db: None) -> dict[type[Model], int]:
    buyer = await factories.create_user(balance_cents=10_000)
    seller = await factories.create_user()
    post = await factories.create_post(seller, tags=["lamps", "diy"])
    comment = await factories.create_comment(post, buyer)
    product = await factories.create_product(seller)
    order = await factories.create_order(buyer, [(product, 2)])
    item = await OrderItem.get(order_id=order.id)
    transfer = await factories.create_transfer(buyer, seller)
    return {
        User: buyer.id,
        Post: post.id,
        Comment: comment.id,
        Product: product.id,
        Order: order.id,
        OrderItem: item.id,
        Transfer: transfer.id,
    }


def test_every_model_of_the_app_hydrates_through_fast_hydration(db):
    models = Tortoise.apps["models"].values()

    assert [m.__name__ for m in models if not issubclass(m, FastHydration)] == ["Aerich"]


async def test_a_row_becomes_the_instance_tortoise_would_build(one_of_each):
    for model, pk in one_of_each.items():
        row = await raw_row(model, pk)

        assert model._init_from_db(**row).__dict__ == tortoise_built(model, row).__dict__, model


async def test_a_hydrated_instance_saves_like_a_loaded_one(one_of_each):
    post = Post._init_from_db(**await raw_row(Post, one_of_each[Post]))
    post.title = "Renamed"
    await post.save(update_fields=["title"])

    assert (await Post.get(id=post.id)).title == "Renamed"


async def test_a_partial_row_takes_tortoises_own_path(one_of_each):
    partial = await Post.filter(id=one_of_each[Post]).only("id", "title").first()

    assert partial is not None
    assert partial._partial
    assert partial.title.startswith("Post")


def _datetimes(instance: Model) -> dict[str, tuple[Any, Any, int]]:
    """Each datetime attribute with its tzinfo object and fold (``==`` ignores both)."""
    return {
        name: (value, value.tzinfo, value.fold)
        for name, value in instance.__dict__.items()
        if isinstance(value, datetime)
    }


@pytest.mark.parametrize(
    "created_at",
    [
        datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC),
        datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC, fold=1),
        datetime(2026, 3, 1, 14, 30, 5, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 3, 1, 12, 30, 5),
    ],
    ids=["utc", "utc-fold", "other-offset", "naive"],
)
async def test_a_datetime_column_becomes_the_value_tortoise_would_convert(one_of_each, created_at):
    row = {**await raw_row(Post, one_of_each[Post]), "created_at": created_at}

    fast, stock = Post._init_from_db(**row), tortoise_built(Post, row)

    assert _datetimes(fast) == _datetimes(stock)
    assert fast.__dict__["created_at"].tzinfo is stock.__dict__["created_at"].tzinfo
