"""A bounded number of manifest lines per map task (NLineInputFormat) on `-r local` and `-r spark`.

A map-only job writes one output part per map task (empty ones too), so the parts count the tasks;
each part's records show which input lines its task read.  Real Common Crawl excerpts from
../shared/data/cc; the output must be the same as `-r inline`'s whatever the split.
"""
from __future__ import annotations

import os
import sys

import pytest

from jobs.extract_images import ExtractImagesJob
from jobs.line_splits import (
    IGNORE_KEY, LINES_PER_MAP, NLINE_INPUT_FORMAT, POINTER_LINES, choose_lines_per_map, input_kind,
)
from tests.conftest import assert_lines_accounted, run_job, shared_path
from tests.integration.test_runners import canonical, record_pointer, spark_unavailable

WARCS = ["resiliparse__warcfile.warc.gz", "whirlwind__whirlwind.warc.gz", "jwarc__cc.warc.gz",
         "whirlwind__whirlwind.warc.wat.gz"]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    """5 lines: four whole WARC files and one record pointer."""
    paths = [str(shared_path("cc", name)) for name in WARCS]
    offset, length, url = record_pointer(paths[0])
    lines = [*paths, f"{paths[0]}\t{offset}\t{length}\t{url}"]
    path = tmp_path_factory.mktemp("nline") / "manifest.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, lines


@pytest.fixture(scope="module")
def inline(manifest):
    return run_job(ExtractImagesJob, ["-r", "inline", str(manifest[0])])


def run_counting_tasks(*args: str) -> tuple[list[dict], dict, list[list[dict]]]:
    """(records, counters, records of each output part, in part order)."""
    job = ExtractImagesJob(["--no-conf", *args])
    job.sandbox()
    with job.make_runner() as runner:
        runner.run()
        parts = sorted(p for p in runner.fs.ls(runner.get_output_dir()) if os.path.basename(p).startswith("part-"))
        per_part = []
        for part in parts:
            with open(part, "rb") as f:
                per_part.append([value for _key, value in job.parse_output(f.readlines())])
        counters = {}
        for step in runner.counters():
            for group, names in step.items():
                for name, n in names.items():
                    counters.setdefault(group, {})[name] = counters.get(group, {}).get(name, 0) + n
    return [r for part in per_part for r in part], counters, per_part


def sources(rows: list[dict]) -> set[str]:
    """The WARC files a task's records came from."""
    return {r["warc_filename"] for r in rows}


def check(rows, counters, per_part, inline, lines: list[str], n: int) -> None:
    assert_lines_accounted(counters)
    assert canonical(rows) == canonical(inline[0]) and counters == inline[1]
    assert len(per_part) == -(-len(lines) // n), (n, len(per_part))  # ceil(lines / n) tasks
    # each task read its own N consecutive lines: the WARC files of its records are among them
    for i, part in enumerate(per_part):
        chunk = lines[i * n:(i + 1) * n]
        allowed = {line.split("\t")[0] for line in chunk}
        assert sources(part) <= allowed, (i, sources(part), allowed)


@pytest.mark.parametrize("n", [1, 2])
def test_local_runs_one_task_per_n_lines(manifest, inline, n):
    """n=1 is the default for a manifest that starts with a WARC file: no --lines-per-map given."""
    path, lines = manifest
    given = [] if n == 1 else ["--lines-per-map", str(n)]
    rows, counters, per_part = run_counting_tasks("-r", "local", *given, str(path))
    check(rows, counters, per_part, inline, lines, n)
    if n == 1:  # one line per task: every task that found images read exactly one input line
        assert all(len(sources(part)) == 1 for part in per_part if part)


def test_spark_partitions_by_lines(manifest, inline):
    reason = spark_unavailable()
    if reason:
        pytest.skip(reason)
    path, lines = manifest
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        rows, counters, per_part = run_counting_tasks("-r", "spark", "--python-bin", sys.executable,
                                                      "--lines-per-map", "2", str(path))
    check(rows, counters, per_part, inline, lines, 2)


def test_defaults_by_input_kind(tmp_path, manifest):
    path, lines = manifest
    pointers = tmp_path / "pointers.txt"
    pointers.write_text("# selected\n\n" + lines[-1] + "\n", encoding="utf-8")
    records = tmp_path / "records.jsonl"
    records.write_text('{"img_url": "https://a.org/x.jpg"}\n', encoding="utf-8")
    assert input_kind([str(path)]) == "files" and choose_lines_per_map([str(path)], None) == 1
    assert input_kind([str(pointers)]) == "pointers" and choose_lines_per_map([str(pointers)], None) == POINTER_LINES
    assert input_kind([str(records)]) == "records" and choose_lines_per_map([str(records)], None) == 0
    assert input_kind(["s3://bucket/manifest.txt"]) is None and choose_lines_per_map(["s3://b/m"], None) == 1
    assert choose_lines_per_map([str(records)], 7) == 7 and choose_lines_per_map([str(path)], 0) == 0
    # what Hadoop gets: the input format and the settings, or byte splits for records
    job = ExtractImagesJob(["--no-conf", "-r", "local", str(pointers)])
    assert job.hadoop_input_format() == NLINE_INPUT_FORMAT
    assert job.jobconf()[LINES_PER_MAP] == str(POINTER_LINES) and job.jobconf()[IGNORE_KEY] == "true"
    job = ExtractImagesJob(["--no-conf", "-r", "local", "--jobconf", f"{LINES_PER_MAP}=9", str(pointers)])
    job.sandbox()
    with job.make_runner() as runner:
        assert runner._jobconf_for_step(0)[LINES_PER_MAP] == "9"  # the user's --jobconf wins
    job = ExtractImagesJob(["--no-conf", "-r", "local", "--lines-per-map", "0", str(path)])
    assert job.hadoop_input_format() is None and LINES_PER_MAP not in job.jobconf()
