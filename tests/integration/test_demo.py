"""The Quick start: `ccimg demo` on the bundled sample, as a user runs it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import imagesize
from warcio.archiveiterator import ArchiveIterator

from ccimg.sample import gif_bytes, png_bytes, write_sample
from jobs.extract_images import ExtractImagesJob
from tests.conftest import assert_lines_accounted, run_job


def test_generated_images_have_the_stated_size(tmp_path):
    for w, h in [(1, 1), (16, 16), (1200, 800), (88, 31)]:
        (tmp_path / "a.png").write_bytes(png_bytes(w, h))
        (tmp_path / "a.gif").write_bytes(gif_bytes(w, h))
        assert imagesize.get(tmp_path / "a.png") == (w, h)
        assert imagesize.get(tmp_path / "a.gif") == (w, h)


def test_sample_warc_is_valid_and_job_finds_every_page_image(tmp_path):
    info = write_sample(tmp_path / "s.warc.gz", pages=8)
    with open(info["path"], "rb") as f:
        types = [r.rec_type for r in ArchiveIterator(f)]
    assert types[0] == "warcinfo" and types.count("request") == 8
    rows, counters = run_job(ExtractImagesJob, ["-r", "inline", info["path"]])
    assert_lines_accounted(counters)
    assert counters["pages"]["html"] == 8
    assert counters["images"]["emitted"] == len(rows)
    # every page-level image the writer put in the pages is found (favicon, logo, icons, hero, ...)
    assert {r["img_url"] for r in rows} == set(_expected_urls(info["path"]))
    assert counters["skipped"]["data_url"] == 8  # one inline data: image per page


def _expected_urls(path):
    """The image response records the writer stored, plus the uncrawled tracker and <picture> source."""
    urls = set()
    with open(path, "rb") as f:
        for r in ArchiveIterator(f):
            if r.rec_type == "response" and r.http_headers.get_header("Content-Type", "").startswith("image/"):
                urls.add(r.rec_headers.get_header("WARC-Target-URI"))
    urls.add("https://tracker.example.net/pixel.gif?id=1")
    urls |= {u.replace("narrow.png", "wide.webp") for u in urls if u.endswith("narrow.png")}
    return urls


def test_ccimg_demo_command(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ccimg.cli", "demo", "-o", str(tmp_path / "demo")],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "HTML pages         24" in out
    records = [json.loads(line) for line in Path(tmp_path / "demo" / "images.jsonl").read_text().splitlines()]
    assert f"image occurrences  {len(records)} " in out
    assert all(r["img_url"].startswith("https://") for r in records)
    assert sum(r["lazy"] for r in records) == 24
