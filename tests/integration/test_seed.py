"""Demo data: the demo seed is consistent and idempotent; the scale seed writes the counts
asked for, keeps the same money invariants, and is reproducible."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tortoise import connections
from tortoise.functions import Sum

from core.settings import Settings
from models.catalogue import Product, ProductStatus
from models.orders import Order, OrderItem, OrderStatus
from models.posts import Comment, Post, PostStatus, PostTag
from models.user import Role, User, UserStatus
from models.wallet import LedgerEntry, LedgerKind, Transfer
from services import posts
from services.passwords import PasswordHasher
from services.permissions import Permission, role_has
from services.seed import (
    DEMO_PASSWORD,
    DEMO_USERS,
    SeedReport,
    scale_product_count,
    scale_user_count,
    seed_demo_data,
    seed_scale,
)
from tests.conftest import empty_tables, graphql

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost_kib=8192, parallelism=1)
LOGIN = """
mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { user { email role } }
}
"""


async def assert_money_is_consistent() -> None:
    """Every balance is the sum of its ledger entries (deposits included), none is negative,
    and no money was made or lost: what was deposited is in the wallets, or paid for orders
    not completed yet (the sellers are paid on completion)."""
    ledger = {
        row["user_id"]: row["total"]
        for row in await LedgerEntry.all()
        .annotate(total=Sum("amount_cents"))
        .group_by("user_id")
        .values("user_id", "total")
    }
    users = await User.all()
    for user in users:
        assert user.balance_cents == ledger.get(user.id, 0), user.email
        assert user.balance_cents >= 0, user.email
    deposits = [e.amount_cents for e in await LedgerEntry.filter(kind=LedgerKind.DEPOSIT)]
    in_flight = [order.total_cents for order in await Order.filter(status=OrderStatus.PAID)]
    assert sum(user.balance_cents for user in users) + sum(in_flight) == sum(deposits)


async def assert_orders_match_their_ledger() -> None:
    for order in await Order.all():
        items = await OrderItem.filter(order_id=order.id)
        assert order.total_cents == sum(i.unit_price_cents * i.quantity for i in items)
        entries = await LedgerEntry.filter(order_id=order.id, user_id=order.buyer_id)
        kinds = sorted(entry.kind for entry in entries)
        expected = [LedgerKind.ORDER_PAYMENT]
        if order.status is OrderStatus.CANCELLED:
            expected.append(LedgerKind.ORDER_REFUND)
        assert kinds == sorted(expected), order.id
        proceeds = await LedgerEntry.filter(order_id=order.id, kind=LedgerKind.SALE_PROCEEDS)
        if order.status is OrderStatus.COMPLETED:
            assert sum(entry.amount_cents for entry in proceeds) == order.total_cents
        else:
            assert proceeds == []


async def test_demo_seed_makes_a_consistent_marketplace(db):
    report = await seed_demo_data(CHEAP_HASHER)

    assert report.skipped is None
    users = {user.email: user for user in await User.all()}
    assert set(users) == {demo.email for demo in DEMO_USERS}
    assert {user.role for user in users.values()} == set(Role)
    assert any(user.status is UserStatus.PENDING_VERIFICATION for user in users.values())
    for demo in DEMO_USERS:
        if demo.balance_cents:
            deposits = await LedgerEntry.filter(
                user_id=users[demo.email].id, kind=LedgerKind.DEPOSIT
            )
            assert [entry.amount_cents for entry in deposits] == [demo.balance_cents]
    await assert_money_is_consistent()
    await assert_orders_match_their_ledger()

    assert {order.status for order in await Order.all()} == {
        OrderStatus.PAID,
        OrderStatus.COMPLETED,
        OrderStatus.CANCELLED,
    }
    assert await Transfer.all().count() >= 3
    products = await Product.all().prefetch_related("seller")
    assert {product.status for product in products} == set(ProductStatus)
    assert all(role_has(p.seller.role, Permission.WRITE_PRODUCTS) for p in products)
    assert any(product.stock == 0 for product in products)  # the camera sold out
    assert all(product.stock >= 0 for product in products)

    all_posts = await Post.all()
    assert {post.status for post in all_posts} >= {PostStatus.PUBLISHED, PostStatus.DRAFT}
    assert all(post.tags for post in all_posts)
    assert await PostTag.all().count() == sum(len(post.tags) for post in all_posts)
    commented = await Comment.all().prefetch_related("post")
    assert commented
    assert all(comment.post.status is PostStatus.PUBLISHED for comment in commented)
    assert report.rows == {
        "users": len(users),
        "products": len(products),
        "posts": len(all_posts),
        "post_tags": await PostTag.all().count(),
        "comments": len(commented),
        "orders": await Order.all().count(),
        "order_items": await OrderItem.all().count(),
        "transfers": await Transfer.all().count(),
        "ledger_entries": await LedgerEntry.all().count(),
    }


async def test_demo_seed_runs_once(db):
    first = await seed_demo_data(CHEAP_HASHER)
    second = await seed_demo_data(CHEAP_HASHER)

    assert second.skipped == "the database already has data"
    assert second.rows == {}
    assert await User.all().count() == first.rows["users"]
    assert await Order.all().count() == first.rows["orders"]
    assert await LedgerEntry.all().count() == first.rows["ledger_entries"]
    await assert_money_is_consistent()


async def test_demo_seed_leaves_a_database_with_data_alone(db):
    await User.create(name="Someone", email="someone@example.com", password_hash="x")

    report = await seed_demo_data(CHEAP_HASHER)

    assert report.skipped
    assert await User.all().count() == 1


async def test_demo_accounts_log_in_with_the_documented_password(client):
    await seed_demo_data(CHEAP_HASHER)

    for demo in DEMO_USERS:
        response = await graphql(client, LOGIN, {"email": demo.email, "password": DEMO_PASSWORD})
        body = response.json()
        if demo.status is UserStatus.ACTIVE:
            assert body["data"]["login"]["user"] == {"email": demo.email, "role": demo.role.value}
        else:
            assert body.get("data") is None
            assert body["errors"]


async def test_scale_seed_writes_the_requested_counts(db):
    report = await seed_scale(200, CHEAP_HASHER)

    assert report.skipped is None
    assert await Post.all().count() == 200
    assert await User.all().count() == scale_user_count(200)
    assert await Product.all().count() == scale_product_count(200)
    comments = await Comment.all().count()
    assert 3 * 200 <= comments <= 7 * 200  # about 5 per post
    assert report.rows["posts"] == 200
    assert report.rows["comments"] == comments
    assert report.rows["ledger_entries"] == await LedgerEntry.all().count()
    assert await Order.all().count() == report.rows["orders"] > 0
    assert await Transfer.all().count() == report.rows["transfers"] > 0
    assert await PostTag.all().count() == report.rows["post_tags"]


async def test_scale_seed_keeps_the_invariants(db):
    await seed_scale(200, CHEAP_HASHER)

    await assert_money_is_consistent()
    await assert_orders_match_their_ledger()
    assert await Product.filter(stock__lt=0).count() == 0
    assert await Comment.filter(post__status=PostStatus.DRAFT).count() == 0
    assert {post.status for post in await Post.all()} == set(PostStatus)
    assert {order.status for order in await Order.all()} == {
        OrderStatus.PAID,
        OrderStatus.COMPLETED,
        OrderStatus.CANCELLED,
    }
    sellers = await User.filter(products__id__isnull=False).distinct()
    assert sellers
    assert all(role_has(seller.role, Permission.WRITE_PRODUCTS) for seller in sellers)
    admin = await User.get(email="admin@agora.test")
    assert admin.role is Role.ADMIN
    assert CHEAP_HASHER.verify(admin.password_hash, DEMO_PASSWORD)


async def test_scale_seed_leaves_ids_free_for_new_rows(db):
    await seed_scale(50, CHEAP_HASHER)
    author = await User.get(email="uma@agora.test")

    post = await posts.create_post(author, "After the seed", "A new post.", ["new"], True)
    comment = await posts.add_comment(author, post.id, "And a comment.")

    # On PostgreSQL a sequence left behind the seeded ids would have failed the INSERTs.
    assert post.id > 50  # SQLite may also remember ids of earlier tests
    assert [c.id for c in await Comment.filter(post_id=post.id)] == [comment.id]
    assert await Post.all().count() == 51


async def test_scale_seed_is_reproducible_and_runs_once(db):
    await seed_scale(60, CHEAP_HASHER)
    first = await Post.all().order_by("id").values_list("title", "author_id", "status", "tags")
    again = await seed_scale(60, CHEAP_HASHER)
    assert again.skipped

    await empty_tables()
    await seed_scale(60, CHEAP_HASHER)
    second = await Post.all().order_by("id").values_list("title", "author_id", "status", "tags")
    assert second == first


async def test_scale_must_be_positive(db):
    with pytest.raises(ValueError, match="at least 1"):
        await seed_scale(0, CHEAP_HASHER)


def run_seed(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    settings = frozenset(Settings.model_fields)
    env = {name: value for name, value in os.environ.items() if name.lower() not in settings}
    env.update(
        PYTHONPATH=str(PROJECT_ROOT),
        DATABASE_URL=f"sqlite://{tmp_path / 'seed.sqlite3'}",
        ARGON2_TIME_COST="1",
        ARGON2_MEMORY_COST_KIB="8192",
        ARGON2_PARALLELISM="1",
        LOG_LEVEL="WARNING",
    )
    return subprocess.run(
        [sys.executable, "-m", "server", "seed", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_seed_command_with_scale(tmp_path: Path):
    first = run_seed(tmp_path, "--scale", "40")
    assert first.returncode == 0, first.stderr
    assert "seeded 20 users, 10 products, 40 posts" in first.stdout

    second = run_seed(tmp_path, "--scale", "40")
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "nothing seeded: the database already has data"

    refused = run_seed(tmp_path, "--scale", "0")
    assert refused.returncode == 2
    assert "--scale must be at least 1" in refused.stderr


def test_report_summary_names_every_table():
    report = SeedReport({"users": 2, "posts": 3})
    assert report.summary() == "seeded 2 users, 3 posts"
    assert SeedReport(skipped="why").summary() == "nothing seeded: why"


async def planner_row_estimate(table: str) -> int:
    """The row count the database's planner statistics hold for ``table``."""
    connection = connections.get("default")
    if connection.capabilities.dialect == "postgres":
        rows = await connection.execute_query_dict(
            "SELECT reltuples FROM pg_class WHERE relname = $1", [table]
        )
        return int(rows[0]["reltuples"])
    rows = await connection.execute_query_dict(
        "SELECT stat FROM sqlite_stat1 WHERE tbl = ? LIMIT 1", [table]
    )
    return int(str(rows[0]["stat"]).split()[0]) if rows else -1


async def test_scale_seed_leaves_fresh_planner_statistics(db):
    await seed_scale(200, CHEAP_HASHER)

    assert await planner_row_estimate("posts") == 200
    assert await planner_row_estimate("comments") == await Comment.all().count()
