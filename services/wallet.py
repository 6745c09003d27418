"""Wallet: transfers and deposits. Every balance change is a conditional UPDATE inside a
transaction plus a ledger entry, so no money is created, lost, or left half-moved."""

from __future__ import annotations

from decimal import Decimal

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.user import User
from models.wallet import LedgerEntry, LedgerKind, Transfer
from services import idempotency
from services.errors import InsufficientFunds, NotFound
from services.money import check_amount
from services.sanitize import sanitize_line
from services.validation import Problems

NOTE_MAX = 280
TRANSFER = "transfer"


async def debit(user_id: int, cents: int) -> None:
    """Take ``cents`` from the wallet, or INSUFFICIENT_FUNDS (never a negative balance)."""
    taken = await User.filter(id=user_id, balance_cents__gte=cents).update(
        balance_cents=F("balance_cents") - cents
    )
    if not taken:
        raise InsufficientFunds("The wallet balance does not cover this amount")


async def credit(user_id: int, cents: int) -> None:
    await User.filter(id=user_id).update(balance_cents=F("balance_cents") + cents)


async def transfer(
    sender: User, receiver_id: int, amount: Decimal, note: str | None, key: str
) -> Transfer:
    problems = Problems()
    cents = check_amount(problems, "input.amount", amount)
    clean_note = (sanitize_line(note) or None) if note else None
    if clean_note and len(clean_note) > NOTE_MAX:
        problems.add("input.note", f"Note must be at most {NOTE_MAX} characters long")
    key = idempotency.check_key(problems, "input.idempotencyKey", key)
    if receiver_id == sender.id:
        problems.add("input.toUserId", "You cannot transfer to yourself")
    problems.raise_if_any()

    request_hash = idempotency.payload_hash([receiver_id, cents, clean_note])
    if (
        replay := await idempotency.find_replay(sender.id, TRANSFER, key, request_hash)
    ) is not None:
        return await Transfer.get(id=replay)
    try:
        async with in_transaction():
            record = await idempotency.claim(sender.id, TRANSFER, key, request_hash)
            if not await User.filter(id=receiver_id, deleted_at=None).exists():
                raise NotFound("The receiving user does not exist", field="input.toUserId")
            # The two rows are updated in id order, so crossing transfers (A→B, B→A)
            # cannot deadlock on PostgreSQL; a failed debit rolls the credit back.
            if sender.id < receiver_id:
                await debit(sender.id, cents)
                await credit(receiver_id, cents)
            else:
                await credit(receiver_id, cents)
                await debit(sender.id, cents)
            made = await Transfer.create(
                sender_id=sender.id, receiver_id=receiver_id, amount_cents=cents, note=clean_note
            )
            await LedgerEntry.bulk_create(
                [
                    LedgerEntry(
                        user_id=sender.id,
                        kind=LedgerKind.TRANSFER_OUT,
                        amount_cents=-cents,
                        transfer_id=made.id,
                    ),
                    LedgerEntry(
                        user_id=receiver_id,
                        kind=LedgerKind.TRANSFER_IN,
                        amount_cents=cents,
                        transfer_id=made.id,
                    ),
                ]
            )
            record.result_id = made.id
            await record.save(update_fields=["result_id"])
    except idempotency.KeyTaken:
        replay = await idempotency.find_replay(sender.id, TRANSFER, key, request_hash)
        assert replay is not None
        return await Transfer.get(id=replay)
    return made


async def deposit(user_id: int, amount: Decimal) -> User:
    problems = Problems()
    cents = check_amount(problems, "amount", amount)
    problems.raise_if_any()
    async with in_transaction():
        if not await User.filter(id=user_id, deleted_at=None).exists():
            raise NotFound("User not found")
        await credit(user_id, cents)
        await LedgerEntry.create(user_id=user_id, kind=LedgerKind.DEPOSIT, amount_cents=cents)
    return await User.get(id=user_id)
