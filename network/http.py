"""One HTTP GET for the whole project, built on the standard library's http.client.

Why not requests/urllib3: they resolve the host name themselves when they connect, so a check made
beforehand can be dodged by DNS rebinding, and their timeouts bound each socket read, not the request
(a server dripping one byte every few seconds keeps a read alive forever).  Here:

  * every hop (the first URL and each redirect) is parsed by `check_url` and its addresses checked by
    the Resolver; the socket is opened to one of exactly those addresses, while the Host header, TLS SNI
    and the certificate check use the name;
  * one budget bounds the whole request: connect, TLS handshake, headers, every body read, every
    redirect hop.  Every single socket operation waits at most min(timeout, time left), so the request
    ends by its deadline whatever the server does;
  * redirects are followed by hand (at most `max_redirects`), the body is never content-decoded
    (``Accept-Encoding: identity``), and `Response.read_capped` never holds more than asked for;
  * connections are kept alive and reused per (scheme, host, port, address) when a response was read
    to its end; a connection belongs to one request at a time, so threads never share one;
  * every failure comes out as TransientError (worth retrying) or FetchError, each with a `kind`.

What the budget's end raises: with an explicit `deadline` (the caller's own total budget, e.g. for a
whole task) it is FetchError("deadline"), since retrying against a spent deadline cannot help; with the
default budget (`timeout` seconds for the whole request) it is TransientError("timeout"), since a retry
gets a fresh budget.  A single socket wait longer than `timeout` is TransientError("timeout") too.
Pass ``deadline=math.inf`` to stream a large file: then only the per-operation `timeout` applies.
"""
from __future__ import annotations

import http.client
import io
import math
import re
import selectors
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from network.errors import FetchError, TransientError
from network.guard import CheckedURL, Resolver, check_url, join_redirect
from network.identity import USER_AGENT
from network.retry import RETRY_STATUS, parse_retry_after

REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
READ_CHUNK = 64 * 1024
DRAIN_LIMIT = 64 * 1024  # body bytes of a redirect read to keep its connection; longer ones are dropped
MAX_IDLE_AGE = 20.0  # seconds: servers close idle keep-alive connections after 5-60 s
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


class _DeadlineReached(TimeoutError):
    """The request's total budget is spent (internal: translated to FetchError/TransientError)."""


@dataclass
class _Budget:
    deadline: float  # time.monotonic() value; math.inf for none
    explicit: bool   # the caller gave the deadline (FetchError "deadline") or it is the default budget
    idle: float      # the longest any single socket operation may wait

    def timeout(self) -> float:
        """The timeout for the next socket operation; _DeadlineReached if no time is left."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise _DeadlineReached("deadline reached")
        return min(self.idle, remaining)

    def spent(self) -> bool:
        # A wait cut at the deadline can wake a hair early (timers round): count the last 10 ms as spent.
        return time.monotonic() >= self.deadline - 0.01


class _DeadlineSocketIO(socket.SocketIO):
    """The socket reader under http.client's response: every recv waits at most until the deadline.

    Why at this level: http.client reads the status line, the headers, chunk sizes and the body through
    this one file, in loops of its own; bounding each recv here bounds all of them."""

    def __init__(self, sock: socket.socket, budget: _Budget):
        super().__init__(sock, "rb")
        sock._io_refs += 1  # as socket.makefile() does: the descriptor stays open until this reader closes
        self._budget = budget

    def readinto(self, b) -> int | None:
        self._sock.settimeout(self._budget.timeout())
        return super().readinto(b)


class _FileOf:
    """Hands http.client.HTTPResponse a prepared file where it calls sock.makefile()."""

    def __init__(self, fp):
        self._fp = fp

    def makefile(self, mode: str):
        return self._fp


class _PinnedConnection:
    """Mixin: connect() goes to `address` (checked by the guard); http.client never resolves a name."""

    address: str
    budget: _Budget
    port: int

    def _setup(self, address: str, budget: _Budget) -> None:
        self.address = address
        self.budget = budget
        self.idle_since = 0.0
        self.response_class = self._make_response  # per instance: the response needs this request's budget

    def _make_response(self, sock, debuglevel=0, method=None, url=None):
        reader = io.BufferedReader(_DeadlineSocketIO(sock, self.budget), READ_CHUNK)
        return http.client.HTTPResponse(_FileOf(reader), method=method)

    def _open_tcp(self) -> socket.socket:
        sock = socket.create_connection((self.address, self.port), timeout=self.budget.timeout())
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # pragma: no cover - not every socket family has it
            pass
        return sock


class _PinnedHTTPConnection(_PinnedConnection, http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, budget: _Budget):
        super().__init__(host, port, timeout=budget.idle)
        self._setup(address, budget)

    def connect(self) -> None:
        self.sock = self._open_tcp()


class _PinnedHTTPSConnection(_PinnedConnection, http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, budget: _Budget, context: ssl.SSLContext):
        super().__init__(host, port, timeout=budget.idle, context=context)
        self._setup(address, budget)

    def connect(self) -> None:
        sock = self._open_tcp()
        try:
            self.sock = _tls_handshake(self._context, sock, self.host, self.budget)
        except BaseException:
            sock.close()
            raise


def _tls_handshake(context: ssl.SSLContext, sock: socket.socket, server_hostname: str,
                   budget: _Budget) -> ssl.SSLSocket:
    """TLS over `sock` with SNI and certificate check for `server_hostname`, within the budget.

    Non-blocking, so that a server dribbling its handshake cannot stretch it past the deadline."""
    tls = context.wrap_socket(sock, server_hostname=server_hostname, do_handshake_on_connect=False)
    try:
        tls.setblocking(False)
        with selectors.DefaultSelector() as selector:
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    events = selectors.EVENT_READ
                except ssl.SSLWantWriteError:
                    events = selectors.EVENT_WRITE
                selector.register(tls, events)
                ready = selector.select(budget.timeout())
                selector.unregister(tls)
                if not ready:
                    raise TimeoutError("TLS handshake timed out")
        tls.settimeout(budget.idle)
        return tls
    except BaseException:
        tls.close()
        raise


def default_ssl_context() -> ssl.SSLContext:
    """Certificates verified against the system's CAs, host names checked, HTTP/1.1 offered by ALPN."""
    context = ssl.create_default_context()
    context.set_alpn_protocols(["http/1.1"])
    return context


class Headers(Mapping):
    """Response headers: read-only, case-insensitive; a repeated field reads as its values joined by ', '."""

    def __init__(self, items: Iterable[tuple[str, str]]):
        self._fields: dict[str, list[str]] = {}
        self._names: dict[str, str] = {}
        for name, value in items:
            key = name.lower()
            self._fields.setdefault(key, []).append(value)
            self._names.setdefault(key, name)

    def __getitem__(self, name: str) -> str:
        return ", ".join(self._fields[name.lower()])

    def __iter__(self) -> Iterator[str]:
        return iter(self._names.values())

    def __len__(self) -> int:
        return len(self._fields)

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and name.lower() in self._fields

    def get_all(self, name: str) -> list[str]:
        return list(self._fields.get(name.lower(), []))

    def __repr__(self) -> str:
        return f"Headers({sorted(self._names.values())})"  # names only: values may carry cookies


def check_status(status: int, url, headers: Mapping | None = None) -> None:
    """Nothing for 2xx; otherwise the error the status means.

    RETRY_STATUS (408, 425, 429, 500, 502, 503, 504) -> TransientError("http_<code>") carrying Retry-After;
    404 -> FetchError("not_found"); 416 -> FetchError("range_not_satisfiable"); anything else,
    other 5xx included (501 Not Implemented does not get better) -> FetchError("http_<code>")."""
    if 200 <= status < 300:
        return
    where = url.redacted if isinstance(url, CheckedURL) else url
    if status in RETRY_STATUS:
        retry_after = parse_retry_after(headers.get("Retry-After")) if headers is not None else None
        raise TransientError(f"http_{status}", f"{where}: HTTP {status}", retry_after)
    if status == 404:
        raise FetchError("not_found", f"{where}: HTTP 404")
    if status == 416:
        raise FetchError("range_not_satisfiable", f"{where}: HTTP 416")
    raise FetchError(f"http_{status}", f"{where}: HTTP {status}")


def _translate(exc: BaseException, where: str, budget: _Budget) -> Exception:
    """The FetchError/TransientError for a failure of the request to `where`.  Messages carry no payload."""
    if isinstance(exc, TransientError) and budget.explicit and budget.spent():
        return FetchError("deadline", f"{where}: deadline reached ({exc.kind})")  # a retry could not help
    if isinstance(exc, (FetchError, TransientError)):
        return exc
    if isinstance(exc, _DeadlineReached) or (isinstance(exc, (TimeoutError, ssl.SSLError)) and budget.spent()):
        if budget.explicit:
            return FetchError("deadline", f"{where}: deadline reached before the request ended")
        return TransientError("timeout", f"{where}: no complete answer within {budget.idle:g}s")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return FetchError("tls", f"{where}: certificate not accepted ({exc.verify_message or exc.reason})")
    if isinstance(exc, (ssl.SSLZeroReturnError, ssl.SSLEOFError, ssl.SSLSyscallError)):
        return TransientError("connection_reset", f"{where}: TLS connection closed ({type(exc).__name__})")
    if isinstance(exc, ssl.SSLError):
        return FetchError("tls", f"{where}: TLS failure ({exc.reason or type(exc).__name__})")
    if isinstance(exc, TimeoutError):
        return TransientError("timeout", f"{where}: no data for {budget.idle:g}s")
    if isinstance(exc, http.client.IncompleteRead):
        return TransientError("incomplete_body", f"{where}: connection closed before the end of the body")
    if isinstance(exc, ConnectionRefusedError):
        return TransientError("connection", f"{where}: connection refused")
    if isinstance(exc, ConnectionError):  # reset, aborted, broken pipe, RemoteDisconnected
        return TransientError("connection_reset", f"{where}: connection closed by the server ({type(exc).__name__})")
    if isinstance(exc, http.client.LineTooLong):
        return FetchError("bad_response", f"{where}: malformed HTTP response (a line over 64 KiB)")
    if isinstance(exc, http.client.HTTPException):
        said = str(exc) if str(exc).startswith("got more than") else type(exc).__name__  # never echo the line
        return FetchError("bad_response", f"{where}: malformed HTTP response ({said})")
    if isinstance(exc, OSError):
        return TransientError("connection", f"{where}: {exc.strerror or type(exc).__name__}")
    if isinstance(exc, (ValueError, UnicodeError)):
        return FetchError("bad_response", f"{where}: malformed HTTP response ({type(exc).__name__})")
    return exc  # a programming error: let it show as what it is


# http.client errors that a reused keep-alive connection gives when the server closed it while idle.
_STALE = (ConnectionError, ssl.SSLZeroReturnError, ssl.SSLEOFError, http.client.BadStatusLine)


class HttpClient:
    """GETs through the address guard, within one deadline, over kept-alive connections.

    `timeout` is both the longest wait of any single socket operation and the default budget of a whole
    request (all hops).  `resolver` checks addresses (and caches them briefly); `allow_private` lets
    loopback/private/link-local addresses through (tests, intranets).  `ssl_context` replaces the default
    verifying context (tests trust a self-signed certificate with it).  `gate` (a network.gate.HostGate),
    if given, is held per hop for the host of that hop, from connect until the body is read or the
    response closed.  `pool=False` sends ``Connection: close`` and never reuses a connection."""

    def __init__(self, timeout: float = 30.0, allow_private: bool = False, resolver: Resolver | None = None,
                 user_agent: str = USER_AGENT, max_redirects: int = 5, pool: bool = True, *,
                 ssl_context: ssl.SSLContext | None = None, gate=None, max_idle: int = 32,
                 max_idle_per_host: int = 4):
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.timeout = timeout
        self.allow_private = allow_private
        self.resolver = resolver or Resolver()
        self.user_agent = user_agent
        self.max_redirects = max_redirects
        self.pool = pool
        self.gate = gate
        self.max_idle = max_idle
        self.max_idle_per_host = max_idle_per_host
        self._ssl_context = ssl_context or default_ssl_context()
        self._lock = threading.Lock()
        self._idle: OrderedDict[tuple, list] = OrderedDict()  # key -> idle connections, oldest first
        self._idle_count = 0
        self.connections_opened = 0  # for tests and stats: how often keep-alive did not help

    # -- the request ---------------------------------------------------------------------------------
    def get(self, url: str | CheckedURL, headers: Mapping[str, str] | None = None, *, deadline: float | None = None,
            max_bytes: int | None = None, follow_redirects: bool = True,
            on_redirect: Callable[[CheckedURL], None] | None = None) -> Response:
        """GET `url`; a Response with status and headers read, body not yet read.

        `deadline` is an absolute time.monotonic() value bounding everything (None: `timeout` seconds from
        now).  `max_bytes`: FetchError("too_large") if the body is announced or turns out to be longer.
        `on_redirect(checked_url)` is called before each redirect hop is requested (after the guard
        passed it); raising there stops the chain (e.g. robots.txt disallows the new URL).  Any status is
        returned as is: use `check_status` or `Response.raise_for_status` to turn it into an error."""
        explicit = deadline is not None
        budget = _Budget(deadline if explicit else time.monotonic() + self.timeout, explicit, self.timeout)
        checked = url if isinstance(url, CheckedURL) else check_url(url)
        request_headers = self._request_headers(headers, checked)
        hops = 0
        while True:
            response = self._request(checked, request_headers, budget)
            location = response.headers.get("location")
            if not follow_redirects or response.status not in REDIRECT_STATUS or not location:
                break
            response.discard()
            if hops >= self.max_redirects:
                raise FetchError("too_many_redirects", f"{checked.redacted}: more than {self.max_redirects} redirects")
            hops += 1
            target = join_redirect(checked, location)
            if target.origin != checked.origin:  # do not hand credentials to another server
                request_headers = {k: v for k, v in request_headers.items() if k.lower() not in _CREDENTIAL_HEADERS}
            checked = target
            if on_redirect is not None:
                on_redirect(checked)
        if max_bytes is not None:
            response.max_bytes = max_bytes
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > max_bytes:
                response.close()
                raise FetchError("too_large", f"{checked.redacted}: body of {length} bytes, more than {max_bytes}")
        return response

    def _request_headers(self, headers: Mapping[str, str] | None, checked: CheckedURL) -> dict[str, str]:
        merged = {"User-Agent": self.user_agent, "Accept": "*/*", "Accept-Encoding": "identity"}
        if not self.pool:
            merged["Connection"] = "close"
        for name, value in (headers or {}).items():
            value = str(value)
            if not _HEADER_NAME.fullmatch(name) or not _HEADER_VALUE.fullmatch(value) or name.lower() == "host":
                raise FetchError("bad_request", f"{checked.redacted}: header {name[:40]!r} cannot be sent")
            for existing in [k for k in merged if k.lower() == name.lower()]:
                del merged[existing]
            merged[name] = value
        return merged

    def _request(self, checked: CheckedURL, headers: dict[str, str], budget: _Budget) -> Response:
        """One hop: check the address, hold the gate, send, read the status and headers."""
        where = checked.redacted
        slot = self.gate.hold(checked.host) if self.gate is not None else None
        if slot is not None:
            slot.__enter__()
        try:
            try:
                addresses = self.resolver.checked_addresses(checked.host, checked.port, self.allow_private,
                                                            timeout=budget.timeout())
                conn, key, raw = self._exchange(checked, addresses, headers, budget)
            except Exception as exc:
                raise _translate(exc, where, budget) from None
            response = Response(self, conn, key, raw, checked, budget, slot)
        except BaseException:
            if slot is not None:
                slot.__exit__(None, None, None)
            raise
        return response

    def _exchange(self, checked: CheckedURL, addresses: list[str], headers: dict[str, str], budget: _Budget):
        """(connection, pool key, http.client response) for the first address that answers."""
        send_headers = {**headers, "Host": checked.netloc}
        for address in addresses:
            key = (checked.scheme, checked.host, checked.port, address)
            conn = self._take_idle(key)
            if conn is None:
                continue
            conn.budget = budget
            try:
                return conn, key, self._send(conn, checked, send_headers, budget)
            except _STALE:
                conn.close()  # closed by the server while idle: one fresh connection below
            except BaseException:
                conn.close()
                raise
        last_error: BaseException | None = None
        for address in addresses:
            key = (checked.scheme, checked.host, checked.port, address)
            conn = self._new_connection(checked, address, budget)
            try:
                conn.connect()
            except OSError as exc:
                conn.close()
                if isinstance(exc, (ssl.SSLError, _DeadlineReached)):
                    raise
                last_error = exc  # refused, unreachable, timed out: try the next checked address
                continue
            with self._lock:
                self.connections_opened += 1
            try:
                return conn, key, self._send(conn, checked, send_headers, budget)
            except BaseException:
                conn.close()
                raise
        assert last_error is not None
        raise last_error

    def _new_connection(self, checked: CheckedURL, address: str, budget: _Budget):
        if checked.scheme == "https":
            return _PinnedHTTPSConnection(checked.host, checked.port, address, budget, self._ssl_context)
        return _PinnedHTTPConnection(checked.host, checked.port, address, budget)

    @staticmethod
    def _send(conn, checked: CheckedURL, headers: dict[str, str], budget: _Budget) -> http.client.HTTPResponse:
        if conn.sock is not None:
            conn.sock.settimeout(budget.timeout())
        conn.request("GET", checked.target, headers=headers)
        return conn.getresponse()

    # -- the pool ------------------------------------------------------------------------------------
    def _take_idle(self, key: tuple):
        if not self.pool:
            return None
        now = time.monotonic()
        stale = []
        found = None
        with self._lock:
            conns = self._idle.get(key)
            while conns:
                conn = conns.pop()  # the most recently used first
                self._idle_count -= 1
                if now - conn.idle_since <= MAX_IDLE_AGE:
                    found = conn
                    break
                stale.append(conn)
            if conns is not None and not conns:
                del self._idle[key]
        for conn in stale:
            conn.close()
        return found

    def _release(self, key: tuple, conn) -> None:
        """Keep a connection whose last response was read to its end, for the next request to the same place."""
        conn.idle_since = time.monotonic()
        evicted = []
        with self._lock:
            conns = self._idle.setdefault(key, [])
            conns.append(conn)
            self._idle.move_to_end(key)
            self._idle_count += 1
            if len(conns) > self.max_idle_per_host:
                evicted.append(conns.pop(0))
                self._idle_count -= 1
            while self._idle_count > self.max_idle and self._idle:
                oldest_key, oldest = next(iter(self._idle.items()))
                evicted.append(oldest.pop(0))
                self._idle_count -= 1
                if not oldest:
                    del self._idle[oldest_key]
        for old in evicted:
            old.close()

    def close(self) -> None:
        """Close every idle connection (responses still open close their own)."""
        with self._lock:
            conns = [c for cs in self._idle.values() for c in cs]
            self._idle.clear()
            self._idle_count = 0
        for conn in conns:
            conn.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Response:
    """The answer to one GET: `status`, `reason`, `headers`, `url` (after redirects), and the body to read.

    The body is read within the request's deadline.  Reading it to its end (or `close()`) ends the
    request: the connection goes back to the pool when the server allows it and the gate slot is freed.
    Use it as a context manager so that an exception cannot leak the connection."""

    def __init__(self, client: HttpClient, conn, key: tuple, raw: http.client.HTTPResponse, checked: CheckedURL,
                 budget: _Budget, slot):
        self._client = client
        self._conn = conn
        self._key = key
        self._raw: http.client.HTTPResponse | None = raw
        self._budget = budget
        self._slot = slot
        self.checked = checked
        self.url = checked.normalized
        self.status: int = raw.status
        self.reason: str = raw.reason
        self.headers = Headers(raw.headers.items())
        self.max_bytes: int | None = None
        self.bytes_read = 0
        if self._body_complete():
            self._finish()

    # -- reading ---------------------------------------------------------------------------------------
    def read(self, n: int = -1) -> bytes:
        """Up to `n` bytes of the body (all of it if n < 0); b"" at the end.

        With `max_bytes` set on the request, reading past it raises FetchError("too_large").  Without it,
        read() of the whole body holds all of it: for bodies of unknown size use read_capped, or read(n)
        in a loop."""
        chunks = []
        want = n if n is not None and n >= 0 else math.inf
        got = 0
        while got < want:
            size = int(min(READ_CHUNK, want - got))
            if self.max_bytes is not None:
                size = min(size, self.max_bytes - self.bytes_read + 1)  # one byte over is enough to know
            data = self._read_some(size)
            if not data:
                break
            got += len(data)
            chunks.append(data)
            if self.max_bytes is not None and self.bytes_read > self.max_bytes:
                self._abort()
                raise FetchError("too_large", f"{self.checked.redacted}: body longer than {self.max_bytes} bytes")
        return b"".join(chunks)

    def read_capped(self, limit: int) -> bytes:
        """At most `limit` bytes of the body, whatever the server sends or announces.

        A server that ignores Range and sends a whole file is cut off after `limit` bytes (the
        connection is then closed, not reused)."""
        chunks = []
        got = 0
        while got < limit:
            data = self._read_some(min(READ_CHUNK, limit - got))
            if not data:
                break
            got += len(data)
            chunks.append(data)
        if self._raw is not None:
            self._abort()
        return b"".join(chunks)

    def _read_some(self, n: int) -> bytes:
        """At most n bytes with at most one wait on the socket (plus chunk framing)."""
        raw = self._raw
        if raw is None or n <= 0:
            return b""
        try:
            data = raw.read1(n)
        except Exception as exc:
            self._abort()
            raise _translate(exc, self.checked.redacted, self._budget) from None
        self.bytes_read += len(data)
        if not data:
            if not raw.chunked and raw.length:  # the server announced more than it sent
                self._abort()
                raise TransientError("incomplete_body", f"{self.checked.redacted}: connection closed after "
                                                        f"{self.bytes_read} bytes, {raw.length} more were announced")
            self._finish()
        elif self._body_complete():
            self._finish()
        return data

    def _body_complete(self) -> bool:
        raw = self._raw
        return raw is not None and (raw.isclosed() or (not raw.chunked and raw.length == 0))

    # -- ending ----------------------------------------------------------------------------------------
    def _finish(self) -> None:
        """The body was read to its end: keep the connection if the server allows it."""
        raw, conn = self._raw, self._conn
        self._raw = self._conn = None
        reusable = self._client.pool and not raw.will_close and conn.sock is not None
        raw.close()
        if reusable:
            self._client._release(self._key, conn)
        else:
            conn.close()
        self._free_slot()

    def _abort(self) -> None:
        """Drop the connection (body not read to its end, or broken)."""
        raw, conn = self._raw, self._conn
        self._raw = self._conn = None
        try:
            if raw is not None:
                raw.close()
        finally:
            if conn is not None:
                conn.close()
            self._free_slot()

    def _free_slot(self) -> None:
        slot, self._slot = self._slot, None
        if slot is not None:
            slot.__exit__(None, None, None)

    def discard(self, limit: int = DRAIN_LIMIT) -> None:
        """Read and drop a short body (so that the connection can be reused), then close."""
        try:
            self.read_capped(limit)
        except (FetchError, TransientError):
            pass
        self.close()

    def close(self) -> None:
        if self._raw is not None or self._conn is not None:
            self._abort()
        else:
            self._free_slot()

    @property
    def closed(self) -> bool:
        return self._raw is None

    def raise_for_status(self) -> None:
        """check_status for this response.  An error response's short body is read and dropped first, so
        that its connection can carry the retry."""
        try:
            check_status(self.status, self.checked, self.headers)
        except (FetchError, TransientError):
            self.discard()
            raise

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.checked.redacted}>"
