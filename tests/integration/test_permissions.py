"""RBAC through the API: each root field and mutation allowed or denied per role (ADMIN,
MODERATOR, USER, anonymous), the contract's Role -> Permission table, private User fields,
an admin's protection against locking themself out, the audit trail of admin actions, and
the `users` connection: filters, orderings and keyset pages in both directions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models.audit import AuditAction, AuditLog
from models.user import Role, User, UserStatus
from services.passwords import PasswordHasher
from tests.conftest import data, graphql, make_settings
from vocabulary.relay import to_global_id

PASSWORD = "Sup3r-secret!"
NEW_PASSWORD = "An0ther-secret!"
# Hashed once with the test parameters: these tests create many users.
PASSWORD_HASH = PasswordHasher.from_settings(make_settings()).hash(PASSWORD)
LOGIN = """
mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken user { id } }
}
"""
USERS_PAGE = """
query($first: Int, $after: String, $last: Int, $before: String, $filter: UserFilter,
      $orderBy: UserOrderField, $direction: OrderDirection) {
  users(first: $first, after: $after, last: $last, before: $before, filter: $filter,
        orderBy: $orderBy, direction: $direction) {
    totalCount
    edges { cursor node { id name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
UPDATE_ROLE = (
    "mutation($id: ID!, $role: Role!) { updateUserRole(id: $id, role: $role) { id role } }"
)
SUSPEND = 'mutation($id: ID!) { suspendUser(id: $id, reason: "spam") { id status } }'
DELETE = "mutation($id: ID!) { deleteUser(id: $id) }"
CHANGE_PASSWORD = """
mutation($current: String!, $new: String!) {
  changePassword(currentPassword: $current, newPassword: $new)
}
"""
PRIVATE_FIELDS = "query($id: ID!) { user(id: $id) { name email permissions balance } }"

ALL_PERMISSIONS = [
    "READ_USERS",
    "WRITE_USERS",
    "DELETE_USERS",
    "READ_POSTS",
    "WRITE_POSTS",
    "MODERATE_POSTS",
    "WRITE_PRODUCTS",
    "MANAGE_ORDERS",
    "READ_STATS",
]
# The contract's table: ADMIN all; MODERATOR READ_USERS, READ_POSTS, WRITE_POSTS,
# MODERATE_POSTS; USER READ_POSTS, WRITE_POSTS (in the enum's order).
CONTRACT_PERMISSIONS = {
    Role.ADMIN: ALL_PERMISSIONS,
    Role.MODERATOR: ["READ_USERS", "READ_POSTS", "WRITE_POSTS", "MODERATE_POSTS"],
    Role.USER: ["READ_POSTS", "WRITE_POSTS"],
}

ANONYMOUS = None
EVERY_VIEWER = [Role.ADMIN, Role.MODERATOR, Role.USER, ANONYMOUS]


def viewer_id(role: Role | None) -> str:
    return role.value if role else "anonymous"


def expectations(allowed: set[Role]) -> list[Any]:
    """(viewer, expected error code or None) for every viewer."""
    cases = []
    for role in EVERY_VIEWER:
        expected: str | None
        if role is ANONYMOUS:
            expected = "UNAUTHENTICATED"
        else:
            expected = None if role in allowed else "FORBIDDEN"
        label = f"{viewer_id(role)}-{'allowed' if expected is None else expected}"
        cases.append(pytest.param(role, expected, id=label))
    return cases


READ_USERS_HOLDERS = expectations({Role.ADMIN, Role.MODERATOR})
ADMIN_ONLY = expectations({Role.ADMIN})
ANY_AUTHENTICATED = expectations({Role.ADMIN, Role.MODERATOR, Role.USER})


def error_code(response: httpx.Response) -> str:
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    return errors[0]["extensions"]["code"]  # type: ignore[no-any-return]


def gid(user: User) -> str:
    return to_global_id("User", user.id)


async def create_user(
    name: str,
    email: str,
    role: Role = Role.USER,
    status: UserStatus = UserStatus.ACTIVE,
    balance_cents: int = 0,
) -> User:
    return await User.create(
        name=name,
        email=email,
        password_hash=PASSWORD_HASH,
        role=role,
        status=status,
        balance_cents=balance_cents,
    )


async def bearer_for(client: httpx.AsyncClient, user: User) -> dict[str, str]:
    response = await graphql(client, LOGIN, {"email": user.email, "password": PASSWORD})
    return {"Authorization": f"Bearer {data(response)['login']['accessToken']}"}


async def viewer(
    client: httpx.AsyncClient, role: Role | None
) -> tuple[User | None, dict[str, str]]:
    """A logged-in user of ``role`` and their headers; (None, {}) for anonymous."""
    if role is None:
        return None, {}
    user = await create_user(f"{role.value.title()} Viewer", f"{role.value.lower()}@x.io", role)
    return user, await bearer_for(client, user)


def assert_outcome(response: httpx.Response, expected: str | None) -> None:
    if expected is None:
        data(response)
    else:
        assert error_code(response) == expected
        assert response.json()["data"] is None


# Root fields and mutations per role


@pytest.mark.parametrize(("role", "expected"), READ_USERS_HOLDERS)
async def test_users_needs_read_users(client, role, expected):
    _, headers = await viewer(client, role)
    await create_user("Tess Target", "tess@x.io")
    response = await graphql(client, "{ users { totalCount } }", headers=headers)
    assert_outcome(response, expected)


@pytest.mark.parametrize(("role", "expected"), ADMIN_ONLY)
async def test_update_user_role_is_admin_only(client, role, expected):
    _, headers = await viewer(client, role)
    target = await create_user("Tess Target", "tess@x.io")
    response = await graphql(client, UPDATE_ROLE, {"id": gid(target), "role": "MODERATOR"}, headers)
    assert_outcome(response, expected)
    stored = await User.get(id=target.id)
    assert stored.role is (Role.MODERATOR if expected is None else Role.USER)


@pytest.mark.parametrize(("role", "expected"), ADMIN_ONLY)
async def test_suspend_user_needs_write_users(client, role, expected):
    _, headers = await viewer(client, role)
    target = await create_user("Tess Target", "tess@x.io")
    response = await graphql(client, SUSPEND, {"id": gid(target)}, headers)
    assert_outcome(response, expected)
    stored = await User.get(id=target.id)
    assert stored.status is (UserStatus.SUSPENDED if expected is None else UserStatus.ACTIVE)


@pytest.mark.parametrize(("role", "expected"), ADMIN_ONLY)
async def test_delete_user_needs_delete_users(client, role, expected):
    _, headers = await viewer(client, role)
    target = await create_user("Tess Target", "tess@x.io")
    response = await graphql(client, DELETE, {"id": gid(target)}, headers)
    assert_outcome(response, expected)
    stored = await User.get(id=target.id)
    assert (stored.deleted_at is not None) is (expected is None)


@pytest.mark.parametrize(("role", "expected"), ANY_AUTHENTICATED)
async def test_logout_all_needs_authentication(client, role, expected):
    _, headers = await viewer(client, role)
    assert_outcome(await graphql(client, "mutation { logoutAll }", headers=headers), expected)


@pytest.mark.parametrize(("role", "expected"), ANY_AUTHENTICATED)
async def test_change_password_needs_authentication(client, role, expected):
    _, headers = await viewer(client, role)
    variables = {"current": PASSWORD, "new": NEW_PASSWORD}
    response = await graphql(client, CHANGE_PASSWORD, variables, headers)
    assert_outcome(response, expected)


@pytest.mark.parametrize(("role", "expected"), ANY_AUTHENTICATED)
async def test_update_profile_needs_authentication(client, role, expected):
    _, headers = await viewer(client, role)
    response = await graphql(
        client, 'mutation { updateProfile(input: {name: "New Name"}) { name } }', headers=headers
    )
    assert_outcome(response, expected)


async def test_a_role_change_ends_the_users_sessions_and_applies_at_next_login(client):
    _, admin_headers = await viewer(client, Role.ADMIN)
    target = await create_user("Tess Target", "tess@x.io")
    old_headers = await bearer_for(client, target)
    response = await graphql(
        client, UPDATE_ROLE, {"id": gid(target), "role": "MODERATOR"}, admin_headers
    )
    assert data(response)["updateUserRole"]["role"] == "MODERATOR"
    assert (await graphql(client, "{ me { id } }", headers=old_headers)).status_code == 401
    new_headers = await bearer_for(client, target)
    me = data(await graphql(client, "{ me { permissions } }", headers=new_headers))["me"]
    assert me["permissions"] == CONTRACT_PERMISSIONS[Role.MODERATOR]
    data(await graphql(client, "{ users { totalCount } }", headers=new_headers))


# What each role may do


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MODERATOR, Role.USER], ids=viewer_id)
async def test_me_permissions_follow_the_contract_table(client, role):
    _, headers = await viewer(client, role)
    response = await graphql(client, "{ me { role permissions } }", headers=headers)
    assert data(response)["me"] == {"role": role.value, "permissions": CONTRACT_PERMISSIONS[role]}


async def test_me_is_null_for_anonymous_callers(client):
    assert data(await graphql(client, "{ me { id } }")) == {"me": None}


# Private fields of other users


@pytest.mark.parametrize(
    ("role", "sees_email", "sees_balance"),
    [
        pytest.param(Role.ADMIN, True, True, id="ADMIN"),
        pytest.param(Role.MODERATOR, True, False, id="MODERATOR"),
        pytest.param(Role.USER, False, False, id="USER"),
        pytest.param(ANONYMOUS, False, False, id="anonymous"),
    ],
)
async def test_private_fields_of_another_user(client, role, sees_email, sees_balance):
    _, headers = await viewer(client, role)
    target = await create_user("Tess Target", "tess@x.io", balance_cents=1250)
    response = await graphql(client, PRIVATE_FIELDS, {"id": gid(target)}, headers)
    assert data(response)["user"] == {
        "name": "Tess Target",
        "email": "tess@x.io" if sees_email else None,
        "permissions": CONTRACT_PERMISSIONS[Role.USER] if sees_email else [],
        "balance": "12.50" if sees_balance else None,
    }


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MODERATOR, Role.USER], ids=viewer_id)
async def test_every_user_sees_their_own_email_permissions_and_balance(client, role):
    user, headers = await viewer(client, role)
    assert user is not None
    await User.filter(id=user.id).update(balance_cents=99)
    response = await graphql(client, PRIVATE_FIELDS, {"id": gid(user)}, headers)
    assert data(response)["user"] == {
        "name": user.name,
        "email": user.email,
        "permissions": CONTRACT_PERMISSIONS[role],
        "balance": "0.99",
    }


async def test_a_moderator_sees_emails_but_not_balances_in_the_users_list(client):
    _, headers = await viewer(client, Role.MODERATOR)
    await create_user("Tess Target", "tess@x.io", balance_cents=500)
    response = await graphql(
        client,
        '{ users(filter: {search: "tess"}) { nodes { email permissions balance } } }',
        headers=headers,
    )
    assert data(response)["users"]["nodes"] == [
        {"email": "tess@x.io", "permissions": CONTRACT_PERMISSIONS[Role.USER], "balance": None}
    ]


# An admin cannot lock themself out


@pytest.mark.parametrize("new_role", ["MODERATOR", "USER"])
async def test_an_admin_cannot_remove_their_own_admin_role(client, new_role):
    admin, headers = await viewer(client, Role.ADMIN)
    assert admin is not None
    response = await graphql(client, UPDATE_ROLE, {"id": gid(admin), "role": new_role}, headers)
    assert error_code(response) == "CONFLICT"
    assert (await User.get(id=admin.id)).role is Role.ADMIN
    data(await graphql(client, "{ me { id } }", headers=headers))  # still logged in


async def test_an_admin_cannot_suspend_themself(client):
    admin, headers = await viewer(client, Role.ADMIN)
    assert admin is not None
    assert error_code(await graphql(client, SUSPEND, {"id": gid(admin)}, headers)) == "CONFLICT"
    assert (await User.get(id=admin.id)).status is UserStatus.ACTIVE


async def test_an_admin_cannot_delete_themself(client):
    admin, headers = await viewer(client, Role.ADMIN)
    assert admin is not None
    assert error_code(await graphql(client, DELETE, {"id": gid(admin)}, headers)) == "CONFLICT"
    assert (await User.get(id=admin.id)).deleted_at is None


async def test_an_admin_can_demote_another_admin(client):
    _, headers = await viewer(client, Role.ADMIN)
    other = await create_user("Other Admin", "other@x.io", Role.ADMIN)
    response = await graphql(client, UPDATE_ROLE, {"id": gid(other), "role": "USER"}, headers)
    assert data(response)["updateUserRole"] == {"id": gid(other), "role": "USER"}


async def test_admin_mutations_on_an_unknown_user_are_not_found(client):
    _, headers = await viewer(client, Role.ADMIN)
    missing = to_global_id("User", 999_999)
    attempts: list[tuple[str, dict[str, Any]]] = [
        (UPDATE_ROLE, {"id": missing, "role": "USER"}),
        (SUSPEND, {"id": missing}),
        (DELETE, {"id": missing}),
    ]
    for query, variables in attempts:
        assert error_code(await graphql(client, query, variables, headers)) == "NOT_FOUND"


async def test_admin_mutations_refuse_an_id_of_another_type(client):
    _, headers = await viewer(client, Role.ADMIN)
    response = await graphql(client, SUSPEND, {"id": to_global_id("Post", 1)}, headers)
    assert error_code(response) == "BAD_USER_INPUT"


# The audit trail of admin actions


async def audit_rows(action: AuditAction) -> list[AuditLog]:
    return await AuditLog.filter(action=action).all()


async def test_a_role_change_is_audited_with_actor_target_and_both_roles(client):
    admin, headers = await viewer(client, Role.ADMIN)
    assert admin is not None
    target = await create_user("Tess Target", "tess@x.io")
    data(await graphql(client, UPDATE_ROLE, {"id": gid(target), "role": "MODERATOR"}, headers))
    [row] = await audit_rows(AuditAction.ROLE_CHANGED)
    assert (row.actor_id, row.target_id) == (admin.id, target.id)
    assert row.data == {"previous": "USER", "role": "MODERATOR"}
    assert row.ip == "203.0.113.7"
    assert row.request_id


async def test_setting_the_same_role_again_changes_and_audits_nothing(client):
    _, headers = await viewer(client, Role.ADMIN)
    target = await create_user("Tess Target", "tess@x.io")
    target_headers = await bearer_for(client, target)
    data(await graphql(client, UPDATE_ROLE, {"id": gid(target), "role": "USER"}, headers))
    assert await audit_rows(AuditAction.ROLE_CHANGED) == []
    data(await graphql(client, "{ me { id } }", headers=target_headers))  # session intact


async def test_a_suspension_is_audited_with_actor_target_and_reason(client):
    admin, headers = await viewer(client, Role.ADMIN)
    assert admin is not None
    target = await create_user("Tess Target", "tess@x.io")
    data(await graphql(client, SUSPEND, {"id": gid(target)}, headers))
    [row] = await audit_rows(AuditAction.USER_SUSPENDED)
    assert (row.actor_id, row.target_id) == (admin.id, target.id)
    assert row.data == {"reason": "spam"}


async def test_a_deletion_is_audited_with_actor_and_target(client):
    admin, headers = await viewer(client, Role.ADMIN)
    assert admin is not None
    target = await create_user("Tess Target", "tess@x.io")
    data(await graphql(client, DELETE, {"id": gid(target)}, headers))
    [row] = await audit_rows(AuditAction.USER_DELETED)
    assert (row.actor_id, row.target_id) == (admin.id, target.id)


async def test_a_refused_admin_action_writes_no_audit_row(client):
    _, headers = await viewer(client, Role.MODERATOR)
    target = await create_user("Tess Target", "tess@x.io")
    await graphql(client, SUSPEND, {"id": gid(target)}, headers)
    await graphql(client, DELETE, {"id": gid(target)}, headers)
    assert (
        await AuditLog.filter(
            action__in=[AuditAction.USER_SUSPENDED, AuditAction.USER_DELETED]
        ).count()
        == 0
    )


# The users connection: filters


async def search_names(
    client: httpx.AsyncClient, headers: dict[str, str], filter: dict[str, Any]
) -> tuple[list[str], int]:
    response = await graphql(
        client, USERS_PAGE, {"filter": filter, "orderBy": "NAME", "direction": "ASC"}, headers
    )
    users = data(response)["users"]
    return [edge["node"]["name"] for edge in users["edges"]], users["totalCount"]


@pytest.fixture
async def directory(client) -> dict[str, str]:
    """An admin's headers and a handful of users to filter."""
    _, headers = await viewer(client, Role.ADMIN)  # "Admin Viewer", admin@x.io
    await create_user("Ada Lovelace", "countess@example.com")
    await create_user("Lady Byron", "byron@ada-family.org", Role.MODERATOR)
    await create_user("Grace Hopper", "grace@navy.mil", Role.MODERATOR)
    await create_user("Alan Turing", "alan@example.com", status=UserStatus.SUSPENDED)
    await create_user("Pending Pat", "pat@example.com", status=UserStatus.PENDING_VERIFICATION)
    await create_user("Percent 100% Sure", "sure@example.com")
    return headers


async def test_users_search_matches_name_or_email_case_insensitively(client, directory):
    assert await search_names(client, directory, {"search": "ADA"}) == (
        ["Ada Lovelace", "Lady Byron"],
        2,
    )


async def test_users_search_matches_part_of_an_email(client, directory):
    assert await search_names(client, directory, {"search": "NAVY.MIL"}) == (["Grace Hopper"], 1)


async def test_users_search_is_trimmed(client, directory):
    assert await search_names(client, directory, {"search": "  lovelace  "}) == (
        ["Ada Lovelace"],
        1,
    )


async def test_users_search_treats_like_wildcards_literally(client, directory):
    assert await search_names(client, directory, {"search": "100%"}) == (["Percent 100% Sure"], 1)
    assert await search_names(client, directory, {"search": "_"}) == ([], 0)


async def test_users_filter_by_role(client, directory):
    assert await search_names(client, directory, {"role": "MODERATOR"}) == (
        ["Grace Hopper", "Lady Byron"],
        2,
    )


async def test_users_filter_by_status(client, directory):
    assert await search_names(client, directory, {"status": "SUSPENDED"}) == (["Alan Turing"], 1)
    assert await search_names(client, directory, {"status": "PENDING_VERIFICATION"}) == (
        ["Pending Pat"],
        1,
    )


async def test_users_filters_combine(client, directory):
    # "example" also matches Alan (suspended) and Pat (pending); role USER drops the admin.
    filter = {"search": "example", "role": "USER", "status": "ACTIVE"}
    assert await search_names(client, directory, filter) == (
        ["Ada Lovelace", "Percent 100% Sure"],
        2,
    )


async def test_users_never_lists_deleted_users(client, directory):
    byron = await User.get(email="byron@ada-family.org")
    data(await graphql(client, DELETE, {"id": gid(byron)}, directory))
    names, total = await search_names(client, directory, {})
    assert "Lady Byron" not in names
    assert "Deleted user" not in names
    assert total == len(names) == 6


# The users connection: orderings and keyset pages

PAGE_SIZE = 3
ORDERINGS = [
    pytest.param("NAME", "ASC", id="NAME-ASC"),
    pytest.param("NAME", "DESC", id="NAME-DESC"),
    pytest.param("CREATED_AT", "ASC", id="CREATED_AT-ASC"),
    pytest.param("CREATED_AT", "DESC", id="CREATED_AT-DESC"),
]


@pytest.fixture
async def crowd(client) -> dict[str, str]:
    """An admin and eleven more users whose names and creation times both have ties, so the
    id must break them."""
    admin, headers = await viewer(client, Role.ADMIN)
    assert admin is not None
    start = datetime(2026, 1, 1, tzinfo=UTC)
    names = ["Mia", "Bea", "Kai", "Bea", "Zoe", "Ana", "Lev", "Kai", "Uma", "Eli", "Ron"]
    await User.filter(id=admin.id).update(created_at=start)
    for index, name in enumerate(names):
        user = await create_user(name, f"user{index}@x.io")
        # Pairs share a creation time; some times have a fraction of a second, some not.
        step = index // 2
        moment = start + timedelta(seconds=1 + step, microseconds=250_000 * (step % 3))
        await User.filter(id=user.id).update(created_at=moment)
    return headers


async def expected_order(order_by: str, direction: str) -> list[str]:
    users = await User.filter(deleted_at=None)
    key = (lambda u: (u.name, u.id)) if order_by == "NAME" else (lambda u: (u.created_at, u.id))
    ordered = sorted(users, key=key, reverse=direction == "DESC")
    return [gid(user) for user in ordered]


async def users_page(
    client: httpx.AsyncClient, headers: dict[str, str], **variables: Any
) -> dict[str, Any]:
    return data(await graphql(client, USERS_PAGE, variables, headers))["users"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("order_by", "direction"), ORDERINGS)
async def test_users_pages_forward_without_duplicates_or_gaps(client, crowd, order_by, direction):
    expected = await expected_order(order_by, direction)
    seen: list[str] = []
    after = None
    for page_number in range(10):
        page = await users_page(
            client, crowd, first=PAGE_SIZE, after=after, orderBy=order_by, direction=direction
        )
        assert page["totalCount"] == len(expected)
        assert page["pageInfo"]["hasPreviousPage"] is (page_number > 0)
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected


@pytest.mark.parametrize(("order_by", "direction"), ORDERINGS)
async def test_users_pages_backward_without_duplicates_or_gaps(client, crowd, order_by, direction):
    expected = await expected_order(order_by, direction)
    seen: list[str] = []
    before = None
    for page_number in range(10):
        page = await users_page(
            client, crowd, last=PAGE_SIZE, before=before, orderBy=order_by, direction=direction
        )
        assert page["totalCount"] == len(expected)
        assert page["pageInfo"]["hasNextPage"] is (page_number > 0)
        seen = [edge["node"]["id"] for edge in page["edges"]] + seen
        assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert seen == expected


async def test_users_default_order_is_newest_first(client, crowd):
    page = await users_page(client, crowd, first=100)
    assert [edge["node"]["id"] for edge in page["edges"]] == await expected_order(
        "CREATED_AT", "DESC"
    )


async def test_a_user_created_between_pages_neither_repeats_nor_hides_another(client, crowd):
    expected = await expected_order("CREATED_AT", "DESC")
    first = await users_page(client, crowd, first=PAGE_SIZE)
    await create_user("Newcomer", "new@x.io")  # newest: sorts before page one
    rest = await users_page(client, crowd, first=100, after=first["pageInfo"]["endCursor"])
    ids = [edge["node"]["id"] for edge in first["edges"] + rest["edges"]]
    assert ids == expected


async def test_a_page_of_zero_has_no_cursors_but_says_more_follow(client, crowd):
    page = await users_page(client, crowd, first=0)
    assert page["edges"] == []
    assert page["pageInfo"]["startCursor"] is None
    assert page["pageInfo"]["endCursor"] is None
    assert page["pageInfo"]["hasNextPage"] is True


async def test_a_backward_page_of_zero_says_more_precede(client, crowd):
    page = await users_page(client, crowd, last=0)
    assert page["edges"] == []
    assert page["pageInfo"]["hasPreviousPage"] is True


@pytest.mark.parametrize(
    "variables",
    [{"first": 101}, {"last": 101}, {"first": -1}],
    ids=["first-101", "last-101", "first-negative"],
)
async def test_users_page_size_outside_0_to_100_is_bad_user_input(client, crowd, variables):
    response = await graphql(client, USERS_PAGE, variables, crowd)
    assert error_code(response) == "BAD_USER_INPUT"


async def test_users_refuses_a_malformed_cursor(client, crowd):
    response = await graphql(client, USERS_PAGE, {"first": 3, "after": "not-a-cursor"}, crowd)
    assert error_code(response) == "BAD_USER_INPUT"
