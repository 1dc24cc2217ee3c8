"""Shared test fixtures: where the shared real data lives, and how to run a job and read its counters."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CCIMG_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not found: {path} (tests read real data from ../shared/data beside the repo)")
    return path


@pytest.fixture
def shared():
    return shared_path


def run_job(job_cls, args: list[str]) -> tuple[list, dict]:
    """Run an mrjob job in-process; return (output values, counters merged over steps)."""
    job = job_cls(["--no-conf", *args])
    job.sandbox()
    with job.make_runner() as runner:
        runner.run()
        rows = [value for _key, value in job.parse_output(runner.cat_output())]
        counters: dict = {}
        for step in runner.counters():
            for group, names in step.items():
                for name, n in names.items():
                    counters.setdefault(group, {})
                    counters[group][name] = counters[group].get(name, 0) + n
    return rows, counters


def assert_lines_accounted(counters: dict) -> None:
    """Every input line ends ok, failed or skipped: nothing is lost silently."""
    inp = counters.get("input", {})
    assert inp.get("lines", 0) == inp.get("lines ok", 0) + inp.get("lines failed", 0) + inp.get("lines skipped", 0), inp
    failed_kinds = sum(n for k, n in counters.get("errors", {}).items() if not k.startswith("process_record"))
    assert failed_kinds == inp.get("lines failed", 0), counters
