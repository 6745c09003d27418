"""Idempotency keys: the same (user, operation, key) and payload returns the first result.

Call ``claim`` as the first statement of the operation's transaction. A new key inserts a
record (its unique index serialises concurrent requests with one key); a known key returns
the earlier result id, or CONFLICT when the payload differs.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.wallet import IdempotencyRecord
from services.errors import Conflict
from services.validation import Problems

MAX_KEY_LENGTH = 128


def check_key(problems: Problems, field_path: str, key: str) -> str:
    key = key.strip()
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        problems.add(field_path, f"Idempotency key must be 1 to {MAX_KEY_LENGTH} characters")
    return key


def payload_hash(payload: Any) -> str:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def find_replay(user_id: int, operation: str, key: str, request_hash: str) -> int | None:
    """The result id of an earlier request with this key, or None for a new key."""
    record = await IdempotencyRecord.get_or_none(user_id=user_id, operation=operation, key=key)
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise Conflict(
            "This idempotency key was used with a different request",
            field="input.idempotencyKey",
        )
    if record.result_id is None:
        raise Conflict("A request with this idempotency key is still in progress")
    return int(record.result_id)


async def claim(user_id: int, operation: str, key: str, request_hash: str) -> IdempotencyRecord:
    """Insert the record inside the caller's transaction (a savepoint keeps a duplicate
    from aborting it on PostgreSQL); raises _Replay when the key is already taken."""
    try:
        async with in_transaction():
            return await IdempotencyRecord.create(
                user_id=user_id, operation=operation, key=key, request_hash=request_hash
            )
    except IntegrityError as exc:
        raise KeyTaken from exc


class KeyTaken(Exception):
    """The key was claimed by another (committed or concurrent) request."""
