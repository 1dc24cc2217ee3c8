"""`ccimg select` against index servers that misbehave: every answer is data, and a bad one ends the selection
with a message and an exit status, within bounded requests, time and memory.

A small scripted index server on 127.0.0.1 (`IndexStub`: a real HTTP server whose answers the test writes)
plays the index: JSON lines that are lists or numbers, short rows, a page count of 10^9, pages that repeat,
an answer of 300 MB, a collinfo.json that points to 10.0.0.1, file names outside the source base.  The
politeness of PoliteSession (per-host interval, backoff, Retry-After) runs against FlakyHTTPServer with a
fake clock, so that no test waits.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from ccimg.cli import main
from ccimg.selection.index import MAX_ANSWER_BYTES, PoliteSession
from ccimg.selection.query import IndexServerError
from network.guard import Resolver
from network.http import HttpClient
from tests.support.servers import Fail, FlakyHTTPServer, PretendPublic, Serve
from tests.unit.test_network_retry import FakeTime

HOST = "127.0.0.1"


class IndexStub:
    """A real HTTP server on 127.0.0.1 whose answer to each request is `answer(path, params)`:
    (status, body) with body bytes, or an iterable of bytes chunks (sent with the announced length)."""

    def __init__(self, answer):
        stub = self
        self.answer = answer
        self.requests: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - the stdlib's name
                parts = urlsplit(self.path)
                stub.requests.append(self.path)
                status, body, length = stub._resolve(parts.path, parse_qs(parts.query))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(length))
                self.end_headers()
                try:
                    for chunk in body:
                        self.wfile.write(chunk)
                except OSError:  # the client stopped reading: what a capped client does
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer((HOST, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def _resolve(self, path, params):
        status, body = self.answer(path, {k: v[-1] for k, v in params.items()})
        if isinstance(body, (bytes, str)):
            body = body.encode() if isinstance(body, str) else body
            return status, [body], len(body)
        chunks, length = body
        return status, chunks, length

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def cdx_requests(self) -> list[str]:
        return [r for r in self.requests if not r.startswith("/collinfo.json")]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def capture(i: int, filename: str = "crawl-data/x.warc.gz") -> dict:
    return {"urlkey": f"org,example)/{i}", "timestamp": "20250101000000", "url": f"http://example.org/{i}",
            "mime": "text/html", "status": "200", "digest": f"D{i}", "length": "100", "offset": str(i * 100),
            "filename": filename}


def lines(captures) -> str:
    return "".join(json.dumps(c) + "\n" for c in captures)


def select(capsys, *args) -> tuple[int, str]:
    rc = main(["select", "--retries", "1", "--backoff", "0.01", *args])
    return rc, capsys.readouterr().err


# -- decoding ------------------------------------------------------------------------------------
@pytest.mark.parametrize("body, says", [
    (lines([capture(0)]) + "[1, 2, 3]\n", "line 2 is a list, not a JSON object"),
    (lines([capture(0)]) + "123456789\n", "line 2 is a int, not a JSON object"),
    ('[["urlkey", "filename", "offset", "length"], ["a", "x.warc.gz", "0"]]', "row 2 has 3 fields"),
])
def test_malformed_answers_end_with_a_message(capsys, tmp_path, body, says):
    def answer(path, params):
        return (200, "") if params.get("showNumPages") else (200, body)

    with IndexStub(answer) as stub:
        rc, err = select(capsys, "--cdx-api", stub.url + "coll/cdx", "--url", "example.org/*", "-o",
                         str(tmp_path / "s.tsv"))
    assert rc == 1 and says in err, err
    assert "Traceback" not in err


def test_a_page_count_of_a_billion_is_refused(capsys, tmp_path):
    def answer(path, params):
        return 200, json.dumps({"pages": 10 ** 9}) if params.get("showNumPages") else lines([capture(0)])

    with IndexStub(answer) as stub:
        rc, err = select(capsys, "--cdx-api", stub.url + "CC-MAIN-2025-33-index", "--url", "example.org/*",
                         "-o", str(tmp_path / "s.tsv"))
        assert len(stub.cdx_requests()) == 1  # the plan; not a single page of the billion
    assert rc == 1 and "spans 1000000000 pages" in err and "--parquet" in err, err


def test_pages_that_repeat_end_the_paging(capsys, tmp_path):
    """A server whose page count is unknown and whose pages cycle A, B, A, B, ... (it ignores page= in its own
    way): the paging stops at the first page that starts like an earlier one, not only like the page before."""
    def answer(path, params):
        if params.get("showNumPages"):
            return 200, "not a count"
        page = int(params.get("page", 0))
        return 200, lines([capture(page % 2), capture(10 + page % 2)])

    with IndexStub(answer) as stub:
        rc, err = select(capsys, "--cdx-api", stub.url + "CC-MAIN-2025-33-index", "--url", "example.org/*",
                         "-o", str(tmp_path / "s.tsv"))
        assert len(stub.cdx_requests()) == 1 + 3  # the plan, pages 0 and 1, and page 2 that repeats page 0
    assert rc == 1 and "page 2 starts like an earlier page" in err, err


def test_an_answer_of_300_mb_is_cut_off_in_bounded_time(capsys, tmp_path):
    """300 MB announced and sent: the client reads at most MAX_ANSWER_BYTES + 1 and stops with a message."""
    chunk = lines(capture(i) for i in range(200)).encode()
    total = 300 * 1024 * 1024
    sent = []

    def endless():
        n = 0
        while n < total:
            piece = chunk[:total - n]
            sent.append(len(piece))
            yield piece
            n += len(piece)

    def answer(path, params):
        return (200, "") if params.get("showNumPages") else (200, (endless(), total))

    started = time.monotonic()
    with IndexStub(answer) as stub:
        rc, err = select(capsys, "--cdx-api", stub.url + "coll/cdx", "--url", "example.org/*", "--retries", "0",
                         "-o", str(tmp_path / "s.tsv"))
    assert rc == 1 and f"more than {MAX_ANSWER_BYTES >> 20} MiB" in err, err
    assert time.monotonic() - started < 60
    assert sum(sent) < total  # the server was cut off: the rest was never read


def test_collinfo_pointing_into_the_network_is_refused(capsys, tmp_path):
    """The user named the index server (a loopback address: allowed); its collinfo.json points the client to
    10.0.0.1, which the user did not name: the guard refuses it before any connection."""
    def answer(path, params):
        if path == "/collinfo.json":
            return 200, json.dumps([{"id": "CC-MAIN-2025-33", "cdx-api": "http://10.0.0.1/CC-MAIN-2025-33-index"}])
        return 404, "{}"

    with IndexStub(answer) as stub:
        rc, err = select(capsys, "--cdx-api", stub.url, "--url", "example.org/*", "-o", str(tmp_path / "s.tsv"))
    assert rc == 1 and "10.0.0.1" in err and "non-public address" in err, err


def test_file_names_outside_the_source_base_are_refused(capsys, tmp_path):
    names = ["/etc/passwd", "file:///etc/shadow", "http://169.254.169.254/latest/meta-data/",
             "s3://someone-elses-bucket/x.warc.gz", "crawl-data/../../../etc/passwd"]

    def answer(path, params):
        return (200, "") if params.get("showNumPages") else (200, lines(capture(i, n) for i, n in enumerate(names)))

    out = tmp_path / "s.tsv"
    with IndexStub(answer) as stub:
        rc, err = select(capsys, "--cdx-api", stub.url + "coll/cdx", "--url", "example.org/*", "-o", str(out))
        assert rc == 2 and "outside the job's --source-base" in err and "--allow-any-filename" in err, err
        rc, err = select(capsys, "--cdx-api", stub.url + "coll/cdx", "--url", "example.org/*", "--allow-any-filename",
                         "--overwrite", "-o", str(out))
    assert rc == 0, err
    assert [ln.split("\t")[0] for ln in out.read_text().splitlines()] == names


def test_warc_paths_listing_with_file_names_outside_the_source_base(capsys, tmp_path):
    listing = tmp_path / "warc.paths"
    listing.write_text("crawl-data/a.warc.gz\n/etc/passwd\n")
    rc, err = select(capsys, "--warc-paths", str(listing), "-o", str(tmp_path / "o.txt"))
    assert rc == 2 and "'/etc/passwd', an absolute path" in err
    rc, err = select(capsys, "--warc-paths", str(listing), "--allow-any-filename", "--overwrite",
                     "-o", str(tmp_path / "o.txt"))
    assert rc == 0, err


# -- politeness ------------------------------------------------------------------------------------
@pytest.fixture
def flaky(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "cdx").write_text(lines([capture(0)]))
    with FlakyHTTPServer(tmp_path) as server:
        yield server


def test_min_interval_per_host(flaky):
    """1 s between requests to a remote index (here `index.test`, a name that stands for a public server on
    127.0.0.1), none between requests to a loopback one, by the session's own clock."""
    fake = FakeTime()
    client = HttpClient(timeout=5.0, resolver=PretendPublic({"index.test": HOST}, trusted={(HOST, flaky.port)}))
    session = PoliteSession(sleep=fake.sleep, clock=fake.clock, client=client)
    starts = []
    for _ in range(3):
        session.get(f"http://index.test:{flaky.port}/x/cdx")
        starts.append(fake.now)
    for _ in range(2):
        session.get(f"http://{HOST}:{flaky.port}/x/cdx")
    assert starts == [0.0, 1.0, 2.0] and fake.sleeps == [1.0, 1.0]
    assert len(flaky.hits) == 5


def test_backoff_is_bounded_and_honours_retry_after(flaky):
    fake = FakeTime()
    session = PoliteSession(retries=4, backoff=1.0, sleep=fake.sleep, clock=fake.clock, trusted=(flaky.url,))
    flaky.script("x/cdx", [Fail(503), Fail(429, (("Retry-After", "7"),)), Fail(503)], then=Serve())
    assert session.get(flaky.url + "x/cdx").status == 200
    first, second, third = fake.sleeps
    assert 0 <= first <= 1.0 and second == 7.0 and 0 <= third <= 4.0
    assert session.requests == 4

    flaky.script("x/cdx", [], then=Fail(503))
    session = PoliteSession(retries=2, backoff=0.01, sleep=fake.sleep, clock=fake.clock, trusted=(flaky.url,))
    with pytest.raises(IndexServerError, match=r"answered 503 .*scripted failure \(3 tries"):
        session.get(flaky.url + "x/cdx")


def test_retry_after_of_a_day_waits_at_most_max_backoff(flaky):
    fake = FakeTime()
    session = PoliteSession(retries=1, backoff=0.01, max_backoff=5.0, sleep=fake.sleep, clock=fake.clock,
                            trusted=(flaky.url,))
    flaky.script("x/cdx", [Fail(429, (("Retry-After", "86400"),))], then=Serve())
    assert session.get(flaky.url + "x/cdx").status == 200
    assert fake.sleeps == [5.0]


def test_an_unknown_host_fails_at_once():
    def no_such_name(host, port):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    fake = FakeTime()
    session = PoliteSession(retries=6, sleep=fake.sleep, clock=fake.clock,
                            client=HttpClient(timeout=5.0, resolver=Resolver(lookup=no_such_name)))
    with pytest.raises(IndexServerError, match="cannot resolve index.commoncrawl.org"):
        session.get("https://index.commoncrawl.org/collinfo.json")
    assert fake.sleeps == [] and session.requests == 1


def test_only_the_named_host_may_be_private(flaky):
    """The session trusts the hosts the user named (here the loopback server), not others on the same
    machine: a second loopback port is a different server."""
    other = FlakyHTTPServer(flaky.directory).start()
    try:
        session = PoliteSession(retries=0, trusted=(flaky.url + "x/cdx",))
        assert session.get(flaky.url + "x/cdx").status == 200
        with pytest.raises(IndexServerError, match="non-public address"):
            session.get(other.url + "x/cdx")
        assert other.hits == []
    finally:
        other.stop()
