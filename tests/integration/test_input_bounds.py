"""Input values the database cannot hold are refused before execution as 400
BAD_USER_INPUT, never an INTERNAL_SERVER_ERROR from the driver or the ORM: NUL characters in
any string argument (literal or variable, nested in input objects and lists), strings over
their argument's limit (emails that are looked up, tag and search filters, 100,000 characters
for any string), Decimals whose cents overflow a BIGINT, date-times outside the years 1-9999
in UTC, and Ints beyond 32 bits. Forged cursors carrying such values are refused too.

These tests matter most in CI's PostgreSQL pass, where NUL and overflow reach the server."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from models.user import Role, User
from tests import factories
from tests.conftest import DATABASE_URL, AppFactory, call, data_of, error_of

NUL = "a\u0000b"


@pytest.fixture
async def admin(db: None) -> User:
    return await factories.create_user(name="Admin", role=Role.ADMIN)


def refusal(body: dict[str, Any]) -> dict[str, Any]:
    """The one error of a request refused before execution (no ``data``), with its code."""
    assert "data" not in body, body
    error = error_of(body)
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    return error


async def refused(
    client: httpx.AsyncClient, viewer: User | None, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers=factories.bearer(client, viewer) if viewer else {},
    )
    assert response.status_code == 400, response.text
    return refusal(response.json())


# --- NUL characters ------------------------------------------------------------------------

NUL_CASES = [
    (
        "query($v: String) { posts(filter: {search: $v}) { totalCount } }",
        "filter.search",
        "posts",
    ),
    (
        "query($v: String) { products(filter: {search: $v}) { totalCount } }",
        "filter.search",
        "products",
    ),
    ("query($v: String) { users(filter: {search: $v}) { totalCount } }", "filter.search", "users"),
    ("query($v: String) { posts(filter: {tag: $v}) { totalCount } }", "filter.tag", "posts"),
    ("mutation($v: String!) { requestPasswordReset(email: $v) }", "email", "requestPasswordReset"),
    (
        "mutation($v: String!) { resendVerificationEmail(email: $v) }",
        "email",
        "resendVerificationEmail",
    ),
    (
        'mutation($v: String!) { login(email: $v, password: "Secret-1!") { accessToken } }',
        "email",
        "login",
    ),
    (
        "mutation($v: String!) { registerDevice(token: $v, platform: ANDROID) }",
        "token",
        "registerDevice",
    ),
    (
        'mutation($v: String!) { placeOrder(input: {items: [{productId: "UHJvZHVjdDox", '
        "quantity: 1}], idempotencyKey: $v}) { id } }",
        "input.idempotencyKey",
        "placeOrder",
    ),
    (
        'mutation($v: String!) { transfer(input: {toUserId: "VXNlcjox", amount: "1.00", '
        "idempotencyKey: $v}) { id } }",
        "input.idempotencyKey",
        "transfer",
    ),
    (
        'mutation($v: String!) { register(input: {name: $v, email: "nul@example.com", '
        'password: "Sup3r-secret!"}) { id } }',
        "input.name",
        "register",
    ),
    (
        'mutation($v: String!) { createPost(input: {title: "Title", body: $v}) { id } }',
        "input.body",
        "createPost",
    ),
    ("query($v: ID!) { node(id: $v) { id } }", "id", "node"),
    (
        "mutation($v: ID!) { placeOrder(input: {items: [{productId: $v, quantity: 1}], "
        'idempotencyKey: "k"}) { id } }',
        "input.items[0].productId",
        "placeOrder",
    ),
]


@pytest.mark.parametrize(
    ("query", "argument", "field"), NUL_CASES, ids=[f"{c[2]}:{c[1]}" for c in NUL_CASES]
)
async def test_a_nul_in_any_string_argument_is_bad_user_input_naming_it(
    client, admin, query, argument, field
):
    error = await refused(client, admin, query, {"v": NUL})

    assert error["message"] == (
        f"Argument '{argument}' of '{field}' must not contain NUL characters (\\u0000)"
    )
    assert error["extensions"]["argument"] == argument


async def test_a_nul_written_as_an_escape_in_the_document_is_refused(client):
    response = await client.post(
        "/graphql", json={"query": '{ posts(filter: {search: "a\\u0000b"}) { totalCount } }'}
    )

    assert response.status_code == 400
    error = refusal(response.json())
    assert error["extensions"]["argument"] == "filter.search"
    assert error["locations"] == [{"line": 1, "column": 9}]


async def test_a_nul_in_a_whole_input_object_variable_is_refused(client, admin):
    query = "mutation($input: CreatePostInput!) { createPost(input: $input) { id } }"
    variables = {"input": {"title": "Title", "body": "Body", "tags": ["ok", NUL]}}

    error = await refused(client, admin, query, variables)

    assert error["extensions"]["argument"] == "input.tags[1]"


async def test_a_nul_in_a_get_query_variable_is_refused(client):
    query = "query($v: String) { posts(filter: {search: $v}) { totalCount } }"
    response = await client.get(
        "/graphql", params={"query": query, "variables": json.dumps({"v": NUL})}
    )

    assert response.status_code == 400
    assert refusal(response.json())["extensions"]["argument"] == "filter.search"


async def test_other_control_characters_are_accepted(client):
    body = await call(
        client,
        None,
        "query($v: String) { posts(filter: {search: $v}) { totalCount } }",
        {"v": "tab\t escape \x1b[31m delete \x7f"},
    )

    assert data_of(body) == {"posts": {"totalCount": 0}}


async def test_an_unpaired_surrogate_never_gets_past_the_json_decoder(client):
    response = await client.post(
        "/graphql",
        content=b'{"query": "query($v: String) { posts(filter: {search: $v}) { totalCount } }",'
        b' "variables": {"v": "\\ud800"}}',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert refusal(response.json())["message"] == "Unable to parse request body as JSON"


# --- lengths -------------------------------------------------------------------------------

LONG_EMAIL = "x" * 4_988 + "@example.com"


@pytest.mark.parametrize(
    "query",
    [
        "mutation($v: String!) { requestPasswordReset(email: $v) }",
        "mutation($v: String!) { resendVerificationEmail(email: $v) }",
        'mutation($v: String!) { login(email: $v, password: "Sup3r-secret!") { accessToken } }',
    ],
)
async def test_an_email_of_5000_characters_is_refused_before_its_lookup(client, query):
    error = await refused(client, None, query, {"v": LONG_EMAIL})

    assert error["extensions"]["argument"] == "email"
    assert error["message"].endswith("must be at most 254 characters long (got 5000)")


async def test_an_email_of_254_characters_is_looked_up(client):
    email = "x" * 242 + "@example.com"
    query = 'mutation($v: String!) { login(email: $v, password: "Sup3r-secret!") { accessToken } }'

    body = await call(client, None, query, {"v": email})

    assert error_of(body)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_tag_filter_over_30_characters_is_refused(client):
    query = "query($v: String) { posts(filter: {tag: $v}) { totalCount } }"

    error = await refused(client, None, query, {"v": "t" * 31})

    assert error["message"] == (
        "Argument 'filter.tag' of 'posts' must be at most 30 characters long (got 31)"
    )


async def test_a_tag_filter_of_30_characters_is_searched(client):
    query = "query($v: String) { posts(filter: {tag: $v}) { totalCount } }"

    assert data_of(await call(client, None, query, {"v": "t" * 30})) == {"posts": {"totalCount": 0}}


@pytest.mark.parametrize("field", ["posts", "products", "users"])
async def test_a_search_over_200_characters_is_refused(client, admin, field):
    query = f"query($v: String) {{ {field}(filter: {{search: $v}}) {{ totalCount }} }}"

    error = await refused(client, admin, query, {"v": "s" * 201})

    assert error["extensions"]["argument"] == "filter.search"


async def test_any_string_over_100000_characters_is_refused(client, admin):
    query = 'mutation($v: String!) { createPost(input: {title: "Title", body: $v}) { id } }'

    error = await refused(client, admin, query, {"v": "b" * 100_001})

    assert error["message"] == (
        "Argument 'input.body' of 'createPost' must be at most 100000 characters long (got 100001)"
    )


# --- numbers and dates ---------------------------------------------------------------------

PRODUCTS_UNDER = "query($v: Decimal) { products(filter: {maxPrice: $v}) { totalCount } }"


async def test_a_max_price_of_1e30_in_the_document_is_refused(client):
    response = await client.post(
        "/graphql", json={"query": '{ products(filter: {maxPrice: "1e30"}) { totalCount } }'}
    )

    assert response.status_code == 400
    error = refusal(response.json())
    assert error["message"] == (
        "Decimal must be between -92233720368547758.07 and 92233720368547758.07"
    )


@pytest.mark.parametrize("value", ["1e30", "-1e30", 1e300, "1e999999999", "92233720368547758.08"])
async def test_a_decimal_variable_whose_cents_overflow_a_bigint_is_refused(client, value):
    error = await refused(client, None, PRODUCTS_UNDER, {"v": value})

    assert error["message"].startswith("Variable '$v' has invalid value")
    assert "Decimal must be between" in error["message"]


async def test_the_largest_decimal_a_bigint_holds_is_accepted(client):
    body = await call(client, None, PRODUCTS_UNDER, {"v": "92233720368547758.07"})

    assert data_of(body) == {"products": {"totalCount": 0}}


async def test_a_transfer_of_1e30_is_refused_before_validation(client, admin):
    query = (
        "mutation($v: Decimal!) { transfer(input: "
        '{toUserId: "VXNlcjox", amount: $v, idempotencyKey: "k"}) { id } }'
    )

    error = await refused(client, admin, query, {"v": "1E+30"})

    assert "Decimal must be between" in error["message"]


TOP_CUSTOMERS_SINCE = "query($v: DateTime) { topCustomers(since: $v) { totalOrders } }"


async def test_top_customers_since_year_0_in_utc_in_the_document_is_refused(client, admin):
    response = await client.post(
        "/graphql",
        json={"query": '{ topCustomers(since: "0001-01-01T00:00:00+14:00") { totalOrders } }'},
        headers=factories.bearer(client, admin),
    )

    assert response.status_code == 400
    assert refusal(response.json())["message"] == (
        "DateTime is out of range: it must fall within the years 1 to 9999 in UTC"
    )


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
async def test_a_datetime_variable_outside_the_years_1_to_9999_in_utc_is_refused(
    client, admin, value
):
    error = await refused(client, admin, TOP_CUSTOMERS_SINCE, {"v": value})

    assert "DateTime is out of range" in error["message"]


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"])
async def test_the_first_and_last_instants_python_holds_are_accepted(client, admin, value):
    body = await call(client, admin, TOP_CUSTOMERS_SINCE, {"v": value})

    assert data_of(body) == {"topCustomers": []}


async def test_a_malformed_datetime_is_bad_user_input(client, admin):
    error = await refused(client, admin, TOP_CUSTOMERS_SINCE, {"v": "yesterday"})

    assert "DateTime must be an ISO 8601 date and time" in error["message"]


async def test_an_int_variable_beyond_32_bits_is_refused_before_the_cost_analysis(client, admin):
    query = "query($v: Int) { topCustomers(limit: $v) { totalOrders } }"

    error = await refused(client, admin, query, {"v": 2**40})

    assert error["message"] == (
        "Variable '$v' has invalid value: Int cannot represent non 32-bit signed integer "
        "value: 1099511627776"
    )


async def test_an_int_literal_beyond_32_bits_is_bad_user_input(client, admin):
    response = await client.post(
        "/graphql",
        json={"query": "{ topCustomers(limit: 99999999999) { totalOrders } }"},
        headers=factories.bearer(client, admin),
    )

    assert response.status_code == 400
    refusal(response.json())


async def test_a_variable_of_the_wrong_type_is_bad_user_input(client):
    query = "query($v: String) { posts(filter: {search: $v}) { totalCount } }"

    error = await refused(client, None, query, {"v": 5})

    assert error["message"] == (
        "Variable '$v' has invalid value: String cannot represent a non string value: 5"
    )


async def test_variable_errors_suggest_no_field_names_in_production(client_factory: AppFactory):
    production = client_factory(
        app_env="production",
        database_url=DATABASE_URL,
        jwt_secret="j" * 40,
        refresh_token_secret="r" * 40,
        metrics_token="m" * 40,
    )
    query = "query($f: PostFilter) { posts(filter: $f) { totalCount } }"

    error = await refused(production, None, query, {"f": {"serch": "x"}})

    assert "serch" in error["message"]
    assert "Did you mean" not in error["message"]


# --- forged cursors ------------------------------------------------------------------------


def forged_cursor(kind: str, value: object, pk: int = 1) -> str:
    """A cursor as ``services.pagination`` encodes one (``d``: a date-time, ``v``: a value)."""
    payload = json.dumps([kind, value, pk])
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("field", "order_by", "kind", "value"),
    [
        ("posts", "TITLE", "v", NUL),
        ("posts", "TITLE", "v", "t" * 201),
        ("products", "PRICE", "v", 2**64 - 1),  # orjson reads it as an int, not a float
        ("posts", "CREATED_AT", "d", "0001-01-01T00:00:00+14:00"),
        ("posts", "CREATED_AT", "d", "9999-12-31T23:59:59-14:00"),
    ],
)
async def test_a_cursor_carrying_a_value_its_column_cannot_hold_is_refused(
    client, admin, field, order_by, kind, value
):
    query = f"query($c: String) {{ {field}(after: $c, orderBy: {order_by}) {{ totalCount }} }}"

    body = await call(client, admin, query, {"c": forged_cursor(kind, value)})

    error = error_of(body)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "is not a valid cursor for this ordering" in error["message"]
