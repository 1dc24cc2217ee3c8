"""The extraction job's face: --help describes its input, no input on a terminal is refused instead of waiting,
and the mappers report mrjob status messages as they go."""
from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import jobs.base
from ccimg.sample import write_sample
from jobs.extract_images import ExtractImagesJob

REPO = Path(__file__).resolve().parents[2]


def test_job_help_describes_inputs_and_outputs():
    got = subprocess.run([sys.executable, "-m", "jobs.extract_images", "--help"], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert got.returncode == 0
    head = got.stdout.split("options:")[0]
    assert "-r inline|local|emr|spark [options] INPUT..." in head
    for words in ("FILENAME<TAB>OFFSET<TAB>LENGTH", "whole WARC file", "--source-base", "OUTPUT:", "examples:"):
        assert words in head, words
    assert "--html-parser" in got.stdout  # the job's own options are still listed


def test_job_without_input_refuses_a_terminal_stdin():
    controller, terminal = pty.openpty()
    try:
        got = subprocess.run([sys.executable, "-m", "jobs.extract_images", "-r", "inline", "--no-conf"], cwd=REPO,
                             stdin=terminal, capture_output=True, text=True, timeout=120)
    finally:
        os.close(controller)
        os.close(terminal)
    assert got.returncode == 2
    assert got.stderr.strip().endswith("no input: name manifest or WARC files (or '-' to read lines from a pipe); "
                                       "--help describes the input")


def test_job_reads_a_pipe_on_stdin(tmp_path):
    warc = tmp_path / "s.warc.gz"
    write_sample(warc, pages=2)
    got = subprocess.run([sys.executable, "-m", "jobs.extract_images", "-r", "inline", "--no-conf"], cwd=REPO,
                         input=f"{warc}\n", capture_output=True, text=True, timeout=300)
    assert got.returncode == 0, got.stderr[-2000:]
    assert len(got.stdout.splitlines()) > 5


def test_mappers_report_status_every_n_records(tmp_path, monkeypatch):
    warc = tmp_path / "s.warc.gz"
    write_sample(warc, pages=6)
    monkeypatch.setattr(jobs.base, "STATUS_EVERY_RECORDS", 4)
    job = ExtractImagesJob(["--no-conf", "-r", "inline", str(warc)])
    stderr = io.BytesIO()
    job.sandbox(stderr=stderr)
    job.mapper_init()  # the mapper driven by hand, as a task runs it
    with open(job.options.args[0], encoding="utf-8") as manifest:
        for line in manifest:
            list(job.mapper(None, line.rstrip("\n")))
    status = [ln for ln in stderr.getvalue().decode().splitlines() if ln.startswith("reporter:status:")]
    assert status and status[0] == "reporter:status:4 WARC records read"
    assert all(int(s.split(":")[2].split()[0].replace(",", "")) % 4 == 0 for s in status)
