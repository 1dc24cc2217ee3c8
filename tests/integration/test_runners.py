"""One job, several engines: `-r inline`, `-r local` and `-r spark` give the same records and counters.

Real Common Crawl excerpts from ../shared/data/cc (skipped with the reason where absent), named directly and
through a manifest of several WARC files (plus a comment, a blank line and one record pointer).  The Spark
runs (pyspark in local mode) run in the default suite; each runs once per module.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys

import pytest
from warcio.archiveiterator import ArchiveIterator

from features.page.record_fields import REQUIRED
from jobs.aggregate_images import MAX_LIST
from jobs.extract_images import ExtractImagesJob
from tests.conftest import REPO, assert_lines_accounted, run_job, shared_path

EUGENE = "eugeneware__CC-MAIN-20140820021334-00006-ip-10-180-136-8.ec2.internal.warc"
MANIFEST_WARCS = ["resiliparse__warcfile.warc.gz", "whirlwind__whirlwind.warc.gz", "jwarc__cc.warc.gz", EUGENE,
                  "whirlwind__whirlwind.warc.wat.gz", EUGENE + ".wet"]


def canonical(rows: list[dict]) -> list[str]:
    """Records as sorted JSON strings: engines may emit them in any order."""
    return sorted(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in rows)


def stable_aggregate(a: dict) -> dict:
    """An aggregate without what depends on the order partials are merged in (engine-dependent):
    the example page, and the members of a list that hit the cap."""
    out = {k: v for k, v in a.items() if k not in ("alts", "declared_sizes", "crawls", "example_page")}
    for k in ("alts", "declared_sizes", "crawls"):
        out[k] = sorted(a[k]) if len(a[k]) < MAX_LIST else len(a[k])
    return out


def stable_aggregates(rows: list[dict]) -> list[dict]:
    return sorted(map(stable_aggregate, rows), key=lambda a: a["img_url"])


def record_pointer(path) -> tuple[int, int, str]:
    """(offset, length, url) of the first HTML response of a WARC, read with warcio."""
    with open(path, "rb") as f:
        it = ArchiveIterator(f)
        found = None
        for rec in it:
            if found is not None:
                return found[0], it.offset - found[0], found[1]
            if rec.rec_type == "response" and "html" in (rec.http_headers.get_header("Content-Type") or ""):
                found = (it.offset, rec.rec_headers.get_header("WARC-Target-URI"))
    raise AssertionError(f"no HTML response followed by another record in {path}")


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    """A manifest as a user writes one: WARC paths, a comment, a blank line, one record pointer."""
    paths = [shared_path("cc", name) for name in MANIFEST_WARCS]
    offset, length, url = record_pointer(paths[0])
    lines = ["# real Common Crawl excerpts, for tests/integration/test_runners.py", *map(str, paths[:2]), "",
             *map(str, paths[2:]), f"{paths[0]}\t{offset}\t{length}\t{url}"]
    path = tmp_path_factory.mktemp("manifest") / "manifest.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, {"lines": len(lines), "skipped": 2, "warc files": len(paths), "pointers": 1,
                  "pointer": (str(paths[0]), offset, url)}


@pytest.fixture(scope="module")
def inline_manifest(manifest):
    return run_job(ExtractImagesJob, ["-r", "inline", str(manifest[0])])


def check_manifest_run(rows: list[dict], counters: dict, expect: dict) -> None:
    assert_lines_accounted(counters)
    assert counters["input"] == {"lines": expect["lines"], "lines skipped": expect["skipped"],
                                 "lines ok": expect["lines"] - expect["skipped"],
                                 "warc files": expect["warc files"], "record pointers": expect["pointers"]}
    assert "errors" not in counters, counters
    assert counters["images"]["emitted"] == len(rows)
    # The pointer's record comes out twice: once from its whole file, once from the pointer (which, given a
    # file name without a crawl id and no warcinfo to read, cannot know the crawl).
    filename, offset, url = expect["pointer"]
    at_pointer = [r for r in rows if r["warc_filename"] == filename and r["warc_offset"] == offset]
    assert at_pointer and {r["page_url"] for r in at_pointer} == {url}
    from_file = [r for r in at_pointer if r["crawl"] is not None]
    from_pointer = [r for r in at_pointer if r["crawl"] is None]
    assert len(from_file) == len(from_pointer) > 0
    assert canonical([r | {"crawl": None} for r in from_file]) == canonical(from_pointer)


def test_inline_manifest_run_is_complete(inline_manifest, manifest):
    rows, counters = inline_manifest
    check_manifest_run(rows, counters, manifest[1])
    # 157 + 22 + 9 + 868 images from the four WARCs, none from the WAT and WET, and the pointer's page again.
    assert counters["records"]["type metadata"] > 0 and counters["records"]["type conversion"] > 0
    assert {r["crawl"] for r in rows} == {"CC-MAIN-2020-34", "CC-MAIN-2024-22", "CC-MAIN-2014-35", None}
    n_pointer = sum(1 for r in rows if r["crawl"] is None and "resiliparse" in r["warc_filename"])
    assert len(rows) == 157 + 22 + 9 + 868 + n_pointer


def test_inline_and_local_agree_on_warc_files():
    """Two real WARCs named directly (one gzipped, one not)."""
    paths = [str(shared_path("cc", "resiliparse__warcfile.warc.gz")), str(shared_path("cc", EUGENE))]
    inline_rows, inline_counters = run_job(ExtractImagesJob, ["-r", "inline", *paths])
    local_rows, local_counters = run_job(ExtractImagesJob, ["-r", "local", *paths])
    assert_lines_accounted(local_counters)
    assert len(inline_rows) == 157 + 868
    assert canonical(local_rows) == canonical(inline_rows)
    assert local_counters == inline_counters
    assert local_counters["input"]["lines ok"] == 2 and local_counters["pages"]["html"] == 16 + 3


def test_inline_and_local_agree_on_manifest(inline_manifest, manifest):
    # 3 map tasks of 4 lines: the default (one WARC file per task) would start 9 mapper processes here;
    # tests/integration/test_lines_per_map.py covers lines per task
    rows, counters = run_job(ExtractImagesJob, ["-r", "local", "--lines-per-map", "4", str(manifest[0])])
    check_manifest_run(rows, counters, manifest[1])
    assert canonical(rows) == canonical(inline_manifest[0])
    assert counters == inline_manifest[1]


def test_inline_and_local_agree_on_aggregates(manifest):
    inline_rows, inline_counters = run_job(ExtractImagesJob, ["-r", "inline", "--aggregate", str(manifest[0])])
    local_rows, local_counters = run_job(ExtractImagesJob, ["-r", "local", "--aggregate", "--lines-per-map", "4",
                                                            str(manifest[0])])
    assert_lines_accounted(local_counters)
    assert stable_aggregates(local_rows) == stable_aggregates(inline_rows)
    assert local_counters == inline_counters
    assert local_counters["images"]["distinct urls"] == len(local_rows) == len({a["img_url"] for a in local_rows})


# -------------------------------------------------------------------------------------------------------------
# Spark (pyspark in local mode)
# -------------------------------------------------------------------------------------------------------------

def spark_unavailable() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -e '.[spark]')"
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        return "no Java on PATH and no JAVA_HOME (pyspark needs Java 17)"
    return None


def run_spark(*args: str):
    reason = spark_unavailable()
    if reason:
        pytest.skip(reason)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        # mrjob's Spark runner starts `python3` from PATH for the driver and executors unless told otherwise;
        # where the venv is not activated (CI runs `.venv/bin/python -m pytest`) that Python lacks the
        # project's packages and the job dies with "No module named 'features'".
        return run_job(ExtractImagesJob, ["-r", "spark", "--python-bin", sys.executable, *args])


@pytest.fixture(scope="module")
def spark_manifest(manifest):
    return run_spark(str(manifest[0]))


@pytest.fixture(scope="module")
def spark_aggregates(manifest):
    # "--html-parser lexbor" (the default) only works around the bug that test_spark_aggregate_switch_alone shows.
    return run_spark("--aggregate", "--html-parser", "lexbor", str(manifest[0]))


def test_spark_agrees_with_inline(spark_manifest, inline_manifest, manifest):
    rows, counters = spark_manifest
    check_manifest_run(rows, counters, manifest[1])
    assert canonical(rows) == canonical(inline_manifest[0])
    assert counters == inline_manifest[1]


def test_spark_aggregates_agree_with_inline(spark_aggregates, manifest):
    rows, counters = spark_aggregates
    inline_rows, inline_counters = run_job(ExtractImagesJob, ["-r", "inline", "--aggregate", str(manifest[0])])
    assert_lines_accounted(counters)
    assert stable_aggregates(rows) == stable_aggregates(inline_rows)
    assert counters == inline_counters
    assert sum(a["occurrences"] for a in rows) == counters["images"]["emitted"]


def test_spark_aggregate_switch_alone(manifest, spark_aggregates):
    """`-r spark --aggregate` as the README's options table offers it.

    mrjob 0.7.4's Spark runner hands job options to its harness as ONE argument, `--job-args '<options>'`,
    and the harness's argparse refuses a value that starts with "-" and holds no space ("--aggregate" alone).
    CCJob._runner_kwargs adds a second, harmless option so that the lone flag works.
    """
    rows, counters = run_spark("--aggregate", str(manifest[0]))
    assert_lines_accounted(counters)
    assert stable_aggregates(rows) == stable_aggregates(spark_aggregates[0])
    assert counters == spark_aggregates[1]


# -------------------------------------------------------------------------------------------------------------
# The command line, as a user types it
# -------------------------------------------------------------------------------------------------------------

def test_command_line_local_run_writes_jsonl(tmp_path):
    """`python -m jobs.extract_images -r local x.warc.gz > out.jsonl` (README), from the repo root."""
    warc = shared_path("cc", "resiliparse__warcfile.warc.gz")
    env = {k: v for k, v in os.environ.items() if k != "MRJOB_CONF"}
    env["HOME"] = str(tmp_path)  # no ~/.mrjob.conf of whoever runs the tests
    out = tmp_path / "out.jsonl"
    python, warc_arg, out_arg = (shlex.quote(str(x)) for x in (sys.executable, warc, out))
    command = f"{python} -m jobs.extract_images -r local {warc_arg} > {out_arg}"
    proc = subprocess.run(command, shell=True, stderr=subprocess.PIPE, cwd=REPO, env=env, timeout=300)
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert text.endswith("\n")
    lines = text.splitlines()
    rows = [json.loads(line) for line in lines]  # every line is one JSON value...
    assert all(isinstance(r, dict) and set(REQUIRED) <= set(r) for r in rows)  # ...an image record
    inline_rows, _ = run_job(ExtractImagesJob, ["-r", "inline", str(warc)])
    assert len(rows) == 157
    assert canonical(rows) == canonical(inline_rows)
    # The counters go to stderr, never into the output: every line accounted for, 157 images.
    assert all(f"\t\t{c}\n" in stderr for c in ("lines=1", "lines ok=1", "warc files=1", "emitted=157")), stderr
