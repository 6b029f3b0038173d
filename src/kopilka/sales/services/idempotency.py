"""Exactly once per (register, Idempotency-Key): a retry gets the first answer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction

from .. import sql
from ..exceptions import (
    IdempotencyConflict,
    IdempotencyKeyRequired,
)
from ..models import IdempotencyRecord


def request_hash(operation: str, data, extra: dict | None = None) -> str:
    payload = {"operation": operation, "body": data.model_dump(mode="json"), **(extra or {})}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _replay(register, key: str, request_hash: str) -> dict | None:
    record = IdempotencyRecord.objects.filter(register=register, key=key).first()
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise IdempotencyConflict(key=key)
    return record.response_body


def idempotent(
    *, register, key: str | None, operation: str, request_hash: str, book: Callable[[], dict]
) -> dict:
    """Run `book` once per (register, key): a retry with the same request gets the first
    response; the same key with another request is a conflict.

    The key's row is inserted first, in the booking's own transaction, so a concurrent retry
    waits on the unique index until the first one commits and then replays its response.
    """
    if not key or len(key) > 128:
        raise IdempotencyKeyRequired()
    # No read first: nearly every key is new, and a retry's insert fails on the unique index
    # (after waiting for the first request to commit), which sends it to the replay below.
    try:
        with transaction.atomic():
            record = IdempotencyRecord(
                register=register, key=key, operation=operation, request_hash=request_hash
            )
            sql.insert_record(record)
            body = book()
            sql.store_response(record, 201, body)
            return body
    except IntegrityError:
        replayed = _replay(register, key, request_hash)
        if replayed is not None:
            return replayed
        raise
