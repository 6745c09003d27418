from models.user import Role, User, UserStatus
from tests.conftest import graphql
from vocabulary.relay import to_global_id


async def test_node_resolves_a_user_by_global_id(client):
    user = await User.create(
        name="Ada",
        email="ada@example.com",
        password_hash="x",
        role=Role.USER,
        status=UserStatus.ACTIVE,
    )
    response = await graphql(
        client,
        "query($id: ID!) { node(id: $id) { id ... on User { name } } }",
        {"id": to_global_id("User", user.id)},
    )
    assert response.status_code == 200
    assert response.json()["data"]["node"] == {"id": to_global_id("User", user.id), "name": "Ada"}


async def test_me_is_null_when_anonymous(client):
    response = await graphql(client, "{ me { id } }")
    assert response.json()["data"] == {"me": None}
