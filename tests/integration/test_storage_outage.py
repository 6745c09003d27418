"""S3 down, through the app: a moto server that is stopped, an endpoint nothing listens on,
and one that accepts connections and never answers. A request that needs the storage answers
SERVICE_UNAVAILABLE (503, Retry-After) within the S3 deadline and leaves nothing half-written;
removing an object is best effort (an orphan for the cleanup); URLs are signed locally."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from core.metrics import REGISTRY
from models.files import File, FilePurpose, FileStatus
from models.user import Role, User
from services.files import cleanup_orphans
from services.storage import S3Storage
from services.storage.unavailable import STORAGE_UNAVAILABLE
from tests import file_samples as samples
from tests.blackhole import blackhole
from tests.conftest import AppFactory, graphql
from tests.factories import bearer, create_product, create_user, gid
from tests.integration.test_storage_s3 import CONFIRM, CREATE_UPLOAD_URL
from tests.integration.test_uploads import (
    ADD_IMAGE,
    DELETE_FILE,
    SET_AVATAR,
    UPLOAD_FILES,
    multipart,
    upload,
)
from tests.moto_server import HOST, bucket_name, running_moto_server, s3_settings
from tests.smtp_server import free_port

PNG_PART = ("a.png", samples.PNG, "image/png")


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with running_moto_server() as endpoint:
        yield endpoint


def s3_down(client_factory: AppFactory, bucket: str | None = None) -> httpx.AsyncClient:
    """The app on an S3 endpoint nothing listens on; one attempt per operation."""
    endpoint = f"http://{HOST}:{free_port()}"
    return client_factory(**s3_settings(endpoint, bucket or bucket_name()), s3_max_attempts=1)


@pytest.fixture
def client(client_factory: AppFactory) -> httpx.AsyncClient:
    return s3_down(client_factory)


def storage_of(client: httpx.AsyncClient) -> S3Storage:
    storage = client.container.storage  # type: ignore[attr-defined]
    assert isinstance(storage, S3Storage)
    return storage


def assert_storage_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] == STORAGE_UNAVAILABLE
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert response.headers["retry-after"] == str(error["extensions"]["retryAfter"])


def storage_failures(operation: str) -> float:
    labels = {"dependency": "s3", "operation": operation}
    return REGISTRY.get_sample_value("dependency_failures_total", labels) or 0.0


async def upload_mutation(client: httpx.AsyncClient, user: User, mutation: str) -> httpx.Response:
    headers = bearer(client, user)
    part = {"0": (PNG_PART, ["variables.file"])}
    if mutation == "uploadFile":
        return await upload(client, headers, samples.PNG, "a.png")
    if mutation == "uploadFiles":
        files = {str(i): (PNG_PART, [f"variables.files.{i}"]) for i in range(2)}
        return await multipart(client, UPLOAD_FILES, {"files": [None, None]}, files, headers)
    if mutation == "setAvatar":
        return await multipart(client, SET_AVATAR, {"file": None}, part, headers)
    product = await create_product(seller=user)
    variables: dict[str, Any] = {"product": gid("Product", product.id), "file": None}
    return await multipart(client, ADD_IMAGE, variables, part, headers)


async def test_an_upload_after_s3_stopped_answers_503_and_stores_nothing(
    client_factory: AppFactory,
) -> None:
    with running_moto_server() as endpoint:
        client = client_factory(**s3_settings(endpoint, bucket_name()), s3_max_attempts=1)
        await storage_of(client).ensure_bucket()
        user = await create_user()
        before = await upload(client, bearer(client, user), samples.PNG, "before.png")
        assert before.status_code == 200, before.text
    # moto is stopped now: its port refuses connections.

    response = await upload(client, bearer(client, user), samples.PNG, "after.png")

    assert_storage_unavailable(response)
    assert [file.filename for file in await File.all()] == ["before.png"]


@pytest.mark.parametrize("mutation", ["uploadFile", "uploadFiles", "setAvatar", "addProductImage"])
async def test_every_upload_answers_503_while_s3_is_down_and_writes_no_row(
    client: httpx.AsyncClient, mutation: str
) -> None:
    user = await create_user(role=Role.ADMIN)  # ADMIN: may add product images

    response = await upload_mutation(client, user, mutation)

    assert_storage_unavailable(response)
    assert await File.all().count() == 0
    assert (await User.get(id=user.id)).avatar_id is None


async def test_confirming_while_s3_is_down_answers_503_and_the_file_stays_pending(
    client: httpx.AsyncClient,
) -> None:
    user = await create_user()
    # Presigning needs no request to S3: the URL is handed out, S3 will refuse the PUT.
    announced = await graphql(
        client,
        CREATE_UPLOAD_URL,
        {
            "input": {
                "filename": "d.png",
                "contentType": "image/png",
                "size": len(samples.PNG),
                "purpose": "ATTACHMENT",
            }
        },
        bearer(client, user),
    )
    file_id = announced.json()["data"]["createUploadUrl"]["file"]["id"]

    response = await graphql(client, CONFIRM, {"id": file_id}, bearer(client, user))

    assert_storage_unavailable(response)
    assert (await File.get(owner_id=user.id)).status is FileStatus.PENDING


async def test_download_urls_are_still_signed_while_s3_is_down(client: httpx.AsyncClient) -> None:
    user = await create_user()
    file = await File.create(
        owner_id=user.id,
        storage_key="k" * 43,
        filename="a.png",
        content_type="image/png",
        size=1,
        purpose=FilePurpose.ATTACHMENT,
        status=FileStatus.READY,
    )

    response = await graphql(
        client,
        "query ($id: ID!) { file(id: $id) { url } }",
        {"id": gid("File", file.id)},
        bearer(client, user),
    )

    url = response.json()["data"]["file"]["url"]
    assert url.startswith(storage_of(client)._client_args["endpoint_url"])
    assert "X-Amz-Signature=" in url


async def test_a_file_deleted_while_s3_is_down_leaves_an_orphan_the_cleanup_removes(
    client_factory: AppFactory, s3_endpoint: str
) -> None:
    bucket = bucket_name()
    up = client_factory(**s3_settings(s3_endpoint, bucket))
    await storage_of(up).ensure_bucket()
    down = s3_down(client_factory, bucket)
    user = await create_user()
    uploaded = await upload(up, bearer(up, user), samples.PNG, "a.png")
    row = await File.get(owner_id=user.id)

    deleted = await graphql(
        down, DELETE_FILE, {"id": uploaded.json()["data"]["uploadFile"]["id"]}, bearer(down, user)
    )

    assert deleted.json()["data"] == {"deleteFile": True}
    assert not await File.exists(id=row.id)
    assert await storage_of(up).head(row.storage_key) is not None  # the orphan
    report = await cleanup_orphans(storage_of(up), now=datetime.now(UTC) + timedelta(days=2))
    assert report.orphans_removed == 1
    assert await storage_of(up).head(row.storage_key) is None


async def test_an_s3_that_never_answers_gets_503_once_the_deadline_passes(
    client_factory: AppFactory,
) -> None:
    with blackhole() as port:
        client = client_factory(
            **s3_settings(f"http://{HOST}:{port}", bucket_name()),
            s3_connect_timeout_seconds=0.2,
            s3_read_timeout_seconds=0.2,
            s3_max_attempts=2,
        )
        user = await create_user()
        # Only so that a hang fails this test instead of stopping the suite.
        async with asyncio.timeout(60):
            response = await upload(client, bearer(client, user), samples.PNG, "a.png")

    assert_storage_unavailable(response)
    assert await File.all().count() == 0


async def test_storage_failures_are_counted_each_time_and_logged_once(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="agora.storage")
    user = await create_user()
    before = storage_failures("put")

    for _ in range(3):
        assert_storage_unavailable(await upload(client, bearer(client, user), samples.PNG))

    assert storage_failures("put") == before + 3
    [line] = [r for r in caplog.records if r.name == "agora.storage"]
    assert line.getMessage().startswith("file storage unavailable: put ")
    assert (line.dependency, line.operation) == ("s3", "put")  # type: ignore[attr-defined]
