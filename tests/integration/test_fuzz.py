"""Fuzz tests: whatever a client sends, the answer keeps the error contract
(tests/error_contract.py): never a 5xx, never INTERNAL_SERVER_ERROR, every error with a code
from the ErrorCode enum and the request id, request errors without ``data``.

Generated operations: hypothesis-graphql builds queries and mutations from the exported
``schema.graphql`` (valid ones, and ones with one schema violation), with argument values
from tests/fuzz_values.py, sent anonymously, as a USER and as an ADMIN against a small fixed
database (tests/fuzz_world.py). Derandomized: the same examples on every run;
``FUZZ_EXAMPLES`` (default 50 per test) sizes the run, ``FUZZ_SEED`` explores other examples.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import graphql
import httpx
import hypothesis_graphql
import orjson
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from models.user import User
from services.global_ids import global_id
from services.pagination import encode_cursor
from tests.conftest import AppFactory
from tests.deadline import deadline
from tests.error_contract import assert_error_contract
from tests.factories import bearer
from tests.file_samples import PNG
from tests.fuzz_documents import Operation, money_operations, tidy
from tests.fuzz_values import scalar_strategies
from tests.fuzz_world import ADMIN_ID, USER_ID, build_world

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
FUZZ_SEED = os.environ.get("FUZZ_SEED")
SCHEMA = (Path(__file__).parents[2] / "schema.graphql").read_text()
SCALARS = scalar_strategies()

T = TypeVar("T", bound=Callable[..., Any])


def fuzz(test: T, examples: int = FUZZ_EXAMPLES) -> T:
    """Hypothesis settings for every generated test: derandomized (or ``FUZZ_SEED``), no
    example database, no deadline (the first request of a test builds caches)."""
    configured = settings(
        max_examples=examples,
        derandomize=FUZZ_SEED is None,
        database=None,
        deadline=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )(test)
    return seed(int(FUZZ_SEED))(configured) if FUZZ_SEED is not None else configured


# (method, Accept): both response media types, and GET for queries.
POST_TRANSPORTS = (
    ("POST", "application/graphql-response+json"),
    ("POST", "application/json"),
    ("POST", "*/*"),
)
TRANSPORTS = (*POST_TRANSPORTS, ("GET", "application/graphql-response+json"))


def generated_documents(
    build: Callable[..., st.SearchStrategy[str]], root: str
) -> st.SearchStrategy[str]:
    """Documents selecting one root field (two in three: errors elsewhere in a document
    would null its data before that field's resolvers show what they do), or several."""
    names = sorted(graphql.build_schema(SCHEMA).type_map[root].fields)  # type: ignore[attr-defined]
    one_field = st.sampled_from(names).flatmap(
        lambda name: build(SCHEMA, fields=(name,), custom_scalars=SCALARS)
    )
    documents = st.one_of(one_field, one_field, build(SCHEMA, custom_scalars=SCALARS))
    return st.tuples(documents, st.booleans()).map(
        lambda pair: tidy(pair[0]) if pair[1] else pair[0]
    )


QUERIES = generated_documents(hypothesis_graphql.queries, "Query")
MUTATIONS = generated_documents(hypothesis_graphql.mutations, "Mutation")
INVALID_OPERATIONS = hypothesis_graphql.from_schema(
    SCHEMA, custom_scalars=SCALARS, mode=hypothesis_graphql.Mode.NEGATIVE
)


@pytest.fixture
async def fuzz_client(client_factory: AppFactory, tmp_path: Path) -> httpx.AsyncClient:
    """An app over the fuzz world whose budgets never run out (the generated requests
    would otherwise spend most of the run on RATE_LIMITED)."""
    client = client_factory(
        rate_limit_capacity=10**9,
        rate_limit_restore_rate=10**9,
        login_max_failures=10**9,
        account_email_max_requests=10**9,
        mail_outbox_dir=str(tmp_path / "outbox"),
        storage_local_dir=str(tmp_path / "files"),
    )
    await build_world(client.container.passwords)  # type: ignore[attr-defined]
    return client


async def viewer_headers(client: httpx.AsyncClient, viewer_id: int | None) -> dict[str, str]:
    if viewer_id is None:
        return {}
    return bearer(client, await User.get(id=viewer_id))


async def send(
    client: httpx.AsyncClient,
    query: str,
    transport: tuple[str, str],
    headers: dict[str, str],
) -> httpx.Response:
    method, accept = transport
    headers = {**headers, "Accept": accept}
    if method == "GET":
        return await client.get("/graphql", params={"query": query}, headers=headers)
    return await client.post("/graphql", json={"query": query}, headers=headers)


VIEWERS = pytest.mark.parametrize(
    "viewer_id", [None, USER_ID, ADMIN_ID], ids=["anonymous", "user", "admin"]
)


@VIEWERS
@fuzz
@given(query=QUERIES, transport=st.sampled_from(TRANSPORTS))
async def test_generated_queries_keep_the_error_contract(
    fuzz_client: httpx.AsyncClient, viewer_id: int | None, query: str, transport: tuple[str, str]
) -> None:
    headers = await viewer_headers(fuzz_client, viewer_id)
    assert_error_contract(await send(fuzz_client, query, transport, headers))


@VIEWERS
@fuzz
@given(mutation=MUTATIONS, transport=st.sampled_from(POST_TRANSPORTS))
async def test_generated_mutations_keep_the_error_contract(
    fuzz_client: httpx.AsyncClient,
    viewer_id: int | None,
    mutation: str,
    transport: tuple[str, str],
) -> None:
    # Each example starts from the same rows (the previous one may have written).
    await build_world(fuzz_client.container.passwords)  # type: ignore[attr-defined]
    headers = await viewer_headers(fuzz_client, viewer_id)
    assert_error_contract(await send(fuzz_client, mutation, transport, headers))


@pytest.mark.parametrize("viewer_id", [USER_ID, ADMIN_ID], ids=["user", "admin"])
@fuzz
@given(operations=money_operations())
async def test_generated_money_operations_keep_the_error_contract(
    fuzz_client: httpx.AsyncClient, viewer_id: int, operations: list[Operation]
) -> None:
    await build_world(fuzz_client.container.passwords)  # type: ignore[attr-defined]
    headers = await viewer_headers(fuzz_client, viewer_id)
    for query, variables in operations:
        payload = {"query": query, "variables": variables}
        assert_error_contract(await fuzz_client.post("/graphql", json=payload, headers=headers))


@fuzz
@given(operation=INVALID_OPERATIONS, transport=st.sampled_from(TRANSPORTS))
async def test_operations_with_a_schema_violation_keep_the_error_contract(
    fuzz_client: httpx.AsyncClient, operation: str, transport: tuple[str, str]
) -> None:
    await build_world(fuzz_client.container.passwords)  # type: ignore[attr-defined]
    headers = await viewer_headers(fuzz_client, USER_ID)
    assert_error_contract(await send(fuzz_client, operation, transport, headers))


# --- hostile values, bodies and documents --------------------------------------------------

LONG_EMAIL = "a" * 4_990 + "@agora.test"  # 5,001 characters
LONG_TAG = "t" * 31
HUGE_INT = 2**53
FAR_PAST = "0001-01-01T00:00:00+14:00"
FAR_FUTURE = "9999-12-31T23:59:59-14:00"
POSTS_BY_SEARCH = "query($s: String) { posts(filter: {search: $s}) { totalCount } }"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"
RESET = "mutation($e: String!) { requestPasswordReset(email: $e) }"
RESEND = "mutation($e: String!) { resendVerificationEmail(email: $e) }"
PAGE = "query($n: Int) { posts(first: $n) { totalCount } }"
USER_BY_ID = "query($id: ID!) { user(id: $id) { id } }"
PRODUCTS_UNDER = "query($p: Decimal) { products(filter: {maxPrice: $p}) { totalCount } }"
TOP_SINCE = "query($d: DateTime) { topCustomers(since: $d) { totalAmount } }"
CREATE_POST = "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }"
TRANSFER = "mutation($i: TransferInput!) { transfer(input: $i) { id } }"
UPLOAD = "mutation($f: Upload!) { uploadFile(file: $f, purpose: ATTACHMENT) { id } }"
POSTS_AFTER = (
    "query($c: String, $o: PostOrderField) { posts(after: $c, orderBy: $o) { totalCount } }"
)
PRODUCTS_AFTER = "query($c: String) { products(after: $c, orderBy: PRICE) { totalCount } }"
TRANSFERS_AFTER = "query($c: String) { transfers(after: $c) { totalCount } }"
BO = global_id("User", 4)


def transfer_input(**fields: Any) -> dict[str, Any]:
    return {"toUserId": BO, "amount": "1.00", "idempotencyKey": "fuzz-1", **fields}


def post_input(**fields: Any) -> dict[str, Any]:
    return {"title": "A title", "body": "A body", **fields}


def case(
    name: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    viewer: int | None = None,
    marks: Any = (),
) -> Any:
    return pytest.param(query, variables, viewer, id=name, marks=marks)


HOSTILE_VALUES = [
    # NUL bytes, in variables and literals.
    case(
        "nul-search-variable",
        POSTS_BY_SEARCH,
        {"s": "a\x00b"},
    ),
    case("nul-tag-literal", '{ posts(filter: {tag: "gar\\u0000den"}) { totalCount } }'),
    case(
        "nul-product-search",
        '{ products(filter: {search: "\\u0000"}) { totalCount } }',
    ),
    case(
        "nul-login-email",
        LOGIN,
        {"e": "uma@agora.test\x00", "p": "x"},
    ),
    case("nul-reset-email", RESET, {"e": "\x00"}),
    case(
        "nul-register-name",
        'mutation { register(input: {name: "Ad\\u0000a", email: "ada@example.com", '
        'password: "Sup3r-secret!"}) { id } }',
    ),
    case(
        "nul-device-token",
        'mutation { registerDevice(token: "t\\u0000", platform: IOS) }',
        viewer=USER_ID,
    ),
    case(
        "nul-idempotency-key",
        TRANSFER,
        {"i": transfer_input(idempotencyKey="k\x00")},
        viewer=USER_ID,
    ),
    case("nul-post-body", CREATE_POST, {"i": post_input(body="b\x00dy")}, viewer=USER_ID),
    case(
        "nul-profile-name",
        'mutation { updateProfile(input: {name: "Um\\u0000a"}) { name } }',
        viewer=USER_ID,
    ),
    case("nul-title-cursor", POSTS_AFTER, {"c": encode_cursor("a\x00", 1), "o": "TITLE"}),
    # Over-long strings.
    case("long-login-email", LOGIN, {"e": LONG_EMAIL, "p": "x"}),
    case("long-reset-email", RESET, {"e": LONG_EMAIL}),
    case("long-resend-email", RESEND, {"e": LONG_EMAIL}),
    case(
        "long-tag-filter",
        "query($t: String) { posts(filter: {tag: $t}) { totalCount } }",
        {"t": LONG_TAG},
    ),
    case("long-post-search", POSTS_BY_SEARCH, {"s": "s" * 5_000}),
    case(
        "long-product-search",
        "query($s: String) { products(filter: {search: $s}) { totalCount } }",
        {"s": "s" * 5_000},
    ),
    case(
        "long-device-token",
        "mutation($t: String!) { registerDevice(token: $t, platform: WEB) }",
        {"t": "t" * 513},
        viewer=USER_ID,
    ),
    case(
        "long-idempotency-key",
        TRANSFER,
        {"i": transfer_input(idempotencyKey="k" * 129)},
        viewer=USER_ID,
    ),
    case("long-cursor", POSTS_AFTER, {"c": "W" * 100_000}),
    # Numeric overflow.
    case(
        "decimal-1e30-literal",
        '{ products(filter: {maxPrice: "1e30"}) { totalCount } }',
    ),
    case("decimal-minus-1e30", PRODUCTS_UNDER, {"p": "-1e30"}),
    case("decimal-float-1e308", PRODUCTS_UNDER, {"p": 1e308}),
    case("decimal-huge-exponent", PRODUCTS_UNDER, {"p": "1e999999999"}),
    case("decimal-tiny-exponent", PRODUCTS_UNDER, {"p": "1e-999999999"}),
    case("transfer-1e30", TRANSFER, {"i": transfer_input(amount="1e30")}, viewer=USER_ID),
    case(
        "deposit-1e30",
        'mutation { depositFunds(userId: "VXNlcjo0", amount: "1e30") { id } }',
        viewer=ADMIN_ID,
    ),
    case(
        "product-price-and-stock",
        'mutation { createProduct(input: {name: "Big", description: "d", price: "1e30", '
        "stock: 2147483647}) { id } }",
        viewer=ADMIN_ID,
    ),
    case("int-2-to-the-53", PAGE, {"n": HUGE_INT}),
    case("int-float-1e300", PAGE, {"n": 1e300}),
    case("int-max-32-bit", PAGE, {"n": 2**31 - 1}),
    case(
        "top-customers-max-limit",
        "{ topCustomers(limit: 2147483647) { totalAmount } }",
        viewer=ADMIN_ID,
    ),
    case("id-pk-over-bigint", USER_BY_ID, {"id": global_id("User", 2**64)}),
    case("price-cursor-over-bigint", PRODUCTS_AFTER, {"c": encode_cursor(2**64 - 1, 1)}),
    # Dates out of range.
    case("since-far-past", TOP_SINCE, {"d": FAR_PAST}, viewer=ADMIN_ID),
    case("since-far-future", TOP_SINCE, {"d": FAR_FUTURE}, viewer=ADMIN_ID),
    case(
        "since-far-past-literal",
        f'{{ topCustomers(since: "{FAR_PAST}") {{ totalAmount }} }}',
        viewer=ADMIN_ID,
    ),
    case(
        "date-cursor-far-past",
        TRANSFERS_AFTER,
        {"c": encode_cursor(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))), 1)},
        viewer=USER_ID,
    ),
    # Wrong JSON types for variables.
    case("int-as-string", PAGE, {"n": "10"}),
    case("int-as-bool", PAGE, {"n": True}),
    case("int-as-list", PAGE, {"n": [1]}),
    case("int-as-object", PAGE, {"n": {"$gt": 1}}),
    case("string-as-object", POSTS_BY_SEARCH, {"s": {"$ne": ""}}),
    case("string-as-number", POSTS_BY_SEARCH, {"s": 1}),
    case("string-as-list", POSTS_BY_SEARCH, {"s": ["a"]}),
    case("id-as-float", USER_BY_ID, {"id": 1.5}),
    case("id-as-null", USER_BY_ID, {"id": None}),
    case("id-as-object", USER_BY_ID, {"id": {}}),
    case("decimal-as-bool", PRODUCTS_UNDER, {"p": True}),
    case("decimal-as-list", PRODUCTS_UNDER, {"p": []}),
    case("decimal-as-object", PRODUCTS_UNDER, {"p": {}}),
    case("decimal-empty", PRODUCTS_UNDER, {"p": ""}),
    case("datetime-as-int", TOP_SINCE, {"d": 0}, viewer=ADMIN_ID),
    case("datetime-as-list", TOP_SINCE, {"d": []}, viewer=ADMIN_ID),
    case("datetime-empty", TOP_SINCE, {"d": ""}, viewer=ADMIN_ID),
    case("datetime-naive", TOP_SINCE, {"d": "2026-01-01T00:00:00"}, viewer=ADMIN_ID),
    case("input-as-string", CREATE_POST, {"i": "post"}, viewer=USER_ID),
    case("input-field-wrong-type", CREATE_POST, {"i": post_input(title=1)}, viewer=USER_ID),
    case("input-tags-not-a-list", CREATE_POST, {"i": post_input(tags="t")}, viewer=USER_ID),
    case("input-unknown-field", CREATE_POST, {"i": post_input(extra=1)}, viewer=USER_ID),
    case("enum-unknown", POSTS_AFTER, {"o": "NOPE"}),
    case("enum-as-int", POSTS_AFTER, {"o": 1}),
    case("upload-as-string", UPLOAD, {"f": "file"}, viewer=USER_ID),
    case("upload-as-object", UPLOAD, {"f": {"filename": "a.png"}}, viewer=USER_ID),
    case("cursor-of-another-ordering", POSTS_AFTER, {"c": encode_cursor(5, 1), "o": "TITLE"}),
]


@pytest.mark.parametrize(("query", "variables", "viewer_id"), HOSTILE_VALUES)
async def test_hostile_values_keep_the_error_contract(
    fuzz_client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None,
    viewer_id: int | None,
) -> None:
    headers = await viewer_headers(fuzz_client, viewer_id)
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    response = await fuzz_client.post("/graphql", json=payload, headers=headers)
    assert_error_contract(response)


ME = "{ me { id } }"
DEEP_ARRAY = b"[" * 100_000 + b"]" * 100_000

MALFORMED_BODIES = [
    pytest.param(b"null", id="null"),
    pytest.param(b"true", id="true"),
    pytest.param(b"123", id="number"),
    pytest.param(b'"str"', id="string"),
    pytest.param(b"[1]", id="batch-of-a-number"),
    pytest.param(b"[null]", id="batch-of-null"),
    pytest.param(b"[[]]", id="batch-of-a-batch"),
    pytest.param(b"[" * 500 + b"]" * 500, id="nested-array"),
    pytest.param(DEEP_ARRAY, id="deeply-nested-array"),
    pytest.param(b"[]", id="empty-batch"),
    pytest.param(b"{}", id="empty-object"),
    pytest.param(b"", id="empty"),
    pytest.param(b"{", id="truncated"),
    pytest.param(b"\xff\xfe{}", id="not-utf8"),
    pytest.param(b'{"query": "\\ud800"}', id="lone-surrogate"),
    pytest.param(b'{"query": "{ me { id } }", "query": 1}', id="duplicate-key"),
    pytest.param(b'{"query": "{ me { id } }", "variables": {"n": 1e400}}', id="number-1e400"),
    pytest.param(b'[{"query": "{ me { id } }"}, {}]', id="batch-with-an-empty-object"),
]


@pytest.mark.parametrize("body", MALFORMED_BODIES)
async def test_malformed_bodies_keep_the_error_contract(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert_error_contract(response)


WRONG_REQUEST_FIELDS = [
    pytest.param({"query": 1}, id="query-number"),
    pytest.param({"query": None}, id="query-null"),
    pytest.param({"query": [ME]}, id="query-list"),
    pytest.param({"query": {}}, id="query-object"),
    pytest.param({"query": ""}, id="query-empty"),
    pytest.param({"query": " \n "}, id="query-blank"),
    pytest.param({"query": ME, "variables": [1]}, id="variables-list"),
    pytest.param({"query": ME, "variables": "x"}, id="variables-string"),
    pytest.param({"query": ME, "variables": 1}, id="variables-number"),
    pytest.param({"query": ME, "operationName": 1}, id="operation-name-number"),
    pytest.param({"query": ME, "operationName": ["x"]}, id="operation-name-list"),
    pytest.param({"query": ME, "operationName": {}}, id="operation-name-object"),
    pytest.param({"query": ME, "operationName": ""}, id="operation-name-empty"),
    pytest.param({"query": ME, "extensions": "x"}, id="extensions-string"),
    pytest.param({"query": ME, "extensions": 1}, id="extensions-number"),
    pytest.param({"query": ME, "extensions": []}, id="extensions-list"),
    pytest.param({"query": "query A { me { id } }", "operationName": "B"}, id="unknown-op"),
    pytest.param({"query": "query A { me { id } } query B { me { id } }"}, id="no-op-name"),
    pytest.param({"query": "fragment F on Query { me { id } }"}, id="only-a-fragment"),
    pytest.param({"query": "{ me { id } }", "variables": {"unused": "\x00"}}, id="unused-var"),
    pytest.param({"extensions": {"persistedQuery": None}}, id="persisted-null"),
    pytest.param({"extensions": {"persistedQuery": []}}, id="persisted-list"),
    pytest.param({"extensions": {"persistedQuery": {"version": "1"}}}, id="persisted-no-hash"),
    pytest.param(
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}},
        id="persisted-miss",
    ),
    pytest.param(
        {"query": ME, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}},
        id="persisted-mismatch",
    ),
    pytest.param(
        {"query": ME, "extensions": {"persistedQuery": {"version": [], "sha256Hash": "0" * 64}}},
        id="persisted-version-list",
    ),
    pytest.param({"documentId": 1}, id="document-id-number"),
    pytest.param({"documentId": "sha256:" + "0" * 64}, id="document-id-unknown"),
    pytest.param({"documentId": "x" * 100_000}, id="document-id-huge"),
    pytest.param({"doc_id": "abc", "documentId": "def"}, id="two-document-ids"),
    pytest.param({"query": ME, "doc_id": "abc"}, id="query-and-doc-id"),
]


@pytest.mark.parametrize("payload", WRONG_REQUEST_FIELDS)
async def test_wrong_request_fields_keep_the_error_contract(
    client: httpx.AsyncClient, payload: dict[str, Any]
) -> None:
    assert_error_contract(await client.post("/graphql", json=payload))


GET_PARAMETERS = [
    pytest.param({"query": ME, "variables": "not json"}, id="variables-not-json"),
    pytest.param({"query": ME, "variables": "[1]"}, id="variables-list"),
    pytest.param({"query": ME, "variables": "null"}, id="variables-null"),
    pytest.param({"query": ME, "extensions": "x"}, id="extensions-not-json"),
    pytest.param({"query": ME, "operationName": "B"}, id="unknown-op"),
    pytest.param({"query": ""}, id="query-empty"),
    pytest.param({}, id="nothing"),
    pytest.param({"extensions": '{"persistedQuery": {"version": 1}}'}, id="persisted-no-hash"),
    pytest.param(
        {"extensions": '{"persistedQuery": {"version": 1, "sha256Hash": "' + "0" * 64 + '"}}'},
        id="persisted-miss",
    ),
    pytest.param({"documentId": "nope"}, id="document-id-unknown"),
    pytest.param({"doc_id": "nope", "documentId": "other"}, id="two-document-ids"),
]


@pytest.mark.parametrize("params", GET_PARAMETERS)
async def test_malformed_get_requests_keep_the_error_contract(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await client.get(
        "/graphql", params=params, headers={"Accept": "application/graphql-response+json"}
    )
    assert_error_contract(response)


UPLOAD_OPERATIONS = orjson.dumps({"query": UPLOAD, "variables": {"f": None}}).decode()
MULTIPART_FORMS = [
    pytest.param({"operations": UPLOAD_OPERATIONS, "map": "[1]"}, id="map-list"),
    pytest.param({"operations": UPLOAD_OPERATIONS, "map": "null"}, id="map-null"),
    pytest.param({"operations": UPLOAD_OPERATIONS, "map": '"x"'}, id="map-string"),
    pytest.param({"operations": UPLOAD_OPERATIONS, "map": "{"}, id="map-not-json"),
    pytest.param({"operations": UPLOAD_OPERATIONS, "map": '{"0": "variables.f"}'}, id="path-str"),
    pytest.param(
        {"operations": UPLOAD_OPERATIONS, "map": '{"0": [1]}'},
        id="path-number",
    ),
    pytest.param(
        {"operations": UPLOAD_OPERATIONS, "map": '{"0": ["variables.x.y"]}'}, id="bad-path"
    ),
    pytest.param({"operations": UPLOAD_OPERATIONS, "map": '{"9": ["variables.f"]}'}, id="no-part"),
    pytest.param(
        {"operations": UPLOAD_OPERATIONS, "map": '{"0": ["variables.f.x"]}'},
        id="path-into-null",
    ),
    pytest.param({"operations": UPLOAD_OPERATIONS, "map": '{"0": ["query"]}'}, id="path-query"),
    pytest.param(
        {"operations": UPLOAD_OPERATIONS, "map": '{"0": ["variables"]}'}, id="path-variables"
    ),
    pytest.param({"operations": UPLOAD_OPERATIONS, "map": '{"0": [""]}'}, id="path-empty"),
    pytest.param(
        {"operations": UPLOAD_OPERATIONS, "map": '{"0": ["variables.f.0"]}'},
        id="path-index-null",
    ),
    pytest.param({"operations": "[1]", "map": "{}"}, id="operations-list"),
    pytest.param({"operations": "null", "map": "{}"}, id="operations-null"),
    pytest.param({"operations": "{", "map": "{}"}, id="operations-not-json"),
    pytest.param({"map": "{}"}, id="no-operations"),
    pytest.param({"operations": UPLOAD_OPERATIONS}, id="no-map"),
]


@pytest.mark.parametrize("form", MULTIPART_FORMS)
async def test_malformed_multipart_requests_keep_the_error_contract(
    fuzz_client: httpx.AsyncClient, form: dict[str, str]
) -> None:
    headers = {**await viewer_headers(fuzz_client, USER_ID), "X-Requested-With": "fuzz"}
    files = {name: (None, value) for name, value in form.items()}
    files["0"] = ("a.png", PNG)  # type: ignore[assignment]
    response = await fuzz_client.post("/graphql", files=files, headers=headers)
    assert_error_contract(response)


HOSTILE_HEADERS = [
    pytest.param({"Authorization": "Bearer"}, id="bearer-without-token"),
    pytest.param({"Authorization": "Bearer   "}, id="bearer-blank"),
    pytest.param({"Authorization": "Basic dTpw"}, id="basic"),
    pytest.param({"Authorization": "Bearer " + "a" * 10_000}, id="bearer-10k"),
    pytest.param({"Authorization": "Bearer a.b.c"}, id="bearer-not-a-jwt"),
    pytest.param({"X-Request-ID": "x" * 10_000}, id="request-id-10k"),
    pytest.param({"X-Request-ID": "a b\t<c>"}, id="request-id-odd"),
    pytest.param({"Accept": "text/html"}, id="accept-html"),
    pytest.param({"Accept": "application/json;q=abc, */*;q=-1"}, id="accept-bad-quality"),
    pytest.param({"Content-Type": "application/json; charset=utf-16"}, id="charset-utf16"),
    pytest.param({"Content-Type": "text/plain"}, id="text-plain"),
    pytest.param({"Content-Type": "application/xml"}, id="xml"),
    pytest.param(
        {"Content-Type": "multipart/form-data", "X-Requested-With": "x"}, id="no-boundary"
    ),
]


@pytest.mark.parametrize("headers", HOSTILE_HEADERS)
async def test_hostile_headers_keep_the_error_contract(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    request = client.build_request(
        "POST", "/graphql", content=orjson.dumps({"query": ME}), headers=headers
    )
    if "Content-Type" not in headers:
        request.headers["Content-Type"] = "application/json"
    assert_error_contract(await client.send(request))


SUBSCRIPTION = "subscription { postPublished { id } }"


async def test_a_subscription_posted_over_http_keeps_the_error_contract(
    client: httpx.AsyncClient,
) -> None:
    assert_error_contract(await client.post("/graphql", json={"query": SUBSCRIPTION}))


async def test_a_subscription_sent_with_get_keeps_the_error_contract(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/graphql", params={"query": SUBSCRIPTION})
    assert_error_contract(response)


# Each fragment spreads the previous one twice: 2**25 copies of `id` once expanded.
EXPLODING_FRAGMENTS = (
    "query { posts(first: 1) { nodes { ...F25 } } } fragment F0 on Post { id } "
    + " ".join(f"fragment F{n} on Post {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, 26))
)


async def test_exploding_fragments_are_answered_before_they_hang(
    fuzz_client: httpx.AsyncClient,
) -> None:
    with deadline():
        response = await fuzz_client.post("/graphql", json={"query": EXPLODING_FRAGMENTS})
    assert_error_contract(response)
