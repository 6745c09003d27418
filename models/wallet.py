"""Wallet movements: transfers, the ledger, and idempotency records."""

from __future__ import annotations

import enum

from tortoise import fields

from models.hydration import FastHydration


class Transfer(FastHydration):
    id = fields.BigIntField(primary_key=True)
    sender: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="transfers_sent", on_delete=fields.RESTRICT
    )
    receiver: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="transfers_received", on_delete=fields.RESTRICT
    )
    amount_cents = fields.BigIntField()
    note = fields.CharField(max_length=280, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    sender_id: int
    receiver_id: int

    class Meta:
        table = "transfers"
        indexes = (("sender_id", "created_at", "id"), ("receiver_id", "created_at", "id"))


class LedgerKind(enum.StrEnum):
    DEPOSIT = "DEPOSIT"
    TRANSFER_OUT = "TRANSFER_OUT"
    TRANSFER_IN = "TRANSFER_IN"
    ORDER_PAYMENT = "ORDER_PAYMENT"
    ORDER_REFUND = "ORDER_REFUND"
    SALE_PROCEEDS = "SALE_PROCEEDS"


class LedgerEntry(FastHydration):
    """Every balance change, signed, with what caused it. The sum of a user's entries is
    their balance (checked by tests)."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="ledger_entries", on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(LedgerKind, max_length=16)
    amount_cents = fields.BigIntField()
    transfer_id = fields.BigIntField(null=True)
    order_id = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    user_id: int

    class Meta:
        table = "ledger_entries"
        indexes = (("user_id", "created_at"),)


class IdempotencyRecord(FastHydration):
    """The first result of (user, operation, key); a replay returns it."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="idempotency_records", on_delete=fields.CASCADE
    )
    operation = fields.CharField(max_length=32)
    key = fields.CharField(max_length=128)
    request_hash = fields.CharField(max_length=64)
    result_id = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "idempotency_records"
        unique_together = (("user_id", "operation", "key"),)


from models.user import User  # noqa: E402
