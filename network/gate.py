"""Politeness per host: how many requests at once, and how far apart they start.

Why a gate and not only "one worker per host": a redirect can lead a worker to a host that another
worker is busy with, and the robots.txt fetch counts as a request too.  The gate is the one place that
knows what is in flight per host, whichever thread or code path makes the request.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class _Host:
    __slots__ = ("in_flight", "users", "next_start")

    def __init__(self) -> None:
        self.in_flight = 0  # requests holding the gate now
        self.users = 0      # holders and waiters: a host with users is never forgotten
        self.next_start = -float("inf")  # earliest clock() at which the next request may start


class HostGate:
    """At most `max_per_host` requests in flight per host, starts at least `interval` seconds apart.

    ``with gate.hold(host): ...`` waits for a free slot and for the host's next start time, then runs the
    body.  Thread-safe; also fine single-threaded (the index client: interval 1.0 for a remote server,
    0 for a loopback one, as the caller decides).  Holds are re-entrant per thread (a robots.txt fetch
    made while the same thread holds the host does not deadlock).  Memory is bounded: beyond `max_hosts`
    hosts, the least recently used ones that are idle and whose interval has passed are forgotten, which
    loses nothing (a forgotten host would be let through at once, and so would it if remembered).
    `clock` and `sleep` are injectable for tests."""

    def __init__(self, interval: float = 1.0, max_per_host: int = 1, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, max_hosts: int = 100_000):
        if max_per_host < 1:
            raise ValueError("max_per_host must be at least 1")
        self.interval = max(0.0, interval)
        self.max_per_host = max_per_host
        self.max_hosts = max_hosts
        self._clock = clock
        self._sleep = sleep
        self._cond = threading.Condition()
        self._hosts: OrderedDict[str, _Host] = OrderedDict()
        self._local = threading.local()

    def __len__(self) -> int:
        """Hosts remembered now (for tests and stats)."""
        with self._cond:
            return len(self._hosts)

    @contextmanager
    def hold(self, host: str) -> Iterator[None]:
        held = self._held()
        if held.get(host):
            held[host] += 1  # this thread holds the host already: nested use is free
            try:
                yield
            finally:
                held[host] -= 1
            return
        entry = self._acquire(host)
        held[host] = 1
        try:
            yield
        finally:
            held.pop(host, None)
            self._release(host, entry)

    def _held(self) -> dict[str, int]:
        held = getattr(self._local, "held", None)
        if held is None:
            held = self._local.held = {}
        return held

    def _acquire(self, host: str) -> _Host:
        with self._cond:
            entry = self._hosts.get(host)
            if entry is None:
                self._forget_some()
                entry = self._hosts[host] = _Host()
            self._hosts.move_to_end(host)
            entry.users += 1
            try:
                while entry.in_flight >= self.max_per_host:
                    self._cond.wait()
            except BaseException:
                entry.users -= 1
                raise
            entry.in_flight += 1
            now = self._clock()
            start = max(now, entry.next_start)
            entry.next_start = start + self.interval  # each holder reserves its own start time
        if start > now:
            try:
                self._sleep(start - now)
            except BaseException:
                self._release(host, entry)
                raise
        return entry

    def _release(self, host: str, entry: _Host) -> None:
        with self._cond:
            entry.in_flight -= 1
            entry.users -= 1
            self._cond.notify_all()

    def _forget_some(self) -> None:
        """Make room for one more host by dropping least recently used ones (lock held).

        Only hosts that are idle and past their interval are dropped; others met on the way are moved to
        the recent end.  A few entries are looked at per call, so that a million hosts cost O(1) each."""
        now = self._clock()
        for _ in range(8):
            if len(self._hosts) < self.max_hosts or not self._hosts:
                return
            host, entry = next(iter(self._hosts.items()))
            if entry.users == 0 and entry.next_start <= now:
                del self._hosts[host]
            else:
                self._hosts.move_to_end(host)
