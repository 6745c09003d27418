"""Uploads through the real ASGI app (GraphQL multipart request spec) on the local storage
backend, downloads through its signed URLs, and the consistency of rows and objects."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from models.files import File, FilePurpose, FileStatus, ProductImage
from models.user import Role, User
from services.errors import PayloadTooLarge
from services.files import FileService, IncomingFile, cleanup_orphans
from services.storage import CHUNK_SIZE, LocalStorage, Storage, StorageError
from services.storage.local import SignedDownload
from tests import file_samples as samples
from tests.conftest import AppFactory, StatementCounter, graphql
from tests.factories import bearer, create_product, create_user, gid

CSRF = {"X-Requested-With": "XMLHttpRequest"}
LIMIT = 5 * 1_048_576

FILE_FIELDS = "id filename contentType size purpose status url owner { name } createdAt"
UPLOAD_FILE = f"""
mutation ($file: Upload!, $purpose: FilePurpose!) {{
  uploadFile(file: $file, purpose: $purpose) {{ {FILE_FIELDS} }}
}}"""
UPLOAD_FILES = """
mutation ($files: [Upload!]!) {
  uploadFiles(files: $files, purpose: ATTACHMENT) { id filename contentType size }
}"""
SET_AVATAR = """
mutation ($file: Upload!) { setAvatar(file: $file) { id avatar { id contentType url } } }"""
ADD_IMAGE = """
mutation ($product: ID!, $file: Upload!) {
  addProductImage(productId: $product, file: $file) { id images { id filename contentType } }
}"""
DELETE_FILE = "mutation ($id: ID!) { deleteFile(id: $id) }"

Part = tuple[str, bytes, str]  # filename, bytes, declared content type


async def multipart(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any],
    files: dict[str, tuple[Part, list[str]]],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A request of the GraphQL multipart request spec: operations, map, then the files."""
    return await client.post(
        "/graphql",
        data={
            "operations": json.dumps({"query": query, "variables": variables}),
            "map": json.dumps({name: paths for name, (_, paths) in files.items()}),
        },
        files={name: part for name, (part, _) in files.items()},
        headers={**CSRF, **(headers or {})},
    )


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    content: bytes,
    filename: str = "upload.bin",
    declared: str = "application/octet-stream",
    purpose: str = "ATTACHMENT",
) -> httpx.Response:
    return await multipart(
        client,
        UPLOAD_FILE,
        {"file": None, "purpose": purpose},
        {"0": ((filename, content, declared), ["variables.file"])},
        headers,
    )


def stored_objects(root: Path) -> list[Path]:
    return sorted(
        path for path in root.glob("*/*") if path.is_file() and not path.parent.name.startswith(".")
    )


def error_codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json().get("errors", [])]


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.fixture
def files_root(tmp_path: Path) -> Path:
    return tmp_path / "files"


@pytest.fixture
def client(client_factory: AppFactory, files_root: Path) -> httpx.AsyncClient:
    return client_factory(storage_local_dir=str(files_root))


def storage_of(client: httpx.AsyncClient) -> LocalStorage:
    storage = client.container.storage  # type: ignore[attr-defined]
    assert isinstance(storage, LocalStorage)
    return storage


# --- accepted types ---------------------------------------------------------------------


@pytest.mark.parametrize("media_type", sorted(samples.ALLOWED))
async def test_each_allowed_type_is_stored_with_its_size_and_hash(
    client: httpx.AsyncClient, files_root: Path, media_type: str
) -> None:
    user = await create_user(name="Ada")
    content, filename = samples.ALLOWED[media_type]

    # The client's type is ignored: the bytes decide.
    response = await upload(client, bearer(client, user), content, filename, "text/plain")

    assert response.status_code == 200, response.text
    file = response.json()["data"]["uploadFile"]
    assert file["contentType"] == media_type
    assert file["size"] == len(content)
    assert file["filename"] == filename
    assert file["purpose"] == "ATTACHMENT"
    assert file["status"] == "READY"
    assert file["owner"] == {"name": "Ada"}
    row = await File.get(owner_id=user.id)
    assert row.sha256 == hashlib.sha256(content).hexdigest()
    assert filename not in row.storage_key
    (stored,) = stored_objects(files_root)
    assert stored.name == row.storage_key
    assert stored.read_bytes() == content


async def test_the_type_comes_from_the_bytes_not_the_name(client: httpx.AsyncClient) -> None:
    user = await create_user()
    response = await upload(
        client, bearer(client, user), samples.PNG, "手紙.pdf", "application/pdf"
    )
    file = response.json()["data"]["uploadFile"]
    assert file["contentType"] == "image/png"
    assert file["filename"] == "手紙.pdf"  # kept as metadata, never used as a key


async def test_an_html_file_renamed_png_is_refused(
    client: httpx.AsyncClient, files_root: Path
) -> None:
    user = await create_user()
    response = await upload(client, bearer(client, user), samples.HTML, "cat.png", "image/png")

    assert error_codes(response) == ["UNSUPPORTED_MEDIA_TYPE"]
    assert response.json()["errors"][0]["extensions"]["argument"] == "file"
    assert await File.all().count() == 0
    assert stored_objects(files_root) == []


async def test_images_only_for_avatars_and_product_images(client: httpx.AsyncClient) -> None:
    user = await create_user()
    response = await upload(client, bearer(client, user), samples.PDF, "cv.pdf", purpose="AVATAR")
    assert error_codes(response) == ["UNSUPPORTED_MEDIA_TYPE"]


async def test_the_client_filename_is_sanitised(client: httpx.AsyncClient) -> None:
    user = await create_user()
    response = await upload(
        client, bearer(client, user), samples.PNG, "..\\..//etc/\u202epasswd <b>.png"
    )
    assert response.json()["data"]["uploadFile"]["filename"] == "passwd b.png"


# --- size limits ------------------------------------------------------------------------


async def test_exactly_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    user = await create_user()
    response = await upload(client, bearer(client, user), samples.padded_png(LIMIT), "big.png")
    assert response.status_code == 200, response.text[:500]
    assert response.json()["data"]["uploadFile"]["size"] == LIMIT


async def test_one_byte_over_the_limit_is_refused_with_413(
    client: httpx.AsyncClient, files_root: Path
) -> None:
    user = await create_user()
    response = await upload(client, bearer(client, user), samples.padded_png(LIMIT + 1), "x.png")

    assert response.status_code == 413
    assert error_codes(response) == ["PAYLOAD_TOO_LARGE"]
    assert "data" not in response.json()
    assert await File.all().count() == 0
    assert stored_objects(files_root) == []


class CountingReader(io.BytesIO):
    """Counts what is read from it: the size check must stop reading at the limit."""

    bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


async def test_the_service_stops_reading_past_the_limit(client: httpx.AsyncClient) -> None:
    """The second line of defence (behind the parser's 413): the stored-file check reads
    in chunks and gives up at the limit, whatever the size of the source."""
    service = FileService(storage_of(client), client.container.settings)  # type: ignore[attr-defined]
    source = CountingReader(samples.padded_png(LIMIT * 3))

    with pytest.raises(PayloadTooLarge):
        await service.check(IncomingFile("file", "x.png", source), FilePurpose.ATTACHMENT)

    assert source.bytes_read <= LIMIT + CHUNK_SIZE


# --- several files ----------------------------------------------------------------------


async def test_several_files_are_stored_together(client: httpx.AsyncClient) -> None:
    user = await create_user()
    response = await multipart(
        client,
        UPLOAD_FILES,
        {"files": [None, None]},
        {
            "a": (("a.gif", samples.GIF, "image/gif"), ["variables.files.0"]),
            "b": (("b.pdf", samples.PDF, "application/pdf"), ["variables.files.1"]),
        },
        bearer(client, user),
    )
    files = response.json()["data"]["uploadFiles"]
    assert [(f["filename"], f["contentType"]) for f in files] == [
        ("a.gif", "image/gif"),
        ("b.pdf", "application/pdf"),
    ]


async def test_six_files_are_refused_before_anything_is_stored(
    client: httpx.AsyncClient, files_root: Path
) -> None:
    user = await create_user()
    parts = {
        str(n): ((f"{n}.png", samples.PNG, "image/png"), [f"variables.files.{n}"]) for n in range(6)
    }
    response = await multipart(
        client, UPLOAD_FILES, {"files": [None] * 6}, parts, bearer(client, user)
    )

    assert response.status_code == 400
    assert error_codes(response) == ["BAD_USER_INPUT"]
    assert "Maximum number of files is 5" in response.json()["errors"][0]["message"]
    assert await File.all().count() == 0
    assert stored_objects(files_root) == []


async def test_one_part_mapped_six_times_is_refused_too(
    client: httpx.AsyncClient, files_root: Path
) -> None:
    user = await create_user()
    paths = [f"variables.files.{n}" for n in range(6)]
    response = await multipart(
        client,
        UPLOAD_FILES,
        {"files": [None] * 6},
        {"0": (("a.png", samples.PNG, "image/png"), paths)},
        bearer(client, user),
    )

    assert error_codes(response) == ["VALIDATION_ERROR"]
    assert response.json()["errors"][0]["extensions"]["details"][0]["field"] == "files"
    assert await File.all().count() == 0
    assert stored_objects(files_root) == []


async def test_one_bad_file_stores_none_of_the_others(
    client: httpx.AsyncClient, files_root: Path
) -> None:
    user = await create_user()
    response = await multipart(
        client,
        UPLOAD_FILES,
        {"files": [None, None, None]},
        {
            "0": (("a.png", samples.PNG, "image/png"), ["variables.files.0"]),
            "1": (("b.jpg", samples.JPEG, "image/jpeg"), ["variables.files.1"]),
            "2": (("c.png", samples.HTML, "image/png"), ["variables.files.2"]),
        },
        bearer(client, user),
    )

    assert error_codes(response) == ["UNSUPPORTED_MEDIA_TYPE"]
    assert response.json()["errors"][0]["extensions"]["argument"] == "files.2"
    assert await File.all().count() == 0
    assert stored_objects(files_root) == []


# --- the request itself -----------------------------------------------------------------


async def test_multipart_without_the_csrf_header_is_refused(
    client: httpx.AsyncClient, files_root: Path
) -> None:
    user = await create_user()
    response = await client.post(
        "/graphql",
        data={
            "operations": json.dumps(
                {"query": UPLOAD_FILE, "variables": {"file": None, "purpose": "ATTACHMENT"}}
            ),
            "map": json.dumps({"0": ["variables.file"]}),
        },
        files={"0": ("a.png", samples.PNG, "image/png")},
        headers=bearer(client, user),
    )

    assert response.status_code == 400
    assert error_codes(response) == ["BAD_USER_INPUT"]
    assert response.json()["errors"][0]["extensions"]["reason"] == "CSRF"
    assert await File.all().count() == 0
    assert stored_objects(files_root) == []


async def test_uploads_need_an_account(client: httpx.AsyncClient) -> None:
    response = await upload(client, {}, samples.PNG, "a.png")
    assert error_codes(response) == ["UNAUTHENTICATED"]


async def test_a_file_must_be_a_file_part(client: httpx.AsyncClient) -> None:
    user = await create_user()
    response = await graphql(
        client, UPLOAD_FILE, {"file": "not a file", "purpose": "ATTACHMENT"}, bearer(client, user)
    )
    assert error_codes(response) == ["BAD_USER_INPUT"]


# --- downloads --------------------------------------------------------------------------


async def test_the_download_url_serves_the_same_bytes_as_an_attachment(
    client: httpx.AsyncClient,
) -> None:
    user = await create_user()
    response = await upload(client, bearer(client, user), samples.PNG, "photo d'été.png")
    url = response.json()["data"]["uploadFile"]["url"]
    assert url.startswith("http://127.0.0.1:8000/files/")

    download = await client.get(local_path(url))

    assert download.status_code == 200
    assert download.content == samples.PNG
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"photo d'ete.png\"; filename*=UTF-8''photo%20d%27%C3%A9t%C3%A9.png"
    )
    assert "sandbox" in download.headers["content-security-policy"]


async def test_a_tampered_or_expired_download_url_is_refused(client: httpx.AsyncClient) -> None:
    user = await create_user()
    first = await upload(client, bearer(client, user), samples.PNG, "a.png")
    second = await upload(client, bearer(client, user), samples.GIF, "b.gif")
    url = local_path(first.json()["data"]["uploadFile"]["url"])
    path, query = url.split("?")
    params = {name: values[0] for name, values in parse_qs(query).items()}
    assert (await client.get(url)).status_code == 200

    tampered = [
        {**params, "signature": params["signature"][:-2] + "AA"},
        {**params, "type": "text/html"},
        {**params, "filename": "a.html"},
        {**params, "expires": str(int(params["expires"]) + 3600)},
        {k: v for k, v in params.items() if k != "signature"},
    ]
    for changed in tampered:
        response = await client.get(f"{path}?{urlencode(changed)}")
        assert response.status_code == 403, changed
        assert error_codes(response) == ["FORBIDDEN"]
    other_key = urlsplit(second.json()["data"]["uploadFile"]["url"]).path
    assert (await client.get(f"{other_key}?{query}")).status_code == 403

    storage = storage_of(client)
    row = await File.get(filename="a.png")
    expired = SignedDownload(
        row.storage_key, int(datetime.now(UTC).timestamp()) - 1, "a.png", "image/png"
    )
    response = await client.get(local_path(storage.signed_url(expired)))
    assert response.status_code == 403


async def test_a_deleted_file_is_gone_even_with_a_valid_url(client: httpx.AsyncClient) -> None:
    user = await create_user()
    response = await upload(client, bearer(client, user), samples.PNG, "a.png")
    file = response.json()["data"]["uploadFile"]
    await graphql(client, DELETE_FILE, {"id": file["id"]}, bearer(client, user))
    assert (await client.get(local_path(file["url"]))).status_code == 404


# --- avatars, product images, deletion, visibility --------------------------------------


async def test_set_avatar_replaces_and_removes_the_old_one(
    client: httpx.AsyncClient, files_root: Path
) -> None:
    user = await create_user()
    headers = bearer(client, user)
    first = await multipart(
        client,
        SET_AVATAR,
        {"file": None},
        {"0": (("me.png", samples.PNG, "image/png"), ["variables.file"])},
        headers,
    )
    old = first.json()["data"]["setAvatar"]["avatar"]
    assert old["contentType"] == "image/png"
    old_row = await File.get(owner_id=user.id)

    second = await multipart(
        client,
        SET_AVATAR,
        {"file": None},
        {"0": (("me.jpg", samples.JPEG, "image/jpeg"), ["variables.file"])},
        headers,
    )
    new = second.json()["data"]["setAvatar"]["avatar"]

    assert new["id"] != old["id"]
    assert new["contentType"] == "image/jpeg"
    assert not await File.exists(id=old_row.id)
    new_row = await File.get(owner_id=user.id)
    assert [path.name for path in stored_objects(files_root)] == [new_row.storage_key]
    assert (await User.get(id=user.id)).avatar_id == new_row.id
    assert (await client.get(local_path(old["url"]))).status_code == 404
    me = await graphql(client, "{ me { avatar { id filename } } }", headers=headers)
    assert me.json()["data"]["me"]["avatar"] == {"id": new["id"], "filename": "me.jpg"}


async def test_add_product_image_needs_write_products(client: httpx.AsyncClient) -> None:
    admin = await create_user(role=Role.ADMIN)
    user = await create_user()
    product = await create_product(admin)
    part = {"0": (("p.webp", samples.WEBP, "image/webp"), ["variables.file"])}
    variables = {"product": gid("Product", product.id), "file": None}

    refused = await multipart(client, ADD_IMAGE, variables, part, bearer(client, user))
    assert error_codes(refused) == ["FORBIDDEN"]
    assert await File.all().count() == 0

    added = await multipart(client, ADD_IMAGE, variables, part, bearer(client, admin))
    images = added.json()["data"]["addProductImage"]["images"]
    assert [(i["filename"], i["contentType"]) for i in images] == [("p.webp", "image/webp")]
    assert await ProductImage.filter(product_id=product.id).count() == 1

    missing = await multipart(
        client,
        ADD_IMAGE,
        {**variables, "product": gid("Product", 999_999)},
        part,
        bearer(client, admin),
    )
    assert error_codes(missing) == ["NOT_FOUND"]


async def test_images_and_avatars_of_a_list_take_one_statement_per_level(
    client: httpx.AsyncClient, sql_statements: StatementCounter
) -> None:
    query = """{ products(first: 20) {
        nodes { images { id owner { name } } seller { avatar { id } } } } }"""

    async def statements_for(products: int) -> int:
        admin = await create_user(role=Role.ADMIN)
        service = FileService(storage_of(client), client.container.settings)  # type: ignore[attr-defined]
        await service.set_avatar(admin, IncomingFile("file", "a.png", io.BytesIO(samples.PNG)))
        for _ in range(products):
            product = await create_product(admin)
            for _ in range(2):
                await service.add_product_image(
                    admin, product.id, IncomingFile("file", "p.png", io.BytesIO(samples.PNG))
                )
        viewer = await create_user()
        sql_statements.reset()
        response = await graphql(client, query, headers=bearer(client, viewer))
        assert len(response.json()["data"]["products"]["nodes"]) >= products
        return sql_statements.count

    few = await statements_for(2)
    many = await statements_for(6)
    assert few == many


async def test_delete_file_by_its_owner_or_an_admin_only(
    client: httpx.AsyncClient, files_root: Path
) -> None:
    owner = await create_user()
    other = await create_user()
    admin = await create_user(role=Role.ADMIN)
    ids = []
    for _ in range(2):
        response = await upload(client, bearer(client, owner), samples.PNG, "a.png")
        ids.append(response.json()["data"]["uploadFile"]["id"])

    refused = await graphql(client, DELETE_FILE, {"id": ids[0]}, bearer(client, other))
    assert error_codes(refused) == ["FORBIDDEN"]
    assert len(stored_objects(files_root)) == 2

    by_owner = await graphql(client, DELETE_FILE, {"id": ids[0]}, bearer(client, owner))
    by_admin = await graphql(client, DELETE_FILE, {"id": ids[1]}, bearer(client, admin))

    assert by_owner.json()["data"] == {"deleteFile": True}
    assert by_admin.json()["data"] == {"deleteFile": True}
    assert await File.all().count() == 0
    assert stored_objects(files_root) == []
    again = await graphql(client, DELETE_FILE, {"id": ids[0]}, bearer(client, owner))
    assert error_codes(again) == ["NOT_FOUND"]


async def test_deleting_an_avatar_clears_it(client: httpx.AsyncClient) -> None:
    user = await create_user()
    headers = bearer(client, user)
    response = await multipart(
        client,
        SET_AVATAR,
        {"file": None},
        {"0": (("me.gif", samples.GIF, "image/gif"), ["variables.file"])},
        headers,
    )
    avatar_id = response.json()["data"]["setAvatar"]["avatar"]["id"]
    await graphql(client, DELETE_FILE, {"id": avatar_id}, headers)
    me = await graphql(client, "{ me { avatar { id } } }", headers=headers)
    assert me.json()["data"]["me"]["avatar"] is None


async def test_a_file_node_is_visible_to_its_owner_or_an_admin(client: httpx.AsyncClient) -> None:
    owner = await create_user(name="Owner")
    other = await create_user()
    admin = await create_user(role=Role.ADMIN)
    response = await upload(client, bearer(client, owner), samples.PDF, "cv.pdf")
    file_id = response.json()["data"]["uploadFile"]["id"]
    query = "query ($id: ID!) { node(id: $id) { ... on File { id filename owner { name } } } }"

    def seen_by(headers: dict[str, str]) -> Any:
        return graphql(client, query, {"id": file_id}, headers)

    assert (await seen_by(bearer(client, owner))).json()["data"]["node"] == {
        "id": file_id,
        "filename": "cv.pdf",
        "owner": {"name": "Owner"},
    }
    assert (await seen_by(bearer(client, admin))).json()["data"]["node"]["id"] == file_id
    assert (await seen_by(bearer(client, other))).json()["data"]["node"] is None
    assert (await seen_by({})).json()["data"]["node"] is None
    by_field = await graphql(
        client, "query ($id: ID!) { file(id: $id) { id } }", {"id": file_id}, bearer(client, other)
    )
    assert by_field.json()["data"]["file"] is None


async def test_direct_uploads_need_the_s3_backend(client: httpx.AsyncClient) -> None:
    user = await create_user()
    response = await graphql(
        client,
        """mutation { createUploadUrl(input: {filename: "a.png", contentType: "image/png",
             size: 10, purpose: ATTACHMENT}) { uploadUrl } }""",
        headers=bearer(client, user),
    )
    assert error_codes(response) == ["BAD_USER_INPUT"]
    assert await File.all().count() == 0


# --- failures and the cleanup -----------------------------------------------------------


class FailingStorage:
    """The real local storage, except for the operations a test makes fail."""

    def __init__(
        self, inner: LocalStorage, *, fail_put: bool = False, fail_delete: bool = False
    ) -> None:
        self.inner = inner
        self.fail_put = fail_put
        self.fail_delete = fail_delete

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def put(self, key: str, source: Any, *, size: int, content_type: str) -> None:
        if self.fail_put:
            raise StorageError("disk full")
        await self.inner.put(key, source, size=size, content_type=content_type)

    async def delete(self, key: str) -> None:
        if self.fail_delete:
            raise StorageError("storage unavailable")
        await self.inner.delete(key)


async def test_a_failing_put_leaves_no_row(client: httpx.AsyncClient, files_root: Path) -> None:
    user = await create_user()
    container = client.container  # type: ignore[attr-defined]
    container.storage = FailingStorage(storage_of(client), fail_put=True)

    response = await upload(client, bearer(client, user), samples.PNG, "a.png")

    assert response.status_code == 503
    assert error_codes(response) == ["SERVICE_UNAVAILABLE"]
    assert await File.all().count() == 0
    assert stored_objects(files_root) == []


async def test_a_failing_delete_leaves_an_orphan_object_that_the_cleanup_removes(
    client: httpx.AsyncClient, files_root: Path
) -> None:
    user = await create_user()
    headers = bearer(client, user)
    response = await multipart(
        client,
        SET_AVATAR,
        {"file": None},
        {"0": (("me.png", samples.PNG, "image/png"), ["variables.file"])},
        headers,
    )
    file_id = response.json()["data"]["setAvatar"]["avatar"]["id"]
    storage = storage_of(client)
    container = client.container  # type: ignore[attr-defined]
    container.storage = FailingStorage(storage, fail_delete=True)

    deleted = await graphql(client, DELETE_FILE, {"id": file_id}, headers)

    # The row (and the avatar pointing at it) is gone; the object stays behind, an orphan:
    # never a row without its object.
    assert deleted.json()["data"] == {"deleteFile": True}
    assert await File.all().count() == 0
    assert (await User.get(id=user.id)).avatar_id is None
    assert len(stored_objects(files_root)) == 1

    failing: Storage = container.storage
    report = await cleanup_orphans(failing, now=datetime.now(UTC) + timedelta(days=2))
    assert (report.orphans_removed, report.failures) == (0, 1)
    assert len(stored_objects(files_root)) == 1

    assert (await cleanup_orphans(storage)).orphans_removed == 0  # too young to be sure
    report = await cleanup_orphans(storage, now=datetime.now(UTC) + timedelta(days=2))
    assert (report.orphans_removed, report.failures) == (1, 0)
    assert stored_objects(files_root) == []


async def test_the_cleanup_keeps_referenced_and_young_objects(
    client: httpx.AsyncClient, files_root: Path
) -> None:
    user = await create_user()
    await upload(client, bearer(client, user), samples.PNG, "kept.png")
    storage = storage_of(client)
    orphan_key = "o" * 43
    await storage.put(
        orphan_key, io.BytesIO(samples.GIF), size=len(samples.GIF), content_type="image/gif"
    )
    stale = await File.create(
        owner_id=user.id,
        storage_key="p" * 43,
        filename="never.png",
        content_type="image/png",
        size=10,
        purpose=FilePurpose.ATTACHMENT,
        status=FileStatus.PENDING,
    )
    await File.filter(id=stale.id).update(created_at=datetime.now(UTC) - timedelta(days=3))

    report = await cleanup_orphans(storage, now=datetime.now(UTC) + timedelta(days=2))

    assert (report.pending_removed, report.orphans_removed, report.failures) == (1, 1, 0)
    assert await File.filter(status=FileStatus.READY).count() == 1
    assert not await File.exists(id=stale.id)
    assert [p.name for p in stored_objects(files_root)] == [(await File.get()).storage_key]
    assert (await cleanup_orphans(storage)).orphans_removed == 0  # idempotent


async def test_deleting_a_user_removes_their_files_and_objects(
    client: httpx.AsyncClient, files_root: Path
) -> None:
    owner = await create_user(name="Owner")
    admin = await create_user(role=Role.ADMIN)
    await upload(client, bearer(client, owner), samples.PDF, "cv.pdf")
    assert len(stored_objects(files_root)) == 1
    response = await graphql(
        client,
        "mutation ($id: ID!) { deleteUser(id: $id) }",
        {"id": gid("User", owner.id)},
        bearer(client, admin),
    )
    assert response.json()["data"] == {"deleteUser": True}
    assert await File.filter(owner_id=owner.id).count() == 0
    assert stored_objects(files_root) == []
