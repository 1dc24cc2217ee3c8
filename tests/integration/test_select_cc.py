"""`ccimg select` in Common Crawl's dialect: the recorded real exchanges with index.commoncrawl.org, replayed.

collinfo.json (115 crawls, newest first, absolute cdx-api links), crawl ids, the JSON-lines answers, the
{"message": ...} bodies of 404 "No Captures found" and 400 "Page 1 invalid", showNumPages: all as the real
server sent them in September 2025 (see tests/cc_replay.py for how requests find their recording).
"""
from __future__ import annotations

import json
import re

import pytest

from ccimg.cli import main
from tests.support.cc_replay import ReplayServer
from tests.conftest import shared_path

RECORDED = "cdx/cdx_toolkit_mock_responses"


@pytest.fixture(scope="module")
def replay():
    server = ReplayServer(shared_path(RECORDED)).load().serve()
    yield server
    server.stop()


@pytest.fixture
def cc(replay, capsys, tmp_path):
    """Run `ccimg select` against the replayed index server; returns (rc, manifest lines, stderr, requests)."""
    def run(*args: str):
        before = len(replay.requests)
        out = tmp_path / "sel.tsv"
        rc = main(["select", "--cdx-api", replay.base, "--backoff", "0.01", "--retries", "1", "--overwrite", *args,
                   "-o", str(out)])
        err = capsys.readouterr().err
        lines = out.read_text().splitlines() if out.exists() else None
        return rc, lines, err, replay.requests[before:]
    return run


def recorded_lines(name: str) -> list[dict]:
    """The CDX lines of one recorded answer."""
    rows = []
    for raw in shared_path(RECORDED, "test_cli", name).read_text().splitlines():
        rec = json.loads(raw)
        rows += [json.loads(ln) for ln in rec["response_text"].splitlines()]
    return rows


def first_by_digest(rows, limit=None):
    out, seen = [], set()
    for r in rows:
        if r["digest"] not in seen:
            seen.add(r["digest"])
            out.append(f"{r['filename']}\t{r['offset']}\t{r['length']}\t{r['url']}")
    return out[:limit]


def test_crawl_id_prefix_and_status_filter(cc):
    rc, lines, err, sent = cc("--crawl", "CC-MAIN-2025-33", "--url", "commoncrawl.org/*", "--filter", "status:200")
    assert rc == 0, err
    assert lines == first_by_digest(recorded_lines("test_multi_cc1_slow_6.jsonl"))
    assert all(ln.startswith("crawl-data/CC-MAIN-2025-33/segments/") for ln in lines)
    # collinfo, the page count ({"pages": 1, ...}), page 0: no page 1, since the count said there is none
    assert [s.split("?")[0] for s in sent] == ["/collinfo.json", "/CC-MAIN-2025-33-index", "/CC-MAIN-2025-33-index"]
    assert "showNumPages=true" in sent[1] and "page=0" in sent[2] and "filter=status%3A200" in sent[2]
    assert "duplicate digests" in err  # www.commoncrawl.org/ and commoncrawl.org/ share payloads


def test_newest_crawl_and_limit(cc):
    rc, lines, err, sent = cc("--crawl", "1", "--url", "commoncrawl.org/*", "--no-filter", "--limit", "3")
    assert rc == 0, err
    assert lines == first_by_digest(recorded_lines("test_multi_cc1_slow_1.jsonl"), limit=3)
    assert "CC-MAIN-2025-33" in sent[1] and "limit=13" in sent[2]  # the newest; asked for 3 + 3 // 4 + 10


def test_crawl_endpoint_url_is_checked_against_collinfo(replay, capsys, tmp_path):
    out = str(tmp_path / "s.tsv")
    rc = main(["select", "--cdx-api", replay.base + "CC-MAIN-2025-33-index", "--url", "example.com", "--limit", "1",
               "--no-filter", "-o", out])
    assert rc == 0
    (line,) = open(out).read().splitlines()
    assert line.endswith("\t34323482\t1219\thttp://www.example.com/")
    capsys.readouterr()
    rc = main(["select", "--cdx-api", replay.base + "CC-MAIN-2025-34-index", "--url", "example.com", "-o", out])
    err = capsys.readouterr().err
    assert rc == 2 and f"{out} exists: pass --overwrite to replace it" in err  # refused before any request
    rc = main(["select", "--cdx-api", replay.base + "CC-MAIN-2025-34-index", "--url", "example.com", "-o", out,
               "--overwrite"])
    err = capsys.readouterr().err
    assert rc == 2 and "has no collection 'CC-MAIN-2025-34'; did you mean CC-MAIN-2025-33" in err


def test_negative_filters(cc):
    rc, lines, err, _ = cc("--crawl", "CC-MAIN-2025-33", "--url", "commoncrawl.org/*",
                           "--filter", "!status:200", "--filter", "!status:404")
    assert rc == 0, err
    rows = recorded_lines("test_multi_cc1_slow_7.jsonl")
    assert rows and all(r["status"] not in ("200", "404") for r in rows)
    assert lines == first_by_digest(rows)


def test_unknown_crawl_id(cc):
    rc, lines, err, sent = cc("--crawl", "CC-MAIN-2025-34", "--url", "commoncrawl.org/*")
    assert rc == 2 and lines is None
    assert "unknown crawl id 'CC-MAIN-2025-34'; did you mean CC-MAIN-2025-33" in err and "(115 in all)" in err
    assert sent == ["/collinfo.json"]
    rc, _, err, _ = cc("--crawl", "CC-MAIN-2025-33,3", "--url", "commoncrawl.org/*")
    assert rc == 2 and "not both" in err


def test_nothing_found_in_several_crawls(cc, replay):
    """404 {"message": "No Captures found ..."} on page 0, 400 {"message": "Page 1 invalid ..."} on page 1."""
    rc, lines, err, sent = cc("--crawl", "3", "--url", "commoncrawl.org/*", "--to", "2017", "--no-filter")
    assert rc == 3 and lines == []
    assert "nothing matched commoncrawl.org/*" in err and "CC-MAIN-2025-33, CC-MAIN-2025-30, CC-MAIN-2025-26" in err
    pages = [(m.group(1), m.group(2)) for s in sent if (m := re.search(r"/(CC-MAIN-\S+)-index\?.*page=(\d)", s))]
    assert pages == [(c, p) for c in ("CC-MAIN-2025-33", "CC-MAIN-2025-30", "CC-MAIN-2025-26") for p in "01"]
    # showNumPages was not recorded for this query: the page count is then unknown and pages run to the 400
    assert all("showNumPages" in u for u in replay.unmatched)


def test_no_captures_for_an_exact_url(cc):
    rc, lines, err, _ = cc("--crawl", "CC-MAIN-2025-33", "--url", "commoncrawl.org/thisurlneverdidexist",
                           "--no-filter")
    assert rc == 3 and "nothing matched commoncrawl.org/thisurlneverdidexist (exact)" in err


def test_wayback_machine_answers_have_no_warc_location(replay, capsys, tmp_path):
    """Another dialect (a JSON array with IA's field names) that cdx_toolkit decodes, but no WARC locations."""
    rc = main(["select", "--cdx-api", replay.base + "cdx/search/cdx", "--url", "commoncrawl.org/*", "--no-filter",
               "-o", str(tmp_path / "s.tsv")])
    err = capsys.readouterr().err
    assert rc == 2 and "selected 0 captures of 10 returned (dropped 10 without filename/offset/length)" in err
    assert "does not point into WARC files" in err
