"""A real S3-compatible server for tests: moto's ``ThreadedMotoServer`` on 127.0.0.1.

    with running_moto_server() as endpoint:      # "http://127.0.0.1:<port>"
        storage = s3_storage(endpoint, bucket_name())
        await storage.ensure_bucket()

Port 0 lets the OS pick a free port (``get_host_and_port`` tells which). The server keeps
its state in memory for as long as it runs, so tests isolate themselves with a bucket each
(names need at least 3 characters). moto does not check signatures or expiry of presigned
URLs; the tests assert what the URLs sign instead.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer

from services.storage import S3Storage

HOST = "127.0.0.1"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"  # moto accepts any credentials
REGION = "us-east-1"


@contextmanager
def running_moto_server() -> Iterator[str]:
    """Start moto in a thread; yields its endpoint URL; stops it afterwards."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def bucket_name() -> str:
    return f"agora-test-{uuid.uuid4().hex[:12]}"


def s3_settings(endpoint: str, bucket: str) -> dict[str, object]:
    """Settings overrides for the S3 backend against ``endpoint``."""
    return {
        "storage_backend": "s3",
        "s3_bucket": bucket,
        "s3_endpoint_url": endpoint,
        "aws_region": REGION,
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": SECRET_KEY,
    }


def s3_storage(endpoint: str, bucket: str) -> S3Storage:
    return S3Storage(
        bucket,
        region=REGION,
        endpoint_url=endpoint,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
    )
