"""Progress: a tqdm bar on a terminal, a status line every N seconds in a log, nothing with --quiet."""
from __future__ import annotations

import io

import pytest

from ccimg.commands import common
from ccimg.commands.common import Progress, phase


@pytest.fixture(autouse=True)
def _prog(monkeypatch):
    monkeypatch.setattr(common, "PROG", ["ccimg"])


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_log_mode_prints_a_line_every_interval_and_a_last_one():
    clock, log = _Clock(), io.StringIO()
    with Progress("scoring", unit="rows", every=30, clock=clock, stream=log) as p:
        for _ in range(100):
            clock.now += 1
            p.update(1000)
    lines = log.getvalue().splitlines()
    assert lines[0] == "ccimg: scoring: 30,000 rows in 30 s (1,000/s)"
    assert len(lines) == 4 and lines[-1] == "ccimg: scoring: 100,000 rows in 100 s (1,000/s)"


def test_a_short_run_in_a_log_stays_silent():
    clock, log = _Clock(), io.StringIO()
    with Progress("scoring", every=30, clock=clock, stream=log) as p:
        clock.now += 2
        p.update(10)
    assert log.getvalue() == ""


def test_terminal_gets_a_bar_and_quiet_gets_nothing():
    term = _Terminal()
    with Progress("probing", unit="URLs", total=50, stream=term) as p:
        p.update(50)
    assert "ccimg: probing:" in term.getvalue() and "/50 [" in term.getvalue()  # drawn, then cleared at the end
    quiet = _Terminal()
    with Progress("probing", quiet=True, stream=quiet) as p:
        p.update(50)
    assert quiet.getvalue() == "" and p.n == 50


def test_phase_says_what_and_how_long(capsys, monkeypatch):
    monkeypatch.setattr(common, "PROG", ["ccimg train"])
    with phase("fitting ours on 10 examples"):
        pass
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "ccimg train: fitting ours on 10 examples ..."
    assert err[1].startswith("ccimg train: fitting ours on 10 examples: done in ")
