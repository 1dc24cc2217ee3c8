"""Retrying transient failures: exponential backoff with full jitter, bounded in attempts and in time.

Why full jitter (a delay drawn uniformly from [0, min(max_delay, base * 2**n)]): thousands of mappers
that hit the same "503 Slow Down" at the same moment must not come back at the same moment.  Why
bounded twice: a count alone lets long delays add up to hours, a time alone lets fast failures hammer
a server.  Retry-After is honoured (we never come back sooner than the server asked), but only up to
`max_delay`: a server asking for a day must not park a mapper for a day; we retry after `max_delay`
and, if it still refuses, give up when the attempts or the time run out.
"""
from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TypeVar

from network.errors import FetchError, TransientError

T = TypeVar("T")

# HTTP statuses that mean "try again later": timeout, too early, too many requests, server trouble.
# Other 5xx (501 Not Implemented, 505, 511, ...) say something retrying will not change.
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})

# No Retry-After is read as longer than this: callers cap far below it anyway, and an absurd value
# (10**12 s, a date in the year 9999) must stay a finite, sleepable float.
MAX_RETRY_AFTER = 365 * 24 * 3600.0

_DELTA_SECONDS = re.compile(r"[0-9]+")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), None if absent or unreadable.

    A date in the past gives 0.0; anything longer than MAX_RETRY_AFTER gives MAX_RETRY_AFTER.  `now` is for
    tests (an aware datetime); the default is the current UTC time."""
    if not value:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        # len() first: int() of a 5000-digit string raises (Python's digit limit) and is slow anyway.
        if len(value) > 12:
            return MAX_RETRY_AFTER
        return min(float(int(value)), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # "-0000" means UTC with unknown local zone (RFC 5322)
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    try:
        seconds = (when - now).total_seconds()
    except OverflowError:
        return MAX_RETRY_AFTER
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def _full_jitter(cap: float) -> float:
    return random.uniform(0.0, cap)


@dataclass
class RetryPolicy:
    """How often and how long to retry a call that raises TransientError.

    `run(fn)` calls `fn` until it returns, raises anything but TransientError, or the policy runs out:
    then FetchError(f"gave_up_{kind}") chained to the last TransientError.  A FetchError from `fn`
    passes through at once.  `sleep` and `clock` are injectable so that tests need not wait."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_elapsed: float = 300.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[float], float] = field(default=_full_jitter, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """The wait after failed attempt number `attempt` (1-based)."""
        # The exponent is capped so that 2**n stays a small float however many attempts are allowed.
        cap = min(self.max_delay, self.base_delay * 2.0 ** min(attempt - 1, 60))
        delay = self.jitter(max(0.0, cap))
        if retry_after is not None and math.isfinite(retry_after) and retry_after > 0:
            delay = max(delay, min(retry_after, self.max_delay))
        return delay

    def run(self, fn: Callable[[], T], what: str = "request",
            on_retry: Callable[[str, str], None] | None = None) -> T:
        """`fn()`'s result, retrying TransientError; `on_retry(kind, message)` is told of every retry."""
        start = self.clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except TransientError as exc:
                elapsed = self.clock() - start
                delay = self.delay(attempt, exc.retry_after)
                if attempt >= self.max_attempts or elapsed + delay > self.max_elapsed:
                    raise FetchError(f"gave_up_{exc.kind}",
                                     f"{what}: gave up after {attempt} attempt(s) in {elapsed:.1f}s: {exc}") from exc
                if on_retry is not None:
                    on_retry(exc.kind, f"{what}: attempt {attempt} failed ({exc}); retrying in {delay:.2f}s")
                self.sleep(delay)
