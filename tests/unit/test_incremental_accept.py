"""The incremental delivery format a request's Accept asks for: Apollo Client 4 names it
with a parameter of multipart/mixed (deferSpec=20220824 for its Defer20220824Handler,
incrementalSpec=v0.2 for its GraphQL17Alpha9Handler); a bare multipart/mixed gets the
deferSpec format; other uses of multipart/mixed (subscriptions) and unknown versions get
none."""

from __future__ import annotations

import pytest

from server.incremental.accept import IncrementalFormat, incremental_format

DEFER = IncrementalFormat.DEFER_SPEC_20220824
ALPHA9 = IncrementalFormat.INCREMENTAL_SPEC_V0_2


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("multipart/mixed;deferSpec=20220824,application/graphql-response+json", DEFER),
        ("multipart/mixed; deferSpec=20220824, application/json", DEFER),
        ('multipart/mixed;deferSpec="20220824"', DEFER),
        ("application/json, multipart/mixed; deferSpec=20220824", DEFER),
        ("Multipart/Mixed;DeferSpec=20220824", DEFER),
        ("multipart/mixed", DEFER),
        ('multipart/mixed;boundary="-"', DEFER),
        ("multipart/mixed;incrementalSpec=v0.2,application/json", ALPHA9),
        ("multipart/mixed; incrementalDeliverySpec=3283f8a", ALPHA9),
        (
            "multipart/mixed;deferSpec=20220824;q=0.5, multipart/mixed;incrementalSpec=v0.2",
            ALPHA9,
        ),
        (None, None),
        ("", None),
        ("application/json", None),
        ("*/*", None),
        ("multipart/*", None),
        ("multipart/mixed;subscriptionSpec=1.0,application/json", None),
        ("multipart/mixed;deferSpec=20990101", None),
        ("multipart/mixed;deferSpec=20220824;q=0", None),
        ("multipart/mixed;deferSpec=20220824;q=nonsense", None),
    ],
)
def test_the_format_is_the_one_accept_names(
    accept: str | None, expected: IncrementalFormat | None
) -> None:
    assert incremental_format(accept) is expected


def test_each_format_names_itself_in_the_response_content_type() -> None:
    assert DEFER.content_type == 'multipart/mixed; boundary="-"; deferSpec=20220824'
    assert ALPHA9.content_type == 'multipart/mixed; boundary="-"; incrementalSpec=v0.2'
