"""`ccimg select --warc-paths`: whole-file input lines from a crawl's warc.paths.gz (local, https, s3).

The listing is built from the real WARC paths that the recorded Common Crawl index answers name.
"""
from __future__ import annotations

import gzip
import json

import pytest

from ccimg.cli import main
from ccimg.selection.warc_paths import segment_of
from dataio.lines import WarcFile, parse_input_line
from tests.conftest import shared_path
from tests.support.servers import MotoS3, set_dummy_aws_env, start_moto_s3_server, start_range_http_server


@pytest.fixture(scope="module")
def paths() -> list[str]:
    found = set()
    for rec_file in shared_path("cdx", "cdx_toolkit_mock_responses").rglob("*.jsonl"):
        for raw in rec_file.read_text().splitlines():
            text = json.loads(raw)["response_text"]
            if text.startswith('{"urlkey"'):
                found |= {json.loads(ln)["filename"] for ln in text.splitlines()}
    listing = sorted(p for p in found if "/warc/" in p and p.startswith("crawl-data/CC-MAIN-2025-33/"))
    assert len(listing) >= 10 and len({segment_of(p) for p in listing}) >= 3
    return listing


@pytest.fixture
def listing(tmp_path, paths):
    path = tmp_path / "crawl-data" / "CC-MAIN-2025-33" / "warc.paths.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress("".join(p + "\n" for p in paths).encode()))
    return path


def select(capsys, *args):
    rc = main(["select", "--overwrite", *args])  # the tests reuse one output path
    captured = capsys.readouterr()
    return rc, captured.err


def test_whole_listing_and_what_the_job_makes_of_it(listing, paths, capsys, tmp_path):
    out = tmp_path / "warcs.txt"
    rc, err = select(capsys, "--warc-paths", str(listing), "-o", str(out))
    assert rc == 0, err
    lines = out.read_text().splitlines()
    assert lines == paths
    assert all(parse_input_line(ln) == WarcFile(ln) for ln in lines)  # whole-file lines for the job
    assert f"selected {len(paths)} of {len(paths)} WARC files" in err


def test_sampling_is_seeded_and_keeps_order(listing, paths, capsys, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    assert select(capsys, "--warc-paths", str(listing), "--sample", "4", "--seed", "7", "-o", str(a))[0] == 0
    assert select(capsys, "--warc-paths", str(listing), "--sample", "4", "--seed", "7", "-o", str(b))[0] == 0
    chosen = a.read_text().splitlines()
    assert chosen == b.read_text().splitlines() and len(chosen) == 4
    assert chosen == [p for p in paths if p in chosen]  # the listing's order
    rc, err = select(capsys, "--warc-paths", str(listing), "--sample", "1000", "-o", str(a))
    assert rc == 0 and a.read_text().splitlines() == paths and "taking them all" in err


def test_segments(listing, paths, capsys, tmp_path):
    out = tmp_path / "s.txt"
    segments = sorted({segment_of(p) for p in paths})
    rc, _ = select(capsys, "--warc-paths", str(listing), "--segments", f"{segments[0]},{segments[2]}", "-o", str(out))
    assert rc == 0
    assert out.read_text().splitlines() == [p for p in paths if segment_of(p) in (segments[0], segments[2])]
    rc, _ = select(capsys, "--warc-paths", str(listing), "--segments", "2", "--sample", "2", "-o", str(out))
    got = out.read_text().splitlines()
    assert rc == 0 and len(got) == 2 and len({segment_of(p) for p in got}) <= 2
    rc, err = select(capsys, "--warc-paths", str(listing), "--segments", "1754151279999.99", "-o", str(out))
    assert rc == 2 and "no segment '1754151279999.99'" in err


def test_parts(listing, paths, capsys, tmp_path):
    rc, _ = select(capsys, "--warc-paths", str(listing), "--parts", "3", "-o", str(tmp_path / "parts"))
    files = sorted((tmp_path / "parts").glob("part-*.tsv"))
    assert rc == 0 and len(files) == 3
    chunks = [f.read_text().splitlines() for f in files]
    assert [p for c in chunks for p in c] == paths and max(map(len, chunks)) - min(map(len, chunks)) <= 1


def test_over_https_and_by_crawl_id(listing, paths, capsys, tmp_path):
    server = start_range_http_server(tmp_path)
    try:
        out = tmp_path / "h.txt"
        url = server.url + "crawl-data/CC-MAIN-2025-33/warc.paths.gz"
        assert select(capsys, "--warc-paths", url, "-o", str(out))[0] == 0
        assert out.read_text().splitlines() == paths
        rc, _ = select(capsys, "--warc-paths", "CC-MAIN-2025-33", "--data-base", server.url, "-o", str(out))
        assert rc == 0 and out.read_text().splitlines() == paths
        rc, err = select(capsys, "--warc-paths", "CC-MAIN-2025-30", "--data-base", server.url, "-o", str(out))
        assert rc == 2 and "cannot fetch" in err and "404" in err
    finally:
        server.stop()


@pytest.fixture
def moto(monkeypatch):
    server = start_moto_s3_server()
    set_dummy_aws_env(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.port}")  # boto3 honours it
    yield MotoS3(server)
    server.stop()


def test_over_s3(moto, listing, paths, capsys, tmp_path):
    bucket = moto.create_bucket()
    moto.upload(bucket, "crawl-data/CC-MAIN-2025-33/warc.paths.gz", listing)
    out = tmp_path / "s3.txt"
    rc, err = select(capsys, "--warc-paths", f"s3://{bucket}/crawl-data/CC-MAIN-2025-33/warc.paths.gz",
                     "-o", str(out))
    assert rc == 0, err
    assert out.read_text().splitlines() == paths
    rc, err = select(capsys, "--warc-paths", f"s3://{bucket}/nope.gz", "-o", str(out))
    assert rc == 2 and "NoSuchKey" in err


def test_bad_listings(tmp_path, capsys, listing):
    out = str(tmp_path / "o.txt")
    rc, err = select(capsys, "--warc-paths", str(tmp_path / "missing.gz"), "-o", out)
    assert rc == 2 and "No such file" in err
    plain = tmp_path / "warc.paths"
    plain.write_text("crawl-data/a.warc.gz\ncrawl-data/b.warc.gz\n")
    assert select(capsys, "--warc-paths", str(plain), "-o", out)[0] == 0  # not gzipped: fine
    (tmp_path / "cut.gz").write_bytes(listing.read_bytes()[:40])
    rc, err = select(capsys, "--warc-paths", str(tmp_path / "cut.gz"), "-o", out)
    assert rc == 2 and "not a readable gzip file" in err
    (tmp_path / "html").write_text("<html><body>Not here</body></html>\n")
    rc, err = select(capsys, "--warc-paths", str(tmp_path / "html"), "-o", out)
    assert rc == 2 and "does not look like a warc.paths listing" in err
    rc, err = select(capsys, "--warc-paths", str(plain), "--url", "*.example.com", "-o", out)
    assert rc == 2 and "--url has no meaning with --warc-paths" in err
    rc, err = select(capsys, "--sample", "3", "--url", "a.com", "-o", out)
    assert rc == 2 and "--sample only applies to --warc-paths" in err
