"""`ccimg select --parquet`: the columnar index, queried with DuckDB, selects what the CDX API selects.

The table is built here from real CDX lines, in the layout and with the column names of Common Crawl's
cc-index table (``crawl=.../subset=.../*.parquet``; url_surtkey, fetch_status, content_mime_type, ...):

- ``crawl=pywb-sample``: the 171 lines of the pywb sample CDX (the ``iana`` collection of tests/pywb_server.py
  serves the very same file, so its CDX API answers are the reference);
- ``crawl=CC-MAIN-2025-33`` etc.: every distinct capture in the recorded Common Crawl index answers, put in
  the subset (warc, robotstxt, crawldiagnostics) their WARC path names.
"""
from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlsplit

import duckdb  # noqa: F401 - the Parquet path needs it (a dev dependency: a missing one must fail)
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ccimg.cli import main
from tests.support.cc_replay import ReplayServer
from tests.conftest import shared_path
from tests.support.pywb import shared_wayback



@pytest.fixture(scope="session")
def pywb(tmp_path_factory):
    return shared_wayback(tmp_path_factory)


def _row(urlkey, timestamp, url, mime, status, digest, length, offset, filename):
    return {
        "url_surtkey": urlkey, "url": url, "url_host_name": urlsplit(url).hostname,
        "fetch_time": datetime.strptime(timestamp, "%Y%m%d%H%M%S"),
        "fetch_status": int(status) if status.isdigit() else None,
        "content_mime_type": mime, "content_digest": digest,
        "warc_filename": filename, "warc_record_offset": int(offset), "warc_record_length": int(length),
    }


def _write(root, crawl, subset, rows):
    rows = sorted(rows, key=lambda r: (r["url_surtkey"], r["fetch_time"]))  # as Common Crawl sorts its files
    part = root / f"crawl={crawl}" / f"subset={subset}"
    part.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), part / "part-00000.parquet", row_group_size=16)


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    root = tmp_path_factory.mktemp("cc-index") / "table"
    sample = shared_path("cdx", "pywb_sample_archive", "cdx_iana.cdx")
    rows = []
    for line in sample.read_text().splitlines()[1:]:
        f = line.split(" ")
        rows.append(_row(f[0], f[1], f[2], f[3], f[4], f[5], f[8], f[9], f[10]))
    _write(root, "pywb-sample", "warc", rows)

    cc = {}
    for rec_file in sorted(shared_path("cdx", "cdx_toolkit_mock_responses").rglob("*.jsonl")):
        for raw in rec_file.read_text().splitlines():
            text = json.loads(raw)["response_text"]
            if text.startswith('{"urlkey"'):
                for ln in text.splitlines():
                    c = json.loads(ln)
                    cc[(c["filename"], c["offset"])] = c
    by_part = {}
    for c in cc.values():
        crawl, subset = c["filename"].split("/")[1], c["filename"].split("/")[4]
        by_part.setdefault((crawl, subset), []).append(
            _row(c["urlkey"], c["timestamp"], c["url"], c["mime"], c["status"], c["digest"], c["length"],
                 c["offset"], c["filename"]))
    for (crawl, subset), part_rows in by_part.items():
        _write(root, crawl, subset, part_rows)
    return root


def run(capsys, *args):
    rc = main(["select", "--overwrite", *args])  # the tests reuse one output path
    return rc, capsys.readouterr().err


@pytest.mark.parametrize("args", [
    ["--url", "*.iana.org"],
    ["--url", "iana.org", "--match", "host", "--no-filter"],
    ["--url", "iana.org/domains/*", "--filter", "=mime:text/html"],
    ["--url", "*.iana.org", "--filter", "!status:200"],
    ["--url", "*.iana.org", "--filter", "~url:.*\\.(css|js)$", "--filter", "status:2"],
    ["--url", "*.iana.org", "--no-filter", "--no-dedupe", "--limit", "20"],
    ["--url", "*.iana.org", "--no-filter", "--limit", "9"],
    ["--url", "http://www.iana.org/domains/root/db", "--match", "exact", "--no-filter"],
    ["--url", "*.iana.org", "--from", "20140126201", "--to", "2014012620125", "--no-filter"],
    ["--url", "*.iana.org", "--from", "201401262010", "--to", "2014012620", "--no-filter"],
    ["--url", "*.iana.org", "--filter", "~timestamp:2014012620(08|09)"],
])
def test_parquet_selects_what_pywb_selects(pywb, table, capsys, tmp_path, args):
    via_cdx, via_parquet = tmp_path / "cdx.tsv", tmp_path / "parquet.tsv"
    rc, err = run(capsys, "--cdx-api", pywb.cdx("iana"), *args, "-o", str(via_cdx))
    assert rc == 0, err
    rc, err = run(capsys, "--parquet", str(table), "--crawl", "pywb-sample", *args, "-o", str(via_parquet))
    assert rc == 0, err
    assert via_parquet.read_text() == via_cdx.read_text()
    assert via_cdx.read_text()


@pytest.fixture(scope="module")
def replay():
    server = ReplayServer(shared_path("cdx", "cdx_toolkit_mock_responses")).load().serve()
    yield server
    server.stop()


def test_parquet_selects_what_common_crawls_index_selects(replay, table, capsys, tmp_path):
    """The recorded answer of index.commoncrawl.org for commoncrawl.org/* with status:200 in CC-MAIN-2025-33."""
    via_cdx, via_parquet = tmp_path / "cdx.tsv", tmp_path / "parquet.tsv"
    args = ["--crawl", "CC-MAIN-2025-33", "--url", "commoncrawl.org/*", "--filter", "status:200"]
    assert run(capsys, "--cdx-api", replay.base, *args, "-o", str(via_cdx))[0] == 0
    assert run(capsys, "--parquet", str(table), *args, "-o", str(via_parquet))[0] == 0
    cdx_lines = via_cdx.read_text().splitlines()
    # the CDX API answers for all subsets; the Parquet selection keeps subset=warc, the page captures
    assert via_parquet.read_text().splitlines() == [ln for ln in cdx_lines if "/warc/" in ln]
    assert len(cdx_lines) >= 3


def test_crawls_in_a_partitioned_table(table, capsys, tmp_path):
    out = tmp_path / "s.tsv"
    rc, err = run(capsys, "--parquet", str(table), "--crawl", "2", "--url", "*.commoncrawl.org", "--no-filter",
                  "-o", str(out))
    assert rc == 0, err
    assert "of pywb-sample, CC-MAIN-2025-33" in err  # the newest two, by name, as for the CDX API's --crawl N
    rc, err = run(capsys, "--parquet", str(table), "--crawl", "CC-MAIN-2025-34", "--url", "*.commoncrawl.org",
                  "-o", str(out))
    assert rc == 2 and "unknown crawl id 'CC-MAIN-2025-34'" in err and "CC-MAIN-2025-33" in err
    rc, err = run(capsys, "--parquet", str(table), "--url", "*.example.com", "-o", str(out))
    assert rc == 0 and out.read_text().splitlines()[0].endswith("\thttp://www.example.com/")  # whole table


def test_a_single_file_and_bad_tables(table, capsys, tmp_path):
    one = next(table.glob("crawl=pywb-sample/subset=warc/*.parquet"))
    out = tmp_path / "s.tsv"
    rc, err = run(capsys, "--parquet", str(one), "--url", "*.iana.org", "-o", str(out))
    assert rc == 0 and len(out.read_text().splitlines()) == 16
    rc, err = run(capsys, "--parquet", str(tmp_path / "nope.parquet"), "--url", "*.iana.org", "-o", str(out))
    assert rc == 2 and "no such file" in err
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.Table.from_pylist([{"url": "http://a/"}]), bad)
    rc, err = run(capsys, "--parquet", str(bad), "--url", "*.iana.org", "-o", str(out))
    assert rc == 2 and "lacks the columns url_surtkey, warc_filename" in err
    rc, err = run(capsys, "--parquet", str(one), "--url", "*.iana.org", "--filter", "html", "-o", str(out))
    assert rc == 2 and "has no field" in err
