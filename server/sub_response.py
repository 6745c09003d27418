"""The sub-response the view hands Strawberry: what a request's answer is made from."""

from __future__ import annotations

import dataclasses

from graphql import ExperimentalIncrementalExecutionResults
from starlette.responses import Response

from server.http_cache import cache_control
from server.incremental.accept import IncrementalFormat
from server.negotiation import ResponseFormat
from vocabulary.cache_hints import CachePolicy


@dataclasses.dataclass(frozen=True, slots=True)
class IncrementalResult:
    """An operation answered with ``@defer``/``@stream``, to be streamed."""

    results: ExperimentalIncrementalExecutionResults
    format: IncrementalFormat
    operation_name: str | None


class SubResponse(Response):
    """Strawberry's sub-response (the status and headers set during the request), with the
    response format negotiated for it and what its HTTP caching depends on."""

    def __init__(
        self, response_format: ResponseFormat, method: str, if_none_match: str | None
    ) -> None:
        super().__init__()
        self.status_code = None  # type: ignore[assignment]  # None: not set by anyone yet
        del self.headers["content-length"]
        self.response_format = response_format
        self.incremental: IncrementalResult | None = None
        self.method = method
        self.if_none_match = if_none_match
        # The executed operation's (execute_single); None when nothing was executed.
        self.cache_policy: CachePolicy | None = None

    @property
    def cache_control(self) -> str:
        return cache_control(self.method, self.cache_policy)
