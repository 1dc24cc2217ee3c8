"""Bad input and bad servers: every case ends as counters and a log line naming the input, never as
a failed job, and one bad line never costs the good lines beside it.

Inputs: a real clipped WARC, WARCs cut here at chosen places, random bytes, files that are not
WARCs, pointers with a wrong offset or length, missing files, malformed lines.  Servers (real,
on 127.0.0.1): 503 twice then 200, a connection reset in the middle of a body (a retried range
and a stream resumed mid-file), 429 with Retry-After, a stall past the read timeout, a server
that always answers 503, and the standard library's http.server, which ignores Range.
"""
from __future__ import annotations

import json
import logging
import random
import re
import subprocess
import sys
import time
from functools import lru_cache
from pathlib import Path

import pytest

from jobs.extract_images import ExtractImagesJob
from tests.support import servers
from tests.conftest import REPO, SHARED_DATA, assert_lines_accounted, run_job, shared_path
from tests.support.servers import (
    CloseAfter,
    Fail,
    ResetAfter,
    Stall,
    link_tree,
    response_pointers,
    start_static_http_server,
    write_lines,
)

flaky_http = servers.flaky_http
flaky_http_factory = servers.flaky_http_factory
no_proxy = servers.no_proxy

pytestmark = pytest.mark.usefixtures("no_proxy")

LOGGER = "ccimg.jobs"
FAST_RETRY = ["--backoff-base", "0.01", "--max-attempts", "4", "--timeout", "5"]
RESILIPARSE = "cc/resiliparse__warcfile.warc.gz"
JWARC = "cc/jwarc__cc.warc.gz"
WHIRLWIND = "cc/whirlwind__whirlwind.warc.gz"
EUGENE = "cc/eugeneware__CC-MAIN-20140820021334-00006-ip-10-180-136-8.ec2.internal.warc"
AUT = "webarchive/aut__example.warc.gz"


# -- helpers -----------------------------------------------------------------------------------
def norm(rows) -> list[str]:
    return sorted(json.dumps({k: v for k, v in r.items() if k not in ("warc_filename", "crawl")}, sort_keys=True)
                  for r in rows)


@lru_cache(maxsize=None)
def _reference(name: str) -> tuple[str, ...]:
    rows, counters = run_job(ExtractImagesJob, ["-r", "inline", str(SHARED_DATA / name)])
    assert "errors" not in counters
    return tuple(json.dumps(r, sort_keys=True) for r in rows)


def reference_rows(name: str) -> list[dict]:
    """The job's rows for a whole shared WARC read from disk."""
    shared_path(name)
    return [json.loads(r) for r in _reference(name)]


@lru_cache(maxsize=None)
def _pointers(name: str):
    return tuple(response_pointers(SHARED_DATA / name, name))


def pointers(name: str):
    shared_path(name)
    return list(_pointers(name))


def run(args, caplog=None):
    if caplog is not None:
        caplog.set_level(logging.INFO, logger=LOGGER)
    rows, counters = run_job(ExtractImagesJob, ["-r", "inline", *args])
    assert_lines_accounted(counters)
    return rows, counters


def error_logs(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno >= logging.ERROR]


def assert_logged(caplog, *needles: str) -> str:
    """One ERROR line of ccimg.jobs contains all the needles (e.g. the input's name and the error kind)."""
    lines = error_logs(caplog)
    for line in lines:
        if all(n in line for n in needles):
            return line
    raise AssertionError(f"no error log line with {needles!r} in {lines!r}")


def errors(counters) -> dict:
    return counters.get("errors", {})


def rows_of(rows, page_urls) -> list[dict]:
    return [r for r in rows if r["page_url"] in page_urls]


# -- damaged WARC files ------------------------------------------------------------------------
def test_real_clipped_warc_is_a_counted_error(caplog):
    """bad/resiliparse__clipped.warc.gz: one response record whose gzip member (and WARC block) is cut
    off 12,618 bytes short of its Content-Length of 88,275.  The job must say so.

    Regression (fixed in 7e8f439): warcio reads a truncated gzip member and a short record block
    without complaint, and `iter_records` did not check that each block was complete: the line
    ended "ok" and the images of half a page were emitted as if nothing had happened."""
    path = shared_path("bad", "resiliparse__clipped.warc.gz")
    rows, counters = run([str(path)], caplog)
    assert counters["input"]["lines"] == 1
    assert counters["input"].get("lines failed") == 1, counters
    assert any(k.startswith("warc_") for k in errors(counters)), counters
    assert_logged(caplog, "resiliparse__clipped.warc.gz")


def _cut_inside(data: bytes, ptrs, index: int) -> tuple[bytes, object]:
    """`data` cut in the middle of the block of the index-th response record; return (bytes, that pointer)."""
    p = ptrs[index]
    return data[:p.offset + p.length // 2], p


@pytest.mark.parametrize("name", [RESILIPARSE, EUGENE], ids=["gzip", "uncompressed"])
def test_warc_cut_mid_record_keeps_the_records_before_and_counts_an_error(tmp_path, caplog, name):
    """A WARC cut in the middle of a record: the records before the cut are processed, then a counted
    `warc_*` error and a log line naming the input.  Cut here at a known place in a real file.

    Regression (fixed in 7e8f439): the cut went unnoticed, the line counted as ok."""
    src = shared_path(name)
    ptrs = pointers(name)
    cut, p = _cut_inside(src.read_bytes(), ptrs, len(ptrs) // 2)
    path = tmp_path / Path(name).name
    path.write_bytes(cut)
    rows, counters = run([str(path)], caplog)
    ref = reference_rows(name)
    before = {q.url for q in ptrs if q.offset + q.length <= p.offset}
    after = {q.url for q in ptrs if q.offset > p.offset}
    assert before and after
    assert norm(rows_of(rows, before)) == norm(rows_of(ref, before))  # nothing before the cut is lost
    assert rows_of(rows, after) == []
    assert counters["input"].get("lines failed") == 1, counters
    assert any(k.startswith("warc_") for k in errors(counters)), counters
    assert_logged(caplog, path.name)


def test_random_bytes_named_warc_gz(tmp_path, caplog):
    path = tmp_path / "x.warc.gz"
    path.write_bytes(random.Random(20261121).randbytes(50_000))
    rows, counters = run([str(path)], caplog)
    assert rows == []
    assert errors(counters) == {"warc_not_warc": 1}
    assert_logged(caplog, str(path), "warc_not_warc")


def test_gzip_of_random_bytes_named_warc_gz(tmp_path, caplog):
    """A valid gzip stream whose content is not a WARC."""
    import gzip

    path = tmp_path / "y.warc.gz"
    path.write_bytes(gzip.compress(random.Random(7).randbytes(20_000)))
    rows, counters = run([str(path)], caplog)
    assert rows == []
    assert errors(counters) == {"warc_not_warc": 1}
    assert_logged(caplog, str(path))


@pytest.mark.parametrize("source", ["html-aeb/ground-truth.json", "images/test.jpg", "images/test.png"])
def test_non_warc_files_named_as_warc_inputs(tmp_path, caplog, source):
    """Real files that are not WARCs (JSON, JPEG, PNG), named as WARC inputs by a manifest line."""
    path = shared_path(*source.split("/"))
    manifest = write_lines(tmp_path / "m.txt", [str(path)])
    rows, counters = run([manifest], caplog)
    assert rows == []
    assert errors(counters) == {"warc_not_warc": 1}
    assert_logged(caplog, str(path), "warc_not_warc")


@pytest.mark.parametrize("kind", ["html", "text"])
def test_html_and_text_files_as_warc_inputs(tmp_path, caplog, kind):
    """An HTML page and a text file read as WARC input.  Their lines look enough like ARC headers
    (five space-separated fields) for warcio to read a few bogus ARC records before it gives up.

    Regression (fixed in 7e8f439): warcio then warns with `sys.stderr.write(str)`, and mrjob's
    inline runner gives tasks a *binary* sys.stderr: a TypeError that `iter_records` does not
    translate, and the whole job failed.  (Same crash as test_wrong_content_length_in_a_warc_record.)"""
    import gzip

    if kind == "html":
        page = sorted(shared_path("html-aeb", "html").glob("*.html.gz"))[0]
        data = gzip.decompress(page.read_bytes())
    else:
        data = shared_path("html-more", "README.md").read_bytes()
    path = tmp_path / f"page.{kind}"
    path.write_bytes(data)
    manifest = write_lines(tmp_path / "m.txt", [str(path)])
    rows, counters = run([manifest], caplog)
    assert rows == []
    assert counters["input"].get("lines failed") == 1, counters
    assert set(errors(counters)) == {"warc_not_warc"}
    assert_logged(caplog, str(path))


def test_wrong_content_length_in_a_warc_record(tmp_path, caplog):
    """A real uncompressed WARC with one record's Content-Length made 10 bytes short.

    Regression (fixed in 7e8f439): the job crashed (TypeError from warcio's stderr warning under
    the inline runner, see above) instead of counting the damage, and lost the good records too."""
    data = shared_path(*EUGENE.split("/")).read_bytes()
    m = list(re.finditer(rb"Content-Length: (\d+)\r\n", data))[2]  # the first response record
    bad = data[:m.start(1)] + str(int(m.group(1)) - 10).encode() + data[m.end(1):]
    path = tmp_path / "badlen.warc"
    path.write_bytes(bad)
    rows, counters = run([str(path)], caplog)
    # warcio resynchronises at the next record: the line is read, and every page's images are kept.
    assert counters["input"]["lines"] == counters["input"]["lines ok"] == 1, counters["input"]
    assert errors(counters) == {}
    assert norm(rows) == norm(reference_rows(EUGENE))


# -- bad manifest lines ------------------------------------------------------------------------
@pytest.mark.parametrize("name, index, d_offset, d_length, kind, logged", [
    pytest.param(RESILIPARSE, 3, 7, 0, "warc_not_warc", "{offset}", id="wrong offset"),
    pytest.param(JWARC, 0, 0, 1000, "fetch_short_range", "short_range", id="length past the end of the file"),
])
def test_bad_pointer_is_a_counted_error(tmp_path, caplog, name, index, d_offset, d_length, kind, logged):
    p = pointers(name)[index]
    offset = p.offset + d_offset
    line = f"{p.filename}\t{offset}\t{p.length + d_length}\t{p.url}"
    rows, counters = run(["--source-base", str(SHARED_DATA), write_lines(tmp_path / "m.txt", [line])], caplog)
    assert rows == []
    assert errors(counters) == {kind: 1}
    assert_logged(caplog, name, logged.format(offset=offset))


def test_pointer_to_the_wrong_record_is_counted_as_url_mismatch(tmp_path, caplog):
    """A pointer whose offset and length are right for another record: read, but the mismatch is counted."""
    a, b = pointers(RESILIPARSE)[2:4]
    line = f"{a.filename}\t{b.offset}\t{b.length}\t{a.url}"
    rows, counters = run(["--source-base", str(SHARED_DATA), write_lines(tmp_path / "m.txt", [line])], caplog)
    assert counters["records"]["url differs from pointer"] == 1
    assert {r["page_url"] for r in rows} <= {b.url}


def test_length_too_short_is_a_counted_error(tmp_path, caplog):
    """A pointer whose length stops 100 bytes short of the record's end (a stale or wrong index line).

    Regression (fixed in 7e8f439): the gzip member is cut, warcio returns the part it has, and the
    page was processed as if it were whole: `lines ok`, no error, possibly images missing."""
    p = pointers(RESILIPARSE)[3]
    line = f"{p.filename}\t{p.offset}\t{p.length - 100}\t{p.url}"
    rows, counters = run(["--source-base", str(SHARED_DATA), write_lines(tmp_path / "m.txt", [line])], caplog)
    assert errors(counters).keys() and all(k.startswith("warc_") for k in errors(counters)), counters
    assert_logged(caplog, RESILIPARSE, str(p.length - 100))


def test_length_longer_than_the_record_reads_just_that_record(tmp_path):
    """A pointer that runs into the next record: the first record is read (as an index would have it)."""
    a, b = pointers(RESILIPARSE)[5:7]
    line = f"{a.filename}\t{a.offset}\t{b.offset + b.length - a.offset}\t{a.url}"
    rows, counters = run(["--source-base", str(SHARED_DATA), write_lines(tmp_path / "m.txt", [line])])
    assert "errors" not in counters
    assert norm(rows) == norm(rows_of(reference_rows(RESILIPARSE), {a.url}))


@pytest.mark.parametrize("line, kind", [
    ("cc/does-not-exist.warc.gz", "fetch_not_found"),
    ("cc/does-not-exist.warc.gz\t0\t100", "fetch_not_found"),
    ("cc\t0\t100", "fetch_not_a_file"),  # a directory
    ("cc/", "fetch_not_a_file"),
    ("cc/jwarc__cc.warc.gz\t12", "bad_input_line"),
    ("cc/jwarc__cc.warc.gz\tzero\t100", "bad_input_line"),
    ("cc/jwarc__cc.warc.gz\t0\t0", "bad_input_line"),
    ("cc/jwarc__cc.warc.gz\t0\t999999999999", "bad_input_line"),
    ("cc/jwarc__cc.warc.gz\t-5\t100", "bad_input_line"),
])
def test_missing_files_and_malformed_lines(tmp_path, caplog, line, kind):
    rows, counters = run(["--source-base", str(SHARED_DATA), write_lines(tmp_path / "m.txt", [line])], caplog)
    assert rows == []
    assert errors(counters) == {kind: 1}
    assert_logged(caplog, line.split("\t")[0], kind)


def test_binary_manifest_line_with_nul(tmp_path, caplog):
    path = tmp_path / "m.txt"
    path.write_bytes(b"cc/jwarc__cc.warc.gz\x00\x01\x02\n")
    rows, counters = run(["--source-base", str(SHARED_DATA), str(path)], caplog)
    assert errors(counters) == {"bad_input_line": 1}
    assert_logged(caplog, "NUL")


def test_one_manifest_of_good_and_bad_lines_keeps_every_good_line(tmp_path, caplog):
    garbage = tmp_path / "x.warc.gz"
    garbage.write_bytes(random.Random(3).randbytes(10_000))
    good = pointers(RESILIPARSE)[2:5]
    bad_offset = pointers(RESILIPARSE)[6]
    jwarc = pointers(JWARC)[0]
    lines = [
        "# a manifest with everything in it",
        good[0].line(),
        "cc/missing.warc.gz",
        f"{bad_offset.filename}\t{bad_offset.offset + 3}\t{bad_offset.length}",
        good[1].line(),
        "only\ttwo",
        "",
        str(garbage),
        f"{jwarc.filename}\t{jwarc.offset}\t{jwarc.length + 50}",
        WHIRLWIND,
        str(shared_path("html-aeb", "ground-truth.json")),
        good[2].line(),
    ]
    rows, counters = run(["--source-base", str(SHARED_DATA), write_lines(tmp_path / "m.txt", lines)], caplog)
    inp = counters["input"]
    assert (inp["lines"], inp["lines skipped"], inp["lines ok"], inp["lines failed"]) == (12, 2, 4, 6)
    assert errors(counters) == {"fetch_not_found": 1, "warc_not_warc": 3, "bad_input_line": 1,
                                "fetch_short_range": 1}
    expected = rows_of(reference_rows(RESILIPARSE), {p.url for p in good}) + reference_rows(WHIRLWIND)
    assert norm(rows) == norm(expected)
    assert len(error_logs(caplog)) == 6
    for needle in ("cc/missing.warc.gz", str(bad_offset.offset + 3), "only\\ttwo", str(garbage),
                   str(jwarc.length + 50), "ground-truth.json"):
        assert_logged(caplog, needle)


# -- misbehaving servers -----------------------------------------------------------------------
def job_over(server, *args):
    return ["--source-base", server.url, "--allow-private-addresses", *FAST_RETRY, *args]


def test_503_twice_then_200_pointer(tmp_path, flaky_http, caplog):
    p = pointers(RESILIPARSE)[4]
    flaky_http.script(RESILIPARSE, [Fail(503), Fail(503)])
    rows, counters = run(job_over(flaky_http, write_lines(tmp_path / "m.txt", [p.line()])), caplog)
    assert counters["retries"] == {"http_503": 2}
    assert "errors" not in counters and counters["input"]["lines ok"] == 1
    assert norm(rows) == norm(rows_of(reference_rows(RESILIPARSE), {p.url}))
    assert [h.action for h in flaky_http.hits] == ["Fail", "Fail", "Serve"]
    assert len({h.range for h in flaky_http.hits}) == 1  # the same range asked again


def test_503_twice_then_200_whole_file(tmp_path, flaky_http):
    flaky_http.script(RESILIPARSE, [Fail(503), Fail(503)])
    rows, counters = run(job_over(flaky_http, write_lines(tmp_path / "m.txt", [RESILIPARSE])))
    assert counters["retries"] == {"http_503": 2}
    assert "errors" not in counters
    assert norm(rows) == norm(reference_rows(RESILIPARSE))


def test_connection_reset_mid_range_is_retried(tmp_path, flaky_http, caplog):
    p = max(pointers(RESILIPARSE), key=lambda q: q.length)
    flaky_http.script(RESILIPARSE, [ResetAfter(p.length // 3)])
    rows, counters = run(job_over(flaky_http, write_lines(tmp_path / "m.txt", [p.line()])), caplog)
    assert counters["retries"] == {"connection_reset": 1}
    assert "errors" not in counters
    assert norm(rows) == norm(rows_of(reference_rows(RESILIPARSE), {p.url}))
    assert [h.action for h in flaky_http.hits] == ["ResetAfter", "Serve"]
    assert flaky_http.hits[0].range == flaky_http.hits[1].range == f"bytes={p.offset}-{p.offset + p.length - 1}"
    assert any("retry" in r.getMessage() for r in caplog.records if r.name == LOGGER)


def test_connection_reset_mid_file_resumes_where_it_broke(tmp_path, flaky_http):
    """A 2.5 MB WARC read as a stream; the connection resets after 1.5 MB.  The stream reopens with
    a Range request from the byte it had reached (not from 0), and the output is complete."""
    size = shared_path(*AUT.split("/")).stat().st_size
    assert size > 2_000_000
    flaky_http.script(AUT, [ResetAfter(1_500_000, pause=0.5)])
    rows, counters = run(job_over(flaky_http, write_lines(tmp_path / "m.txt", [AUT])))
    assert counters["retries"] == {"connection_reset": 1}
    assert "errors" not in counters and counters["input"]["lines ok"] == 1
    assert norm(rows) == norm(reference_rows(AUT))
    first, second = flaky_http.hits
    assert (first.action, first.range, second.action) == ("ResetAfter", None, "Serve")
    start = int(re.fullmatch(r"bytes=(\d+)-", second.range).group(1))
    assert 0 < start <= 1_500_000  # resumed mid-file, at or before the break


def test_connection_reset_right_at_the_start_of_a_stream(tmp_path, flaky_http):
    flaky_http.script(JWARC, [ResetAfter(0), ResetAfter(10)])
    rows, counters = run(job_over(flaky_http, write_lines(tmp_path / "m.txt", [JWARC])))
    assert counters["retries"] == {"connection_reset": 2}
    assert norm(rows) == norm(reference_rows(JWARC))


@pytest.mark.parametrize("whole", [False, True], ids=["pointer", "whole-file"])
def test_body_cut_short_by_an_orderly_close_is_retried(tmp_path, flaky_http, whole):
    """The server closes the connection (FIN, no reset) before the promised Content-Length: the short
    body must not pass as data (an incomplete read is a transient error), the fetch is retried."""
    p = max(pointers(RESILIPARSE), key=lambda q: q.length)
    flaky_http.script(RESILIPARSE, [CloseAfter(p.length // 2)])
    line = RESILIPARSE if whole else p.line()
    rows, counters = run(job_over(flaky_http, write_lines(tmp_path / "m.txt", [line])))
    assert "errors" not in counters, counters
    assert sum(counters["retries"].values()) == 1
    expected = reference_rows(RESILIPARSE) if whole else rows_of(reference_rows(RESILIPARSE), {p.url})
    assert norm(rows) == norm(expected)
    assert [h.action for h in flaky_http.hits] == ["CloseAfter", "Serve"]


def test_429_with_retry_after_is_retried(tmp_path, flaky_http, caplog):
    p = pointers(JWARC)[0]
    flaky_http.script(JWARC, [Fail(429, (("Retry-After", "1"),))])
    rows, counters = run(job_over(flaky_http, write_lines(tmp_path / "m.txt", [p.line()])), caplog)
    assert counters["retries"] == {"http_429": 1}
    assert "errors" not in counters
    assert norm(rows) == norm(reference_rows(JWARC))


def test_429_retry_after_is_honoured(tmp_path, flaky_http):
    p = pointers(JWARC)[0]
    flaky_http.script(JWARC, [Fail(429, (("Retry-After", "2"),))])
    rows, counters = run(job_over(flaky_http, write_lines(tmp_path / "m.txt", [p.line()])))
    assert counters["retries"] == {"http_429": 1}
    first, second = flaky_http.hits
    assert second.at - first.at >= 1.9


def test_stall_past_the_read_timeout_is_retried(tmp_path, flaky_http):
    p = pointers(JWARC)[0]
    flaky_http.script(JWARC, [Stall(20)])
    t0 = time.monotonic()
    rows, counters = run(["--source-base", flaky_http.url, "--allow-private-addresses", "--backoff-base", "0.01",
                          "--timeout", "0.5", write_lines(tmp_path / "m.txt", [p.line()])])
    assert time.monotonic() - t0 < 10
    assert sum(counters["retries"].values()) == 1
    assert "errors" not in counters
    assert norm(rows) == norm(reference_rows(JWARC))


@pytest.mark.parametrize("whole", [False, True], ids=["pointer", "whole-file"])
def test_always_503_gives_up_after_bounded_attempts(tmp_path, flaky_http, caplog, whole):
    p = pointers(JWARC)[0]
    flaky_http.script(JWARC, [], then=Fail(503))
    line = JWARC if whole else p.line()
    t0 = time.monotonic()
    rows, counters = run(job_over(flaky_http, write_lines(tmp_path / "m.txt", [line])), caplog)
    assert time.monotonic() - t0 < 10
    assert rows == []
    assert errors(counters) == {"fetch_gave_up_http_503": 1}
    assert counters["retries"] == {"http_503": 3}  # --max-attempts 4
    assert len(flaky_http.hits) == 4
    assert_logged(caplog, JWARC, "gave up after 4 attempt")


def test_always_503_gives_up_within_the_time_budget(tmp_path, flaky_http):
    flaky_http.script(JWARC, [], then=Fail(503))
    t0 = time.monotonic()
    rows, counters = run(["--source-base", flaky_http.url, "--allow-private-addresses", "--backoff-base", "0.05",
                          "--max-attempts", "100000", "--max-retry-seconds", "1.0",
                          write_lines(tmp_path / "m.txt", [JWARC])])
    elapsed = time.monotonic() - t0
    assert errors(counters) == {"fetch_gave_up_http_503": 1}
    assert elapsed < 6
    assert 2 <= len(flaky_http.hits) < 1000


@pytest.mark.parametrize("status, kind", [(404, "fetch_not_found"), (403, "fetch_http_403"),
                                          (416, "fetch_range_not_satisfiable"), (400, "fetch_http_400")])
def test_permanent_http_errors_are_not_retried(tmp_path, flaky_http, caplog, status, kind):
    p = pointers(JWARC)[0]
    flaky_http.script(JWARC, [], then=Fail(status))
    rows, counters = run(job_over(flaky_http, write_lines(tmp_path / "m.txt", [p.line()])), caplog)
    assert errors(counters) == {kind: 1}
    assert "retries" not in counters
    assert len(flaky_http.hits) == 1
    assert_logged(caplog, JWARC, kind.removeprefix("fetch_"))


def test_good_and_bad_servers_in_one_manifest(tmp_path, flaky_http, caplog):
    """503 twice, a reset, always 503 and a plain file, in one manifest: only the always-503 line fails."""
    flaky_http.script(RESILIPARSE, [Fail(503), Fail(503)])
    flaky_http.script(AUT, [ResetAfter(1_200_000)])
    flaky_http.script(JWARC, [], then=Fail(503))
    lines = [RESILIPARSE, AUT, pointers(JWARC)[0].line(), WHIRLWIND]
    rows, counters = run(job_over(flaky_http, write_lines(tmp_path / "m.txt", lines)), caplog)
    assert counters["input"]["lines ok"] == 3 and counters["input"]["lines failed"] == 1
    assert errors(counters) == {"fetch_gave_up_http_503": 1}
    assert counters["retries"] == {"http_503": 2 + 3, "connection_reset": 1}
    assert norm(rows) == norm(reference_rows(RESILIPARSE) + reference_rows(AUT) + reference_rows(WHIRLWIND))
    assert_logged(caplog, JWARC)


# -- S3 with scripted failures ----------------------------------------------------------------
@pytest.fixture
def flaky_s3(tmp_path, flaky_http_factory, monkeypatch):
    """FlakyHTTPServer as the S3 endpoint (path-style GetObject) over bucket `bkt` holding the shared
    WARCs under their relative names; dummy credentials in the environment."""
    servers.set_dummy_aws_env(monkeypatch)
    root = link_tree(tmp_path / "s3", {f"bkt/{n}": SHARED_DATA / n for n in (RESILIPARSE, JWARC, AUT)
                                       if (SHARED_DATA / n).exists()})
    server = flaky_http_factory(root)
    return server


def s3_job(server, *args):
    return ["--source-base", "s3://bkt/", "--s3-endpoint-url", server.url.rstrip("/"), *FAST_RETRY, *args]


def test_s3_stand_in_serves_like_moto(tmp_path, flaky_s3):
    """The stand-in is good enough for the job: pointers and a whole file read cleanly through it."""
    ps = pointers(RESILIPARSE)[:3]
    rows, counters = run(s3_job(flaky_s3, write_lines(tmp_path / "m.txt", [p.line() for p in ps] + [JWARC])))
    assert "errors" not in counters and "retries" not in counters
    assert norm(rows) == norm(rows_of(reference_rows(RESILIPARSE), {p.url for p in ps}) + reference_rows(JWARC))
    assert {h.path for h in flaky_s3.hits} == {f"/bkt/{RESILIPARSE}", f"/bkt/{JWARC}"}


@pytest.mark.parametrize("whole", [False, True], ids=["pointer", "whole-file"])
def test_s3_503_twice_then_200_counts_both_retries(tmp_path, flaky_s3, whole):
    """S3 "503 Slow Down" twice, then the object.  Every retry must be the job's own, and counted.

    botocore's own retries are off (`total_max_attempts: 1`; `max_attempts: 1` would mean one *retry*),
    so each 503 reaches the job's policy and is counted: 2 failures, 2 counted retries, 3 requests."""
    shared_path(JWARC)
    line = JWARC if whole else pointers(JWARC)[0].line()
    flaky_s3.script(f"bkt/{JWARC}", [Fail(503), Fail(503)])
    rows, counters = run(s3_job(flaky_s3, write_lines(tmp_path / "m.txt", [line])))
    assert "errors" not in counters
    assert norm(rows) == norm(reference_rows(JWARC))
    assert len(flaky_s3.hits) == 3
    assert counters["retries"] == {"s3_503": 2}


def test_s3_always_503_sends_max_attempts_requests(tmp_path, flaky_s3):
    """--max-attempts 4 against an S3 that always answers 503: four requests, then a counted error.
    (With botocore retrying too, eight would reach the server.)"""
    flaky_s3.script(f"bkt/{JWARC}", [], then=Fail(503))
    rows, counters = run(s3_job(flaky_s3, write_lines(tmp_path / "m.txt", [pointers(JWARC)[0].line()])))
    assert errors(counters) == {"fetch_gave_up_s3_503": 1}
    assert len(flaky_s3.hits) == 4


@pytest.mark.parametrize("whole", [False, True], ids=["pointer", "whole-file"])
def test_s3_connection_reset_is_retried(tmp_path, flaky_s3, whole):
    p = max(pointers(RESILIPARSE), key=lambda q: q.length)
    flaky_s3.script(f"bkt/{RESILIPARSE}", [ResetAfter(p.length // 2)])
    line = RESILIPARSE if whole else p.line()
    rows, counters = run(s3_job(flaky_s3, write_lines(tmp_path / "m.txt", [line])))
    assert "errors" not in counters
    assert counters["retries"] == {"connection_reset": 1}
    expected = reference_rows(RESILIPARSE) if whole else rows_of(reference_rows(RESILIPARSE), {p.url})
    assert norm(rows) == norm(expected)


def test_s3_stream_resumes_mid_file_with_a_range(tmp_path, flaky_s3):
    shared_path(AUT)
    flaky_s3.script(f"bkt/{AUT}", [ResetAfter(1_500_000, pause=0.5)])
    rows, counters = run(s3_job(flaky_s3, write_lines(tmp_path / "m.txt", [AUT])))
    assert "errors" not in counters and counters["retries"] == {"connection_reset": 1}
    assert norm(rows) == norm(reference_rows(AUT))
    first, second = flaky_s3.hits
    assert first.range is None and 0 < int(re.fullmatch(r"bytes=(\d+)-", second.range).group(1)) <= 1_500_000


@pytest.mark.parametrize("whole", [False, True], ids=["pointer", "whole-file"])
def test_s3_body_cut_short_by_an_orderly_close_is_retried(tmp_path, flaky_s3, whole):
    """S3 closes the connection before the promised Content-Length.

    botocore's StreamingBody raises `IncompleteReadError` at the end of a short body: it is a transient
    error like a reset, so the stream resumes from the byte it reached (it once escaped through warcio and
    failed the job)."""
    p = max(pointers(RESILIPARSE), key=lambda q: q.length)
    flaky_s3.script(f"bkt/{RESILIPARSE}", [CloseAfter(p.length // 2)])
    line = RESILIPARSE if whole else p.line()
    rows, counters = run(s3_job(flaky_s3, write_lines(tmp_path / "m.txt", [line])))
    assert "errors" not in counters, counters
    assert sum(counters["retries"].values()) == 1
    expected = reference_rows(RESILIPARSE) if whole else rows_of(reference_rows(RESILIPARSE), {p.url})
    assert norm(rows) == norm(expected)


def test_server_that_ignores_range_is_refused_not_misread(tmp_path, caplog):
    """Python's own http.server answers a Range request with 200 and the whole file (the trap in
    the stack notes): the pointer must fail as `fetch_range_ignored`, not read the wrong record."""
    shared_path(RESILIPARSE)
    shared_path(JWARC)
    server = start_static_http_server(SHARED_DATA, "http.server")
    try:
        p = pointers(RESILIPARSE)[5]
        rows, counters = run(job_over(server, write_lines(tmp_path / "m.txt", [p.line(), JWARC])), caplog)
    finally:
        server.stop()
    assert errors(counters) == {"fetch_range_ignored": 1}
    assert counters["input"]["lines ok"] == 1  # the whole file needs no Range
    assert norm(rows) == norm(reference_rows(JWARC))
    assert_logged(caplog, RESILIPARSE, "range_ignored")


def test_connection_refused_is_retried_then_counted(tmp_path, caplog):
    port = servers.free_port()  # nothing listens there
    rows, counters = run(["--source-base", f"http://127.0.0.1:{port}/", "--allow-private-addresses",
                          "--backoff-base", "0.01", "--max-attempts", "3",
                          write_lines(tmp_path / "m.txt", [JWARC, pointers(JWARC)[0].line()])], caplog)
    assert errors(counters) == {"fetch_gave_up_connection": 2}
    assert counters["retries"] == {"connection": 4}
    assert_logged(caplog, f"127.0.0.1:{port}")


# -- the inline runner's binary stderr ---------------------------------------------------------
def test_error_log_line_without_logging_setup_does_not_crash_the_job(tmp_path, monkeypatch):
    """Outside pytest nobody configures logging: `_ensure_log_handler` then adds a StreamHandler on
    the task's sys.stderr, which mrjob's inline runner makes a *binary* file.

    Regression (fixed in 7e8f439): the first error line raised TypeError in logging (and again in
    logging's handleError), and the job failed on the very bad line it meant to count.  This reproduces `python -m
    jobs.extract_images -r inline garbage.warc.gz` (see the subprocess test below)."""
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    jobs_log = logging.getLogger(LOGGER)
    monkeypatch.setattr(jobs_log, "handlers", [])
    monkeypatch.setattr(jobs_log, "level", jobs_log.level)
    path = tmp_path / "x.warc.gz"
    path.write_bytes(random.Random(5).randbytes(5000))
    rows, counters = run_job(ExtractImagesJob, ["-r", "inline", str(path)])
    assert errors(counters) == {"warc_not_warc": 1}


def test_cli_inline_run_over_a_garbage_file_finishes_and_names_it(tmp_path):
    """The command a user runs: the counters, a log line naming the bad file, and since its only input
    line failed, exit status NO_LINE_OK (3), the one exit status that input can cause (README).

    Regression (fixed in 7e8f439): it exited 1 with `TypeError: a bytes-like object is required,
    not 'str'` (see above)."""
    from jobs.base import NO_LINE_OK

    path = tmp_path / "x.warc.gz"
    path.write_bytes(random.Random(6).randbytes(5000))
    proc = subprocess.run([sys.executable, "-m", "jobs.extract_images", "--no-conf", "-r", "inline", str(path)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == NO_LINE_OK, proc.stderr[-3000:]
    assert proc.stdout == ""
    assert "warc_not_warc" in proc.stderr and str(path) in proc.stderr
    assert "no input line succeeded" in proc.stderr and "Traceback" not in proc.stderr
