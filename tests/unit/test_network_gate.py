"""network.gate.HostGate (single-threaded parts, with a fake clock) and network.identity.

The threaded behaviour against a real server is in tests/integration/test_network_http.py.
"""
from __future__ import annotations

import pytest

from network.gate import HostGate
from network.identity import PRODUCT_TOKEN, USER_AGENT, user_agent


class FakeTime:
    def __init__(self):
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_interval_between_starts_per_host():
    t = FakeTime()
    gate = HostGate(interval=1.0, clock=t.clock, sleep=t.sleep)
    starts = []
    for host in ["a", "a", "b", "a"]:
        with gate.hold(host):
            starts.append((host, t.now))
            t.now += 0.25  # the request takes a quarter second
    a_starts = [s for h, s in starts if h == "a"]
    assert all(later - earlier >= 1.0 for earlier, later in zip(a_starts, a_starts[1:]))
    assert starts[2] == ("b", starts[1][1] + 0.25)  # another host does not wait


def test_zero_interval_never_sleeps():
    t = FakeTime()
    gate = HostGate(interval=0, clock=t.clock, sleep=t.sleep)
    for _ in range(5):
        with gate.hold("127.0.0.1"):
            pass
    assert t.sleeps == []


def test_holds_are_reentrant_per_thread():
    t = FakeTime()
    gate = HostGate(interval=1.0, clock=t.clock, sleep=t.sleep)
    with gate.hold("a"):
        with gate.hold("a"):  # e.g. a robots.txt fetch inside a held request: no deadlock, no extra wait
            pass
    assert t.sleeps == []


def test_memory_is_bounded_for_many_hosts():
    t = FakeTime()
    gate = HostGate(interval=1.0, clock=t.clock, sleep=t.sleep, max_hosts=1000)
    for i in range(50_000):
        with gate.hold(f"host{i}.example"):
            pass
        t.now += 0.01  # 100 new hosts a second: those seen over a second ago may go
    assert len(gate) <= 1000


def test_recent_hosts_are_not_forgotten():
    """Forgetting a host whose interval has not passed would let the next request start too early."""
    t = FakeTime()
    gate = HostGate(interval=10.0, clock=t.clock, sleep=t.sleep, max_hosts=10)
    for i in range(30):
        with gate.hold(f"h{i}"):
            pass
    with gate.hold("h0"):
        pass
    assert t.sleeps and t.sleeps[-1] == pytest.approx(10.0)


def test_user_agent():
    assert USER_AGENT.startswith(f"{PRODUCT_TOKEN}/")
    assert "image size research" in USER_AGENT
    assert user_agent("ops@example.org").endswith("; ops@example.org)")
    for bad in ("a\r\nX-Evil: 1", "me (you)", "\x00"):
        with pytest.raises(ValueError):
            user_agent(bad)
