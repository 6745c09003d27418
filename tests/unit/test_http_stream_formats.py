"""Which streaming transport an Accept header asks for, and the bytes each transport writes."""

from __future__ import annotations

import json

import pytest

from server.http_streams.formats import MULTIPART, SSE, Transport, requested_transport


@pytest.mark.parametrize(
    ("accept", "transport"),
    [
        ("text/event-stream", Transport.SSE),  # the graphql-sse client
        (
            'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json',
            Transport.MULTIPART,
        ),  # Apollo Client 3
        (
            "multipart/mixed;boundary=graphql;subscriptionSpec=1.0,"
            "application/graphql-response+json,application/json;q=0.9",
            Transport.MULTIPART,
        ),  # Apollo Client 4
        ('multipart/mixed; subscriptionSpec="1.0", application/json', Transport.MULTIPART),
        ("application/json", None),
        ("application/json, multipart/mixed", None),  # GraphiQL: incremental delivery only
        ("multipart/mixed;deferSpec=20220824, application/json", None),
        ("text/event-stream;q=0, application/json", None),
        (None, None),
        ("", None),
    ],
)
def test_the_accept_header_chooses_the_transport(accept, transport):
    assert requested_transport(accept) is transport


def test_an_sse_result_is_a_next_event_with_one_line_of_json():
    event = SSE.next({"data": {"a": "line\nbreak"}})

    assert event.endswith(b"\n\n")
    name, data = event.decode().strip().split("\n")
    assert name == "event: next"
    assert json.loads(data.removeprefix("data: ")) == {"data": {"a": "line\nbreak"}}


def test_sse_complete_has_an_empty_data_line_for_event_source():
    assert SSE.closing() == b"event: complete\ndata:\n\n"


def test_a_multipart_part_is_followed_by_its_delimiter_at_once():
    """Apollo Client hands a part over only once the delimiter after it has arrived."""
    stream = MULTIPART.opening() + MULTIPART.next({"data": {"x": 1}}) + MULTIPART.heartbeat()
    stream += MULTIPART.closing()

    assert stream.endswith(b"\r\n--graphql--\r\n")
    parts = stream.decode().split("\r\n--graphql")
    assert parts[0] == ""  # no preamble
    bodies = [part.split("\r\n\r\n", 1)[1] for part in parts[1:-1]]
    assert [json.loads(body) for body in bodies] == [{"payload": {"data": {"x": 1}}}, {}]
    assert all("Content-Type: application/json" in part for part in parts[1:-1])


def test_a_multipart_error_after_the_start_has_a_null_payload():
    part = MULTIPART.errors([{"message": "gone"}]).decode()

    body = part.split("\r\n\r\n", 1)[1].removesuffix("\r\n--graphql")
    assert json.loads(body) == {"payload": None, "errors": [{"message": "gone"}]}
