"""Where attachment bytes live: one small interface, two backends.

``LocalFileStore`` keeps files under a folder (``var/attachments`` by
default), for one host. ``S3Store`` keeps them in an S3-compatible object
store (MinIO, the cloud stores), for several hosts; boto3 finds credentials
as it always does (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a
profile, an instance role). Keys are made by the service, never from a
user's file name.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from kb.errors import StoreUnavailable

T = TypeVar("T")


class BlobMissing(FileNotFoundError):
    """A stored file the database names is not in the store."""


class BlobStore(Protocol):
    def put(self, key: str, data: bytes, media_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


class LocalFileStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"storage key outside the store: {key!r}")
        return path

    def put(self, key: str, data: bytes, media_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside it, then renamed: a reader never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:  # the row is there, the file is not (a lost disk, a partial restore)
            raise BlobMissing(key) from exc

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Store:
    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 prefix: str = "", client=None):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix
        # A store that does not answer is told to the user in seconds (a 503), not after minutes of retries.
        self.client = client or boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            config=Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 2, "mode": "standard"}))

    def _call(self, action: Callable[[], T]) -> T:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return action()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise BlobMissing(str(exc)) from exc
            raise StoreUnavailable(details={"reason": str(exc)[:200]}) from exc
        except BotoCoreError as exc:  # endpoint unreachable, timed out, credentials missing
            raise StoreUnavailable(details={"reason": str(exc)[:200]}) from exc

    def put(self, key: str, data: bytes, media_type: str) -> None:
        self._call(lambda: self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data,
                                                  ContentType=media_type))

    def get(self, key: str) -> bytes:
        return self._call(lambda: self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read())

    def delete(self, key: str) -> None:
        self._call(lambda: self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key))


def open_store(kind: str, *, directory: str, bucket: str | None = None, endpoint_url: str | None = None,
               region: str | None = None) -> BlobStore:
    if kind == "local":
        return LocalFileStore(directory)
    if kind == "s3":
        if not bucket:
            raise ValueError("KB_ATTACHMENT_STORE=s3 needs KB_S3_BUCKET")
        return S3Store(bucket, endpoint_url=endpoint_url, region=region)
    raise ValueError(f"KB_ATTACHMENT_STORE must be local or s3, not {kind!r}")
