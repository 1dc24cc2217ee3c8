"""Shared test fixtures: where the shared real data lives, and how to run a job and read its counters."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from jobs.base import run_job  # noqa: F401 - the tests import it from here
from models.corpus import DEFAULT_DATA_DIR

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = DEFAULT_DATA_DIR  # ../shared/data, or $CCIMG_SHARED_DATA

# Subprocesses (mrjob's local and Spark runners' tasks, `python -m ...` commands) import this checkout, not the
# one the venv's editable install points to: a test of a worktree must run that worktree's code everywhere.
os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not found: {path} (tests read real data from ../shared/data beside the repo)")
    return path


@pytest.fixture
def shared():
    return shared_path


def assert_lines_accounted(counters: dict) -> None:
    """Every input line ends ok, failed or skipped, and every record read likewise: nothing is lost silently.
    Each failed line has exactly one error kind, each failed record one record error kind."""
    inp = counters.get("input", {})
    assert inp.get("lines", 0) == inp.get("lines ok", 0) + inp.get("lines failed", 0) + inp.get("lines skipped", 0), inp
    assert sum(counters.get("errors", {}).values()) == inp.get("lines failed", 0), counters
    rec = counters.get("records", {})
    assert rec.get("read", 0) == rec.get("ok", 0) + rec.get("failed", 0) + rec.get("skipped", 0), rec
    assert sum(counters.get("record errors", {}).values()) == rec.get("failed", 0), counters
