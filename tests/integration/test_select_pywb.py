"""`ccimg select` against a real pywb `wayback` server holding the real archives of ../shared/data.

The expected selections come from the shipped index files themselves (parsed here, with pywb's own key-range
function for the match types), not from the code under test; the server's access log shows which requests
were really made.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pywb.utils.canonicalize as canonicalize
from ccimg.cli import main
from tests.conftest import REPO
from benchmarks.pywb_local import SAMPLE, zipnum_lines
from tests.support.pywb import shared_wayback
from tests.support.servers import Fail, FlakyHTTPServer, Serve, free_port
from tests.support.signals import default_sigint




@pytest.fixture(scope="session")
def pywb(tmp_path_factory):
    return shared_wayback(tmp_path_factory)


@pytest.fixture
def flaky(cdx_dir):
    """A scriptable HTTP server whose x/cdx holds a real pywb answer (see cdx_dir)."""
    with FlakyHTTPServer(cdx_dir[0]) as server:
        yield server


def select(capsys, *args: str) -> tuple[int, str, str]:
    rc = main(["select", "--overwrite", *args])  # the tests reuse one output path
    out, err = capsys.readouterr()
    return rc, out, err


def manifest(path: Path) -> list[str]:
    return path.read_text().splitlines()


# -- the oracle: the shipped index files ------------------------------------------------------
def cdx11_rows() -> list[dict]:
    """cdx_iana.cdx: ' CDX N b a m s k r M S V g' = urlkey timestamp url mime status digest redirect meta
    length offset filename."""
    rows = []
    for line in (SAMPLE / "cdx_iana.cdx").read_text().splitlines()[1:]:
        f = line.split(" ")
        rows.append(dict(urlkey=f[0], timestamp=f[1], url=f[2], mime=f[3], status=f[4], digest=f[5],
                         length=f[8], offset=f[9], filename=f[10]))
    return rows


def zipnum_rows() -> list[dict]:
    rows = []
    for line in zipnum_lines(SAMPLE / "zipcdx_zipnum-sample.idx", SAMPLE / "zipcdx_zipnum-sample.cdx.gz"):
        f = line.split(" ")
        rows.append(dict(urlkey=f[0], timestamp=f[1], url=f[2], mime=f[3], status=f[4], digest=f[5],
                         length=f[8], offset=f[9], filename=f[10]))
    return rows


def expected(rows, url, match, keep=lambda r: True, dedupe=True, limit=None) -> list[str]:
    lo, hi = canonicalize.calc_search_range(url, match)
    out, seen = [], set()
    for r in sorted(rows, key=lambda r: (r["urlkey"], r["timestamp"])):
        if not (lo <= r["urlkey"] < hi) or r["mime"] == "warc/revisit" or not keep(r):
            continue
        if dedupe:
            if r["digest"] in seen:
                continue
            seen.add(r["digest"])
        out.append(f"{r['filename']}\t{r['offset']}\t{r['length']}\t{r['url']}")
    return out[:limit]


def html200(r):
    return "200" in r["status"] and "text/html" in r["mime"]


# -- match types, filters, limits -------------------------------------------------------------
@pytest.mark.parametrize("pattern, match, oracle_url, oracle_match", [
    ("*.iana.org", None, "iana.org", "domain"),
    ("iana.org", "host", "iana.org", "host"),
    ("iana.org/domains/*", None, "iana.org/domains/", "prefix"),
    ("www.iana.org/domains/root", "prefix", "www.iana.org/domains/root", "prefix"),
    ("http://www.iana.org/numbers", None, "http://www.iana.org/numbers", "exact"),
])
def test_match_types_with_default_filters(pywb, capsys, tmp_path, pattern, match, oracle_url, oracle_match):
    out = tmp_path / "sel.tsv"
    args = ["--cdx-api", pywb.cdx("iana"), "--url", pattern, "-o", str(out)] + (["--match", match] if match else [])
    rc, stdout, err = select(capsys, *args)
    assert rc == 0, err
    want = expected(cdx11_rows(), oracle_url, oracle_match, html200)
    assert want and manifest(out) == want
    assert stdout.strip() == str(out)  # the manifest's path, for scripts


@pytest.mark.parametrize("filters, keep", [
    (["=mime:text/html"], lambda r: r["mime"] == "text/html"),
    (["!status:200"], lambda r: "200" not in r["status"]),
    (["~url:.*\\.(css|js)$"], lambda r: re.match(r".*\.(css|js)$", r["url"])),
    (["statuscode:200", "!mimetype:html"], lambda r: "200" in r["status"] and "html" not in r["mime"]),
])
def test_filters_are_pywbs(pywb, capsys, tmp_path, filters, keep):
    out = tmp_path / "sel.tsv"
    args = ["--cdx-api", pywb.cdx("iana"), "--url", "*.iana.org", "-o", str(out)]
    for f in filters:
        args += ["--filter", f]
    rc, _, err = select(capsys, *args)
    assert rc == 0, err
    want = expected(cdx11_rows(), "iana.org", "domain", keep)
    assert want and manifest(out) == want


def test_no_filter_limit_and_dedupe(pywb, capsys, tmp_path):
    rows = cdx11_rows()
    out = tmp_path / "all.tsv"
    rc, _, err = select(capsys, "--cdx-api", pywb.cdx("iana"), "--url", "*.iana.org", "--no-filter", "-o", str(out))
    assert rc == 0
    everything = expected(rows, "iana.org", "domain")
    assert manifest(out) == everything
    revisits = sum(r["mime"] == "warc/revisit" for r in rows)
    assert f"selected {len(everything)} captures of 171 returned" in err and f"{revisits} revisits" in err

    rc, _, _ = select(capsys, "--cdx-api", pywb.cdx("iana"), "--url", "*.iana.org", "--no-filter", "--no-dedupe",
                      "-o", str(out))
    assert manifest(out) == expected(rows, "iana.org", "domain", dedupe=False)
    assert len(manifest(out)) > len(everything)  # the sample really has repeated payloads

    before = len(pywb.cdx_requests("iana"))
    rc, _, _ = select(capsys, "--cdx-api", pywb.cdx("iana"), "--url", "*.iana.org", "--no-filter", "--limit", "7",
                      "-o", str(out))
    assert manifest(out) == everything[:7]
    asked = [re.search(r"[?&]limit=(\d+)", line) for line in pywb.cdx_requests("iana")[before:]
             if "output=json" in line]
    # limit= counts revisits and duplicates too: 7 + 7 // 4 + 10 first, then 4 times more until 7 are kept
    assert [int(m.group(1)) for m in asked] == [18, 72]
    rc, _, _ = select(capsys, "--cdx-api", pywb.cdx("iana"), "--url", "*.iana.org", "--no-filter", "--no-dedupe",
                      "--limit", "40", "-o", str(out))
    assert manifest(out) == expected(rows, "iana.org", "domain", dedupe=False)[:40]  # asked again, none twice


def test_several_patterns_and_a_pattern_file(pywb, capsys, tmp_path):
    patterns = tmp_path / "sites.txt"
    patterns.write_text("# sites\niana.org/numbers\n\niana.org/protocols\n")
    out = tmp_path / "sel.tsv"
    rc, _, err = select(capsys, "--cdx-api", pywb.cdx("iana"), "--url", "iana.org/domains/*",
                        "--url-file", str(patterns), "-o", str(out))
    assert rc == 0, err
    rows = cdx11_rows()
    want = [line for url, match in [("iana.org/domains/", "prefix"), ("iana.org/numbers", "exact"),
                                    ("iana.org/protocols", "exact")] for line in expected(rows, url, match, html200)]
    assert manifest(out) == want


def test_domain_reaches_subdomains_host_does_not(pywb, capsys, tmp_path):
    """Against the Common Crawl excerpts, indexed by pywb itself."""
    out = tmp_path / "sel.tsv"
    rc, _, _ = select(capsys, "--cdx-api", pywb.cdx("cc"), "--url", "*.psb556.com", "-o", str(out))
    assert rc == 0
    assert [ln.split("\t")[3] for ln in manifest(out)] == ["http://035.psb556.com/24/i/u_1090813/article.html"]
    rc, _, err = select(capsys, "--cdx-api", pywb.cdx("cc"), "--url", "psb556.com", "--match", "host",
                        "-o", str(out))
    assert rc == 3 and "nothing matched psb556.com (host)" in err
    rc, _, _ = select(capsys, "--cdx-api", pywb.cdx("cc"), "--url", "*.com", "-o", str(out))
    urls = [ln.split("\t")[3] for ln in manifest(out)]
    assert len(urls) == 8 and all(re.match(r"https?://[^/]+\.com/", u) for u in urls)
    assert all(ln.split("\t")[0] == "resiliparse__warcfile.warc.gz" for ln in manifest(out))


# -- paging and resuming ----------------------------------------------------------------------
@pytest.mark.parametrize("page_size", [1, 3, 10])
def test_paging_a_zipnum_index(pywb, capsys, tmp_path, page_size):
    out = tmp_path / "sel.tsv"
    before = len(pywb.cdx_requests("paged"))
    rc, _, err = select(capsys, "--cdx-api", pywb.cdx("paged"), "--url", "*.iana.org", "--no-filter",
                        "--page-size", str(page_size), "-o", str(out))
    assert rc == 0, err
    assert manifest(out) == expected(zipnum_rows(), "iana.org", "domain")
    sent = pywb.cdx_requests("paged")[before:]
    pages = [int(m.group(1)) for line in sent if (m := re.search(r"[?&]page=(\d+)", line))]
    blocks = 38
    assert sorted(pages) == list(range(-(-blocks // page_size)))  # each page once, none past the end
    assert sum("showNumPages=true" in line for line in sent) == 1


def test_paged_and_unpaged_indexes_agree(pywb, capsys, tmp_path):
    """The ZipNum sample and the plain CDX list the same captures of iana.org's HTML pages."""
    a, b = tmp_path / "a.tsv", tmp_path / "b.tsv"
    assert select(capsys, "--cdx-api", pywb.cdx("paged"), "--url", "*.iana.org", "-o", str(a))[0] == 0
    assert select(capsys, "--cdx-api", pywb.cdx("iana"), "--url", "*.iana.org", "-o", str(b))[0] == 0
    assert sorted(manifest(a)) == sorted(manifest(b))


def test_parts(pywb, capsys, tmp_path):
    one, parts = tmp_path / "one.tsv", tmp_path / "parts"
    select(capsys, "--cdx-api", pywb.cdx("paged"), "--url", "*.iana.org", "--no-filter", "-o", str(one))
    rc, stdout, _ = select(capsys, "--cdx-api", pywb.cdx("paged"), "--url", "*.iana.org", "--no-filter",
                           "--parts", "3", "-o", str(parts))
    assert rc == 0
    files = sorted(parts.glob("part-*.tsv"))
    assert [f.name for f in files] == ["part-00000.tsv", "part-00001.tsv", "part-00002.tsv"]
    assert stdout.split() == [str(f) for f in files]
    assert [ln for f in files for ln in manifest(f)] == manifest(one)
    sizes = [sum(int(ln.split("\t")[2]) for ln in manifest(f)) for f in files]
    biggest = max(int(ln.split("\t")[2]) for ln in manifest(one))
    assert max(sizes) - min(sizes) <= biggest  # balanced by bytes, to within one record


def test_interrupted_selection_resumes_without_repeating_pages(pywb, tmp_path):
    """A real interruption (SIGINT to a running `ccimg select`), then the same command again."""
    out = tmp_path / "sel.tsv"
    cmd = [sys.executable, "-m", "ccimg.cli", "select", "--cdx-api", pywb.cdx("paged"), "--url", "*.iana.org",
           "--no-filter", "--page-size", "2", "--min-interval", "0.1", "--quiet", "-o", str(out)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    journal = tmp_path / "sel.tsv.select-state" / "journal.jsonl"
    before = len(pywb.cdx_requests("paged"))
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not journal.exists() or journal.read_text().count('"done"') < 5):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted; rerun the same command to resume" in err
    done_first = {json.loads(ln)["page"] for ln in journal.read_text().splitlines() if '"done"' in ln}
    assert 5 <= len(done_first) < 19 and not out.exists()
    assert len(pywb.cdx_requests("paged")) > before
    mid = len(pywb.cdx_requests("paged"))

    second = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert second.returncode == 0, second.stderr
    assert manifest(out) == expected(zipnum_rows(), "iana.org", "domain")
    second_run = pywb.cdx_requests("paged")[mid:]
    fetched_again = {int(m.group(1)) for line in second_run if (m := re.search(r"[?&]page=(\d+)", line))}
    assert fetched_again and not fetched_again & done_first  # no finished page was fetched again
    assert fetched_again | done_first == set(range(19))
    assert not any("showNumPages" in line for line in second_run)  # the plan was journaled too
    assert not journal.parent.exists()


# -- errors ------------------------------------------------------------------------------------
def test_unknown_collection_and_empty_result(pywb, capsys, tmp_path):
    out = tmp_path / "sel.tsv"
    rc, _, err = select(capsys, "--cdx-api", pywb.cdx("iana-typo"), "--url", "*.iana.org", "-o", str(out))
    # pywb itself answers 200 and nothing for an unknown collection: only its collinfo.json tells
    assert rc == 2 and "has no collection 'iana-typo'; did you mean iana?" in err
    rc, _, err = select(capsys, "--cdx-api", pywb.base, "--crawl", "nope", "--url", "*.iana.org", "-o", str(out))
    assert rc == 2 and "unknown crawl id 'nope'" in err and "Available: iana, paged, cc" in err
    rc, _, err = select(capsys, "--cdx-api", pywb.cdx("iana"), "--url", "example.org/", "-o", str(out))
    assert rc == 3 and "nothing matched example.org/ (exact)" in err
    assert manifest(out) == []  # an empty manifest, not a stale one


def test_crawl_choice_on_a_pywb_root(pywb, capsys, tmp_path):
    out = tmp_path / "sel.tsv"
    rc, _, err = select(capsys, "--cdx-api", pywb.base, "--crawl", "iana,paged", "--url", "*.iana.org",
                        "-o", str(out))
    assert rc == 0, err
    assert len(manifest(out)) == 16  # the same 16 pages in both: deduplicated by digest across collections
    assert "of iana, paged" in err


@pytest.mark.parametrize("args, says", [
    (["--url", "exa mple.com"], "white space"),
    (["--url", "example.*.org"], "'*' may only lead"),
    (["--url", "http://[bad"], "Invalid IPv6 URL"),
    (["--url", "example.com/a", "--match", "domain"], "takes a host name"),
    (["--url", "*.example.com", "--filter", "~url:("], "bad regular expression"),
    (["--url", "*.example.com", "--from", "2017-01"], "not a CDX timestamp"),
    ([], "nothing to select"),
])
def test_bad_input_fails_before_any_request(capsys, tmp_path, args, says):
    closed = f"http://127.0.0.1:{free_port()}/x/cdx"  # a request would fail differently (exit 1)
    rc, _, err = select(capsys, "--cdx-api", closed, "--retries", "0", *args, "-o", str(tmp_path / "s.tsv"))
    assert rc == 2 and says in err


def test_unreachable_server(capsys, tmp_path):
    closed = f"http://127.0.0.1:{free_port()}/x/cdx"
    rc, _, err = select(capsys, "--cdx-api", closed, "--retries", "1", "--backoff", "0.01", "--url", "a.org",
                        "-o", str(tmp_path / "s.tsv"))
    assert rc == 1 and "cannot reach 127.0.0.1" in err and "(2 tries" in err


@pytest.fixture
def cdx_dir(pywb, tmp_path):
    """A directory whose x/cdx file holds a real pywb answer (the iana sample's HTML pages)."""
    import requests

    answer = requests.get(pywb.cdx("iana"), params={"url": "iana.org", "matchType": "domain", "output": "json",
                                                     "filter": ["status:200", "mime:text/html"]}).text
    (tmp_path / "srv" / "x").mkdir(parents=True)
    (tmp_path / "srv" / "x" / "cdx").write_text(answer)
    return tmp_path / "srv", [json.loads(ln) for ln in answer.splitlines()]


def test_503_is_retried_with_backoff_then_given_up(flaky, cdx_dir, capsys, tmp_path):
    server, answer = flaky, cdx_dir[1]
    server.script("x/cdx", [Fail(503), Fail(503)], then=Serve())
    out = tmp_path / "sel.tsv"
    rc, _, err = select(capsys, "--cdx-api", server.url + "x/cdx", "--url", "*.iana.org", "--backoff", "0.2",
                        "-o", str(out))
    assert rc == 0, err
    # (the delays themselves, full jitter in [0, backoff * 2**n], are network.retry's: tests/unit/test_network_retry.py)
    assert [h.action for h in server.hits_for("x/cdx")] == ["Fail", "Fail", "Serve", "Serve"]
    assert [ln.split("\t")[3] for ln in manifest(out)] == [c["url"] for c in answer]

    server.script("x/cdx", [], then=Fail(503))
    rc, _, err = select(capsys, "--cdx-api", server.url + "x/cdx", "--url", "*.iana.org", "--retries", "2",
                        "--backoff", "0.01", "-o", str(out))
    assert rc == 1
    assert "answered 503 Service Unavailable: 503 scripted failure (3 tries" in err and "resumes" in err


def test_429_retry_after_is_honoured(flaky, capsys, tmp_path):
    server = flaky
    server.script("x/cdx", [Fail(429, (("Retry-After", "1"),))], then=Serve())
    started = time.monotonic()
    rc, _, err = select(capsys, "--cdx-api", server.url + "x/cdx", "--url", "*.iana.org", "--backoff", "0.01",
                        "-o", str(tmp_path / "s.tsv"))
    assert rc == 0, err
    assert time.monotonic() - started >= 1.0


def test_400_and_404_say_what_to_do(flaky, capsys, tmp_path):
    server = flaky
    server.script("x/cdx", [Serve()], then=Fail(400))  # page count fine, the query itself rejected
    rc, _, err = select(capsys, "--cdx-api", server.url + "x/cdx", "--url", "*.iana.org", "-o", str(tmp_path / "s"))
    assert rc == 2 and "rejected the query for *.iana.org in x (400): 400 scripted failure" in err
    rc, _, err = select(capsys, "--cdx-api", server.url + "nothere/cdx", "--url", "*.iana.org",
                        "-o", str(tmp_path / "s"))
    assert rc == 2 and "answered 404 Not Found" in err and "is --cdx-api right?" in err


def test_never_from_inside_a_mapper(pywb, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("mapreduce_task_id", "task_1_map_0000")
    before = len(pywb.cdx_requests("iana"))
    rc, _, err = select(capsys, "--cdx-api", pywb.cdx("iana"), "--url", "*.iana.org", "-o", str(tmp_path / "s"))
    assert rc == 2 and "refusing to query the index from inside a map task" in err
    assert len(pywb.cdx_requests("iana")) == before


def test_output_checked_before_any_request(capsys, tmp_path):
    closed = f"http://127.0.0.1:{free_port()}/x/cdx"
    rc, _, err = select(capsys, "--cdx-api", closed, "--retries", "0", "--url", "a.org", "-o", str(tmp_path))
    assert rc == 2 and "is a directory" in err
    (tmp_path / "f").write_text("")
    rc, _, err = select(capsys, "--cdx-api", closed, "--retries", "0", "--url", "a.org", "--parts", "2",
                        "-o", str(tmp_path / "f"))
    assert rc == 2 and "writes a directory of part files" in err
