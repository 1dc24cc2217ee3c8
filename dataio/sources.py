"""Bytes from where WARC files live: local files, HTTP(S) with Range, and S3, through the one network layer.

Everything here streams or reads one byte range: a whole WARC file is never held in memory.  The
network parts are `network.http.HttpClient` (address guard on every hop, one deadline per request,
keep-alive), `network.s3.S3Reader` and `network.retry.RetryPolicy`; this module only adds what is
particular to WARC files:

  * a record pointer is one ranged GET whose answer must be a 206 for exactly the bytes asked for
    (`range_ignored`, `range_mismatch`, `short_range` otherwise: a server that ignores Range would
    hand us the wrong record);
  * a whole file is a stream that resumes mid-file with a Range request from the byte it reached
    when the connection breaks (`ResumableStream`);
  * a caller's `deadline` (the job's budget for one input line) bounds every request, every retry
    wait and every read: past it, FetchError("deadline");
  * local files are opened without blocking and must be regular files: a FIFO would block the
    mapper for ever, /dev/zero would never end, a directory is a mistake; I/O errors (EIO, names
    too long, ...) are FetchError("io_error"), never an OSError that escapes.

Error messages name the file and the failure, never the file's bytes.
"""
from __future__ import annotations

import dataclasses
import errno
import fcntl
import io
import math
import os
import stat
import time
from collections.abc import Callable
from typing import TypeVar

from network.errors import FetchError, TransientError
from network.http import HttpClient
from network.retry import RetryPolicy
from network.s3 import S3Reader, split_s3_url

T = TypeVar("T")
STREAM_BUFFER = 1 << 20


def _deadline_left(deadline: float | None, what: str) -> float:
    """Seconds left before `deadline` (inf without one); FetchError("deadline") when none are."""
    if deadline is None:
        return math.inf
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError("deadline", f"{what}: the time budget of the input line is spent")
    return left


def _shown(path: str, limit: int = 200) -> str:
    """A path for a message: repr'd (surrogate escapes and control characters visible) and bounded."""
    return repr(path[:limit] + ("..." if len(path) > limit else ""))


def _os_error(exc: OSError, path: str) -> FetchError:
    """The FetchError for an OSError on a local path: the errno's name and text, never file contents."""
    if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
        return FetchError("not_found", f"no such file: {_shown(path)}")
    if isinstance(exc, PermissionError):
        return FetchError("access_denied", f"{_shown(path)}: permission denied")
    name = errno.errorcode.get(exc.errno or 0, "OSError")
    return FetchError("io_error", f"{_shown(path)}: {name} ({exc.strerror or type(exc).__name__})")


def open_local(path: str, deadline: float | None = None) -> io.BufferedReader:
    """A buffered reader over a regular local file, or FetchError.

    Opened with O_NONBLOCK so that a FIFO (whose open() waits for a writer, for ever) does not block,
    then checked with fstat: only regular files are read (not_a_file for FIFOs, devices such as
    /dev/zero, sockets and directories).  Why fstat after open and not stat before: the check is then
    about the very file that is read, not about whatever the name pointed to a moment earlier.  Reads past
    `deadline` (time.monotonic()) raise FetchError("deadline"): a small gzip bomb is a long read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except ValueError:  # an embedded NUL byte
        raise FetchError("bad_path", f"{_shown(path)}: not a usable file name") from None
    except OSError as exc:
        raise _os_error(exc, path) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            what = ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
                    else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
            raise FetchError("not_a_file", f"{_shown(path)} is {what}: only regular files are read")
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
        return io.BufferedReader(_LocalRaw(fd, path, deadline), buffer_size=STREAM_BUFFER)
    except FetchError:
        os.close(fd)
        raise
    except OSError as exc:
        os.close(fd)
        raise _os_error(exc, path) from None


class _LocalRaw(io.RawIOBase):
    """A local file whose read errors (EIO on a failing disk, ...) come out as FetchError("io_error")."""

    def __init__(self, fd: int, path: str, deadline: float | None = None):
        super().__init__()
        self._file = io.FileIO(fd, "rb", closefd=True)
        self._path = path
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._deadline is not None:
            _deadline_left(self._deadline, _shown(self._path))
        try:
            return self._file.readinto(buffer)
        except OSError as exc:
            raise _os_error(exc, self._path) from None

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        try:
            return self._file.seek(offset, whence)
        except (OSError, OverflowError, ValueError):
            raise FetchError("bad_range", f"{_shown(self._path)}: cannot seek to byte {offset}") from None

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        if not self.closed:
            try:
                self._file.close()
            finally:
                super().close()


class ResumableStream(io.RawIOBase):
    """A read-only byte stream that reopens at its current position when the connection breaks.

    `opener(pos)` returns a body positioned at byte `pos` (with `.read(n)` and `.close()`) whose read
    errors are TransientError (worth reopening) or FetchError; `run(fn, what)` is the retry loop (the
    Fetcher's, bounded by the line's deadline), used both for the first open and for every read."""

    def __init__(self, opener: Callable[[int], object], run: Callable[[Callable[[], T], str], T], what: str):
        super().__init__()
        self._opener = opener
        self._run = run
        self._what = what
        self.pos = 0
        self._body = None
        self._body = run(lambda: self._opener(0), what)

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        want = len(buf)

        def read_or_reopen() -> bytes:
            if self._body is None:
                self._body = self._opener(self.pos)
            try:
                return self._body.read(want)
            except TransientError:
                self._discard_body()  # a broken connection: the retry reopens at self.pos
                raise

        data = self._run(read_or_reopen, f"{self._what} at byte {self.pos}")
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

    `base` is ``https://data.commoncrawl.org/`` (default), ``s3://commoncrawl/``, any other http(s)
    or s3 prefix, or a local folder.  One HttpClient (keep-alive pool) and one S3Reader per fetcher.
    `policy` retries TransientError; `on_retry(kind, message)` hears of every retry (the job counts
    them).  Every public method takes an optional `deadline` (a time.monotonic() value)."""

    def __init__(self, base: str = "https://data.commoncrawl.org/", s3_endpoint_url: str | None = None,
                 policy: RetryPolicy | None = None, timeout: float = 60.0, allow_private: bool = False,
                 on_retry: Callable[[str, str], None] | None = None, http: HttpClient | None = None,
                 s3: S3Reader | None = None):
        self.base = base
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        self.allow_private = allow_private
        self.on_retry = on_retry
        self._http = http
        self.s3 = s3 or S3Reader(endpoint_url=s3_endpoint_url, timeout=timeout)

    @property
    def http(self) -> HttpClient:
        """The HTTP client, made on first use (its TLS context costs tens of milliseconds, and a task that
        reads local files or S3 never needs it)."""
        if self._http is None:
            self._http = HttpClient(timeout=self.timeout, allow_private=self.allow_private)
        return self._http

    # -- where ---------------------------------------------------------------------------------
    def resolve(self, name: str) -> str:
        if "://" in name or os.path.isabs(name):
            return name
        if "://" in self.base:
            return self.base.rstrip("/") + "/" + name.lstrip("/")
        return os.path.join(self.base, name)

    # -- retries within a deadline -------------------------------------------------------------
    def _run(self, fn: Callable[[], T], what: str, deadline: float | None) -> T:
        """fn() through the retry policy, whose time budget is cut to what is left before `deadline`."""
        left = _deadline_left(deadline, what)
        policy = self.policy if left >= self.policy.max_elapsed else dataclasses.replace(self.policy, max_elapsed=left)

        def attempt() -> T:
            _deadline_left(deadline, what)  # no new attempt once the line's budget is spent
            return fn()

        return policy.run(attempt, what, self.on_retry)

    def _request_deadline(self, deadline: float | None) -> float | None:
        """The deadline to hand one ranged GET: the client's own budget (a timeout there is retried) unless
        the line's deadline comes first (then reaching it ends the line)."""
        if deadline is not None and deadline < time.monotonic() + self.timeout:
            return deadline
        return None

    # -- ranges --------------------------------------------------------------------------------
    def read_range(self, name: str, offset: int, length: int, deadline: float | None = None) -> bytes:
        """The bytes [offset, offset+length) of a file, or FetchError."""
        location = self.resolve(name)
        what = f"{location} [{offset}+{length}]"
        if location.startswith(("http://", "https://")):
            return self._run(lambda: self._http_range(location, offset, length, deadline), what, deadline)
        if location.startswith("s3://"):
            bucket, key = split_s3_url(location)
            return self._run(lambda: self.s3.get_range(bucket, key, offset, length), what, deadline)
        return _local_range(location, offset, length)

    def _http_range(self, url: str, offset: int, length: int, deadline: float | None) -> bytes:
        last = offset + length - 1
        with self.http.get(url, {"Range": f"bytes={offset}-{last}"}, deadline=self._request_deadline(deadline)) as resp:
            resp.raise_for_status()
            where = resp.checked.redacted
            if resp.status != 206:
                raise FetchError("range_ignored", f"{where}: answered {resp.status} to a Range request (it must "
                                                  "send 206: the body would not be the record asked for)")
            content_range = resp.headers.get("content-range", "")
            if content_range and not content_range.replace(" ", "").startswith(f"bytes{offset}-"):
                raise FetchError("range_mismatch", f"{where}: asked for bytes {offset}-{last}, got "
                                                   f"{content_range[:80]!r}")
            data = resp.read_capped(length + 1)
        if len(data) != length:
            raise FetchError("short_range", f"{where}: asked for {length} bytes at {offset}, got {len(data)}")
        return data

    # -- whole files ---------------------------------------------------------------------------
    def open_stream(self, name: str, deadline: float | None = None) -> io.BufferedReader:
        """A buffered stream over a whole file (resumable for http(s) and s3)."""
        location = self.resolve(name)
        if location.startswith(("http://", "https://")):
            raw = ResumableStream(lambda pos: self._http_open(location, pos, deadline),
                                  lambda fn, what: self._run(fn, what, deadline), location)
        elif location.startswith("s3://"):
            bucket, key = split_s3_url(location)
            raw = ResumableStream(lambda pos: self.s3.open_body(bucket, key, pos),
                                  lambda fn, what: self._run(fn, what, deadline), location)
        else:
            return open_local(location, deadline)
        return io.BufferedReader(raw, buffer_size=STREAM_BUFFER)

    def _http_open(self, url: str, pos: int, deadline: float | None):
        """The body of `url` from byte `pos`.  The request's deadline is the line's (none: math.inf), not the
        client's per-request budget, which a whole file of a gigabyte would outlast; every single wait on
        the socket is still bounded by the client's timeout."""
        headers = {"Range": f"bytes={pos}-"} if pos else {}
        resp = self.http.get(url, headers, deadline=deadline if deadline is not None else math.inf)
        try:
            resp.raise_for_status()
            if pos and resp.status != 206:
                raise FetchError("range_ignored", f"{resp.checked.redacted}: cannot resume at byte {pos}: the "
                                                  f"server answered {resp.status} to a Range request")
        except BaseException:
            resp.close()
            raise
        return resp


def _local_range(path: str, offset: int, length: int) -> bytes:
    with open_local(path) as f:
        try:
            f.seek(offset)
        except (OverflowError, ValueError):
            raise FetchError("bad_range", f"{_shown(path)}: cannot seek to byte {offset}") from None
        data = f.read(length)
    if len(data) < length:
        raise FetchError("short_range", f"{_shown(path)}: asked for {length} bytes at {offset}, got {len(data)}")
    return data
