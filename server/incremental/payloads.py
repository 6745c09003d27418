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


Delivery = tuple[PendingResult, list[IncrementalDeferResult]] | IncrementalStreamResult


class Defer20220824Payloads:
    def __init__(self, format_errors: ErrorFormatter) -> None:
        self.format_errors = format_errors
        self.pending: dict[str, PendingResult] = {}
        # Streams by id: the index the next streamed item takes in its list.
        self.next_index: dict[str, int] = {}
        # The data delivered so far, merged: where each delivery lands, where a stream's
        # list starts.
        self.data: dict[str, Any] = {}

    def initial(
        self, result: InitialIncrementalExecutionResult, extensions: dict[str, Any]
    ) -> dict[str, Any]:
        self.data = _copied(result.data) or {}
        for record in result.pending:
            self.pending[record.id] = record
        return _initial(result, extensions, self.format_errors)

    def subsequent(self, result: SubsequentIncrementalExecutionResult) -> dict[str, Any] | None:
        for record in result.pending or ():
            self.pending[record.id] = record
        incremental = [self._emit(delivery) for delivery in self._in_order(result)]
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

    def _in_order(self, result: SubsequentIncrementalExecutionResult) -> list[Delivery]:
        """The payload's deliveries (a deferred fragment's entries together), each after
        the one that delivers the place it lands in: a client merges them in array order,
        and one payload may bring streamed items and the fragments deferred inside them,
        or a deferred fragment and the list streamed inside it."""
        deliveries: list[Delivery] = []
        deferred: dict[str, list[IncrementalDeferResult]] = {}
        for entry in result.incremental or ():
            if isinstance(entry, IncrementalStreamResult):
                deliveries.append(entry)
            elif entry.id in deferred:
                deferred[entry.id].append(entry)
            else:
                deferred[entry.id] = [entry]
                deliveries.append((self.pending[entry.id], deferred[entry.id]))
        ordered: list[Delivery] = []
        while deliveries:
            waiting: list[Delivery] = []
            for delivery in deliveries:
                if self._lands(delivery):
                    ordered.append(delivery)
                    self._merge_delivery(delivery)
                else:
                    waiting.append(delivery)
            if len(waiting) == len(deliveries):  # nowhere to land: as graphql-core sent them
                return [*ordered, *waiting]
            deliveries = waiting
        return ordered

    def _lands(self, delivery: Delivery) -> bool:
        if isinstance(delivery, IncrementalStreamResult):
            record = self.pending[delivery.id]
            return isinstance(_at(self.data, [*record.path, *(delivery.sub_path or ())]), list)
        return isinstance(_at(self.data, delivery[0].path), dict)

    def _merge_delivery(self, delivery: Delivery) -> None:
        """Keeps ``self.data`` what a client has once it merged ``delivery``."""
        if isinstance(delivery, IncrementalStreamResult):
            record = self.pending[delivery.id]
            target = _at(self.data, [*record.path, *(delivery.sub_path or ())])
            self.next_index.setdefault(delivery.id, len(target))
            target.extend(_copied(delivery.items))
            return
        record, parts = delivery
        target = _at(self.data, record.path)
        for part in parts:
            _merge(target, _nested(part.sub_path or (), part.data))

    def _emit(self, delivery: Delivery) -> dict[str, Any]:
        if isinstance(delivery, IncrementalStreamResult):
            return self._streamed(delivery)
        return self._deferred(*delivery)

    def _labelled(self, record: PendingResult, entry: dict[str, Any]) -> dict[str, Any]:
        if record.label is not None:
            entry["label"] = record.label
        return entry

    def _deferred(
        self, record: PendingResult, parts: list[IncrementalDeferResult]
    ) -> dict[str, Any]:
        data: dict[str, Any] = {}
        errors: list[GraphQLError] = []
        for part in parts:
            _merge(data, _nested(part.sub_path or (), part.data))
            errors.extend(part.errors or ())
        entry: dict[str, Any] = {"data": data, "path": list(record.path)}
        if errors:
            entry["errors"] = self.format_errors(errors)
        return self._labelled(record, entry)

    def _streamed(self, entry: IncrementalStreamResult) -> dict[str, Any]:
        record = self.pending[entry.id]
        # Set when its items were merged (the index of its first item), then moved on.
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
        target = _at(self.data, record.path)
        if isinstance(target, list):  # a stream: its next item is where it stopped
            index = self.next_index.get(completed.id, len(target))
            return self._labelled(
                record, {"items": None, "path": [*record.path, index], "errors": errors}
            )
        return self._labelled(record, {"data": None, "path": list(record.path), "errors": errors})
