"""The wallet through the API: transfers move money atomically with two ledger entries,
never to oneself, never below zero, idempotently; the transfers list shows only the
caller's own; deposits are for admins; balances are Decimals with two decimals, visible to
the owner and admins only."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from models.user import Role, User
from models.wallet import IdempotencyRecord, LedgerEntry, LedgerKind, Transfer
from tests import factories
from tests.conftest import data, graphql

TRANSFER = """
mutation($input: TransferInput!) {
  transfer(input: $input) { id amount note from { id balance } to { id balance } }
}
"""
TRANSFERS = """
query { transfers(first: 50) { totalCount nodes { id amount from { id } to { id } } } }
"""
DEPOSIT = """
mutation($userId: ID!, $amount: Decimal!) {
  depositFunds(userId: $userId, amount: $amount) { id balance }
}
"""
BALANCE = "query($id: ID!) { user(id: $id) { balance } }"


# Helpers


def error(response: httpx.Response) -> dict[str, Any]:
    """The one error of a response, with the message merged into its extensions."""
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    return {"message": errors[0]["message"], **errors[0]["extensions"]}


def details(response: httpx.Response) -> dict[str, str]:
    """The VALIDATION_ERROR details as {field: message}."""
    failure = error(response)
    assert failure["code"] == "VALIDATION_ERROR", failure
    return {entry["field"]: entry["message"] for entry in failure["details"]}


def gid(user: User) -> str:
    return factories.gid("User", user.id)


def transfer_id(transfer: Transfer) -> str:
    return factories.gid("Transfer", transfer.id)


async def send(
    client: httpx.AsyncClient,
    sender: User,
    receiver: User | str,
    amount: str | bool,
    key: str = "transfer-1",
    note: str | None = None,
) -> httpx.Response:
    to_user_id = receiver if isinstance(receiver, str) else gid(receiver)
    variables = {
        "input": {"toUserId": to_user_id, "amount": amount, "idempotencyKey": key, "note": note}
    }
    return await graphql(client, TRANSFER, variables, factories.bearer(client, sender))


async def balance(user: User) -> int:
    return (await User.get(id=user.id)).balance_cents  # type: ignore[no-any-return]


async def ledger(user: User) -> list[tuple[LedgerKind, int]]:
    entries = await LedgerEntry.filter(user_id=user.id).order_by("id")
    return [(entry.kind, entry.amount_cents) for entry in entries]


@pytest.fixture
async def alice() -> User:
    return await factories.create_user(name="Alice", balance_cents=10_000)


@pytest.fixture
async def bob() -> User:
    return await factories.create_user(name="Bob", balance_cents=2_000)


@pytest.fixture
async def admin() -> User:
    return await factories.create_user(name="Admin", role=Role.ADMIN)


# Transfers


async def test_a_transfer_moves_money_and_writes_two_ledger_entries(client, alice, bob):
    response = await send(client, alice, bob, "12.50", note="Lunch")

    made = data(response)["transfer"]
    assert made["amount"] == "12.50"
    assert made["note"] == "Lunch"
    # The sender sees their own new balance, not the receiver's.
    assert made["from"] == {"id": gid(alice), "balance": "87.50"}
    assert made["to"] == {"id": gid(bob), "balance": None}
    assert (await balance(alice), await balance(bob)) == (8750, 3250)
    row = await Transfer.get()
    assert made["id"] == transfer_id(row)
    assert (row.sender_id, row.receiver_id, row.amount_cents) == (alice.id, bob.id, 1250)
    entries = await LedgerEntry.filter(transfer_id=row.id).order_by("id")
    assert [(e.user_id, e.kind, e.amount_cents) for e in entries] == [
        (alice.id, LedgerKind.TRANSFER_OUT, -1250),
        (bob.id, LedgerKind.TRANSFER_IN, 1250),
    ]


async def test_the_whole_balance_can_be_sent(client, alice, bob):
    data(await send(client, bob, alice, "20.00"))

    assert (await balance(alice), await balance(bob)) == (12_000, 0)


async def test_the_note_is_stored_without_markup(client, alice, bob):
    made = data(await send(client, alice, bob, "1", note="  <b>Rent</b>   for May "))["transfer"]

    assert made["note"] == "Rent for May"


async def test_a_note_over_280_characters_is_invalid(client, alice, bob):
    response = await send(client, alice, bob, "1.00", note="x" * 281)

    assert details(response) == {"input.note": "Note must be at most 280 characters long"}
    assert await balance(alice) == 10_000


async def test_nobody_can_transfer_to_themself(client, alice):
    response = await send(client, alice, alice, "5.00")

    assert details(response) == {"input.toUserId": "You cannot transfer to yourself"}
    assert await balance(alice) == 10_000
    assert await LedgerEntry.all().count() == 0


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "Amount must be greater than 0"),
        ("0.00", "Amount must be greater than 0"),
        ("-5.00", "Amount must be greater than 0"),
        ("0.001", "Amount must have at most 2 decimals"),
        ("12.345", "Amount must have at most 2 decimals"),
        ("1000000.01", "Amount must be at most 1000000.00"),
        # Beyond what BIGINT cents hold (1E+17 and more) the Decimal scalar refuses it first.
        ("1E+16", "Amount must be at most 1000000.00"),
    ],
)
async def test_an_invalid_amount_is_a_validation_error(client, alice, bob, amount, message):
    response = await send(client, alice, bob, amount)

    assert details(response) == {"input.amount": message}
    assert (await balance(alice), await balance(bob)) == (10_000, 2_000)
    assert await Transfer.all().count() == 0


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("twelve", "'twelve' is not a decimal number"),
        ("NaN", "Decimal must be a finite number"),
        ("Infinity", "Decimal must be a finite number"),
        (True, 'Decimal must be a string such as "12.50"'),
    ],
)
async def test_an_amount_that_is_no_number_is_bad_user_input(client, alice, bob, amount, message):
    """A malformed Decimal is the client's mistake (not an unexpected, masked error)."""
    response = await send(client, alice, bob, amount)

    assert response.status_code == 400
    failure = error(response)
    assert failure["code"] == "BAD_USER_INPUT"
    assert message in failure["message"]
    assert await balance(alice) == 10_000


async def test_every_invalid_field_is_reported_at_once(client, alice):
    response = await send(client, alice, alice, "-1", key=" ", note="x" * 300)

    assert details(response) == {
        "input.amount": "Amount must be greater than 0",
        "input.note": "Note must be at most 280 characters long",
        "input.idempotencyKey": "Idempotency key must be 1 to 128 characters",
        "input.toUserId": "You cannot transfer to yourself",
    }


async def test_insufficient_funds_leave_both_balances_untouched(client, alice, bob):
    response = await send(client, bob, alice, "20.01")

    assert error(response)["code"] == "INSUFFICIENT_FUNDS"
    assert (await balance(alice), await balance(bob)) == (10_000, 2_000)
    assert await Transfer.all().count() == 0
    assert await LedgerEntry.all().count() == 0
    # The key was not used up by the failed attempt.
    assert await IdempotencyRecord.all().count() == 0


async def test_an_unknown_receiver_is_not_found(client, alice):
    response = await send(client, alice, factories.gid("User", alice.id + 1000), "5.00")

    assert error(response)["code"] == "NOT_FOUND"
    assert await balance(alice) == 10_000
    assert await LedgerEntry.all().count() == 0


async def test_a_deleted_receiver_is_not_found(client, alice, bob, admin):
    deleted = data(
        await graphql(
            client,
            "mutation($id: ID!) { deleteUser(id: $id) }",
            {"id": gid(bob)},
            factories.bearer(client, admin),
        )
    )
    assert deleted == {"deleteUser": True}

    response = await send(client, alice, bob, "5.00")

    assert error(response)["code"] == "NOT_FOUND"
    assert await balance(alice) == 10_000


async def test_a_receiver_id_of_another_type_is_bad_user_input(client, alice):
    response = await send(client, alice, factories.gid("Product", 1), "5.00")

    assert error(response)["code"] == "BAD_USER_INPUT"


async def test_a_replay_returns_the_first_transfer_and_moves_money_once(client, alice, bob):
    first = data(await send(client, alice, bob, "12.50", key="rent-may", note="Rent"))

    again = data(await send(client, alice, bob, "12.50", key="rent-may", note="Rent"))

    assert again["transfer"]["id"] == first["transfer"]["id"]
    assert again["transfer"]["amount"] == "12.50"
    assert (await balance(alice), await balance(bob)) == (8750, 3250)
    assert await Transfer.all().count() == 1
    assert await LedgerEntry.all().count() == 2


async def test_the_same_key_with_another_amount_is_a_conflict(client, alice, bob):
    data(await send(client, alice, bob, "12.50", key="rent-may"))

    response = await send(client, alice, bob, "12.51", key="rent-may")

    assert error(response)["code"] == "CONFLICT"
    assert (await balance(alice), await balance(bob)) == (8750, 3250)
    assert await Transfer.all().count() == 1


async def test_the_same_key_to_another_receiver_is_a_conflict(client, alice, bob):
    carol = await factories.create_user(name="Carol")
    data(await send(client, alice, bob, "12.50", key="rent-may"))

    response = await send(client, alice, carol, "12.50", key="rent-may")

    assert error(response)["code"] == "CONFLICT"
    assert await balance(carol) == 0


async def test_the_same_key_is_free_for_another_sender(client, alice, bob):
    carol = await factories.create_user(name="Carol")
    data(await send(client, alice, carol, "1.00", key="gift"))

    data(await send(client, bob, carol, "1.00", key="gift"))

    assert await balance(carol) == 200
    assert await Transfer.all().count() == 2


async def test_transfers_lists_what_the_caller_sent_or_received_only(client, alice, bob):
    carol = await factories.create_user(name="Carol", balance_cents=5_000)
    sent = data(await send(client, alice, bob, "1.00", key="a"))["transfer"]
    received = data(await send(client, carol, alice, "2.00", key="b"))["transfer"]
    data(await send(client, bob, carol, "3.00", key="c"))  # neither from nor to Alice

    response = await graphql(client, TRANSFERS, headers=factories.bearer(client, alice))

    listed = data(response)["transfers"]
    assert listed["totalCount"] == 2
    # Newest first.
    assert listed["nodes"] == [
        {
            "id": received["id"],
            "amount": "2.00",
            "from": {"id": gid(carol)},
            "to": {"id": gid(alice)},
        },
        {"id": sent["id"], "amount": "1.00", "from": {"id": gid(alice)}, "to": {"id": gid(bob)}},
    ]


async def test_transfers_need_authentication(client):
    response = await graphql(client, TRANSFERS)

    assert error(response)["code"] == "UNAUTHENTICATED"


# Deposits


async def test_an_admin_deposits_funds(client, alice, admin):
    response = await graphql(
        client, DEPOSIT, {"userId": gid(alice), "amount": "0.05"}, factories.bearer(client, admin)
    )

    assert data(response)["depositFunds"] == {"id": gid(alice), "balance": "100.05"}
    assert await balance(alice) == 10_005
    assert await ledger(alice) == [(LedgerKind.DEPOSIT, 5)]


@pytest.mark.parametrize("role", [Role.USER, Role.MODERATOR])
async def test_only_an_admin_may_deposit(client, alice, role):
    caller = await factories.create_user(role=role)

    response = await graphql(
        client,
        DEPOSIT,
        {"userId": gid(caller), "amount": "50.00"},
        factories.bearer(client, caller),
    )

    assert error(response)["code"] == "FORBIDDEN"
    assert await balance(caller) == 0
    assert await LedgerEntry.all().count() == 0


async def test_an_anonymous_deposit_is_unauthenticated(client, alice):
    response = await graphql(client, DEPOSIT, {"userId": gid(alice), "amount": "50.00"})

    assert error(response)["code"] == "UNAUTHENTICATED"
    assert await balance(alice) == 10_000


@pytest.mark.parametrize(
    ("amount", "message"),
    [("0", "Amount must be greater than 0"), ("1.005", "Amount must have at most 2 decimals")],
)
async def test_a_deposit_of_an_invalid_amount_is_a_validation_error(
    client, alice, admin, amount, message
):
    response = await graphql(
        client, DEPOSIT, {"userId": gid(alice), "amount": amount}, factories.bearer(client, admin)
    )

    assert details(response) == {"amount": message}
    assert await balance(alice) == 10_000


async def test_a_deposit_to_an_unknown_user_is_not_found(client, admin):
    response = await graphql(
        client,
        DEPOSIT,
        {"userId": factories.gid("User", admin.id + 1000), "amount": "5.00"},
        factories.bearer(client, admin),
    )

    assert error(response)["code"] == "NOT_FOUND"
    assert await LedgerEntry.all().count() == 0


# Balances


@pytest.mark.parametrize(
    ("cents", "shown"), [(1250, "12.50"), (0, "0.00"), (5, "0.05"), (100_000_000, "1000000.00")]
)
async def test_the_owner_sees_the_balance_with_two_decimals(client, cents, shown):
    owner = await factories.create_user(balance_cents=cents)

    response = await graphql(client, BALANCE, {"id": gid(owner)}, factories.bearer(client, owner))

    assert data(response)["user"] == {"balance": shown}


async def test_an_admin_sees_any_balance(client, alice, admin):
    response = await graphql(client, BALANCE, {"id": gid(alice)}, factories.bearer(client, admin))

    assert data(response)["user"] == {"balance": "100.00"}


@pytest.mark.parametrize("role", [Role.USER, Role.MODERATOR, None])
async def test_nobody_else_sees_a_balance(client, alice, role):
    headers = factories.bearer(client, await factories.create_user(role=role)) if role else None

    response = await graphql(client, BALANCE, {"id": gid(alice)}, headers)

    assert data(response)["user"] == {"balance": None}


async def test_the_ledger_explains_every_balance(client, alice, bob, admin):
    """With wallets funded only by deposits, every balance after transfers in all
    directions is the sum of its ledger entries, and no money was created or lost."""
    await User.filter(id__in=[alice.id, bob.id]).update(balance_cents=0)
    carol = await factories.create_user(name="Carol")
    admin_headers = factories.bearer(client, admin)
    for user, amount in ((alice, "50.00"), (bob, "20.00"), (carol, "0.99")):
        data(await graphql(client, DEPOSIT, {"userId": gid(user), "amount": amount}, admin_headers))
    moves = [(alice, bob, "12.34"), (bob, carol, "30.00"), (carol, alice, "7.77")]
    for number, (sender, receiver, amount) in enumerate(moves):
        data(await send(client, sender, receiver, amount, key=f"move-{number}"))
    failed = await send(client, carol, bob, "1000.00", key="too-much")
    assert error(failed)["code"] == "INSUFFICIENT_FUNDS"

    users = await User.filter(id__in=[alice.id, bob.id, carol.id]).order_by("id")
    assert [user.balance_cents for user in users] == [
        5000 - 1234 + 777,
        2000 + 1234 - 3000,
        99 + 3000 - 777,
    ]
    for user in users:
        assert user.balance_cents == sum(amount for _, amount in await ledger(user))
    assert sum(user.balance_cents for user in users) == 5000 + 2000 + 99
