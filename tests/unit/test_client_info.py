"""What is stored about a client: its address only when it is one."""

from __future__ import annotations

import pytest

from services.sessions import ClientInfo


@pytest.mark.parametrize(
    ("host", "stored"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("x" * 200, None),
        ("unix:/run/agora.sock", None),
        ("", None),
        (None, None),
    ],
    ids=["ipv4", "ipv6-normalised", "forwarded-garbage", "not-an-address", "empty", "none"],
)
def test_only_an_ip_address_is_kept_as_the_client_ip(host: str | None, stored: str | None) -> None:
    assert ClientInfo.of(host, "agent").ip == stored
