"""Real servers on 127.0.0.1 for the fetch tests, and pytest fixtures that start and stop them.

Three kinds, all real sockets on the loopback interface (tests never talk to anything else):

  * `RangeHTTPServer` (the `rangehttpserver` package) as a subprocess over a directory: a static
    file server that answers `Range` with 206, as data.commoncrawl.org does.  Python's own
    `http.server` ignores `Range` and must not be used for this.
  * moto's S3 server (`moto_server -H 127.0.0.1 -p PORT`) as a subprocess, with helpers to create
    a bucket and upload files through boto3 with dummy credentials.
  * `FlakyHTTPServer`: a scriptable, misbehaving HTTP/1.1 server in a thread that honours `Range`
    itself and, per path, follows a script of actions: answer an error status (503, 429 with
    Retry-After, ...), send part of a body and then reset the connection, stall, or serve.

Every wait is bounded: servers must answer within `STARTUP_TIMEOUT` seconds, and stopping a
subprocess escalates from terminate to kill after a few seconds.

Use in a test module:  `from tests.support.servers import flaky_http, moto_s3, range_http  # noqa: F401`
"""
from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from benchmarks.pywb_local import free_port  # noqa: F401 - the tests import it from here
from network.guard import Resolver
from tests.conftest import SHARED_DATA

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
VENV_BIN = Path(sys.executable).parent
DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        return path.read_text("utf-8", "replace")[-limit:]
    except OSError:
        return ""


def wait_until_answers(url: str, timeout: float = STARTUP_TIMEOUT, proc: subprocess.Popen | None = None,
                       log: Path | None = None) -> None:
    """Poll `url` until it gives any HTTP answer; fail (with the server's log) after `timeout` seconds."""
    import requests

    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}:\n"
                               f"{_tail(log) if log else ''}")
        try:
            requests.get(url, timeout=1.0)
            return
        except requests.RequestException as exc:
            last = exc
        time.sleep(0.05)
    raise RuntimeError(f"no answer from {url} within {timeout}s ({last}):\n{_tail(log) if log else ''}")


@dataclass
class ServerProcess:
    """A server running as a subprocess on 127.0.0.1:port; `stop()` ends it (terminate, then kill)."""

    proc: subprocess.Popen
    port: int
    log: Path
    workdir: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# -- (a) a Range-honouring static file server --------------------------------------------------
_SERVING = re.compile(r"Serving HTTP on \S+ port (\d+)")


def start_static_http_server(directory: str | os.PathLike, module: str = "RangeHTTPServer") -> ServerProcess:
    """`python -m MODULE 0 --bind 127.0.0.1` serving `directory`; the OS picks the port.

    MODULE is `RangeHTTPServer` (honours Range: the default) or `http.server` (the standard
    library's, which ignores Range and answers 200 with the whole file: for testing that the
    job notices).  Both serve their working directory and print the port they bound: reading
    that line back avoids any race for a free port.
    """
    workdir = Path(tempfile.mkdtemp(prefix="ccimg-static-http-"))
    log = workdir / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-u", "-m", module, "0", "--bind", HOST],
                                cwd=str(directory), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = ServerProcess(proc, 0, log, workdir)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            m = _SERVING.search(_tail(log, 10_000))
            if m:
                server.port = int(m.group(1))
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{module} did not start:\n{_tail(log)}")
            time.sleep(0.05)
        wait_until_answers(server.url, proc=proc, log=log)
    except BaseException:
        server.stop()
        raise
    return server


def start_range_http_server(directory: str | os.PathLike) -> ServerProcess:
    """RangeHTTPServer (answers Range with 206) over `directory` on 127.0.0.1."""
    return start_static_http_server(directory, "RangeHTTPServer")


class PretendPublic(Resolver):
    """A resolver for which the names in `names` stand for public servers that happen to live on 127.0.0.1;
    every other host (IP literals included) goes through the real check.

    Why: no public server is reachable from a test, and the guard must still be seen to refuse the
    private addresses (a redirect to 127.0.0.1, 169.254.169.254) that a "public" server points to."""

    def __init__(self, names: dict[str, str], trusted: frozenset = frozenset()):
        super().__init__(ttl=0, trusted=trusted)
        self.names = names

    def checked_addresses(self, host, port, allow_private=False, timeout=None):
        if host in self.names:
            return [self.names[host]]
        return super().checked_addresses(host, port, allow_private, timeout)


# -- (b) moto's S3 server ----------------------------------------------------------------------
@dataclass
class MotoS3:
    """moto's S3 server on 127.0.0.1, and boto3 helpers for it (dummy credentials)."""

    server: ServerProcess
    _buckets: itertools.count = field(default_factory=itertools.count)

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.server.port}"

    def client(self):
        import boto3

        return boto3.session.Session(
            aws_access_key_id=DUMMY_AWS["AWS_ACCESS_KEY_ID"], aws_secret_access_key=DUMMY_AWS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=DUMMY_AWS["AWS_SESSION_TOKEN"], region_name=DUMMY_AWS["AWS_DEFAULT_REGION"],
        ).client("s3", endpoint_url=self.endpoint_url)

    def create_bucket(self, prefix: str = "ccimg-test") -> str:
        """A new, empty bucket with a unique name (the server lives for the whole test session)."""
        name = f"{prefix}-{next(self._buckets)}-{uuid.uuid4().hex[:8]}"
        self.client().create_bucket(Bucket=name)
        return name

    def upload(self, bucket: str, key: str, path: str | os.PathLike) -> None:
        self.client().upload_file(str(path), bucket, key)

    def upload_files(self, bucket: str, files: dict[str, str | os.PathLike]) -> None:
        """Upload {key: local path}."""
        client = self.client()
        for key, path in files.items():
            client.upload_file(str(path), bucket, key)


def start_moto_s3_server(attempts: int = 3) -> ServerProcess:
    """`moto_server -H 127.0.0.1 -p PORT`; retried on another port if the chosen one was taken meanwhile."""
    moto = shutil.which("moto_server", path=str(VENV_BIN)) or shutil.which("moto_server")
    if moto is None:
        pytest.skip("moto_server not installed (pip install 'moto[server]')")
    last: Exception | None = None
    for _ in range(attempts):
        workdir = Path(tempfile.mkdtemp(prefix="ccimg-moto-"))
        log = workdir / "server.log"
        port = free_port()
        env = {**os.environ, **DUMMY_AWS}
        with open(log, "wb") as out:
            proc = subprocess.Popen([moto, "-H", HOST, "-p", str(port)], cwd=str(workdir), env=env,
                                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        server = ServerProcess(proc, port, log, workdir)
        try:
            wait_until_answers(f"http://{HOST}:{port}/moto-api/", proc=proc, log=log)
            return server
        except RuntimeError as exc:
            server.stop()
            last = exc
    raise RuntimeError(f"moto_server did not start: {last}")


def set_dummy_aws_env(monkeypatch) -> None:
    """Dummy credentials for boto3 inside the job, and no config files or instance metadata lookups."""
    for key, value in DUMMY_AWS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


# -- (c) a scriptable, misbehaving HTTP server -------------------------------------------------
@dataclass(frozen=True)
class Serve:
    """Serve the file (206 for a Range request, else 200)."""


@dataclass(frozen=True)
class Fail:
    """Answer `status` with a short body and extra `headers` (e.g. {"Retry-After": "1"})."""

    status: int = 503
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ResetAfter:
    """Send the status line and headers for the whole (range of the) file, then `nbytes` of the
    body, then reset the connection (SO_LINGER 0 and close: the client gets ECONNRESET).

    A reset makes the client's kernel drop whatever it received but the program had not read
    yet: `pause` seconds between the last byte and the reset let the client read them first
    (for a test that a stream resumes from the byte it really reached)."""

    nbytes: int
    pause: float = 0.0


@dataclass(frozen=True)
class CloseAfter:
    """Like ResetAfter, but an orderly close (FIN) after `nbytes`: the body ends short of its
    Content-Length, as when a proxy or server gives up in the middle of a response."""

    nbytes: int


@dataclass(frozen=True)
class Stall:
    """Send the headers, then nothing for `seconds` (bounded), then close: a read timeout."""

    seconds: float


@dataclass
class Script:
    actions: list
    then: object


@dataclass
class Hit:
    """One request as the flaky server saw it (`at`: time.monotonic() when it arrived)."""

    path: str
    range: str | None
    action: str
    at: float = field(default_factory=time.monotonic)
    user_agent: str | None = None


class _FlakyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers: a reset must not poison the pool
    timeout = 15  # an idle keep-alive connection ends after this many seconds
    server: _FlakyServer

    was_reset = False

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except ValueError:  # the stdlib flushes wfile after the method: closed by _reset on purpose
            if not self.was_reset:
                raise

    def do_HEAD(self):
        self._answer(head=True)

    def do_GET(self):
        self._answer(head=False)

    def _answer(self, head: bool) -> None:
        path = self.path.split("?", 1)[0]
        action = self.server.flaky.next_action(path)
        self.server.flaky.record(Hit(path, self.headers.get("Range"), type(action).__name__,
                                     user_agent=self.headers.get("User-Agent")))
        if isinstance(action, Fail):
            body = f"{action.status} scripted failure\n".encode()
            self.send_response(action.status)
            for name, value in action.headers:
                self.send_header(name, value)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
            return
        file = self.server.flaky.file_for(path)
        if file is None:
            self._plain(404, b"not found\n", head)
            return
        size = file.stat().st_size
        start, end = 0, size - 1
        status = 200
        rng = self.headers.get("Range")
        if rng is not None:
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
            if not m:
                self._plain(400, b"bad range\n", head)
                return
            start = int(m.group(1))
            end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            if start >= size or end < start:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        length = end - start + 1
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(length))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if head:
            return
        if isinstance(action, Stall):
            self.wfile.flush()
            self.server.flaky.stopping.wait(min(action.seconds, 30.0))
            self.close_connection = True
            return
        limit = min(action.nbytes, length) if isinstance(action, (ResetAfter, CloseAfter)) else length
        with open(file, "rb") as f:
            f.seek(start)
            left = limit
            while left > 0:
                chunk = f.read(min(left, 1 << 16))
                if not chunk:
                    break
                try:
                    self.wfile.write(chunk)
                except OSError:  # the client went away: nothing more to do
                    self.close_connection = True
                    return
                left -= len(chunk)
        if isinstance(action, CloseAfter):
            with contextlib.suppress(OSError):
                self.wfile.flush()
            self.close_connection = True  # the server then shuts the socket down (FIN) and closes it
        if isinstance(action, ResetAfter):
            with contextlib.suppress(OSError):
                self.wfile.flush()
            if action.pause:
                self.server.flaky.stopping.wait(min(action.pause, 30.0))
            self._reset()

    def _plain(self, status: int, body: bytes, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER on, timeout 0, then close the descriptor)."""
        with contextlib.suppress(OSError):
            self.wfile.flush()
        self.close_connection = True
        self.was_reset = True
        sock = self.connection
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # The makefile() objects hold references to the descriptor: close them too, so that the
        # close below really releases it (and the kernel sends the RST) now.
        for f in (self.wfile, self.rfile):
            with contextlib.suppress(OSError):
                f.close()
        with contextlib.suppress(OSError):
            sock.close()


class _FlakyServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    flaky: FlakyHTTPServer

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # a client that gave up (timeout, reset) is part of the game here
        super().handle_error(request, client_address)


class FlakyHTTPServer:
    """A real HTTP/1.1 server on 127.0.0.1 (in a thread) that serves files from `directory`,
    honouring `Range`, and misbehaves on request.

    `script(path, [actions], then=Serve())`: the next requests for `path` get the actions in
    order, then `then` for ever.  Actions: `Fail(503)`, `Fail(429, (("Retry-After", "1"),))`,
    `Fail(302, (("Location", url),))`, `ResetAfter(nbytes)`, `CloseAfter(nbytes)`, `Stall(seconds)`,
    `Serve()`.  Paths without a script are served.
    `hits` lists every request (path, Range header, action) for the test to check.

    It also stands in for S3 where failures must be scripted (moto cannot be made to fail):
    botocore's GetObject with `endpoint_url=server.url` on 127.0.0.1 is a path-style
    `GET /BUCKET/KEY` with a Range header, which this server answers from `directory/BUCKET/KEY`
    (see `link_tree`); it does not check signatures.
    """

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory).resolve()
        self._lock = threading.Lock()
        self._scripts: dict[str, Script] = {}
        self.hits: list[Hit] = []
        self.stopping = threading.Event()
        self._httpd = _FlakyServer((HOST, 0), _FlakyHandler)
        self._httpd.flaky = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"flaky-http-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def start(self) -> FlakyHTTPServer:
        self._thread.start()
        wait_until_answers(self.url + "__ping__")
        with self._lock:
            self.hits.clear()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=STOP_TIMEOUT)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def script(self, path: str, actions=(), then=None) -> None:
        path = "/" + path.lstrip("/")
        with self._lock:
            self._scripts[path] = Script(list(actions), then if then is not None else Serve())

    def next_action(self, path: str):
        with self._lock:
            script = self._scripts.get(path)
            if script is None:
                return Serve()
            return script.actions.pop(0) if script.actions else script.then

    def record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)

    def hits_for(self, path: str) -> list[Hit]:
        path = "/" + path.lstrip("/")
        with self._lock:
            return [h for h in self.hits if h.path == path]

    def file_for(self, path: str) -> Path | None:
        from urllib.parse import unquote

        # normpath, not resolve(): symlinks inside the directory may point anywhere (a test can serve
        # the shared data through links instead of copies), but ".." may not climb out of it.
        candidate = Path(os.path.normpath(self.directory / unquote(path).lstrip("/")))
        if self.directory not in candidate.parents or not candidate.is_file():
            return None
        return candidate


# -- fixtures ----------------------------------------------------------------------------------
def _shared_data_dir() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found: {SHARED_DATA} (tests read real data from ../shared/data beside the repo)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def range_http():
    """RangeHTTPServer over ../shared/data (read only): `range_http.url + 'cc/...'`."""
    server = start_range_http_server(_shared_data_dir())
    yield server
    server.stop()


@pytest.fixture
def range_http_factory():
    """`start(directory) -> ServerProcess`: RangeHTTPServer over any directory, stopped after the test."""
    started: list[ServerProcess] = []

    def start(directory):
        server = start_range_http_server(directory)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def moto_s3_server():
    server = start_moto_s3_server()
    yield server
    server.stop()


@pytest.fixture
def moto_s3(moto_s3_server, monkeypatch):
    """moto's S3 server (one per session) with dummy AWS credentials set in the environment for the job."""
    set_dummy_aws_env(monkeypatch)
    return MotoS3(moto_s3_server)


@pytest.fixture
def flaky_http():
    """A fresh FlakyHTTPServer over ../shared/data for one test."""
    with FlakyHTTPServer(_shared_data_dir()) as server:
        yield server


@pytest.fixture
def flaky_http_factory():
    """`start(directory) -> FlakyHTTPServer`, stopped after the test."""
    started: list[FlakyHTTPServer] = []

    def start(directory):
        server = FlakyHTTPServer(directory).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(autouse=False)
def no_proxy(monkeypatch):
    """Make sure requests never sends loopback traffic through a proxy from the environment."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", HOST)
    monkeypatch.setenv("no_proxy", HOST)


# -- manifests over the shared real WARCs ------------------------------------------------------
# WARC files (relative to ../shared/data) with response records: Common Crawl excerpts, old and new,
# gzipped per record and uncompressed, and web-archive crawls with pages and their images.
REAL_WARCS = (
    "cc/resiliparse__warcfile.warc.gz",
    "cc/eugeneware__CC-MAIN-20140820021334-00006-ip-10-180-136-8.ec2.internal.warc",
    "cc/whirlwind__whirlwind.warc.gz",
    "cc/jwarc__cc.warc.gz",
    "webarchive/aut__example.warc.gz",
    "webarchive/ukwa__sopa-wikipedia-homepage.warc.gz",
    "webarchive/resiliparse__clueweb-quirk.warc.gz",
)


@dataclass(frozen=True)
class Pointer:
    """One index-style pointer to a response record: FILENAME OFFSET LENGTH URL."""

    filename: str
    offset: int
    length: int
    url: str | None

    def line(self) -> str:
        return f"{self.filename}\t{self.offset}\t{self.length}\t{self.url or ''}".rstrip("\t")


def response_pointers(path: str | os.PathLike, filename: str) -> list[Pointer]:
    """Pointers to every response record of the WARC at `path`, named `filename` in the lines.

    Offsets and lengths come from warcio's own bookkeeping (get_record_offset/get_record_length
    after the record was read), independently of the job's reader.
    """
    from warcio.archiveiterator import ArchiveIterator

    out = []
    with open(path, "rb") as f:
        it = ArchiveIterator(f, arc2warc=True)
        for rec in it:
            if rec.rec_type != "response":
                continue
            url = rec.rec_headers.get_header("WARC-Target-URI")
            rec.content_stream().read()
            out.append(Pointer(filename, it.get_record_offset(), it.get_record_length(), url))
    return out


def link_tree(root: str | os.PathLike, files: dict[str, str | os.PathLike]) -> Path:
    """Under `root`, a symlink at each relative path in `files` to its file: a served tree (or a fake
    S3 bucket, as `root/BUCKET/KEY`) over the shared data without copying it."""
    root = Path(root)
    for rel, target in files.items():
        link = root / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path(target).resolve())
    return root


def write_lines(path: str | os.PathLike, lines) -> str:
    """Write a manifest (one input line each); return its path as a string."""
    Path(path).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return str(path)
