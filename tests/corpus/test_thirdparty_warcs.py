"""Every third-party WARC, ARC, WAT and WET file we can get, through the job: read without a crash.

Two sets: the real files in ../shared/data (Common Crawl excerpts, web archives, resiliparse's clipped WARC,
pywb's sample archive), and the WARC libraries' own test files (warcio 1.5.3's test/data), cached outside the
repository by ``python -m tests.support.thirdparty_warcs`` (see that module for which sdists hold test data:
fastwarc/resiliparse 2.0.1 and jwarc do not).  Each file is named as a whole-file line and each of its
response records as a pointer; every line must end ok or as a counted WARC error, never a crash.
"""
from __future__ import annotations

import pytest

from jobs.extract_images import ExtractImagesJob
from tests.conftest import SHARED_DATA, assert_lines_accounted, run_job
from tests.support.servers import response_pointers, write_lines
from tests.support.thirdparty_warcs import cache_dir, cached_files

SHARED_WARCS = sorted(p for p in SHARED_DATA.rglob("*") if p.is_file()
                      and p.name.endswith((".warc", ".warc.gz", ".arc", ".arc.gz", ".wat", ".wat.gz", ".wet",
                                           ".wet.gz")))
# Files whose damage is their point: the rest must be read to the end.
DAMAGED = {"resiliparse__clipped.warc.gz"}
WARCIO_DAMAGED = {"example-bad-non-chunked.warc.gz", "example-bad.warc.gz.bad"}


def _pointer_lines(path) -> list[str]:
    try:
        return [p.line() for p in response_pointers(path, str(path))]
    except Exception:  # noqa: BLE001 - warcio itself cannot walk a damaged file: whole-file lines only
        return []


def _run(tmp_path, paths) -> tuple[dict, list[dict]]:
    lines = [str(p) for p in paths] + [line for p in paths for line in _pointer_lines(p)]
    failed: list = []
    _rows, counters = run_job(ExtractImagesJob, ["-r", "inline", write_lines(tmp_path / "m.txt", lines)], failed)
    assert_lines_accounted(counters)
    assert counters["input"]["lines"] == len(lines)
    assert all(k.startswith("warc_") for k in counters.get("errors", {})), counters.get("errors")
    return counters, failed


def test_every_shared_warc_reads_without_a_crash(tmp_path):
    if not SHARED_WARCS:
        pytest.skip(f"shared data not found: {SHARED_DATA} (tests read real data from ../shared/data)")
    counters, failed = _run(tmp_path, SHARED_WARCS)
    failed_files = {f["failed_line"].split("\t")[0].rsplit("/", 1)[-1] for f in failed}
    assert failed_files == DAMAGED
    assert counters["records"]["read"] > 1000


def test_warcio_test_files_read_without_a_crash(tmp_path):
    files = cached_files()
    if not files:
        pytest.skip(f"no third-party test WARCs in {cache_dir()}: run `python -m tests.support.thirdparty_warcs` "
                    "(pip downloads warcio 1.5.3's sdist) to fetch them")
    counters, failed = _run(tmp_path, files)
    failed_files = {f["failed_line"].split("\t")[0].rsplit("/", 1)[-1] for f in failed}
    assert failed_files <= WARCIO_DAMAGED, failed_files
    assert counters["input"]["lines ok"] >= len(files) - len(WARCIO_DAMAGED)
