"""graphql-core's incremental results as the payloads of one of the two formats.

graphql-core 3.3 emits the graphql-js 17.0.0-alpha.9 format: the initial result announces
``pending`` deliveries (an ``id`` and a ``path``), later payloads carry ``incremental``
entries by ``id`` (with a ``subPath`` below the pending path when the data lies deeper) and
``completed`` ids (with ``errors`` when the whole delivery failed). ``Alpha9Payloads`` passes
it on; ``Defer20220824Payloads`` rewrites it into the older format most clients read:
no ``pending``/``completed``; each deferred fragment as ``{data, path, label}`` at the
fragment's own path (its entries of one payload merged, which is what Relay expects: the
label's selection at the path); streamed items as ``{items, path: [...list, index of the
first item]}``; a failed delivery as ``data: null`` / ``items: null`` with its errors.

Every error goes through the view's formatter (codes, masking, request id).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from graphql import (
    GraphQLError,
    IncrementalDeferResult,
    IncrementalStreamResult,
    InitialIncrementalExecutionResult,
    SubsequentIncrementalExecutionResult,
)
from graphql.execution import CompletedResult, PendingResult

from server.incremental.accept import IncrementalFormat

ErrorFormatter = Callable[[Sequence[GraphQLError]], list[dict[str, Any]]]
Path = list[str | int]


class Payloads(Protocol):
    def initial(
        self, result: InitialIncrementalExecutionResult, extensions: dict[str, Any]
    ) -> dict[str, Any]: ...

    def subsequent(self, result: SubsequentIncrementalExecutionResult) -> dict[str, Any] | None:
        """The payload, or None when it has nothing a client of the format reads."""


def payloads_for(format_: IncrementalFormat, format_errors: ErrorFormatter) -> Payloads:
    if format_ is IncrementalFormat.INCREMENTAL_SPEC_V0_2:
        return Alpha9Payloads(format_errors)
    return Defer20220824Payloads(format_errors)


def _initial(
    result: InitialIncrementalExecutionResult,
    extensions: dict[str, Any],
    format_errors: ErrorFormatter,
) -> dict[str, Any]:
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = format_errors(result.errors)
    payload["hasNext"] = result.has_next
    payload["extensions"] = extensions
    return payload


class Alpha9Payloads:
    def __init__(self, format_errors: ErrorFormatter) -> None:
        self.format_errors = format_errors

    def initial(
        self, result: InitialIncrementalExecutionResult, extensions: dict[str, Any]
    ) -> dict[str, Any]:
        payload = _initial(result, extensions, self.format_errors)
        payload["pending"] = [pending.formatted for pending in result.pending]
        return payload

    def subsequent(self, result: SubsequentIncrementalExecutionResult) -> dict[str, Any] | None:
        payload: dict[str, Any] = {"hasNext": result.has_next}
        if result.pending:
            payload["pending"] = [pending.formatted for pending in result.pending]
        if result.incremental:
            payload["incremental"] = [self._entry(entry) for entry in result.incremental]
        if result.completed:
            payload["completed"] = [self._completed(entry) for entry in result.completed]
        if result.extensions:
            payload["extensions"] = result.extensions
        return payload

    def _entry(self, entry: IncrementalDeferResult | IncrementalStreamResult) -> dict[str, Any]:
        formatted: dict[str, Any] = dict(entry.formatted)
        if entry.errors:
            formatted["errors"] = self.format_errors(entry.errors)
        return formatted

    def _completed(self, entry: CompletedResult) -> dict[str, Any]:
        formatted: dict[str, Any] = {"id": entry.id}
        if entry.errors:
            formatted["errors"] = self.format_errors(entry.errors)
        return formatted


def _copied(value: Any) -> Any:
    """A JSON value with containers of its own (the merged data must not share a list or
    an object with a payload)."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    return value


def _merge(target: dict[str, Any], data: dict[str, Any]) -> None:
    for key, value in data.items():
        known = target.get(key)
        if isinstance(known, dict) and isinstance(value, dict):
            _merge(known, value)
        else:
            target[key] = _copied(value)


def _at(data: Any, path: Sequence[str | int]) -> Any:
    """The value at ``path`` in ``data``, None when there is none."""
    for key in path:
        if isinstance(data, dict) and isinstance(key, str):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
            data = data[key]
        else:
            return None
    return data


def _nested(sub_path: Sequence[str | int], data: dict[str, Any]) -> dict[str, Any]:
    """``data`` placed at ``sub_path`` (object keys only: a deferred fragment's data is
    below its path through fields, never list indexes)."""
    for key in reversed(sub_path):
        data = {str(key): data}
    return data


class Defer20220824Payloads:
    def __init__(self, format_errors: ErrorFormatter) -> None:
        self.format_errors = format_errors
        self.pending: dict[str, PendingResult] = {}
        # Streams by id: the index the next streamed item takes in its list.
        self.next_index: dict[str, int] = {}
        # The data delivered so far, merged: where a stream's list starts.
        self.data: dict[str, Any] = {}

    def initial(
        self, result: InitialIncrementalExecutionResult, extensions: dict[str, Any]
    ) -> dict[str, Any]:
        self.data = _copied(result.data) or {}
        self._announce(result.pending)
        return _initial(result, extensions, self.format_errors)

    def _announce(self, pending: Sequence[PendingResult] | None) -> None:
        for record in pending or ():
            self.pending[record.id] = record
            value = _at(self.data, record.path)
            if isinstance(value, list):  # @stream: its list, with the initial items
                self.next_index[record.id] = len(value)

    def subsequent(self, result: SubsequentIncrementalExecutionResult) -> dict[str, Any] | None:
        incremental: list[dict[str, Any]] = []
        entries = result.incremental or ()
        deferred: dict[str, list[IncrementalDeferResult]] = {}
        for entry in entries:
            if isinstance(entry, IncrementalDeferResult):
                deferred.setdefault(entry.id, []).append(entry)
        for delivery_id, parts in deferred.items():
            incremental.append(self._deferred(delivery_id, parts))
        # New deliveries (a stream inside deferred data) start from the data merged above.
        self._announce(result.pending)
        for entry in entries:
            if isinstance(entry, IncrementalStreamResult):
                incremental.append(self._streamed(entry))
        for completed in result.completed or ():
            failed = self._failed(completed)
            if failed is not None:
                incremental.append(failed)
            self.pending.pop(completed.id, None)
            self.next_index.pop(completed.id, None)
        if not incremental and result.has_next and not result.extensions:
            return None
        payload: dict[str, Any] = {"hasNext": result.has_next}
        if incremental:
            payload["incremental"] = incremental
        if result.extensions:
            payload["extensions"] = result.extensions
        return payload

    def _labelled(self, record: PendingResult, entry: dict[str, Any]) -> dict[str, Any]:
        if record.label is not None:
            entry["label"] = record.label
        return entry

    def _deferred(self, delivery_id: str, parts: list[IncrementalDeferResult]) -> dict[str, Any]:
        record = self.pending[delivery_id]
        data: dict[str, Any] = {}
        errors: list[GraphQLError] = []
        for part in parts:
            _merge(data, _nested(part.sub_path or (), part.data))
            errors.extend(part.errors or ())
        target = _at(self.data, record.path)
        if isinstance(target, dict):
            _merge(target, data)
        entry: dict[str, Any] = {"data": data, "path": list(record.path)}
        if errors:
            entry["errors"] = self.format_errors(errors)
        return self._labelled(record, entry)

    def _streamed(self, entry: IncrementalStreamResult) -> dict[str, Any]:
        record = self.pending[entry.id]
        index = self.next_index.get(entry.id, 0)
        self.next_index[entry.id] = index + len(entry.items)
        streamed: dict[str, Any] = {
            "items": entry.items,
            "path": [*record.path, *(entry.sub_path or ()), index],
        }
        if entry.errors:
            streamed["errors"] = self.format_errors(entry.errors)
        return self._labelled(record, streamed)

    def _failed(self, completed: CompletedResult) -> dict[str, Any] | None:
        """A delivery that failed as a whole (a null that reached its boundary)."""
        record = self.pending.get(completed.id)
        if not completed.errors or record is None:
            return None
        errors = self.format_errors(completed.errors)
        if completed.id in self.next_index:
            path = [*record.path, self.next_index[completed.id]]
            return self._labelled(record, {"items": None, "path": path, "errors": errors})
        return self._labelled(record, {"data": None, "path": list(record.path), "errors": errors})
