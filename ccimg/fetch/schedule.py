"""Which URL a free thread takes next: one whose host is free and due, so no thread sits waiting on a host.

Why a scheduler on top of network.gate.HostGate: the gate makes waiting safe (never two requests to a
host beyond its limit, never sooner than its interval), but a thread waiting in the gate does
nothing else.  With a thousand URLs of one site and one of each of fifty others, a plain queue would
park every thread on the big site; here a thread is handed a URL only when its host has a free slot
and its interval has passed, and threads spread over the hosts.  The gate still guards what the
scheduler cannot see: redirects to other hosts, robots.txt fetches, probes.
"""
from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable


class HostScheduler:
    """Jobs grouped by host; `take()` gives the next (host, job) whose host is free and due, `done(host)` after.

    At most `per_host` jobs of one host are out at once, and a host's jobs start at least `interval`
    seconds apart.  Jobs can be added while threads run (a probe that finds a BIG image adds its
    download).  `take()` returns None when nothing is left and nothing is out, or after `stop()`."""

    def __init__(self, per_host: int = 1, interval: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.per_host = max(1, per_host)
        self.interval = max(0.0, interval)
        self._clock = clock
        self._cond = threading.Condition()
        self._jobs: dict[str, deque] = {}
        self._out: dict[str, int] = {}
        self._last_start: dict[str, float] = {}
        self._due: list[tuple[float, int, str]] = []  # (time, tie-break, host) of hosts that have jobs and a free slot
        self._queued: set[str] = set()  # hosts in _due
        self._seq = itertools.count()
        self._pending = 0
        self._stopped = False

    def add(self, host: str, job) -> None:
        with self._cond:
            self._jobs.setdefault(host, deque()).append(job)
            self._pending += 1
            self._requeue(host)
            self._cond.notify()

    def _requeue(self, host: str) -> None:
        if host in self._queued or not self._jobs.get(host) or self._out.get(host, 0) >= self.per_host:
            return
        due = self._last_start.get(host, -float("inf")) + self.interval
        heapq.heappush(self._due, (due, next(self._seq), host))
        self._queued.add(host)

    def take(self):
        with self._cond:
            while True:
                if self._stopped:
                    return None
                if self._due:
                    due, _, host = self._due[0]
                    now = self._clock()
                    if due <= now:
                        heapq.heappop(self._due)
                        self._queued.discard(host)
                        job = self._jobs[host].popleft()
                        if not self._jobs[host]:
                            del self._jobs[host]
                        self._out[host] = self._out.get(host, 0) + 1
                        self._last_start[host] = now
                        self._requeue(host)
                        return host, job
                    self._cond.wait(due - now)
                    continue
                if self._pending == 0:
                    return None
                self._cond.wait()

    def done(self, host: str) -> None:
        with self._cond:
            self._out[host] -= 1
            if not self._out[host]:
                del self._out[host]
                if host not in self._jobs:
                    self._last_start.pop(host, None)  # forget hosts with nothing left: memory stays bounded
            self._pending -= 1
            self._requeue(host)
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    @property
    def hosts_active(self) -> int:
        with self._cond:
            return len(self._out)

    @property
    def hosts_left(self) -> int:
        with self._cond:
            return len(set(self._jobs) | set(self._out))
