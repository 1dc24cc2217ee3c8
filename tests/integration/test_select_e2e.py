"""From "these sites, this crawl" to image records in two commands, checked against reading the WARCs directly.

1. `ccimg select` asks a real pywb server (holding the Common Crawl excerpts of ../shared/data) for some sites;
2. the extraction job reads the selected records by ranged GET from a real HTTP server (RangeHTTPServer);
3. the image records equal those the job gives when it reads the same WARC files whole, for the same pages.

The same in Common Crawl's dialect: the recorded index answers and data.commoncrawl.org byte ranges, replayed.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import jobs.extract_images as extract
from ccimg.cli import main
from tests.support.cc_replay import ReplayServer
from tests.conftest import REPO, assert_lines_accounted, run_job, shared_path
from benchmarks.pywb_local import CC_EXCERPTS
from tests.support.pywb import shared_wayback
from tests.support.servers import start_range_http_server



@pytest.fixture(scope="session")
def pywb(tmp_path_factory):
    return shared_wayback(tmp_path_factory)


def by_page(rows: list[dict]) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = {}
    for r in rows:
        out.setdefault((r["warc_filename"], r["warc_offset"]), []).append(r)
    return out


def test_two_commands_from_sites_to_image_records(pywb, tmp_path):
    """As a user runs it: `ccimg select ... -o sel.tsv`, then `python -m jobs.extract_images ... sel.tsv`."""
    archive = pywb.archives["cc"]
    server = start_range_http_server(archive)
    try:
        manifest = tmp_path / "sel.tsv"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        sites = ["*.com", "*.live-radsport.ch", "an.wikipedia.org/wiki/*", "commoncrawl.org"]
        select = subprocess.run(
            [sys.executable, "-m", "ccimg.cli", "select", "--cdx-api", pywb.cdx("cc"),
             *[a for s in sites for a in ("--url", s)], "-o", str(manifest)],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert select.returncode == 0, select.stderr
        lines = manifest.read_text().splitlines()
        assert len(lines) == 8 + 2 + 1 + 1  # .com pages, the .ch pages, the Wikipedia page, commoncrawl.org
        job = subprocess.run(
            [sys.executable, "-m", "jobs.extract_images", "--no-conf", "-r", "inline", "--source-base", server.url,
             "--allow-private-addresses", str(manifest)],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert job.returncode == 0, job.stderr[-3000:]
        ranged = [json.loads(ln) for ln in job.stdout.splitlines()]
    finally:
        server.stop()

    # the same WARC files, read whole from the archive folder
    whole = tmp_path / "whole.txt"
    whole.write_text("".join(name + "\n" for name in CC_EXCERPTS))
    direct, counters = run_job(extract.ExtractImagesJob, ["-r", "inline", "--source-base", str(archive), str(whole)])
    assert_lines_accounted(counters)

    selected = {(ln.split("\t")[0], int(ln.split("\t")[1])) for ln in lines}
    got, want = by_page(ranged), by_page(direct)
    assert set(got) <= selected and len(got) >= 10  # nearly every selected page has images
    assert set(want) & selected == set(got)  # every selected page with images, no other page
    for page in got:
        assert _comparable(got[page]) == _comparable(want[page]), page
    assert sum(len(v) for v in got.values()) > 100


def _comparable(rows):
    """Records minus `crawl`: read whole, a WARC's warcinfo names the crawl; a single record has no warcinfo."""
    return sorted(({k: v for k, v in r.items() if k != "crawl"} for r in rows), key=lambda r: r["position"])


@pytest.fixture(scope="module")
def replay():
    server = ReplayServer(shared_path("cdx", "cdx_toolkit_mock_responses")).load().serve()
    yield server
    server.stop()


def test_common_crawl_dialect_end_to_end(replay, capsys, tmp_path):
    """Select from the (replayed) index server, read from the (replayed) data.commoncrawl.org by Range."""
    www, example = tmp_path / "www.tsv", tmp_path / "example.tsv"
    assert main(["select", "--cdx-api", replay.base, "--crawl", "CC-MAIN-2025-33", "--url", "commoncrawl.org/*",
                 "--filter", "status:200", "--limit", "1", "-o", str(www)]) == 0
    assert main(["select", "--cdx-api", replay.base, "--crawl", "CC-MAIN-2025-33", "--url", "example.com",
                 "--no-filter", "--limit", "1", "-o", str(example)]) == 0
    capsys.readouterr()
    rows, counters = run_job(extract.ExtractImagesJob, ["-r", "inline", "--source-base", replay.base,
                                                        "--allow-private-addresses", str(www), str(example)])
    assert_lines_accounted(counters)
    assert counters["input"]["record pointers"] == 2 and counters["pages"]["html"] == 2
    assert not replay.unmatched or all("showNumPages" in u for u in replay.unmatched)  # every Range was right

    # the same two records written out as WARC files, read whole
    base = tmp_path / "data"
    names = []
    for path, record in replay.data.items():
        if "/robotstxt/" in path:
            continue
        (base / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (base / path.lstrip("/")).write_bytes(record)
        names.append(path.lstrip("/"))
    whole = tmp_path / "whole.txt"
    whole.write_text("".join(n + "\n" for n in names))
    direct, _ = run_job(extract.ExtractImagesJob, ["-r", "inline", "--source-base", str(base), str(whole)])
    assert rows and len(rows) == len(direct)
    strip = [{k: v for k, v in r.items() if k != "warc_offset"} for r in rows]  # offset 0 in a one-record file
    assert sorted(strip, key=json.dumps) == sorted(
        ({k: v for k, v in r.items() if k != "warc_offset"} for r in direct), key=json.dumps)
    assert {r["page_url"] for r in rows} == {"https://www.commoncrawl.org/"}  # example.com shows no image
