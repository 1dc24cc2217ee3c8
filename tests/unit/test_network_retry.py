"""network.retry and network.errors: bounded backoff with full jitter, Retry-After, and the error types.

A fake clock that the fake sleep advances stands in for time, so the bounds are checked exactly and the
tests take no time.
"""
from __future__ import annotations

import pickle
import time
from datetime import datetime, timezone

import pytest

from network.errors import FetchError, TransientError
from network.retry import MAX_RETRY_AFTER, RETRY_STATUS, RetryPolicy, parse_retry_after


class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


def failing(kind="http_503", retry_after=None, calls=None, cost=0.0, clock=None):
    def fn():
        if calls is not None:
            calls.append(1)
        if clock is not None:
            clock.now += cost
        raise TransientError(kind, "server busy", retry_after)
    return fn


def test_gives_up_after_max_attempts():
    t = FakeTime()
    calls = []
    policy = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=30, max_elapsed=1e9, sleep=t.sleep, clock=t.clock)
    with pytest.raises(FetchError) as info:
        policy.run(failing(calls=calls), "GET x")
    assert info.value.kind == "gave_up_http_503"
    assert isinstance(info.value.__cause__, TransientError)
    assert len(calls) == 4 and len(t.sleeps) == 3


def test_gives_up_when_the_next_wait_would_pass_max_elapsed():
    t = FakeTime()
    policy = RetryPolicy(max_attempts=10_000, base_delay=1, max_delay=10, max_elapsed=60, sleep=t.sleep,
                         clock=t.clock, jitter=lambda cap: cap)
    with pytest.raises(FetchError):
        policy.run(failing(), "GET x")
    assert t.now <= 60
    assert t.sleeps[:5] == [1, 2, 4, 8, 10]  # exponential, capped at max_delay


def test_slow_attempts_count_against_max_elapsed():
    t = FakeTime()
    calls = []
    policy = RetryPolicy(max_attempts=100, base_delay=0.1, max_delay=1, max_elapsed=50, sleep=t.sleep, clock=t.clock)
    with pytest.raises(FetchError):
        policy.run(failing(calls=calls, cost=20.0, clock=t), "GET x")
    assert len(calls) <= 3


def test_full_jitter_stays_within_the_cap():
    policy = RetryPolicy(base_delay=0.5, max_delay=4)
    for attempt in range(1, 8):
        cap = min(4, 0.5 * 2 ** (attempt - 1))
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(0 <= d <= cap for d in delays)
        assert max(delays) > cap / 4  # drawn from the whole range, not a fixed value


def test_huge_attempt_numbers_do_not_overflow():
    assert 0 <= RetryPolicy(max_delay=30).delay(100_000) <= 30


def test_retry_after_is_honoured_and_capped():
    t = FakeTime()
    policy = RetryPolicy(max_attempts=3, base_delay=0.1, max_delay=30, max_elapsed=1e9, sleep=t.sleep, clock=t.clock,
                         jitter=lambda cap: 0.0)
    with pytest.raises(FetchError):
        policy.run(failing(kind="http_429", retry_after=7), "GET x")
    assert t.sleeps == [7, 7]  # never less than the server asked
    t2 = FakeTime()
    policy2 = RetryPolicy(max_attempts=2, max_delay=30, max_elapsed=1e9, sleep=t2.sleep, clock=t2.clock)
    with pytest.raises(FetchError):
        policy2.run(failing(retry_after=1e12), "GET x")
    assert t2.sleeps == [30]  # but never longer than max_delay
    for odd in (float("nan"), float("inf"), -5.0):
        assert 0 <= policy2.delay(1, odd) <= 30


def test_success_after_failures_and_on_retry_is_told():
    t = FakeTime()
    results = iter([TransientError("timeout", "slow"), TransientError("connection_reset", "reset"), "ok"])

    def fn():
        item = next(results)
        if isinstance(item, Exception):
            raise item
        return item

    told = []
    policy = RetryPolicy(sleep=t.sleep, clock=t.clock)
    assert policy.run(fn, "GET x", on_retry=lambda kind, msg: told.append((kind, msg))) == "ok"
    assert [k for k, _ in told] == ["timeout", "connection_reset"]
    assert all("GET x" in msg for _, msg in told)


def test_fetch_error_is_not_retried():
    t = FakeTime()
    calls = []

    def fn():
        calls.append(1)
        raise FetchError("not_found", "gone")

    with pytest.raises(FetchError) as info:
        RetryPolicy(sleep=t.sleep, clock=t.clock).run(fn, "GET x")
    assert info.value.kind == "not_found" and len(calls) == 1 and t.sleeps == []


def test_retry_status_set():
    assert RETRY_STATUS == {408, 425, 429, 500, 502, 503, 504}


NOW = datetime(2015, 10, 21, 7, 27, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("value, expected", [
    ("120", 120.0), (" 5 ", 5.0), ("0", 0.0),
    (None, None), ("", None), ("-5", None), ("1.5", None), ("soon", None), ("1e3", None), ("\u0665", None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 60.0),
    ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),          # in the past: now
    ("Wed, 21 Oct 2015 07:28:00 -0000", 60.0),        # no zone: UTC
    ("Wed, 99 Foo 2015 07:28:00 GMT", None),
    ("1" + "0" * 12, MAX_RETRY_AFTER),                # 10**12 seconds
    ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER),
])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now=NOW) == expected


def test_parse_retry_after_absurd_values_are_quick_and_finite():
    start = time.monotonic()
    assert parse_retry_after("9" * 100_000) == MAX_RETRY_AFTER
    assert time.monotonic() - start < 1.0


def test_errors_keep_kind_and_survive_pickling():
    for exc in (FetchError("not_found", "x: HTTP 404"), TransientError("http_503", "x: HTTP 503", 4.0)):
        back = pickle.loads(pickle.dumps(exc))
        assert type(back) is type(exc) and back.kind == exc.kind and str(back) == str(exc)
    assert pickle.loads(pickle.dumps(TransientError("t", "m", 4.0))).retry_after == 4.0
