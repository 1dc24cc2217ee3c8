"""The decision rules, written once: which exact signal decides an image's class before any model.

Order, best first (`record_decisions`): the declared size (both `width` and `height` attributes),
then the image's own `srcset` `w` descriptor, then a size written into its URL.  A bare URL has
only the last (`url_decisions`).  What is left undecided goes to the model (`models.score`).

A side at most 400 px rules BIG out; both sides above 400 decide BIG; one side alone, or a longest
side above 400, does not decide.
"""
from __future__ import annotations

from dataclasses import dataclass

from features.model_inputs.size_signals import (
    BIG_MIN,
    SizeSignal,
    declared_size,
    sizes_of,
    srcset_size,
)
from features.urls import url_of


@dataclass(frozen=True)
class Decision:
    label: str  # BIG or SMALL ("not BIG" where the size is in between)
    p_big: float
    reason: str  # declared, srcset, url-pattern
    width: int | None = None
    height: int | None = None


def decide_from_size(sig: SizeSignal) -> Decision | None:
    """A decision from a known size, or None where it cannot decide."""
    w, h = sig.width, sig.height
    if w is None and h is None:
        return None
    if sig.pattern.endswith("-longest"):
        if w <= BIG_MIN:  # the longest side is <= 400: the image cannot be BIG
            return Decision("SMALL", 0.0, sig.reason, w, h)
        return None
    if (w is not None and w <= BIG_MIN) or (h is not None and h <= BIG_MIN):
        return Decision("SMALL", 0.0, sig.reason, w, h)
    if w is not None and h is not None:
        return Decision("BIG", 1.0, sig.reason, w, h)
    return None


def url_decisions(urls: list[str]) -> list[Decision | None]:
    """URL-pattern decisions for a batch (the sizes of a UrlBatch, else one scan of the batch)."""
    return [None if sig is None else decide_from_size(sig) for sig in sizes_of(urls)]


def record_decisions(records: list[dict]) -> list[Decision | None]:
    """Declared size, then srcset, then URL pattern, for each record."""
    by_url = url_decisions([url_of(r) for r in records])
    out = []
    for rec, from_url in zip(records, by_url):
        d = None
        if rec.get("width_attr") is not None and rec.get("height_attr") is not None:
            sig = declared_size(rec)
            d = decide_from_size(sig) if sig else None
        if d is None and rec.get("srcset"):
            sig = srcset_size(rec)
            d = decide_from_size(sig) if sig else None
        out.append(d if d is not None else from_url)
    return out
