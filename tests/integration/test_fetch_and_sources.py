"""Where the job's bytes come from: record pointers and whole WARC files, read from a local folder,
from a real HTTP server that honours Range, and from a real S3 server (moto), all on 127.0.0.1.

The reference is the job run over the whole WARC files from disk: reading the same response
records through index-style pointers, from any source, must give the same image records (the
file name aside).  Pointers are computed here with warcio's own offset bookkeeping, not with
the job's reader.  Also: the private-address guard on every redirect hop (network.http, as the
Fetcher uses it), the Fetcher's retries, and input line parsing.  (RetryPolicy and the guard
themselves are tested in tests/unit/test_network_retry.py and test_network_guard.py.)
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from jobs.extract_images import ExtractImagesJob
from dataio.sources import Fetcher
from network.errors import FetchError
from network.http import HttpClient
from network.retry import RetryPolicy
from dataio.lines import MAX_RECORD_LENGTH, BadInputLine, RecordPointer, WarcFile, parse_input_line
from dataio.warc import crawl_from_name, read_one_record
from tests.conftest import SHARED_DATA, assert_lines_accounted, run_job, shared_path
from tests.support import servers
from tests.support.servers import REAL_WARCS, Fail, FlakyHTTPServer, PretendPublic, response_pointers, write_lines

# The servers' fixtures, bound here so that pytest finds them (assignments, not imports: no F811 noise).
flaky_http = servers.flaky_http
moto_s3 = servers.moto_s3
moto_s3_server = servers.moto_s3_server
no_proxy = servers.no_proxy
range_http = servers.range_http
pytestmark = pytest.mark.usefixtures("no_proxy")

IGNORED = ("warc_filename", "crawl")


def normalise(rows, ignore=IGNORED) -> list[str]:
    """Rows as sorted canonical JSON, without the fields that name where the bytes came from."""
    return sorted(json.dumps({k: v for k, v in row.items() if k not in ignore}, sort_keys=True) for row in rows)


def real_warcs() -> list[str]:
    for name in REAL_WARCS:
        shared_path(name)  # skips with the reason when the shared data is absent
    return list(REAL_WARCS)


@pytest.fixture(scope="module")
def pointers():
    """{relative WARC name: [Pointer]} over every response record of the real WARCs."""
    return {name: response_pointers(SHARED_DATA / name, name) for name in real_warcs()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The job over the whole WARC files from disk: (rows, counters)."""
    folder = tmp_path_factory.mktemp("reference")
    manifest = write_lines(folder / "whole.txt", [str(SHARED_DATA / name) for name in real_warcs()])
    rows, counters = run_job(ExtractImagesJob, ["-r", "inline", manifest])
    assert_lines_accounted(counters)
    assert counters["input"]["lines ok"] == len(REAL_WARCS)
    assert "errors" not in counters, counters
    return rows, counters


def crawl_by_file(rows) -> dict[str, str | None]:
    """{basename: crawl} as the whole-file reading found it (from the name or the warcinfo record)."""
    return {Path(row["warc_filename"]).name: row["crawl"] for row in rows}


def pointer_manifest(tmp_path, pointers, rename=lambda name: name) -> tuple[str, int]:
    lines = [p.line().replace(p.filename, rename(p.filename), 1) for ps in pointers.values() for p in ps]
    return write_lines(tmp_path / "pointers.txt", lines), len(lines)


def assert_all_ok(counters, n_lines):
    assert_lines_accounted(counters)
    assert counters["input"]["lines"] == n_lines
    assert counters["input"]["lines ok"] == n_lines, counters
    assert "errors" not in counters, counters.get("errors")


# -- the pointers themselves -------------------------------------------------------------------
def test_pointers_cover_every_response_and_each_range_holds_its_record(pointers):
    total = sum(len(ps) for ps in pointers.values())
    assert total > 400  # 424 response records in the seven files
    for name, ps in pointers.items():
        data = (SHARED_DATA / name).read_bytes()
        assert ps, name
        for p in ps:
            record = read_one_record(data[p.offset:p.offset + p.length])
            assert record.type == "response"
            assert record.url == p.url
        # ranges do not overlap and are in file order
        ends = [p.offset + p.length for p in ps]
        assert all(end <= nxt.offset for end, nxt in zip(ends, ps[1:], strict=False))


def test_reference_run_finds_the_images(reference):
    rows, counters = reference
    assert len(rows) == counters["images"]["emitted"] > 3000
    assert {Path(r["warc_filename"]).name for r in rows} == {Path(n).name for n in REAL_WARCS}
    assert crawl_by_file(rows)["resiliparse__warcfile.warc.gz"] == "CC-MAIN-2020-34"  # from its warcinfo


# -- pointers from each kind of source ---------------------------------------------------------
def test_pointers_from_a_local_folder_equal_whole_files(tmp_path, pointers, reference):
    manifest, n = pointer_manifest(tmp_path, pointers)
    rows, counters = run_job(ExtractImagesJob, ["-r", "inline", "--source-base", str(SHARED_DATA), manifest])
    assert_all_ok(counters, n)
    assert counters["input"]["record pointers"] == n
    assert normalise(rows) == normalise(reference[0])
    assert {r["warc_filename"] for r in rows} <= set(REAL_WARCS)  # the name as the line gave it
    assert all(r["crawl"] == crawl_from_name(r["warc_filename"]) for r in rows)


def test_pointers_over_range_http_equal_whole_files(tmp_path, pointers, reference, range_http):
    manifest, n = pointer_manifest(tmp_path, pointers)
    rows, counters = run_job(ExtractImagesJob, ["-r", "inline", "--source-base", range_http.url,
                                                "--allow-private-addresses", manifest])
    assert_all_ok(counters, n)
    assert "retries" not in counters
    assert normalise(rows) == normalise(reference[0])


def test_pointers_over_moto_s3_equal_whole_files(tmp_path, pointers, reference, moto_s3):
    """Keys laid out as Common Crawl's (crawl-data/CRAWL/...): the crawl id then comes from the name
    of the file for a pointer, and must equal what the whole-file reading took from warcinfo."""
    crawls = crawl_by_file(reference[0])
    bucket = moto_s3.create_bucket()

    def key(name: str) -> str:
        return f"crawl-data/{crawls[Path(name).name] or 'no-crawl'}/segments/0/warc/{Path(name).name}"

    moto_s3.upload_files(bucket, {key(name): SHARED_DATA / name for name in REAL_WARCS})
    manifest, n = pointer_manifest(tmp_path, pointers, rename=key)
    rows, counters = run_job(ExtractImagesJob, ["-r", "inline", "--source-base", f"s3://{bucket}/",
                                                "--s3-endpoint-url", moto_s3.endpoint_url, manifest])
    assert_all_ok(counters, n)
    assert normalise(rows, ignore=("warc_filename",)) == normalise(reference[0], ignore=("warc_filename",))


def test_each_pointer_costs_one_range_request_for_exactly_its_bytes(tmp_path, pointers, flaky_http):
    ps = pointers["cc/resiliparse__warcfile.warc.gz"]
    manifest = write_lines(tmp_path / "p.txt", [p.line() for p in ps])
    rows, counters = run_job(ExtractImagesJob, ["-r", "inline", "--source-base", flaky_http.url,
                                                "--allow-private-addresses", manifest])
    assert_all_ok(counters, len(ps))
    hits = flaky_http.hits_for("/cc/resiliparse__warcfile.warc.gz")
    assert sorted(h.range for h in hits) == sorted(f"bytes={p.offset}-{p.offset + p.length - 1}" for p in ps)


# -- whole files from each kind of source ------------------------------------------------------
def test_whole_files_over_range_http_equal_local(tmp_path, reference, range_http):
    urls = [range_http.url + name for name in real_warcs()]
    manifest = write_lines(tmp_path / "urls.txt", urls)
    rows, counters = run_job(ExtractImagesJob, ["-r", "inline", "--allow-private-addresses", manifest])
    assert_all_ok(counters, len(urls))
    assert counters["input"]["warc files"] == len(urls)
    assert normalise(rows) == normalise(reference[0])
    assert {r["warc_filename"] for r in rows} == set(urls)
    # crawl ids from warcinfo records survive the trip too
    assert crawl_by_file(rows) == crawl_by_file(reference[0])


def test_whole_file_url_named_directly_as_job_input(reference, range_http):
    """`python -m jobs.extract_images http://.../x.warc.gz`: the URL is wrapped into a one-line manifest."""
    name = "cc/resiliparse__warcfile.warc.gz"
    rows, counters = run_job(ExtractImagesJob, ["-r", "inline", "--allow-private-addresses", range_http.url + name])
    assert_all_ok(counters, 1)
    expected = [r for r in reference[0] if r["warc_filename"].endswith(name)]
    assert normalise(rows) == normalise(expected)
    assert len(rows) > 100


def test_whole_files_over_moto_s3_equal_local(tmp_path, reference, moto_s3):
    bucket = moto_s3.create_bucket()
    moto_s3.upload_files(bucket, {name: SHARED_DATA / name for name in real_warcs()})
    # half as absolute s3:// URLs, half relative to --source-base
    lines = [f"s3://{bucket}/{name}" if i % 2 else name for i, name in enumerate(REAL_WARCS)]
    manifest = write_lines(tmp_path / "s3.txt", lines)
    rows, counters = run_job(ExtractImagesJob, ["-r", "inline", "--source-base", f"s3://{bucket}/",
                                                "--s3-endpoint-url", moto_s3.endpoint_url, manifest])
    assert_all_ok(counters, len(lines))
    assert normalise(rows) == normalise(reference[0])
    assert crawl_by_file(rows) == crawl_by_file(reference[0])


def test_missing_s3_key_and_bucket_are_counted_not_found(tmp_path, moto_s3):
    bucket = moto_s3.create_bucket()
    moto_s3.upload(bucket, "cc/jwarc__cc.warc.gz", shared_path("cc", "jwarc__cc.warc.gz"))
    lines = ["cc/jwarc__cc.warc.gz", "cc/absent.warc.gz", "s3://no-such-bucket-ccimg/x.warc.gz",
             "cc/absent.warc.gz\t0\t100"]
    manifest = write_lines(tmp_path / "m.txt", lines)
    rows, counters = run_job(ExtractImagesJob, ["-r", "inline", "--source-base", f"s3://{bucket}/",
                                                "--s3-endpoint-url", moto_s3.endpoint_url, manifest])
    assert_lines_accounted(counters)
    assert counters["input"]["lines ok"] == 1
    assert counters["errors"] == {"fetch_not_found": 3}
    assert sum(r["element"] == "img" for r in rows) == 8  # the README: commoncrawl.org's page, 8 <img>


def test_mixed_sources_in_one_manifest(tmp_path, reference, range_http, moto_s3):
    """One manifest naming a local path, an http URL and an s3 URL: each is read from its own place."""
    bucket = moto_s3.create_bucket()
    moto_s3.upload(bucket, "w.warc.gz", SHARED_DATA / "cc/whirlwind__whirlwind.warc.gz")
    lines = [str(shared_path("cc", "jwarc__cc.warc.gz")), range_http.url + "cc/resiliparse__warcfile.warc.gz",
             f"s3://{bucket}/w.warc.gz"]
    manifest = write_lines(tmp_path / "mixed.txt", lines)
    rows, counters = run_job(ExtractImagesJob, ["-r", "inline", "--allow-private-addresses",
                                                "--s3-endpoint-url", moto_s3.endpoint_url, manifest])
    assert_all_ok(counters, 3)
    names = ("jwarc__cc.warc.gz", "resiliparse__warcfile.warc.gz", "whirlwind__whirlwind.warc.gz")
    expected = [r for r in reference[0] if Path(r["warc_filename"]).name in names]
    assert normalise(rows) == normalise(expected)
    assert Counter(r["warc_filename"] for r in rows).keys() == set(lines)


# -- private addresses -------------------------------------------------------------------------
def test_loopback_urls_are_refused_without_allow_private_addresses(tmp_path, pointers, flaky_http, caplog):
    p = pointers["cc/jwarc__cc.warc.gz"][0]
    whole = flaky_http.url + "cc/jwarc__cc.warc.gz"
    lines = [p.line(), whole, str(shared_path("cc", "jwarc__cc.warc.gz"))]
    manifest = write_lines(tmp_path / "m.txt", lines)
    caplog.set_level("INFO", logger="ccimg.jobs")
    rows, counters = run_job(ExtractImagesJob, ["-r", "inline", "--source-base", flaky_http.url, manifest])
    assert_lines_accounted(counters)
    assert counters["errors"] == {"fetch_private_address": 2}
    assert counters["input"]["lines ok"] == 1  # the local file is not a network fetch
    assert "retries" not in counters  # refused at once, not retried
    assert flaky_http.hits == []  # and not a single request reached the server
    assert sum(r["element"] == "img" for r in rows) == 8
    failed = [r.getMessage() for r in caplog.records if r.name == "ccimg.jobs" and r.levelname == "ERROR"]
    assert len(failed) == 2
    assert any(whole in m and "private_address" in m for m in failed)
    assert any("jwarc__cc.warc.gz\\t" in m and "127.0.0.1" in m for m in failed)


@pytest.mark.parametrize("whole", [False, True], ids=["pointer", "whole-file"])
def test_redirect_to_a_private_address_is_refused(pointers, flaky_http, whole):
    """A manifest line names a public server, which answers 302 to an address inside the network
    (here another 127.0.0.1 server standing in for http://169.254.169.254/).  The guard must hold
    for every hop, not only for the URL in the line.

    Stand-in: no public server is reachable from a test, so the name `public.test` plays the public
    host (PretendPublic resolves it to 127.0.0.1 and lets it through; every other host, the redirect's
    127.0.0.1 included, is checked as usual).  The Fetcher reads through network.http.HttpClient, which
    follows redirects by hand and checks every hop's address like the first."""
    client = HttpClient(timeout=5.0, resolver=PretendPublic({"public.test": "127.0.0.1"}))
    fetcher = Fetcher(base=f"http://public.test:{flaky_http.port}/", http=client,
                      policy=RetryPolicy(max_attempts=2, base_delay=0.01))
    with FlakyHTTPServer(SHARED_DATA) as inner:
        p = pointers["cc/jwarc__cc.warc.gz"][0]
        target = inner.url + "cc/jwarc__cc.warc.gz"
        flaky_http.script("cc/jwarc__cc.warc.gz", [], then=Fail(302, (("Location", target),)))
        with pytest.raises(FetchError) as info:
            if whole:
                with fetcher.open_stream("cc/jwarc__cc.warc.gz") as stream:
                    stream.read(100)
            else:
                fetcher.read_range(p.filename, p.offset, p.length)
        assert info.value.kind == "private_address"
        assert flaky_http.hits, "the public stand-in was asked"
        assert inner.hits == [], "a redirect reached the private address"


def test_fetcher_uses_its_policy_for_http_retries(tmp_path, flaky_http):
    """Fetcher, without the job: 503 twice then a range; retries reported through on_retry."""
    flaky_http.script("/cc/jwarc__cc.warc.gz", [Fail(503), Fail(503)])
    retries = []
    fetcher = Fetcher(base=flaky_http.url, allow_private=True, timeout=5,
                      policy=RetryPolicy(max_attempts=4, base_delay=0.01), on_retry=lambda k, m: retries.append(k))
    data = fetcher.read_range("cc/jwarc__cc.warc.gz", 0, 100)
    assert data == shared_path("cc", "jwarc__cc.warc.gz").read_bytes()[:100]
    assert retries == ["http_503", "http_503"]
    assert [h.action for h in flaky_http.hits] == ["Fail", "Fail", "Serve"]


# -- input lines -------------------------------------------------------------------------------
@pytest.mark.parametrize("line, expected", [
    ("crawl-data/CC-MAIN-2024-22/x.warc.gz\t123\t456\thttp://e.com/", RecordPointer(
        "crawl-data/CC-MAIN-2024-22/x.warc.gz", 123, 456, "http://e.com/")),
    ("x.warc.gz\t0\t1", RecordPointer("x.warc.gz", 0, 1, None)),
    ("x.warc.gz\t0\t1\t", RecordPointer("x.warc.gz", 0, 1, None)),
    ("x.warc.gz 10 20 http://e.com/a", RecordPointer("x.warc.gz", 10, 20, "http://e.com/a")),
    ("x.warc.gz   10  20", RecordPointer("x.warc.gz", 10, 20, None)),
    ("x.warc.gz\t10\t20\thttp://e.com/a b\r\n", RecordPointer("x.warc.gz", 10, 20, "http://e.com/a b")),
    (f"x.warc.gz\t0\t{MAX_RECORD_LENGTH}", RecordPointer("x.warc.gz", 0, MAX_RECORD_LENGTH, None)),
    ("s3://commoncrawl/crawl-data/x.warc.gz", WarcFile("s3://commoncrawl/crawl-data/x.warc.gz")),
    ("https://data.commoncrawl.org/crawl-data/x.warc.gz\n", WarcFile("https://data.commoncrawl.org/crawl-data/x.warc.gz")),
    ("/data/x.warc.gz\r\n", WarcFile("/data/x.warc.gz")),
    ("  crawl-data/x.warc.gz  ", WarcFile("crawl-data/x.warc.gz")),
    ("", None), ("\n", None), ("   \t ", None), ("# a comment", None), ("  # indented comment\t1\t2", None),
])
def test_parse_input_line_accepts(line, expected):
    assert parse_input_line(line) == expected


@pytest.mark.parametrize("line, reason", [
    ("x.warc.gz\t12", "2 fields"),
    ("x.warc.gz 12", "2 fields"),
    ("x.warc.gz\t-1\t5", "non-negative integers"),
    ("x.warc.gz\t1.5\t5", "non-negative integers"),
    ("x.warc.gz\tabc\t5", "non-negative integers"),
    ("x.warc.gz\t0\t0x10", "non-negative integers"),
    ("x.warc.gz\t0\t0", "length is 0"),
    (f"x.warc.gz\t0\t{MAX_RECORD_LENGTH + 1}", "byte limit"),
    ("x.warc.gz\x00\x01\x02", "NUL"),
    ("\x1f\x8b\x08\x00\x00\x00\x00", "NUL"),
])
def test_parse_input_line_rejects(line, reason):
    with pytest.raises(BadInputLine, match=reason):
        parse_input_line(line)


def test_parse_input_line_roundtrips_the_pointer_lines_of_real_warcs(pointers):
    for ps in pointers.values():
        for p in ps:
            assert parse_input_line(p.line() + "\n") == RecordPointer(p.filename, p.offset, p.length, p.url)


def test_flaky_server_fixture_honours_range(flaky_http):
    """The scriptable server itself: Range is honoured (206 with the right bytes), else 200."""
    import requests

    data = shared_path("cc", "jwarc__cc.warc.gz").read_bytes()
    url = flaky_http.url + "cc/jwarc__cc.warc.gz"
    r = requests.get(url, headers={"Range": "bytes=10-19"}, timeout=5)
    assert r.status_code == 206 and r.content == data[10:20]
    assert r.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    r = requests.get(url, headers={"Range": "bytes=5000-"}, timeout=5)
    assert r.status_code == 206 and r.content == data[5000:]
    r = requests.get(url, timeout=5)
    assert r.status_code == 200 and r.content == data
    assert requests.get(url, headers={"Range": f"bytes={len(data)}-"}, timeout=5).status_code == 416
    assert requests.get(flaky_http.url + "nope", timeout=5).status_code == 404
    assert isinstance(flaky_http, FlakyHTTPServer)
