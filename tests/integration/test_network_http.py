"""network.http, network.gate and network.robots against real HTTP(S) servers on 127.0.0.1.

The servers are the standard library's ThreadingHTTPServer with handlers that misbehave on purpose
(drip bytes, lie about lengths, never stop sending headers).  Host names such as ``public.test`` reach
them through an injected Resolver: either one that answers 127.0.0.1 and is told to treat it as public
(the guard's check itself still runs), or `allow_private=True`.  Timing assertions are bounds with wide
margins, so that a busy machine cannot fail them.
"""
from __future__ import annotations

import datetime
import shutil
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from network.errors import FetchError, TransientError
from network.gate import HostGate
from network.guard import Resolver, is_public_address
from network.http import HttpClient, check_status
from network.retry import RetryPolicy
from network.robots import DEFAULT_PARSER, ROBOTS_MAX_BYTES, RobotsCache
from tests.support.servers import PretendPublic

HOST = "127.0.0.1"


# -- the servers ---------------------------------------------------------------------------------------------
@dataclass
class Seen:
    host: str      # the Host header without the port
    path: str
    headers: dict
    at: float


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless a route says otherwise

    def setup(self):
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        srv = self.server
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        with srv.lock:
            srv.seen.append(Seen(host, self.path, dict(self.headers), time.monotonic()))
        route = srv.routes.get((host, self.path)) or srv.routes.get(self.path) or not_found
        try:
            route(self)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, routes: dict | None = None, tls: ssl.SSLContext | None = None):
        super().__init__((HOST, 0), Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.routes = dict(routes or {})
        self.seen: list[Seen] = []
        self.connections = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.state: dict = {}

    def handle_error(self, request, client_address):
        """A client that hung up (as most tests here do on purpose) is not a server error."""
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str, host: str = HOST, scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        with self.lock:
            return [s.path for s in self.seen]

    def __enter__(self):
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.shutdown()
        self.server_close()


def reply(h, status=200, body=b"", headers=(), close=False):
    h.send_response(status)
    for name, value in headers:
        h.send_header(name, value)
    h.send_header("Content-Length", str(len(body)))
    if close:
        h.send_header("Connection", "close")
        h.close_connection = True
    h.end_headers()
    h.wfile.write(body)


def not_found(h):
    reply(h, 404, b"no such route")


def hello(h):
    reply(h, 200, b"hello", [("X-Test", "yes")])


BLOB = bytes(range(256)) * 40


def ranged(h):
    spec = h.headers.get("Range", "")
    if spec.startswith("bytes="):
        first, _, last = spec[6:].partition("-")
        first, last = int(first), min(int(last or len(BLOB) - 1), len(BLOB) - 1)
        reply(h, 206, BLOB[first:last + 1], [("Content-Range", f"bytes {first}-{last}/{len(BLOB)}")])
    else:
        reply(h, 200, BLOB)


def chunked(h):
    h.send_response(200)
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    for part in (b"first,", b"second,", b"x" * 70000, b",last"):
        h.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
    h.wfile.write(b"0\r\n\r\n")


def drip_body(h):
    """1000 announced bytes, one every 0.3 s: 300 s in all, unless the client hangs up."""
    h.send_response(200)
    h.send_header("Content-Length", "1000")
    h.end_headers()
    for _ in range(1000):
        if h.server.stopping.is_set():
            break
        h.wfile.write(b"x")
        time.sleep(0.3)
    h.close_connection = True


def drip_headers(h):
    h.close_connection = True
    head = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 2000 + b"\r\nContent-Length: 0\r\n\r\n"
    for i in range(len(head)):
        if h.server.stopping.is_set():
            break
        h.wfile.write(head[i:i + 1])
        time.sleep(0.3)


def endless_body(h):
    h.send_response(200)
    h.send_header("Connection", "close")  # no length: the body ends when the connection does (never)
    h.end_headers()
    h.close_connection = True
    block = b"z" * 65536
    for _ in range(20000):  # 1.3 GB at most
        if h.server.stopping.is_set():
            break
        h.wfile.write(block)


def endless_headers(h):
    h.close_connection = True
    h.wfile.write(b"HTTP/1.1 200 OK\r\n")
    for i in range(200000):
        if h.server.stopping.is_set():
            break
        h.wfile.write(b"X-Pad-%d: a\r\n" % i)


def endless_header_line(h):
    h.close_connection = True
    h.wfile.write(b"HTTP/1.1 200 OK\r\nX-Pad: ")
    for _ in range(20000):
        if h.server.stopping.is_set():
            break
        h.wfile.write(b"a" * 65536)


def lying_length(h):
    h.send_response(200)
    h.send_header("Content-Length", "100")
    h.end_headers()
    h.wfile.write(b"only ten!!")
    h.close_connection = True


def garbage_status(h):
    h.close_connection = True
    h.wfile.write(b"SECRET-GARBAGE nonsense\r\n\r\n")


def closes_silently(h):
    """Answers, then closes the connection without having said so: a pooled connection goes stale."""
    reply(h, 200, b"ok")
    h.close_connection = True


def redirect_to(location_of):
    def route(h):
        reply(h, 302, b"moved", [("Location", location_of(h))])
    return route


def chain(h):
    n = int(h.path.rsplit("/", 1)[1])
    if n == 0:
        reply(h, 200, b"end of chain")
    elif n % 2:
        reply(h, 301, b"", [("Location", f"/chain/{n - 1}")])
    else:
        reply(h, 307, b"", [("Location", f"http://{h.headers['Host']}/chain/{n - 1}")])


ROUTES = {
    "/hello": hello,
    "/range": ranged,
    "/chunked": chunked,
    "/drip-body": drip_body,
    "/drip-headers": drip_headers,
    "/endless-body": endless_body,
    "/endless-headers": endless_headers,
    "/endless-header-line": endless_header_line,
    "/lying-length": lying_length,
    "/garbage-status": garbage_status,
    "/closes-silently": closes_silently,
    "/secret": lambda h: reply(h, 200, b"internal secret"),
    "/loop": redirect_to(lambda h: "/loop"),
    "/to-file": redirect_to(lambda h: "file:///etc/passwd"),
    "/to-javascript": redirect_to(lambda h: "javascript:alert(1)"),
    "/to-loopback-literal": redirect_to(lambda h: f"http://127.0.0.1:{h.server.port}/secret"),
    "/to-metadata": redirect_to(lambda h: "http://169.254.169.254/latest/meta-data/"),
    "/to-backslash-trick": redirect_to(lambda h: f"http://127.0.0.1:{h.server.port}\\@8.8.8.8/secret"),
    "/to-decimal-ip": redirect_to(lambda h: f"http://2130706433:{h.server.port}/secret"),
    "/no-location": lambda h: reply(h, 302, b"nowhere"),
    "/cross-origin": redirect_to(lambda h: f"http://other.test:{h.server.port}/hello"),
    **{f"/chain/{n}": chain for n in range(8)},
}


@pytest.fixture(scope="module")
def server():
    with Server(ROUTES) as srv:
        yield srv


@pytest.fixture
def fresh_server():
    """A server of its own, for tests that count connections."""
    with Server(ROUTES) as srv:
        yield srv


def loopback_dns(host, port):
    """Every name is the test server."""
    return [HOST]


def client(**kwargs) -> HttpClient:
    kwargs.setdefault("timeout", 5.0)
    kwargs.setdefault("allow_private", True)
    kwargs.setdefault("resolver", Resolver(lookup=loopback_dns, ttl=0))
    return HttpClient(**kwargs)


# -- plain requests -----------------------------------------------------------------------------------------
def test_200_with_headers_and_identity(server):
    with client() as c, c.get(server.url("/hello"), {"X-Extra": "1"}) as r:
        assert r.status == 200
        assert r.headers["x-test"] == "yes" and r.headers["X-TEST"] == "yes" and "content-length" in r.headers
        assert r.read() == b"hello"
        assert r.url == server.url("/hello")
    sent = server.seen[-1].headers
    assert sent["User-Agent"].startswith("ccimg/")
    assert sent["Accept-Encoding"] == "identity"
    assert sent["Host"] == f"{HOST}:{server.port}" and sent["X-Extra"] == "1"


def test_206_range(server):
    with client() as c, c.get(server.url("/range"), {"Range": "bytes=1000-1099"}) as r:
        assert r.status == 206
        assert r.headers["Content-Range"] == f"bytes 1000-1099/{len(BLOB)}"
        assert r.read() == BLOB[1000:1100]


def test_chunked_body_is_decoded(server):
    with client() as c, c.get(server.url("/chunked")) as r:
        assert r.read() == b"first,second," + b"x" * 70000 + b",last"


def test_read_in_pieces(server):
    with client() as c, c.get(server.url("/range")) as r:
        parts = [r.read(1000) for _ in range(20)]
    assert b"".join(parts) == BLOB and parts[-1] == b""


def test_connection_refused_is_transient():
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    with client() as c, pytest.raises(TransientError) as info:
        c.get(f"http://{HOST}:{port}/")
    assert info.value.kind == "connection"


def test_garbage_status_line_is_bad_response_and_not_echoed(server):
    with client() as c, pytest.raises(FetchError) as info:
        c.get(server.url("/garbage-status"))
    assert info.value.kind == "bad_response"
    assert "SECRET" not in str(info.value)


def test_check_status_kinds():
    check_status(200, "u")
    check_status(206, "u")
    cases = {404: (FetchError, "not_found"), 416: (FetchError, "range_not_satisfiable"),
             403: (FetchError, "http_403"), 501: (FetchError, "http_501"), 503: (TransientError, "http_503"),
             429: (TransientError, "http_429"), 408: (TransientError, "http_408")}
    for status, (cls, kind) in cases.items():
        with pytest.raises(cls) as info:
            check_status(status, "http://x/", {"Retry-After": "3"})
        assert info.value.kind == kind
    with pytest.raises(TransientError) as info:
        check_status(503, "http://x/", {"Retry-After": "3"})
    assert info.value.retry_after == 3.0


# -- redirects ----------------------------------------------------------------------------------------------
def test_redirect_chain_is_followed(server):
    hops = []
    with client() as c, c.get(server.url("/chain/5"), on_redirect=lambda u: hops.append(u.target)) as r:
        assert r.status == 200 and r.read() == b"end of chain"
        assert r.url == server.url("/chain/0")
    assert hops == ["/chain/4", "/chain/3", "/chain/2", "/chain/1", "/chain/0"]


def test_too_many_redirects(server):
    before = server.paths().count("/loop")
    with client(max_redirects=3) as c, pytest.raises(FetchError) as info:
        c.get(server.url("/loop"))
    assert info.value.kind == "too_many_redirects"
    assert server.paths().count("/loop") - before == 4  # the first request and three hops
    with client(max_redirects=5) as c, pytest.raises(FetchError):
        c.get(server.url("/chain/6"))
    with client(max_redirects=5) as c, c.get(server.url("/chain/5")) as r:
        assert r.status == 200


def test_redirects_not_followed_on_request(server):
    with client() as c:
        with c.get(server.url("/loop"), follow_redirects=False) as r:
            assert r.status == 302 and r.headers["Location"] == "/loop"
        with c.get(server.url("/no-location")) as r:
            assert r.status == 302 and r.read() == b"nowhere"


@pytest.mark.parametrize("path, kind", [
    ("/to-loopback-literal", "private_address"),
    ("/to-metadata", "private_address"),
    ("/to-backslash-trick", "bad_redirect"),
    ("/to-decimal-ip", "bad_redirect"),
    ("/to-file", "bad_redirect"),
    ("/to-javascript", "bad_redirect"),
])
def test_redirect_hops_are_guarded(server, path, kind):
    c = HttpClient(timeout=5.0, resolver=PretendPublic({"public.test": HOST}))  # allow_private=False
    with pytest.raises(FetchError) as info:
        c.get(server.url(path, host="public.test"))
    assert info.value.kind == kind
    assert "/secret" not in server.paths()
    assert "internal secret" not in str(info.value)


def test_private_first_hop_refused_without_a_connection(server):
    before = len(server.seen)
    with pytest.raises(FetchError) as info:
        HttpClient(timeout=5.0).get(server.url("/hello"))
    assert info.value.kind == "private_address"
    assert len(server.seen) == before


def test_credentials_are_not_sent_to_another_origin(server):
    with client() as c, c.get(server.url("/cross-origin", host="one.test"), {"Cookie": "sid=1", "X-Keep": "k"}) as r:
        assert r.status == 200 and r.url == server.url("/hello", host="other.test")
    first, second = server.seen[-2], server.seen[-1]
    assert first.host == "one.test" and first.headers.get("Cookie") == "sid=1"
    assert second.host == "other.test" and "Cookie" not in second.headers and second.headers["X-Keep"] == "k"


# -- DNS rebinding --------------------------------------------------------------------------------------------
def test_connects_only_to_the_checked_address(server):
    """The resolver answers once per request; the client connects to that very answer.

    First answer 127.0.0.1 (treated as public here): the server sees the request for rebind.test, a name
    no real DNS knows, so the connection went to the checked address and nothing resolved the name again.
    Second answer 10.1.2.3 (private): refused, and the kept-alive connection to 127.0.0.1 is not used."""
    answers = [[HOST], ["10.1.2.3"]]
    lookups = []

    def rebinding_dns(host, port):
        lookups.append(host)
        return answers.pop(0)

    resolver = Resolver(lookup=rebinding_dns, ttl=0, is_public=lambda ip: ip == HOST or is_public_address(ip))
    c = HttpClient(timeout=5.0, resolver=resolver)
    before = len(server.seen)
    with c.get(server.url("/hello", host="rebind.test")) as r:
        assert r.read() == b"hello"
    assert lookups == ["rebind.test"]
    assert server.seen[-1].host == "rebind.test" and len(server.seen) == before + 1
    with pytest.raises(FetchError) as info:
        c.get(server.url("/secret", host="rebind.test"))
    assert info.value.kind == "private_address" and "10.1.2.3" in str(info.value)
    assert lookups == ["rebind.test", "rebind.test"] and len(server.seen) == before + 1


# -- deadlines and caps --------------------------------------------------------------------------------------
def test_slow_drip_body_is_cut_at_the_deadline(server):
    c = client(timeout=5.0)  # each byte comes within the per-read timeout: only the deadline can stop this
    start = time.monotonic()
    with pytest.raises(FetchError) as info:
        with c.get(server.url("/drip-body"), deadline=start + 2.0) as r:
            r.read()
    elapsed = time.monotonic() - start
    assert info.value.kind == "deadline"
    assert 1.5 < elapsed < 6.0


def test_slow_drip_without_deadline_is_cut_by_the_default_budget(server):
    c = client(timeout=1.5)
    start = time.monotonic()
    with pytest.raises(TransientError) as info:
        with c.get(server.url("/drip-body")) as r:
            r.read()
    assert info.value.kind == "timeout"
    assert time.monotonic() - start < 5.5


def test_slow_drip_headers_are_cut_at_the_deadline(server):
    start = time.monotonic()
    with client() as c, pytest.raises(FetchError) as info:
        c.get(server.url("/drip-headers"), deadline=start + 1.5)
    assert info.value.kind == "deadline"
    assert time.monotonic() - start < 5.5


def test_stalled_tls_handshake_is_cut_at_the_deadline():
    """A server that accepts the connection and never answers the ClientHello."""
    import socket

    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen(1)  # the kernel completes the TCP handshake; nobody ever speaks TLS
        start = time.monotonic()
        with client() as c, pytest.raises(FetchError) as info:
            c.get(f"https://{HOST}:{listener.getsockname()[1]}/", deadline=start + 1.5)
        assert info.value.kind == "deadline"
        assert time.monotonic() - start < 5.5


def test_endless_body_read_capped(server):
    start = time.monotonic()
    with client() as c:
        with c.get(server.url("/endless-body")) as r:
            data = r.read_capped(300_000)
        assert len(data) == 300_000 and r.closed
        with pytest.raises(FetchError) as info:
            with c.get(server.url("/endless-body"), max_bytes=100_000) as r:
                r.read()
        assert info.value.kind == "too_large"
    assert time.monotonic() - start < 10


def test_announced_length_over_max_bytes_is_refused_before_reading(server):
    with client() as c, pytest.raises(FetchError) as info:
        c.get(server.url("/range"), max_bytes=100)
    assert info.value.kind == "too_large"


def test_read_capped_on_a_server_that_ignores_range(server):
    with client() as c, c.get(server.url("/range")) as r:  # no Range sent: the whole 10 KB comes
        assert r.read_capped(64) == BLOB[:64]


@pytest.mark.parametrize("path", ["/endless-headers", "/endless-header-line"])
def test_endless_headers_are_refused(server, path):
    start = time.monotonic()
    with client() as c, pytest.raises(FetchError) as info:
        c.get(server.url(path))
    assert info.value.kind == "bad_response"
    assert time.monotonic() - start < 10


def test_lying_content_length_is_transient(server):
    with client() as c, c.get(server.url("/lying-length")) as r:
        with pytest.raises(TransientError) as info:
            r.read()
    assert info.value.kind == "incomplete_body"
    assert "only ten" not in str(info.value)


# -- keep-alive -----------------------------------------------------------------------------------------------
def test_keep_alive_reuses_one_connection(fresh_server):
    with client() as c:
        for path in ["/hello", "/range", "/chunked", "/chain/2", "/hello"]:
            with c.get(fresh_server.url(path)) as r:
                r.read()
        assert fresh_server.connections == 1 and c.connections_opened == 1


def test_unread_response_is_not_reused(fresh_server):
    with client() as c:
        with c.get(fresh_server.url("/range")) as r:
            r.read(10)  # closed with the body half read: the connection must not carry the next request
        with c.get(fresh_server.url("/hello")) as r:
            assert r.read() == b"hello"
    assert fresh_server.connections == 2


def test_pool_off_closes_every_connection(fresh_server):
    with client(pool=False) as c:
        for _ in range(3):
            with c.get(fresh_server.url("/hello")) as r:
                assert r.read() == b"hello"
    assert fresh_server.connections == 3
    assert all(s.headers.get("Connection") == "close" for s in fresh_server.seen)


def test_server_saying_close_is_not_reused(fresh_server):
    fresh_server.routes["/says-close"] = lambda h: reply(h, 200, b"bye", close=True)
    with client() as c:
        for _ in range(3):
            with c.get(fresh_server.url("/says-close")) as r:
                assert r.read() == b"bye"
        assert c.connections_opened == 3
    assert fresh_server.connections == 3


def test_stale_pooled_connection_is_replaced(fresh_server):
    """The server closes each connection after answering, without saying so: every pooled connection is
    stale by the next request, which must go out again on a fresh connection, not fail."""
    with client() as c:
        for _ in range(3):
            with c.get(fresh_server.url("/closes-silently")) as r:
                assert r.read() == b"ok"
            time.sleep(0.05)
        assert c.connections_opened == 3
    assert fresh_server.paths().count("/closes-silently") == 3


def test_ipv6_literal_host():
    import socket

    if not socket.has_ipv6:
        pytest.skip("no IPv6 in this Python")

    class Server6(Server):
        address_family = socket.AF_INET6

        def __init__(self, routes):
            ThreadingHTTPServer.__init__(self, ("::1", 0), Handler)
            self.routes, self.seen, self.connections = dict(routes), [], 0
            self.lock, self.stopping, self.state = threading.Lock(), threading.Event(), {}

    try:
        srv = Server6(ROUTES)
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")
    with srv, client(resolver=Resolver(ttl=0)) as c, c.get(f"http://[::1]:{srv.port}/hello") as r:
        assert r.read() == b"hello"
        assert srv.seen[-1].headers["Host"] == f"[::1]:{srv.port}"


def test_threads_do_not_share_connections(fresh_server):
    errors, bodies = [], []
    c = client()

    def work():
        try:
            for _ in range(10):
                with c.get(fresh_server.url("/range"), {"Range": "bytes=0-999"}) as r:
                    bodies.append(r.read())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    c.close()
    assert not errors and len(bodies) == 40 and all(b == BLOB[:1000] for b in bodies)
    assert fresh_server.connections <= 8  # reused, at most a few per thread


# -- retries and politeness -------------------------------------------------------------------------------
def test_429_with_retry_after_through_the_retry_policy(fresh_server):
    def busy_once(h):
        if h.server.state.setdefault("busy", 0) == 0:
            h.server.state["busy"] = 1
            reply(h, 429, b"slow down", [("Retry-After", "1")])
        else:
            reply(h, 200, b"finally")

    fresh_server.routes["/busy"] = busy_once
    sleeps = []
    policy = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=10, sleep=sleeps.append)
    c = client()

    def fetch():
        with c.get(fresh_server.url("/busy")) as r:
            r.raise_for_status()
            return r.read()

    assert policy.run(fetch, "GET /busy") == b"finally"
    assert len(sleeps) == 1 and 1.0 <= sleeps[0] <= 10
    assert fresh_server.connections == 1  # the 429's body was read: its connection carried the retry


def test_persistent_503_gives_up(fresh_server):
    fresh_server.routes["/down"] = lambda h: reply(h, 503, b"down")
    c = client()

    def fetch():
        with c.get(fresh_server.url("/down")) as r:
            r.raise_for_status()

    with pytest.raises(FetchError) as info:
        RetryPolicy(max_attempts=3, sleep=lambda s: None).run(fetch, "GET /down")
    assert info.value.kind == "gave_up_http_503"
    assert fresh_server.paths().count("/down") == 3


def test_host_gate_with_threads(fresh_server):
    """Never two requests at once to one host, and starts at least `interval` apart (generous margins)."""
    state = {"in_flight": 0, "max": 0}
    lock = threading.Lock()

    def gated(h):
        with lock:
            state["in_flight"] += 1
            state["max"] = max(state["max"], state["in_flight"])
        time.sleep(0.05)
        with lock:
            state["in_flight"] -= 1
        reply(h, 200, b"ok")

    fresh_server.routes["/gated"] = gated
    gate = HostGate(interval=0.2)
    c = client(gate=gate)
    errors = []

    def work():
        try:
            for _ in range(3):
                with c.get(fresh_server.url("/gated", host="polite.test")) as r:
                    r.read()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    start = time.monotonic()
    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    elapsed = time.monotonic() - start
    assert not errors
    starts = sorted(s.at for s in fresh_server.seen if s.path == "/gated")
    assert len(starts) == 9 and state["max"] == 1
    assert min(b - a for a, b in zip(starts, starts[1:])) > 0.1  # interval 0.2, minus scheduling noise
    assert 8 * 0.2 * 0.9 < elapsed < 20


# -- HTTPS ------------------------------------------------------------------------------------------------------
def _self_signed(tmp_path, name: str):
    """(cert.pem, key.pem) for `name`, made with cryptography, else openssl; None if neither is available."""
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        if not shutil.which("openssl"):
            return None
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", str(key_path), "-out", str(cert_path), "-days", "2",
                        "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}"],
                       check=True, capture_output=True, timeout=60)
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_https_checks_the_name_on_a_pinned_address(tmp_path):
    made = _self_signed(tmp_path, "secure.test")
    if made is None:
        pytest.skip("neither the cryptography package nor the openssl command is available to make a certificate")
    cert_path, key_path = made
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert_path, key_path)
    sni = []
    server_tls.sni_callback = lambda sslobj, name, ctx: sni.append(name)
    trusting = ssl.create_default_context(cafile=str(cert_path))
    with Server(ROUTES, tls=server_tls) as srv:
        with client(ssl_context=trusting) as c:
            for _ in range(3):
                with c.get(srv.url("/hello", host="secure.test", scheme="https")) as r:
                    assert r.read() == b"hello"
            assert c.connections_opened == 1  # kept alive over TLS too
        assert sni and set(sni) == {"secure.test"}
        assert srv.seen[-1].host == "secure.test"
        with client(ssl_context=trusting) as c, pytest.raises(FetchError) as info:
            c.get(srv.url("/hello", host="other.test", scheme="https"))  # certificate is for secure.test only
        assert info.value.kind == "tls"
        with client() as c, pytest.raises(FetchError) as info:  # the system's CAs do not know this certificate
            c.get(srv.url("/hello", host="secure.test", scheme="https"))
        assert info.value.kind == "tls"


# -- robots.txt ------------------------------------------------------------------------------------------------
ROBOTS_RULES = b"User-agent: *\nDisallow: /\n\nUser-agent: ccimg\nDisallow: /no-ccimg\nDisallow: /private\n"


def endless_robots(h):
    h.send_response(200)
    h.send_header("Connection", "close")
    h.end_headers()
    h.close_connection = True
    h.wfile.write(b"User-agent: *\nDisallow: /blocked\n")
    for _ in range(200000):
        if h.server.stopping.is_set():
            break
        h.wfile.write(b"# padding padding padding padding padding padding padding\n" * 100)


def slow_robots(h):
    time.sleep(0.3)
    reply(h, 200, b"User-agent: *\nDisallow: /slow-no\n")


ROBOTS_ROUTES = {
    ("ok.test", "/robots.txt"): lambda h: reply(h, 200, ROBOTS_RULES),
    ("missing.test", "/robots.txt"): lambda h: reply(h, 404, b"not here"),
    ("forbidden.test", "/robots.txt"): lambda h: reply(h, 403, b"forbidden"),
    ("broken.test", "/robots.txt"): lambda h: reply(h, 500, b"oops"),
    ("busy.test", "/robots.txt"): lambda h: reply(h, 429, b"slow down"),
    ("huge.test", "/robots.txt"): endless_robots,
    ("moved.test", "/robots.txt"): lambda h: reply(h, 301, b"", [("Location", "/real-robots.txt")]),
    ("moved.test", "/real-robots.txt"): lambda h: reply(h, 200, b"User-agent: *\nDisallow: /moved-no\n"),
    ("slow.test", "/robots.txt"): slow_robots,
}

PARSERS = ["urllib", pytest.param("protego", marks=pytest.mark.skipif(
    DEFAULT_PARSER != "protego", reason="protego is not installed (pip install protego)"))]


@pytest.fixture(scope="module")
def robots_server():
    with Server(ROBOTS_ROUTES) as srv:
        yield srv


@pytest.mark.parametrize("parser", PARSERS)
def test_robots_statuses(robots_server, parser):
    robots = RobotsCache(client(), HostGate(interval=0), parser=parser)
    url = lambda host, path: robots_server.url(path, host=host)  # noqa: E731
    assert robots.allowed(url("ok.test", "/img/a.png")) is True
    assert robots.allowed(url("ok.test", "/no-ccimg/a.png")) is False  # our own group, not '*'
    assert robots.allowed(url("ok.test", "/private")) is False
    assert robots.allowed(url("missing.test", "/anything")) is True        # 404: no rules
    assert robots.allowed(url("forbidden.test", "/anything")) is True      # 403: RFC 9309 says allow
    assert robots.allowed(url("moved.test", "/moved-no/x")) is False       # redirect followed
    assert robots.allowed(url("moved.test", "/fine")) is True
    for host in ("broken.test", "busy.test"):                              # 5xx, 429: assume disallow
        with pytest.raises(FetchError) as info:
            robots.allowed(url(host, "/anything"))
        assert info.value.kind == "robots_unavailable"
    fetched = robots.fetches
    for _ in range(5):
        robots.allowed(url("ok.test", "/img/b.png"))
        with pytest.raises(FetchError):
            robots.allowed(url("broken.test", "/x"))
    assert robots.fetches == fetched  # once per origin, failures cached too


def test_robots_endless_body_is_capped(robots_server):
    robots = RobotsCache(client())
    start = time.monotonic()
    assert robots.allowed(robots_server.url("/blocked/x", host="huge.test")) is False
    assert robots.allowed(robots_server.url("/open", host="huge.test")) is True
    assert time.monotonic() - start < 10
    assert ROBOTS_MAX_BYTES == 500 * 1024


def test_robots_fetched_once_by_concurrent_threads(robots_server):
    robots = RobotsCache(client())
    answers, errors = [], []

    def ask():
        try:
            answers.append(robots.allowed(robots_server.url("/slow-no/x", host="slow.test")))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    before = [s.host for s in robots_server.seen].count("slow.test")
    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and answers == [False] * 6
    assert [s.host for s in robots_server.seen].count("slow.test") - before == 1


def test_robots_goes_through_the_guard(robots_server):
    robots = RobotsCache(HttpClient(timeout=5.0))  # allow_private=False: 127.0.0.1 is refused
    with pytest.raises(FetchError) as info:
        robots.allowed(robots_server.url("/x"))
    assert info.value.kind == "robots_unavailable" and "private_address" in str(info.value)
    with pytest.raises(FetchError) as info:
        robots.allowed("http://0x7f.1/x")
    assert info.value.kind == "bad_url"
