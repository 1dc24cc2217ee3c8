"""A web of image hosts on 127.0.0.1: real archived images at their original URLs, and misbehaving routes.

For `ccimg fetch`'s tests and `benchmarks/fetch_savings.py`.  One threaded HTTP/1.1 server answers for
every host name: it routes on the Host header (without the port) and the path, so
``http://www.archive.org:PORT/images/logo.jpg`` is served the bytes the WARC holds for
``http://www.archive.org/images/logo.jpg``.  The client reaches it by name through an injected
network.guard.Resolver (`host_map_resolver`) that answers 127.0.0.1 and treats that one address as
public, so the address guard still runs (a host mapped to 10.0.0.1 or 169.254.169.254 is refused).
The port (and https served as http) is what differs from the archived URL (`with_port`): binding port 80 would
need privileges and collide with other test runs.

Routes: a body (`add`), robots.txt per host (`robots`), and the ways servers fail: `fail` (statuses
in order, with headers such as Retry-After, then the body), `redirect`, `drip` (bytes too slowly),
`endless` (a body that never ends), `lie` (a Content-Length larger than the body).  `latency` and
`bandwidth` make every answer cost time as over a real network (the benchmark's wall times).  Every
request is recorded in `hits` (host, path, Range, bytes sent).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, urlunsplit

HOST = "127.0.0.1"


@dataclass
class Hit:
    host: str
    path: str
    range: str | None
    sent: int = 0


@dataclass
class Route:
    kind: str                   # body, fail, redirect, drip, endless, lie
    body: bytes = b""
    content_type: str = "application/octet-stream"
    statuses: list = field(default_factory=list)  # fail: [(status, headers), ...] answered first, in order
    location: str = ""
    status: int = 302
    rate: float = 0.0           # drip: bytes per second
    announced: int = 0          # lie: the Content-Length sent
    headers: list = field(default_factory=list)  # body: extra response headers


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    server: _Server

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass

    def do_GET(self):
        site = self.server.site
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        path = self.path
        hit = Hit(host, path, self.headers.get("Range"))
        site._record(hit)
        if site.latency:
            time.sleep(site.latency)
        route = site.route(host, path)
        try:
            self._answer(route, hit)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            self.close_connection = True

    def _head(self, status: int, length: int | None, content_type: str, headers=()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()

    def _send(self, data: bytes, hit: Hit) -> None:
        bandwidth = self.server.site.bandwidth
        step = 16 * 1024
        for i in range(0, len(data), step):
            chunk = data[i:i + step]
            self.wfile.write(chunk)
            hit.sent += len(chunk)
            if bandwidth:
                time.sleep(len(chunk) / bandwidth)

    def _answer(self, route: Route | None, hit: Hit) -> None:
        site = self.server.site
        if route is None:
            body = b"<html><body>not found</body></html>"
            self._head(404, len(body), "text/html")
            self._send(body, hit)
            return
        if route.kind == "fail":
            with site.lock:
                step = route.statuses.pop(0) if route.statuses else None
            if step is not None:
                status, headers = step
                body = f"{status} scripted failure\n".encode()
                self._head(status, len(body), "text/plain", headers)
                self._send(body, hit)
                return
        if route.kind == "redirect":
            self._head(route.status, 0, "text/plain", [("Location", route.location)])
            return
        if route.kind == "endless":
            self._head(200, None, route.content_type, [("Connection", "close")])
            self.close_connection = True
            chunk = route.body or b"\0" * 65536
            while not site.stopping.is_set():
                self.wfile.write(chunk)
                hit.sent += len(chunk)
            return
        if route.kind == "drip":
            self._head(200, len(route.body), route.content_type)
            for i in range(len(route.body)):
                if site.stopping.wait(1.0 / route.rate):
                    break
                self.wfile.write(route.body[i:i + 1])
                self.wfile.flush()
                hit.sent += 1
            self.close_connection = True
            return
        if route.kind == "lie":
            self._head(200, route.announced, route.content_type)
            self._send(route.body, hit)
            self.wfile.flush()
            self.close_connection = True
            return
        body = route.body
        rng = self.headers.get("Range", "")
        if rng.startswith("bytes=") and "-" in rng and site.ranges:
            first, _, last = rng[len("bytes="):].partition("-")
            if first.isdigit():
                start = int(first)
                end = min(int(last), len(body) - 1) if last.isdigit() else len(body) - 1
                if start < len(body):
                    part = body[start:end + 1]
                    self._head(206, len(part), route.content_type,
                               [("Content-Range", f"bytes {start}-{end}/{len(body)}")])
                    self._send(part, hit)
                    return
        self._head(200, len(body), route.content_type, route.headers)
        self._send(body, hit)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    site: ImageSite

    def handle_error(self, request, client_address):
        pass  # clients hang up on purpose here (caps, timeouts)


class ImageSite:
    """The server; use as a context manager.  `url(original)` gives the URL to request for an archived one."""

    def __init__(self, latency: float = 0.0, bandwidth: float = 0.0, ranges: bool = True):
        self.latency = latency
        self.bandwidth = bandwidth
        self.ranges = ranges
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.hits: list[Hit] = []
        self._routes: dict[tuple[str, str], Route] = {}
        self._httpd = _Server((HOST, 0), _Handler)
        self._httpd.site = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"image-site-{self.port}", daemon=True)

    def __enter__(self) -> ImageSite:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    # -- routes ------------------------------------------------------------------------------------------
    def _set(self, url: str, route: Route) -> None:
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        with self.lock:
            self._routes[((parts.hostname or "").lower(), path)] = route

    def route(self, host: str, path: str) -> Route | None:
        with self.lock:
            return self._routes.get((host, path))

    def add(self, url: str, body: bytes, content_type: str = "application/octet-stream", headers=()) -> None:
        self._set(url, Route("body", body, content_type, headers=list(headers)))

    def robots(self, host: str, text: str) -> None:
        self._set(f"http://{host}/robots.txt", Route("body", text.encode(), "text/plain"))

    def fail(self, url: str, statuses, body: bytes = b"", content_type: str = "image/jpeg") -> None:
        """Answer the `statuses` ([(503, [("Retry-After", "1")]), (500, [])...]) in order, then serve `body`
        (or, with no body, keep answering the last status)."""
        steps = [(s, list(h)) for s, h in statuses]
        if not body:
            steps = steps + [steps[-1]] * 100
        self._set(url, Route("fail", body, content_type, statuses=steps))

    def redirect(self, url: str, location: str, status: int = 302) -> None:
        self._set(url, Route("redirect", location=location, status=status))

    def drip(self, url: str, body: bytes, rate: float = 2.0, content_type: str = "image/jpeg") -> None:
        self._set(url, Route("drip", body, content_type, rate=rate))

    def endless(self, url: str, chunk: bytes = b"", content_type: str = "image/jpeg") -> None:
        self._set(url, Route("endless", chunk, content_type))

    def lie(self, url: str, body: bytes, announced: int, content_type: str = "image/jpeg") -> None:
        self._set(url, Route("lie", body, content_type, announced=announced))

    # -- what happened -----------------------------------------------------------------------------------
    def _record(self, hit: Hit) -> None:
        with self.lock:
            self.hits.append(hit)

    def hits_for(self, url: str) -> list[Hit]:
        parts = urlsplit(url)
        with self.lock:
            return [h for h in self.hits if h.host == (parts.hostname or "").lower() and h.path == (parts.path or "/")]

    def with_port(self, url: str) -> str:
        """The archived URL with this server's port, over plain HTTP (the server speaks no TLS): what the
        client requests."""
        parts = urlsplit(url)
        netloc = f"{parts.hostname}:{self.port}"
        return urlunsplit(("http", netloc, parts.path, parts.query, ""))


def host_map_resolver(hosts: dict[str, str] | None = None):
    """A network.guard.Resolver that answers 127.0.0.1 for every name (or `hosts[name]` where given) and treats
    127.0.0.1, and only it, as public: the guard's check still refuses a name mapped to a private address.
    A URL whose host is an IP address is not looked up, so it is not mapped (the fetch tries that address)."""
    from network.guard import Resolver, is_public_address

    hosts = hosts or {}
    return Resolver(lookup=lambda host, port: [hosts.get(host, HOST)],
                    is_public=lambda address: address == HOST or is_public_address(address))


def warc_images(path) -> dict[str, tuple[bytes, str]]:
    """{URL: (body, Content-Type)} of the image responses in a WARC: what the archive's web served."""
    from dataio.image_header import sniff_format
    from dataio.warc import iter_records

    out = {}
    with open(path, "rb") as f:
        for record in iter_records(f):
            if record.type != "response" or record.http_status not in (None, 200) or record.is_html() or not record.url:
                continue
            body = record.payload()
            if sniff_format(body[:4096]) is None:
                continue
            out[record.url] = (body, (record.http_content_type or "application/octet-stream").split(";")[0])
    return out
