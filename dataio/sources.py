"""Bytes from where WARC files live: local folders, HTTP(S) with Range, and S3 (boto3).

Everything here streams or reads one byte range: a whole WARC file is never held in memory.
Transient failures (429, 5xx, timeouts, connection resets, S3 "SlowDown") are retried with
exponential backoff and full jitter, bounded both in attempts and in elapsed time; a stream
that breaks in the middle of a file resumes from the byte it had reached.  Errors that
retrying cannot fix raise `FetchError` with a short `kind` that the job counts.
"""
from __future__ import annotations

import io
import ipaddress
import os
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

USER_AGENT = "ccimg/0.1 (+https://github.com/ccimg; image size research)"
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5


class FetchError(Exception):
    """A failure that retrying did not (or cannot) fix.  `kind` names it for counters."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class TransientError(Exception):
    """A failure worth retrying; `kind` names it for the retry counter; `retry_after` is the
    server's own Retry-After in seconds, where it sent one."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    from datetime import datetime, timezone

    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter (delay drawn from [0, min(cap, base * 2**n)])."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_elapsed: float = 300.0
    sleep: Callable[[float], None] = time.sleep

    def run(self, fn: Callable[[], object], what: str, on_retry: Callable[[str, str], None] | None = None):
        start = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except TransientError as exc:
                elapsed = time.monotonic() - start
                delay = random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))
                if exc.retry_after is not None:  # the server said how long to wait: never less
                    delay = max(delay, min(exc.retry_after, self.max_delay))
                if attempt >= self.max_attempts or elapsed + delay > self.max_elapsed:
                    raise FetchError(f"gave_up_{exc.kind}",
                                     f"{what}: gave up after {attempt} attempts in {elapsed:.1f}s: {exc}") from exc
                if on_retry:
                    on_retry(exc.kind, f"{what}: attempt {attempt} failed ({exc}); retrying in {delay:.2f}s")
                self.sleep(delay)


def _transient_network_errors() -> tuple[type[BaseException], ...]:
    import requests
    import urllib3

    errors: list[type[BaseException]] = [
        requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
        urllib3.exceptions.HTTPError, ConnectionError, TimeoutError, socket.timeout]
    try:
        import botocore.exceptions as bce

        errors += [bce.EndpointConnectionError, bce.ConnectionClosedError, bce.ReadTimeoutError,
                   bce.ConnectTimeoutError, bce.ResponseStreamingError, bce.IncompleteReadError]
    except ImportError:  # pragma: no cover - boto3 is a core dependency
        pass
    return tuple(errors)


def check_public_address(url: str) -> None:
    """Refuse URLs whose host resolves to a private, loopback, link-local or reserved address.

    Why: a manifest is data, and a line naming http://169.254.169.254/ (cloud metadata) or an
    intranet host must not turn a mapper into a proxy into the cluster's network.
    """
    host = urlsplit(url).hostname
    if not host:
        raise FetchError("bad_url", f"no host in {url!r}")
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as exc:
        raise TransientError("dns", f"cannot resolve {host}: {exc}") from exc
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not addr.is_global:
            raise FetchError("private_address", f"{url!r}: {host} resolves to the non-public address {addr} "
                                                f"(pass --allow-private-addresses to fetch from it)")


class ResumableStream(io.RawIOBase):
    """A read-only byte stream that reopens at its current position when the connection breaks."""

    def __init__(self, opener: Callable[[int], object], policy: RetryPolicy, what: str,
                 on_retry: Callable[[str, str], None] | None = None):
        super().__init__()
        self._opener = opener  # position -> object with .read(n) positioned there
        self._policy = policy
        self._what = what
        self._on_retry = on_retry
        self._errors = _transient_network_errors()
        self.pos = 0
        self._body = policy.run(lambda: self._open(0), what, on_retry)

    def _open(self, pos: int):
        try:
            return self._opener(pos)
        except self._errors as exc:
            raise TransientError("connection", str(exc)) from exc

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        want = len(buf)

        def read_or_reopen():
            if self._body is None:
                self._body = self._open(self.pos)
            try:
                return self._body.read(want)
            except self._errors as exc:
                self._discard_body()
                raise TransientError("connection_reset", str(exc)) from exc

        data = self._policy.run(read_or_reopen, f"{self._what} at byte {self.pos}", self._on_retry)
        n = len(data)
        buf[:n] = data
        self.pos += n
        return n

    def _discard_body(self) -> None:
        if self._body is not None:
            try:
                self._body.close()
            except Exception:  # noqa: BLE001 - the body is broken or done with anyway
                pass
            self._body = None

    def close(self) -> None:
        self._discard_body()
        super().close()


class Fetcher:
    """Resolves file names against a source base and reads ranges or streams from it.

    `base` is ``https://data.commoncrawl.org/`` (default), ``s3://commoncrawl/``, any other
    http(s) or s3 prefix, or a local folder.  One requests session and one S3 client are
    kept per fetcher, for connection pooling.
    """

    def __init__(self, base: str = "https://data.commoncrawl.org/", s3_endpoint_url: str | None = None,
                 policy: RetryPolicy | None = None, timeout: float = 60.0, allow_private: bool = False,
                 on_retry: Callable[[str, str], None] | None = None):
        self.base = base
        self.s3_endpoint_url = s3_endpoint_url
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        self.allow_private = allow_private
        self.on_retry = on_retry
        self._session = None
        self._s3 = None
        self._checked_hosts: set[str] = set()

    # -- where ---------------------------------------------------------------------------------
    def resolve(self, name: str) -> str:
        if "://" in name or os.path.isabs(name):
            return name
        if "://" in self.base:
            return self.base.rstrip("/") + "/" + name.lstrip("/")
        return os.path.join(self.base, name)

    # -- clients -------------------------------------------------------------------------------
    @property
    def session(self):
        if self._session is None:
            import requests

            self._session = requests.Session()
            self._session.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
        return self._session

    @property
    def s3(self):
        if self._s3 is None:
            import boto3
            from botocore.config import Config

            # Our own retry loop is the one that counts; botocore's would hide retries from the counters.
            # ("max_attempts": 1 would mean one *retry*; total_max_attempts counts the first try too.)
            config = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=self.timeout,
                            read_timeout=self.timeout, user_agent_extra=USER_AGENT)
            self._s3 = boto3.session.Session().client(
                "s3", endpoint_url=self.s3_endpoint_url, config=config,
                region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
        return self._s3

    def _check_host(self, url: str) -> None:
        if self.allow_private:
            return
        host = urlsplit(url).hostname or ""
        if host not in self._checked_hosts:
            check_public_address(url)
            self._checked_hosts.add(host)

    # -- ranges --------------------------------------------------------------------------------
    def read_range(self, name: str, offset: int, length: int) -> bytes:
        """The bytes [offset, offset+length) of a file, or FetchError."""
        location = self.resolve(name)
        what = f"{location} [{offset}+{length}]"
        if location.startswith(("http://", "https://")):
            self.policy.run(lambda: self._check_host(location), what, self.on_retry)
            return self.policy.run(lambda: self._http_range(location, offset, length), what, self.on_retry)
        if location.startswith("s3://"):
            return self.policy.run(lambda: self._s3_range(location, offset, length), what, self.on_retry)
        return self._local_range(location, offset, length)

    def _local_range(self, path: str, offset: int, length: int) -> bytes:
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read(length)
        except FileNotFoundError:
            raise FetchError("not_found", f"no such file: {path}") from None
        except IsADirectoryError:
            raise FetchError("not_found", f"is a directory: {path}") from None
        if len(data) < length:
            raise FetchError("short_range", f"{path}: asked for {length} bytes at {offset}, file has {len(data)}")
        return data

    def _get(self, url: str, headers: dict):
        """GET that follows redirects itself, checking every hop's address like the first.

        Why: requests would follow a redirect from a public server to an internal address.
        """
        errors = _transient_network_errors()
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                resp = self.session.get(url, headers=headers, timeout=self.timeout, stream=True,
                                        allow_redirects=False)
            except errors as exc:
                raise TransientError("connection", str(exc)) from exc
            location = resp.headers.get("Location")
            if resp.status_code not in REDIRECT_STATUS or not location:
                return resp
            resp.close()
            url = urljoin(url, location)
            if not url.startswith(("http://", "https://")):
                raise FetchError("bad_redirect", f"redirect to a non-http URL: {url!r}")
            self._check_host(url)
        raise FetchError("too_many_redirects", f"{url}: more than {MAX_REDIRECTS} redirects")

    def _http_range(self, url: str, offset: int, length: int) -> bytes:
        errors = _transient_network_errors()
        headers = {"Range": f"bytes={offset}-{offset + length - 1}"}
        resp = self._get(url, headers)
        try:
            _check_status(resp.status_code, url, resp.headers)
            if resp.status_code == 200:
                raise FetchError("range_ignored", f"{url}: server answered 200 to a Range request (it must send 206)")
            try:
                data = resp.raw.read(length + 1, decode_content=False)
            except errors as exc:
                raise TransientError("connection_reset", str(exc)) from exc
            announced = resp.headers.get("Content-Length")
        finally:
            resp.close()
        if len(data) != length:
            if announced and announced.isdigit() and len(data) < int(announced):
                # the server meant to send more: the connection closed early
                raise TransientError("incomplete_body", f"{url}: got {len(data)} of {announced} announced bytes")
            raise FetchError("short_range", f"{url}: asked for {length} bytes at {offset}, got {len(data)}")
        return data

    def _s3_split(self, location: str) -> tuple[str, str]:
        rest = location[len("s3://"):]
        bucket, _, key = rest.partition("/")
        if not bucket or not key:
            raise FetchError("bad_url", f"not an s3://bucket/key URL: {location!r}")
        return bucket, key

    def _s3_call(self, location: str, **kwargs):
        from botocore.exceptions import ClientError, NoCredentialsError

        bucket, key = self._s3_split(location)
        try:
            return self.s3.get_object(Bucket=bucket, Key=key, **kwargs)
        except NoCredentialsError as exc:
            raise FetchError("no_credentials", f"{location}: no AWS credentials found (s3://commoncrawl/ needs "
                                               f"them; or use --source-base https://data.commoncrawl.org/)") from exc
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in ("SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout") or status in RETRY_STATUS:
                raise TransientError(f"s3_{code or status}", f"{location}: {code} ({status})") from exc
            if code in ("NoSuchKey", "NoSuchBucket", "404") or status == 404:
                raise FetchError("not_found", f"{location}: {code}") from exc
            if code == "InvalidRange" or status == 416:
                raise FetchError("range_not_satisfiable", f"{location}: {code}") from exc
            if status in (401, 403) or code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise FetchError("access_denied", f"{location}: {code} ({status})") from exc
            raise FetchError(f"s3_{code or status}", f"{location}: {exc}") from exc
        except _transient_network_errors() as exc:
            raise TransientError("connection", f"{location}: {exc}") from exc

    def _s3_range(self, location: str, offset: int, length: int) -> bytes:
        obj = self._s3_call(location, Range=f"bytes={offset}-{offset + length - 1}")
        try:
            data = obj["Body"].read()
        except _transient_network_errors() as exc:
            raise TransientError("connection_reset", str(exc)) from exc
        if len(data) != length:
            raise FetchError("short_range", f"{location}: asked for {length} bytes at {offset}, got {len(data)}")
        return data

    # -- whole files ---------------------------------------------------------------------------
    def open_stream(self, name: str) -> io.BufferedReader:
        """A buffered, resumable stream over a whole file."""
        location = self.resolve(name)
        if location.startswith(("http://", "https://")):
            self.policy.run(lambda: self._check_host(location), location, self.on_retry)
            raw = ResumableStream(lambda pos: self._http_open(location, pos), self.policy, location, self.on_retry)
        elif location.startswith("s3://"):
            raw = ResumableStream(
                lambda pos: self._s3_call(location, **({"Range": f"bytes={pos}-"} if pos else {}))["Body"],
                self.policy, location, self.on_retry)
        else:
            try:
                return open(location, "rb", buffering=1 << 20)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                raise FetchError("not_found", f"no such file: {location}") from None
        return io.BufferedReader(raw, buffer_size=1 << 20)

    def _http_open(self, url: str, pos: int):
        headers = {"Range": f"bytes={pos}-"} if pos else {}
        resp = self._get(url, headers)
        try:
            _check_status(resp.status_code, url, resp.headers)
        except BaseException:
            resp.close()
            raise
        if pos and resp.status_code != 206:
            resp.close()
            raise FetchError("range_ignored", f"{url}: cannot resume at byte {pos}: server ignores Range")
        resp.raw.decode_content = False
        return resp.raw


def _check_status(status: int, url: str, headers=None) -> None:
    if status in (200, 206):
        return
    if status in RETRY_STATUS:
        retry_after = parse_retry_after(headers.get("Retry-After")) if headers is not None else None
        raise TransientError(f"http_{status}", f"{url}: HTTP {status}", retry_after)
    if status == 404:
        raise FetchError("not_found", f"{url}: HTTP 404")
    if status == 416:
        raise FetchError("range_not_satisfiable", f"{url}: HTTP 416")
    raise FetchError(f"http_{status}", f"{url}: HTTP {status}")
