"""Nudges for generated documents, so that more of them get past argument checks to the
resolvers: hypothesis-graphql draws every argument of a field on its own, so a connection
usually gets both ``first`` and ``last`` (refused), and an ID of a random type (refused
where one type is expected). ``tidy`` keeps one paging direction and gives every ID of a
world row the type its argument expects, and drops cursors that are not cursors; the
fuzz tests apply it to half of the examples.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import graphql
from hypothesis import strategies as st

from services.errors import BadUserInput
from services.global_ids import global_id
from services.pagination import decode_cursor

PAGING_BACKWARD = frozenset({"last", "before"})
PAGING_FORWARD = frozenset({"first", "after"})
CURSORS = frozenset({"after", "before"})

# The type of the object an ID argument (or input field) names.
ID_TYPES_BY_ARGUMENT = {
    "productId": "Product",
    "postId": "Post",
    "toUserId": "User",
    "userId": "User",
    "authorId": "User",
    "sellerId": "User",
    "buyerId": "User",
}
# The type of an ``id`` argument, by the field that takes it.
ID_TYPES_BY_FIELD = {
    **dict.fromkeys(("user", "updateUserRole", "suspendUser", "deleteUser"), "User"),
    **dict.fromkeys(("post", "updatePost", "publishPost", "deletePost"), "Post"),
    "deleteComment": "Comment",
    **dict.fromkeys(("product", "updateProduct", "archiveProduct"), "Product"),
    **dict.fromkeys(("order", "cancelOrder", "completeOrder"), "Order"),
    "markNotificationRead": "Notification",
    **dict.fromkeys(("file", "confirmUpload", "deleteFile"), "File"),
}


def _is_junk_cursor(argument: graphql.ArgumentNode) -> bool:
    if argument.name.value not in CURSORS or not isinstance(
        argument.value, graphql.StringValueNode
    ):
        return False
    try:
        decode_cursor(argument.value.value)
    except BadUserInput:
        return True
    return False


def _retyped(value: graphql.ValueNode, type_name: str) -> graphql.ValueNode:
    """A string holding the global ID of some row, made an ID of ``type_name``."""
    if not isinstance(value, graphql.StringValueNode):
        return value
    try:
        decoded = base64.b64decode(value.value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return value
    _, separator, pk = decoded.partition(":")
    if not separator or not pk.isascii() or not pk.isdigit():
        return value
    return graphql.StringValueNode(value=global_id(type_name, pk))


class _Tidy(graphql.Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.fields: list[str] = []

    def enter_field(self, node: graphql.FieldNode, *_: Any) -> graphql.FieldNode:
        self.fields.append(node.name.value)
        arguments = tuple(node.arguments or ())
        given = {
            argument.name.value
            for argument in arguments
            if not isinstance(argument.value, graphql.NullValueNode)
        }
        if given & PAGING_FORWARD:
            arguments = tuple(a for a in arguments if a.name.value not in PAGING_BACKWARD)
        arguments = tuple(a for a in arguments if not _is_junk_cursor(a))
        return graphql.FieldNode(
            alias=node.alias,
            name=node.name,
            arguments=arguments,
            directives=node.directives,
            selection_set=node.selection_set,
        )

    def leave_field(self, *_: Any) -> None:
        self.fields.pop()

    def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> graphql.ArgumentNode | None:
        name = node.name.value
        type_name = ID_TYPES_BY_ARGUMENT.get(name) or (
            ID_TYPES_BY_FIELD.get(self.fields[-1]) if name == "id" else None
        )
        if type_name is None:
            return None
        return graphql.ArgumentNode(name=node.name, value=_retyped(node.value, type_name))

    def enter_object_field(
        self, node: graphql.ObjectFieldNode, *_: Any
    ) -> graphql.ObjectFieldNode | None:
        type_name = ID_TYPES_BY_ARGUMENT.get(node.name.value)
        if type_name is None:
            return None
        return graphql.ObjectFieldNode(name=node.name, value=_retyped(node.value, type_name))


def tidy(document: str) -> str:
    return graphql.print_ast(graphql.visit(graphql.parse(document), _Tidy()))


# --- money: hand-written operations with generated variables --------------------------------

PLACE_ORDER = (
    "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) "
    "{ id status total items { quantity subtotal product { id stock } } buyer { balance } } }"
)
TRANSFER = (
    "mutation($i: TransferInput!) { transfer(input: $i) "
    "{ id amount note from { balance } to { name } } }"
)
DEPOSIT = "mutation($u: ID!, $a: Decimal!) { depositFunds(userId: $u, amount: $a) { balance } }"
CANCEL = "mutation($o: ID!) { cancelOrder(id: $o) { status total buyer { balance } } }"
COMPLETE = "mutation($o: ID!) { completeOrder(id: $o) { status items { product { name } } } }"

AMOUNTS = ("0.01", "1.00", "12.50", "999999.99", "1000000.00", "1000000.01", "0", "-1", "0.001")
KEYS = ("k1", "k1", "k2", "k" * 128, "k" * 129, "", " ")
QUANTITIES = (1, 2, 100, 101, 0, -1, 2**31 - 1)
Operation = tuple[str, dict[str, Any]]


def _world_id(type_name: str, most: int) -> st.SearchStrategy[str]:
    return st.integers(1, most).map(lambda pk: global_id(type_name, pk))


def _money_operation() -> st.SearchStrategy[Operation]:
    users = _world_id("User", 21)
    products = _world_id("Product", 11)
    orders = _world_id("Order", 8)
    amounts = st.sampled_from(AMOUNTS)
    keys = st.sampled_from(KEYS)
    lines = st.lists(
        st.fixed_dictionaries({"productId": products, "quantity": st.sampled_from(QUANTITIES)}),
        max_size=4,
    )
    order_input = st.fixed_dictionaries({"items": lines, "idempotencyKey": keys})
    transfer_input = st.fixed_dictionaries(
        {"toUserId": users, "amount": amounts, "idempotencyKey": keys},
        optional={"note": st.sampled_from(["lunch", "", "n" * 281, "<b>hi</b>"])},
    )
    return st.one_of(
        order_input.map(lambda i: (PLACE_ORDER, {"i": i})),
        transfer_input.map(lambda i: (TRANSFER, {"i": i})),
        st.tuples(users, amounts).map(lambda ua: (DEPOSIT, {"u": ua[0], "a": ua[1]})),
        orders.map(lambda o: (CANCEL, {"o": o})),
        orders.map(lambda o: (COMPLETE, {"o": o})),
    )


def money_operations() -> st.SearchStrategy[list[Operation]]:
    """A few orders, transfers, deposits, cancellations and completions in a row, on world
    rows, with boundary amounts, quantities and idempotency keys (a key comes back often,
    with the same payload or another)."""
    return st.lists(_money_operation(), min_size=1, max_size=4)
