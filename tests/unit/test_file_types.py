"""Upload rules without a server: types from magic bytes, filenames, the size check, keys
and the signatures of local download URLs."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from models.files import FilePurpose
from services.errors import PayloadTooLarge, UnsupportedMediaType
from services.files import check_type, read_checked
from services.storage import is_valid_key, new_key
from services.storage.local import LocalStorage, SignedDownload, derive_url_key
from services.storage.media import normalize_media_type, sniff
from services.storage.names import content_disposition, sanitize_filename
from tests import file_samples as samples


@pytest.mark.parametrize("media_type", sorted(samples.ALLOWED))
def test_every_allowed_type_is_recognised_from_its_bytes(media_type: str) -> None:
    content, _ = samples.ALLOWED[media_type]
    assert sniff(content[:16]) == media_type


@pytest.mark.parametrize(
    "content",
    [
        samples.HTML,
        b"",
        b"\xff\xd8",  # a truncated JPEG marker
        b"RIFF\x00\x00\x00\x00WAVEfmt ",  # RIFF, but audio
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"PK\x03\x04",  # zip
        b"GIF88a",
    ],
)
def test_everything_else_is_not_recognised(content: bytes) -> None:
    assert sniff(content) is None


def test_purposes_limit_the_types() -> None:
    assert check_type("image/png", FilePurpose.AVATAR) == "image/png"
    assert check_type("application/pdf", FilePurpose.ATTACHMENT) == "application/pdf"
    with pytest.raises(UnsupportedMediaType):
        check_type("application/pdf", FilePurpose.PRODUCT_IMAGE)
    with pytest.raises(UnsupportedMediaType):
        check_type(None, FilePurpose.ATTACHMENT)


def test_declared_types_are_normalised() -> None:
    assert normalize_media_type(" Image/JPG; charset=binary") == "image/jpeg"
    assert normalize_media_type("image/png") == "image/png"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("photo.png", "photo.png"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\cv.pdf", "cv.pdf"),
        ("a\x00b\x1fc\x7f.png", "abc.png"),
        ("evil\u202egnp.exe", "evilgnp.exe"),  # a right-to-left override
        ("  .hidden  ", "hidden"),
        ('<img src="x">.png', "img src=x.png"),
        ("tab\tand\nnewline.gif", "tab and newline.gif"),
        ("CON.png", "file.png"),
        ("", "file.jpg"),
        (None, "file.jpg"),
        ("...", "file.jpg"),
        ("café.pdf", "café.pdf"),
    ],
)
def test_filenames_are_sanitised(name: str | None, expected: str) -> None:
    assert sanitize_filename(name, default_extension="jpg") == expected


def test_long_filenames_keep_their_extension() -> None:
    cleaned = sanitize_filename("x" * 400 + ".jpeg")
    assert len(cleaned) == 150
    assert cleaned.endswith("x.jpeg")


def test_content_disposition_is_an_attachment_with_both_names() -> None:
    assert content_disposition('ré"sumé.pdf') == (
        "attachment; filename=\"re_sume.pdf\"; filename*=UTF-8''r%C3%A9%22sum%C3%A9.pdf"
    )


def test_the_size_check_reads_in_chunks_and_hashes() -> None:
    content = samples.padded_png(200_000)
    size, sha256, head = read_checked(io.BytesIO(content), 200_000)
    assert (size, sha256, head) == (200_000, hashlib.sha256(content).hexdigest(), content[:16])
    with pytest.raises(PayloadTooLarge):
        read_checked(io.BytesIO(content), 199_999)


def test_keys_are_random_tokens() -> None:
    keys = {new_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(is_valid_key(key) for key in keys)
    for bad in ["../" + "a" * 40, "a" * 31, "a" * 40 + ".png", "a" * 40 + "/b", ""]:
        assert not is_valid_key(bad)


def test_download_signatures_cover_every_field(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path, base_url="http://x", signing_key=derive_url_key("s" * 32))
    signed = SignedDownload("k" * 43, 2_000_000_000, "a.png", "image/png")
    signature = storage.signature(signed)

    assert storage.verify(signed, signature, now=1_999_999_999)
    assert not storage.verify(signed, signature, now=2_000_000_000)  # expired
    for changed in [
        SignedDownload("j" * 43, 2_000_000_000, "a.png", "image/png"),
        SignedDownload("k" * 43, 2_000_000_001, "a.png", "image/png"),
        SignedDownload("k" * 43, 2_000_000_000, "a.html", "image/png"),
        SignedDownload("k" * 43, 2_000_000_000, "a.png", "text/html"),
    ]:
        assert not storage.verify(changed, signature, now=0)
    other = LocalStorage(tmp_path, base_url="http://x", signing_key=derive_url_key("t" * 32))
    assert not other.verify(signed, signature, now=0)
