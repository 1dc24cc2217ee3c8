"""The decision rules, written once: which exact signal decides an image's class before any model.

Order, best first (`record_decisions`): the declared size (both `width` and `height` attributes;
for a line of `--aggregate` output, the sizes its occurrences declare, where they agree), then
(off by default, see RULES) the image's own `srcset` `w` descriptor, then a size written into its
URL (by default only where it says BIG, see RULES).  A bare URL has only the last (`url_decisions`).
What is left undecided goes to the model (`models.score`).

A side at most 400 px rules BIG out; both sides above 400 decide BIG; one side alone, or a longest
side above 400, does not decide.  Labels (what a crawler gets):
  BIG     both sides over 400 px: fetch;
  SMALL   both sides under 200 px, or one stated side (or the longest) under 200 px;
  MEDIUM  a stated size between the classes (e.g. 800x110, 300x300), or one stated side of 200-400 px:
          not BIG, so not fetched by default, and not SMALL either.
The model's own decisions are BIG or SMALL (it was trained on the two classes; SMALL then means
"not predicted BIG at the operating point").
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import compress

from features.model_inputs.size_signals import (
    BIG_MIN,
    SMALL_MAX,
    SizeSignal,
    declared_size,
    sizes_of,
    srcset_size,
)
from features.urls import url_of


@dataclass(frozen=True)
class Decision:
    label: str  # BIG, MEDIUM or SMALL
    p_big: float
    reason: str  # declared, srcset, url-pattern
    width: int | None = None
    height: int | None = None


def _not_big(sides: list[int]) -> str:
    """SMALL or MEDIUM for an image known not to be BIG, from the sides known (one or both)."""
    return "SMALL" if max(sides) < SMALL_MAX else "MEDIUM"


def decide_from_size(sig: SizeSignal) -> Decision | None:
    """A decision from a known size, or None where it cannot decide."""
    w, h = sig.width, sig.height
    if w is None and h is None:
        return None
    if sig.pattern.endswith("-longest"):
        if w <= BIG_MIN:  # the longest side is <= 400: the image cannot be BIG
            return Decision(_not_big([w]), 0.0, sig.reason, w, h)
        return None
    if (w is not None and w <= BIG_MIN) or (h is not None and h <= BIG_MIN):
        known = [v for v in (w, h) if v is not None]
        return Decision(_not_big(known), 0.0, sig.reason, w, h)
    if w is not None and h is not None:
        return Decision("BIG", 1.0, sig.reason, w, h)
    return None


def aggregate_declared_size(rec: dict) -> SizeSignal | None:
    """The declared size of an `--aggregate` line (`declared_sizes`: "WxH" of its occurrences), where
    every stated size gives the same decision: the largest of them; None where they disagree or none
    states both sides."""
    sizes = rec.get("declared_sizes")
    if not isinstance(sizes, list) or not sizes:
        return None
    parsed = []
    for text in sizes:
        w, _, h = str(text).partition("x")
        sig = declared_size({"width_attr": w, "height_attr": h})
        if sig is None:
            return None
        parsed.append(sig)
    labels = {d.label if (d := decide_from_size(sig)) else None for sig in parsed}
    if len(labels) != 1 or None in labels:
        return None
    return max(parsed, key=lambda sig: (sig.width * sig.height, sig.width))


def declared_decision(rec: dict) -> Decision | None:
    """The declared size's decision: the width/height attributes of an occurrence, or the sizes an
    aggregate line's occurrences declare."""
    if rec.get("width_attr") is not None and rec.get("height_attr") is not None:
        sig = declared_size(rec)
    elif rec.get("declared_sizes"):
        sig = aggregate_declared_size(rec)
    else:
        return None
    return decide_from_size(sig) if sig else None


def url_decisions(urls: list[str], labels: frozenset[str] | None = None) -> list[Decision | None]:
    """URL-pattern decisions for a batch (the sizes of a UrlBatch, else one scan of the batch); with
    `labels`, only decisions of those labels (the rest go to the model)."""
    sizes = sizes_of(urls)
    out: list[Decision | None] = [None] * len(sizes)
    # only the URLs with a size (found by `compress` in C: a SizeSignal is true, None false): a Python
    # pass over every URL cost more than the decisions
    for i in compress(range(len(sizes)), sizes):
        d = decide_from_size(sizes[i])
        if d is not None and (labels is None or d.label in labels):
            out[i] = d
    return out


def rule_labels(rules: tuple[str, ...], rule: str) -> frozenset[str] | None:
    """The labels `rule` may decide under `rules`: None for all ("url-pattern"), a set for
    "url-pattern:BIG" (only BIG decisions), empty when the rule is off."""
    if rule in rules:
        return None
    named = [r.split(":", 1)[1] for r in rules if r.startswith(rule + ":")]
    return frozenset(label for r in named for label in r.split("+"))


ALL_RULES = ("declared", "srcset", "url-pattern")
# What decides before the model, by default: a declared size, and a size in the URL where it says BIG
# ("url-pattern:BIG").  Why not more, measured leaving each of 8 collections out in turn (`ccimg eval
# --leave-one-collection-out --rules ...`, record model):
#   * a URL that states a small size (`?width=200`, `-300x200.jpg`, `/news/320/`) names a small
#     rendition, but on pages of unseen collections it was often the <img> of an image the page shows
#     big (responsive images, CDN previews, blurred placeholders): with those deciding SMALL, 68% of
#     SMALL fetches were skipped at 95% recall of BIG (worst collection 24%) and 86.6% of BIG images kept
#     with no options, against 90% (82%) and 94.0% with BIG decisions only (the model sees the same URL
#     size as a feature, and ranks those images better);
#   * the srcset rule (the image's own `w` descriptor) is off for the same reason (`--rules
#     declared,srcset,url-pattern:BIG` measures it).
# Both stay available (ALL_RULES, and "url-pattern" for every label), for a crawler that wants the file
# a URL names and nothing bigger.
RULES = ("declared", "url-pattern:BIG")


def record_decisions(records: list[dict], rules: tuple[str, ...] = RULES) -> list[Decision | None]:
    """Declared size, then srcset, then URL pattern (those of `rules`), for each record."""
    labels = rule_labels(rules, "url-pattern")
    by_url = (url_decisions([url_of(r) for r in records], labels) if labels is None or labels
              else [None] * len(records))
    out = []
    for rec, from_url in zip(records, by_url):
        d = declared_decision(rec) if "declared" in rules else None
        if d is None and "srcset" in rules and rec.get("srcset"):
            sig = srcset_size(rec)
            d = decide_from_size(sig) if sig else None
        out.append(d if d is not None else from_url)
    return out
