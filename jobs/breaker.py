"""A circuit breaker per map task: stop fetching when the same error fails many input lines in a row.

Why: without a network, without AWS credentials or with a wrong --source-base, every line fails the
same way, and each one only after its full retry budget (minutes): a task of a thousand lines would
spend hours learning one fact.  After `threshold` lines in a row end with the same error kind (of the
kinds that say something about the environment rather than about the line: see `ENVIRONMENTAL`),
the breaker opens: the following lines fail at once, as `breaker_open`, without a fetch, and are
listed with the other failed lines for a rerun.  It is not final: one line is still tried after
`threshold`, 2 x `threshold`, 4 x `threshold`, ... lines skipped (so a long task probes a few dozen
times at most), and a line whose fetch works (it succeeds, or fails for a reason of its own) closes
the breaker.

Which kinds count: fetch errors, but not those about one line's own range or file (short_range,
range_not_satisfiable, not_a_file, ...); never a WARC format error or a malformed line.  Any other
outcome between two failures (a success, another kind) starts the count again.
"""
from __future__ import annotations

# Fetch error kinds that belong to one line and say nothing about the source as a whole.
LINE_SPECIFIC = frozenset({"fetch_short_range", "fetch_range_not_satisfiable", "fetch_bad_range",
                           "fetch_range_mismatch", "fetch_not_a_file", "fetch_bad_path", "fetch_too_large",
                           "fetch_bad_url"})


def is_environmental(kind: str) -> bool:
    """True for the line failure kinds that a broken environment gives every line (see the module's docstring)."""
    return kind.startswith("fetch_") and kind not in LINE_SPECIFIC


class CircuitBreaker:
    """Counts consecutive same-kind environmental failures; `allow()` says whether the next line is tried."""

    def __init__(self, threshold: int):
        self.threshold = threshold  # 0 or less: never opens
        self.kind: str | None = None  # the kind of the current run of failures
        self.run = 0
        self.open = False
        self.skipped = 0  # lines refused since the breaker opened
        self.next_probe = 0  # try one line when `skipped` reaches this
        self.opened = 0  # how often it opened (for the counters)

    def allow(self) -> bool:
        """May the next line be tried?  False while open, except for the spaced probes."""
        if not self.open:
            return True
        if self.skipped >= self.next_probe:
            return True
        self.skipped += 1
        return False

    def success(self) -> None:
        self.kind, self.run, self.open, self.skipped = None, 0, False, 0

    def failure(self, kind: str) -> bool:
        """Record a failed line; True when this failure opens the breaker."""
        if self.open:
            if is_environmental(kind):  # the probe failed: wait twice as long for the next one
                self.next_probe = max(self.threshold, 2 * self.next_probe)
                self.skipped = 0
            else:  # it got as far as the line's own bytes: the source works again
                self.success()
            return False
        if self.threshold <= 0 or not is_environmental(kind):
            self.kind, self.run = None, 0
            return False
        if kind == self.kind:
            self.run += 1
        else:
            self.kind, self.run = kind, 1
        if self.run >= self.threshold:
            self.open, self.skipped, self.next_probe = True, 0, self.threshold
            self.opened += 1
            return True
        return False

    def reason(self) -> str:
        return (f"not tried: the {self.run} input lines before it failed with {self.kind} one after another "
                f"(circuit breaker, --breaker-threshold {self.threshold}); fix the cause and rerun the failed lines")
