"""Which incremental delivery format a request's ``Accept`` asks for.

Two formats exist, told apart by a parameter of ``multipart/mixed``:

- ``deferSpec=20220824``: the format of graphql-js 17.0.0-alpha.2 (``incremental: [{data,
  path, label}]`` and ``{items, path}``), which Apollo Client 4's ``Defer20220824Handler``,
  Apollo Server, Apollo Router, urql and graphql-tools (Yoga) read. Apollo Client sends
  ``Accept: multipart/mixed;deferSpec=20220824,application/json`` with it. It is also what a
  bare ``multipart/mixed`` gets.
- ``incrementalSpec=v0.2`` (Apollo Client 4's ``GraphQL17Alpha9Handler``; Apollo Server calls
  the same format ``incrementalDeliverySpec=3283f8a``): the format of graphql-js
  17.0.0-alpha.9, which graphql-core 3.3 emits itself (``pending``/``id``/``subPath``/
  ``completed``).
"""

from __future__ import annotations

import enum


class IncrementalFormat(enum.Enum):
    DEFER_SPEC_20220824 = "deferSpec=20220824"
    INCREMENTAL_SPEC_V0_2 = "incrementalSpec=v0.2"

    @property
    def content_type(self) -> str:
        return f'multipart/mixed; boundary="-"; {self.value}'


_SPECS = {
    ("deferspec", "20220824"): IncrementalFormat.DEFER_SPEC_20220824,
    ("incrementalspec", "v0.2"): IncrementalFormat.INCREMENTAL_SPEC_V0_2,
    ("incrementaldeliveryspec", "3283f8a"): IncrementalFormat.INCREMENTAL_SPEC_V0_2,
}
# Parameters that name some other use of multipart/mixed (Apollo's subscriptions).
_OTHER_SPECS = frozenset({"subscriptionspec"})


def _format_of(parameters: dict[str, str]) -> IncrementalFormat | None:
    for name, value in parameters.items():
        known = _SPECS.get((name, value))
        if known is not None:
            return known
    names = parameters.keys() - {"boundary"}
    if names & _OTHER_SPECS or any(name.endswith("spec") for name in names):
        return None  # another spec (or an unknown version of one): not one we can write
    return IncrementalFormat.DEFER_SPEC_20220824


def incremental_format(accept: str | None) -> IncrementalFormat | None:
    """The format of the ``multipart/mixed`` range ``accept`` prefers, or None when it
    accepts no incremental delivery this server writes."""
    best: tuple[float, IncrementalFormat] | None = None
    for media_range in (accept or "").split(","):
        media, *raw_parameters = (piece.strip() for piece in media_range.split(";"))
        if media.lower() != "multipart/mixed":
            continue
        parameters: dict[str, str] = {}
        for raw in raw_parameters:
            name, _, value = raw.partition("=")
            parameters[name.strip().lower()] = value.strip().strip("'\"").lower()
        try:
            quality = float(parameters.pop("q", "1"))
        except ValueError:
            quality = 0.0
        found = _format_of(parameters)
        if found is not None and quality > 0 and (best is None or quality > best[0]):
            best = (quality, found)
    return best[1] if best else None
