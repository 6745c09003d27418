"""EncodedPayload: a shared subscription payload encoded once for all its sockets."""

from __future__ import annotations

import orjson

from server.websocket.encoded import EncodedPayload, id_text, payload_text

PAYLOAD = {"data": {"postPublished": {"id": "UG9zdDox", "title": 'Été "quoted"'}}}


def test_an_encoded_payload_carries_the_json_of_its_dict() -> None:
    assert orjson.loads(EncodedPayload(PAYLOAD).text) == PAYLOAD


def test_an_encoded_payload_still_encodes_as_its_dict() -> None:
    # What an HTTP stream does with it.
    assert orjson.loads(orjson.dumps(EncodedPayload(PAYLOAD))) == PAYLOAD


def test_a_plain_payload_is_encoded_when_sent() -> None:
    assert orjson.loads(payload_text(PAYLOAD)) == PAYLOAD


def test_an_operation_id_is_quoted_as_json() -> None:
    assert orjson.loads(id_text('a"b')) == 'a"b'
