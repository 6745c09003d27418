"""The S3 backend against a real S3-compatible server (moto, in a thread on 127.0.0.1):
uploads through the app, presigned GETs, the presigned PUT flow with confirmUpload, deletes
and the cleanup. moto is local, so these run in both CI passes."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from models.files import File, FileStatus
from models.user import User
from services.files import cleanup_orphans
from services.storage import S3Storage, new_key
from tests import file_samples as samples
from tests.conftest import AppFactory, graphql
from tests.factories import bearer, create_user
from tests.integration.test_uploads import error_codes, upload
from tests.moto_server import bucket_name, running_moto_server, s3_settings, s3_storage

CREATE_UPLOAD_URL = """
mutation ($input: CreateUploadUrlInput!) {
  createUploadUrl(input: $input) {
    file { id status contentType size filename }
    uploadUrl headers expiresAt
  }
}"""
CONFIRM = "mutation ($id: ID!) { confirmUpload(id: $id) { id status contentType size url } }"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with running_moto_server() as endpoint:
        yield endpoint


@pytest.fixture
async def client(client_factory: AppFactory, s3_endpoint: str) -> httpx.AsyncClient:
    """The app on the S3 backend, with a bucket of its own."""
    client = client_factory(**s3_settings(s3_endpoint, bucket_name()))
    await storage_of(client).ensure_bucket()
    return client


def storage_of(client: httpx.AsyncClient) -> S3Storage:
    storage = client.container.storage  # type: ignore[attr-defined]
    assert isinstance(storage, S3Storage)
    return storage


async def announce(
    client: httpx.AsyncClient, user: User, content_type: str, size: int, purpose: str = "ATTACHMENT"
) -> httpx.Response:
    return await graphql(
        client,
        CREATE_UPLOAD_URL,
        {
            "input": {
                "filename": "direct.png",
                "contentType": content_type,
                "size": size,
                "purpose": purpose,
            }
        },
        bearer(client, user),
    )


async def test_an_upload_lands_in_the_bucket_and_its_presigned_get_serves_it(
    client: httpx.AsyncClient,
) -> None:
    user = await create_user()
    response = await upload(client, bearer(client, user), samples.JPEG, "photo été.jpg")
    file = response.json()["data"]["uploadFile"]
    row = await File.get(owner_id=user.id)

    info = await storage_of(client).head(row.storage_key)
    assert info is not None
    assert (info.size, info.content_type) == (len(samples.JPEG), "image/jpeg")

    query = parse_qs(urlsplit(file["url"]).query)
    assert query["X-Amz-Expires"] == ["900"]
    async with httpx.AsyncClient() as http:
        fetched = await http.get(file["url"])
    assert fetched.status_code == 200
    assert fetched.content == samples.JPEG
    assert fetched.headers["content-type"] == "image/jpeg"
    assert fetched.headers["content-disposition"] == (
        "attachment; filename=\"photo ete.jpg\"; filename*=UTF-8''photo%20%C3%A9t%C3%A9.jpg"
    )


async def test_the_presigned_put_flow_ends_with_a_confirmed_file(
    client: httpx.AsyncClient,
) -> None:
    user = await create_user()
    content = samples.padded_png(70_000)

    announced = await announce(client, user, "image/png", len(content))
    payload = announced.json()["data"]["createUploadUrl"]

    assert payload["file"]["status"] == "PENDING"
    assert payload["headers"] == {"Content-Type": "image/png"}
    assert datetime.fromisoformat(payload["expiresAt"]) > datetime.now(UTC)
    signed = parse_qs(urlsplit(payload["uploadUrl"]).query)["X-Amz-SignedHeaders"][0]
    assert set(signed.split(";")) == {"content-length", "content-type", "host"}

    async with httpx.AsyncClient() as http:
        put = await http.put(payload["uploadUrl"], content=content, headers=payload["headers"])
        assert put.status_code == 200

        confirmed = await graphql(
            client, CONFIRM, {"id": payload["file"]["id"]}, bearer(client, user)
        )
        file = confirmed.json()["data"]["confirmUpload"]
        assert (file["status"], file["contentType"], file["size"]) == (
            "READY",
            "image/png",
            len(content),
        )
        row = await File.get(owner_id=user.id)
        assert row.sha256 == hashlib.sha256(content).hexdigest()
        fetched = await http.get(file["url"])
    assert fetched.content == content

    again = await graphql(client, CONFIRM, {"id": payload["file"]["id"]}, bearer(client, user))
    assert again.json()["data"]["confirmUpload"]["status"] == "READY"


async def test_confirm_removes_an_object_whose_bytes_are_not_the_declared_type(
    client: httpx.AsyncClient,
) -> None:
    user = await create_user()
    announced = await announce(client, user, "image/png", len(samples.HTML))
    payload = announced.json()["data"]["createUploadUrl"]
    row = await File.get(owner_id=user.id)
    async with httpx.AsyncClient() as http:
        await http.put(payload["uploadUrl"], content=samples.HTML, headers=payload["headers"])

    confirmed = await graphql(client, CONFIRM, {"id": payload["file"]["id"]}, bearer(client, user))

    assert error_codes(confirmed) == ["UNSUPPORTED_MEDIA_TYPE"]
    assert await File.all().count() == 0
    assert await storage_of(client).head(row.storage_key) is None


async def test_confirm_removes_an_object_of_another_size(client: httpx.AsyncClient) -> None:
    user = await create_user()
    announced = await announce(client, user, "image/png", 1000)
    payload = announced.json()["data"]["createUploadUrl"]
    row = await File.get(owner_id=user.id)
    # A real S3 refuses this PUT (Content-Length is signed); moto does not check signatures,
    # so confirmUpload is what catches it here.
    await storage_of(client).put(
        row.storage_key, io.BytesIO(samples.PNG), size=len(samples.PNG), content_type="image/png"
    )

    confirmed = await graphql(client, CONFIRM, {"id": payload["file"]["id"]}, bearer(client, user))

    assert error_codes(confirmed) == ["BAD_USER_INPUT"]
    assert await File.all().count() == 0
    assert await storage_of(client).head(row.storage_key) is None


async def test_confirm_waits_for_the_object_and_belongs_to_the_owner(
    client: httpx.AsyncClient,
) -> None:
    owner = await create_user()
    other = await create_user()
    announced = await announce(client, owner, "image/gif", len(samples.GIF))
    file_id = announced.json()["data"]["createUploadUrl"]["file"]["id"]

    early = await graphql(client, CONFIRM, {"id": file_id}, bearer(client, owner))
    assert error_codes(early) == ["BAD_USER_INPUT"]
    assert (await File.get(owner_id=owner.id)).status is FileStatus.PENDING

    foreign = await graphql(client, CONFIRM, {"id": file_id}, bearer(client, other))
    assert error_codes(foreign) == ["FORBIDDEN"]


@pytest.mark.parametrize(
    ("content_type", "size", "purpose", "code"),
    [
        ("image/png", 5 * 1_048_576 + 1, "ATTACHMENT", "PAYLOAD_TOO_LARGE"),
        ("text/html", 100, "ATTACHMENT", "UNSUPPORTED_MEDIA_TYPE"),
        ("application/pdf", 100, "AVATAR", "UNSUPPORTED_MEDIA_TYPE"),
        ("image/png", 0, "ATTACHMENT", "VALIDATION_ERROR"),
    ],
)
async def test_create_upload_url_checks_what_is_announced(
    client: httpx.AsyncClient, content_type: str, size: int, purpose: str, code: str
) -> None:
    user = await create_user()
    response = await announce(client, user, content_type, size, purpose)
    assert error_codes(response) == [code]
    assert await File.all().count() == 0


async def test_delete_removes_the_object(client: httpx.AsyncClient) -> None:
    user = await create_user()
    response = await upload(client, bearer(client, user), samples.WEBP, "a.webp")
    file_id = response.json()["data"]["uploadFile"]["id"]
    row = await File.get(owner_id=user.id)
    assert await storage_of(client).head(row.storage_key) is not None

    deleted = await graphql(
        client, "mutation ($id: ID!) { deleteFile(id: $id) }", {"id": file_id}, bearer(client, user)
    )

    assert deleted.json()["data"] == {"deleteFile": True}
    assert await storage_of(client).head(row.storage_key) is None
    assert not await File.exists(id=row.id)


async def test_the_cleanup_removes_stale_pending_uploads_and_orphans(
    client: httpx.AsyncClient,
) -> None:
    user = await create_user()
    storage = storage_of(client)
    announced = await announce(client, user, "image/png", len(samples.PNG))
    payload = announced.json()["data"]["createUploadUrl"]
    async with httpx.AsyncClient() as http:
        await http.put(payload["uploadUrl"], content=samples.PNG, headers=payload["headers"])
    pending = await File.get(owner_id=user.id)
    await File.filter(id=pending.id).update(created_at=datetime.now(UTC) - timedelta(days=2))
    orphan = new_key()
    await storage.put(
        orphan, io.BytesIO(samples.GIF), size=len(samples.GIF), content_type="image/gif"
    )
    await upload(client, bearer(client, user), samples.PNG, "kept.png")
    kept = await File.get(status=FileStatus.READY)

    assert (await cleanup_orphans(storage)).pending_removed == 1  # the objects are young
    assert await storage.head(orphan) is not None

    report = await cleanup_orphans(storage, now=datetime.now(UTC) + timedelta(days=2))

    assert (report.pending_removed, report.orphans_removed, report.failures) == (0, 1, 0)
    assert await storage.head(pending.storage_key) is None
    assert await storage.head(orphan) is None
    assert await storage.head(kept.storage_key) is not None


async def test_one_client_for_the_process_closed_at_shutdown(s3_endpoint: str) -> None:
    storage = s3_storage(s3_endpoint, bucket_name())
    await storage.start()
    first = await storage.client()
    assert await storage.client() is first
    await storage.ensure_bucket()
    await storage.close()
    # Opened again on demand after a close (tests and tools reuse storages).
    await storage.ensure_bucket()
    assert await storage.client() is not first
    await storage.close()
