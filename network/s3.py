"""S3 (and S3-compatible endpoints) through boto3, with our retry loop and our error kinds.

Why a wrapper: botocore retries on its own by default, which hides retries from the job counters and
stacks its backoff under ours; here botocore makes exactly one attempt (``total_max_attempts: 1``) and
network.retry.RetryPolicy is the loop that counts.  Every botocore/urllib3 error comes out as FetchError
or TransientError with the kinds the jobs count (no_credentials, not_found, access_denied,
range_not_satisfiable, s3_SlowDown, connection, ...).  The boto3 client is made on first use, once per
reader (boto3 clients are thread-safe; building one costs tens of milliseconds).
"""
from __future__ import annotations

import io
import os
import threading

from network.errors import FetchError, TransientError
from network.identity import USER_AGENT
from network.retry import RETRY_STATUS

_RETRY_CODES = frozenset({"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "Throttling",
                          "ThrottlingException", "RequestTimeTooSkewed"})
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "404", "NotFound"})
_DENIED_CODES = frozenset({"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled",
                           "ExpiredToken", "InvalidToken"})


def split_s3_url(url: str) -> tuple[str, str]:
    """("bucket", "key") from "s3://bucket/key"; FetchError("bad_url") if it is not of that form."""
    if not isinstance(url, str) or not url.startswith("s3://"):
        raise FetchError("bad_url", f"not an s3:// URL: {str(url)[:200]!r}")
    bucket, _, key = url[len("s3://"):].partition("/")
    if not bucket or not key:
        raise FetchError("bad_url", f"not an s3://bucket/key URL: {url[:200]!r}")
    return bucket, key


def _network_errors() -> tuple[type[BaseException], ...]:
    import botocore.exceptions as bce
    import urllib3.exceptions

    return (bce.EndpointConnectionError, bce.ConnectionClosedError, bce.ReadTimeoutError, bce.ConnectTimeoutError,
            bce.ResponseStreamingError, bce.IncompleteReadError, bce.HTTPClientError, urllib3.exceptions.HTTPError,
            ConnectionError, TimeoutError)


def _translate(exc: BaseException, where: str) -> Exception:
    """The FetchError/TransientError for a botocore/urllib3 failure (messages carry codes, not bodies)."""
    import botocore.exceptions as bce

    if isinstance(exc, (FetchError, TransientError)):
        return exc
    if isinstance(exc, (bce.NoCredentialsError, bce.PartialCredentialsError)):
        return FetchError("no_credentials", f"{where}: no AWS credentials found (reading s3://commoncrawl/ needs "
                                            "them; elsewhere use https://data.commoncrawl.org/ instead)")
    if isinstance(exc, bce.ClientError):
        error = exc.response.get("Error", {}) or {}
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        label = code or str(status)
        if code in _RETRY_CODES or status in RETRY_STATUS:
            return TransientError(f"s3_{label}", f"{where}: {label} (HTTP {status})")
        if code in _NOT_FOUND_CODES or status == 404:
            return FetchError("not_found", f"{where}: {label}")
        if code == "InvalidRange" or status == 416:
            return FetchError("range_not_satisfiable", f"{where}: {label}")
        if code in _DENIED_CODES or status in (401, 403):
            return FetchError("access_denied", f"{where}: {label} (HTTP {status})")
        return FetchError(f"s3_{label}", f"{where}: {label} (HTTP {status})")
    if isinstance(exc, (bce.ReadTimeoutError, bce.ConnectTimeoutError, TimeoutError)):
        return TransientError("timeout", f"{where}: timed out ({type(exc).__name__})")
    if isinstance(exc, (bce.ResponseStreamingError, bce.IncompleteReadError, bce.ConnectionClosedError)):
        return TransientError("connection_reset", f"{where}: connection broken ({type(exc).__name__})")
    if isinstance(exc, _network_errors()):
        return TransientError("connection", f"{where}: {type(exc).__name__}")
    if isinstance(exc, bce.ParamValidationError):
        return FetchError("bad_url", f"{where}: invalid S3 request parameters")
    if isinstance(exc, UnicodeError):  # a key holding bytes that were not UTF-8 (kept as surrogate escapes)
        return FetchError("bad_url", f"{where}: the key cannot be sent (not UTF-8)")
    return exc


class _S3Body(io.RawIOBase):
    """An S3 object body whose read errors come out as TransientError."""

    def __init__(self, body, where: str):
        super().__init__()
        self._body = body
        self._where = where

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._body.read(len(buffer))
        except Exception as exc:
            raise _translate(exc, self._where) from None
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        if not self.closed:
            try:
                self._body.close()
            finally:
                super().close()


class S3Reader:
    """Reads, lists and writes S3 objects.  `endpoint_url` points at an S3-compatible server (moto in tests).

    `timeout` is botocore's connect and read timeout (per socket operation).  The region is
    AWS_DEFAULT_REGION, else us-east-1 (where Common Crawl is)."""

    def __init__(self, endpoint_url: str | None = None, timeout: float = 60.0, user_agent: str = USER_AGENT,
                 region: str | None = None):
        self.endpoint_url = endpoint_url
        self.timeout = timeout
        self.user_agent = user_agent
        self.region = region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self._client = None
        self._lock = threading.Lock()

    @property
    def client(self):
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    # total_max_attempts counts the first try: 1 means botocore never retries by itself
                    # ("max_attempts": 1 would mean one retry).
                    config = Config(retries={"total_max_attempts": 1, "mode": "standard"},
                                    connect_timeout=self.timeout, read_timeout=self.timeout,
                                    user_agent_extra=self.user_agent)
                    self._client = boto3.session.Session().client(
                        "s3", endpoint_url=self.endpoint_url, config=config, region_name=self.region)
        return self._client

    def _call(self, where: str, method: str, **kwargs):
        try:
            return getattr(self.client, method)(**kwargs)
        except Exception as exc:
            raise _translate(exc, where) from None

    def get_range(self, bucket: str, key: str, offset: int, length: int) -> bytes:
        """The bytes [offset, offset + length) of an object; FetchError("short_range") if it has fewer."""
        where = f"s3://{bucket}/{key} [{offset}+{length}]"
        if offset < 0 or length <= 0:
            raise FetchError("bad_range", f"{where}: offset must be >= 0 and length > 0")
        obj = self._call(where, "get_object", Bucket=bucket, Key=key, Range=f"bytes={offset}-{offset + length - 1}")
        body = _S3Body(obj["Body"], where)
        chunks, got = [], 0
        try:
            while got <= length:  # S3 honours Range; one byte over would show a server that did not
                chunk = body.read(length + 1 - got)
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
        finally:
            body.close()
        data = b"".join(chunks)
        if len(data) != length:
            raise FetchError("short_range", f"{where}: got {len(data)} bytes")
        return data

    def open_body(self, bucket: str, key: str, start: int = 0) -> io.BufferedReader:
        """A buffered stream over the object from byte `start` (for resuming a broken stream)."""
        where = f"s3://{bucket}/{key}" + (f" from {start}" if start else "")
        kwargs = {"Range": f"bytes={start}-"} if start else {}
        obj = self._call(where, "get_object", Bucket=bucket, Key=key, **kwargs)
        return io.BufferedReader(_S3Body(obj["Body"], where), buffer_size=1 << 20)

    def list_keys(self, bucket: str, prefix: str = "", limit: int = 100_000, page_size: int = 1000) -> list[str]:
        """Keys under `prefix`, in S3's (lexicographic) order, at most `limit` of them
        (FetchError("too_many_keys") beyond: a prefix that broad is a mistake, not a listing)."""
        where = f"s3://{bucket}/{prefix}"
        keys: list[str] = []
        token = None
        while True:
            kwargs = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": page_size}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call(where, "list_objects_v2", **kwargs)
            keys.extend(item["Key"] for item in page.get("Contents", []))
            if len(keys) > limit:
                raise FetchError("too_many_keys", f"{where}: more than {limit} keys")
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return keys

    def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Store `data` as one object (small objects: results, manifests)."""
        self._call(f"s3://{bucket}/{key}", "put_object", Bucket=bucket, Key=key, Body=data, ContentType=content_type)

    def put_file(self, bucket: str, key: str, path: str) -> None:
        """Store a local file as one object, in parts when it is large (boto3's managed upload: a single
        PUT stops at 5 GB, and a broken part is sent again, not the whole file)."""
        where = f"s3://{bucket}/{key}"
        try:
            self.client.upload_file(str(path), bucket, key)
        except Exception as exc:
            translated = _translate(exc, where)
            if translated is exc:  # boto3's S3UploadFailedError wraps the ClientError's text only
                raise FetchError("upload_failed", f"{where}: upload failed ({type(exc).__name__})") from None
            raise translated from None
