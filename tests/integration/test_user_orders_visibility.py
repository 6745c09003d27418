"""``User.orders`` follows the order rule (the buyer themself, or MANAGE_ORDERS) for every
kind of viewer, on the batched first page and on the per-user path taken by ``last``; anyone
else gets an empty connection, not an error."""

from __future__ import annotations

import pytest

from models.user import Role
from tests import factories
from tests.conftest import data, graphql

USER_ORDERS = """
query($id: ID!) {
  user(id: $id) {
    batched: orders(first: 5) { totalCount nodes { id } }
    perUser: orders(last: 5) { totalCount nodes { id } }
  }
}
"""

CASES = [
    pytest.param(None, False, id="anonymous"),
    pytest.param("buyer", True, id="the buyer (USER)"),
    pytest.param(Role.USER, False, id="another USER"),
    pytest.param(Role.MODERATOR, False, id="MODERATOR"),
    pytest.param(Role.ADMIN, True, id="ADMIN"),
]


@pytest.mark.parametrize(("viewer", "sees"), CASES)
async def test_user_orders_are_shown_to_the_buyer_and_manage_orders_only(client, viewer, sees):
    buyer = await factories.create_user()
    seller = await factories.create_user(role=Role.ADMIN)
    product = await factories.create_product(seller)
    order = await factories.create_order(buyer, [(product, 1)])
    if viewer is None:
        headers = {}
    else:
        who = buyer if viewer == "buyer" else await factories.create_user(role=viewer)
        headers = factories.bearer(client, who)

    response = await graphql(client, USER_ORDERS, {"id": factories.gid("User", buyer.id)}, headers)

    expected = (
        {"totalCount": 1, "nodes": [{"id": factories.gid("Order", order.id)}]}
        if sees
        else {"totalCount": 0, "nodes": []}
    )
    assert data(response)["user"] == {"batched": expected, "perUser": expected}
