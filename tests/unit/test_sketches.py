"""Distinct counts: exact below the cap, HyperLogLog above it, merge order never matters (jobs/sketches.py)."""
from __future__ import annotations

import json
import random

import pytest

from jobs.sketches import Distinct


def _filled(items, cap=1000) -> Distinct:
    d = Distinct(cap=cap)
    for x in items:
        d.add(x)
    return d


def test_exact_below_the_cap_and_through_json():
    d = _filled([f"u{i % 700}" for i in range(5000)])
    assert d.exact and d.estimate() == 700 and d.summary()["exact"]
    again = Distinct.from_json(json.loads(json.dumps(d.to_json())))
    assert again.exact and again.estimate() == 700 and again.registers == d.registers


@pytest.mark.parametrize("n", [3_000, 40_000, 250_000])
def test_hyperloglog_above_the_cap_within_four_standard_errors(n):
    d = _filled((f"https://img.example/{i}.jpg" for i in range(n)))
    assert not d.exact and "HyperLogLog" in d.summary()["method"]
    assert abs(d.estimate() / n - 1) < 4 * 0.0081


def test_merge_is_order_free_and_drops_the_set_past_the_cap():
    items = [f"x{i}" for i in range(1500)]
    random.Random(1).shuffle(items)
    parts = [_filled(items[i::3]) for i in range(3)]  # 500 each: exact
    assert all(p.exact for p in parts)
    a = Distinct(cap=1000)
    for p in parts:
        a.merge(Distinct.from_json(p.to_json()))
    b = Distinct(cap=1000)
    for p in reversed(parts):
        b.merge(Distinct.from_json(p.to_json()))
    whole = _filled(items)
    assert not a.exact and a.registers == b.registers == whole.registers and a.estimate() == whole.estimate()
    small = [_filled(items[:300]), _filled(items[200:600])]
    assert small[0].merge(small[1]).estimate() == 600 and small[0].exact
    with pytest.raises(ValueError, match="precision"):
        Distinct(p=12).merge(Distinct(p=14))
