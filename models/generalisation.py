"""How well a method holds on pages it has never seen: leave-one-collection-out evaluation.

A site-disjoint split inside the same collections flatters: the held-out sites share the
collections' era, languages and CMSs with the training sites.  Here each collection of the
corpus is left out in turn: the method is trained on all the others and tested on the one left
out, both on full records and on bare URLs (the image URL and nothing else).  Reported per
collection, with the mean and the worst.

Which collections can be left out: those with at least `MIN_PER_CLASS` BIG and as many SMALL
labelled examples (fewer make "SMALL skipped at 95% recall of BIG" a matter of a handful of
images); the smaller collections always stay on the training side.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from models.methods import OUR_METHODS, URL_ONLY
from models.train import Prepared, evaluate_model, exact_calibration, fit_method

MIN_PER_CLASS = 50
SUMMARY_KEYS = ("f1_small", "f1_big", "f1_avg")


def loco_collections(prep: Prepared, min_per_class: int = MIN_PER_CLASS) -> list[str]:
    """The collections that can be left out, largest first."""
    out = []
    evaluated = prep.evaluated
    for name in sorted(set(prep.collections)):
        y = prep.data.y[(prep.collections == name) & evaluated]
        if (y == 1).sum() >= min_per_class and (y == 0).sum() >= min_per_class:
            out.append((len(y), name))
    return [name for _, name in sorted(out, reverse=True)]


def skipped_at(m: dict, recall: float) -> float:
    return next(s["small_skipped"] for s in m["skipped"] if abs(s["recall_target"] - recall) < 1e-9)


def summarise(per_collection: dict[str, dict]) -> dict:
    """Mean and worst over the left-out collections of F1 (small, big, avg) and SMALL skipped at 90/95/99%."""
    out = {}
    for key in SUMMARY_KEYS:
        values = [m[key] for m in per_collection.values()]
        out[key] = {"mean": float(np.mean(values)), "worst": float(np.min(values))}
    for recall in (0.90, 0.95, 0.99):
        values = [skipped_at(m, recall) for m in per_collection.values()]
        out[f"skipped_{round(recall * 100)}"] = {"mean": float(np.mean(values)), "worst": float(np.min(values))}
    for key in ("big_kept", "small_skipped"):  # at the threshold chosen on the training side (ours only)
        values = [m["default_point"][key] for m in per_collection.values() if m.get("default_point")]
        if values:
            out[f"default_{key}"] = {"mean": float(np.mean(values)), "worst": float(np.min(values))}
    return out


def leave_one_collection_out(prep: Prepared, method: str, fit_kw: dict | None = None,
                             collections: list[str] | None = None,
                             log: Callable[[str], None] = lambda _msg: None, urls: bool = True,
                             rules: tuple[str, ...] | None = None) -> dict:
    """Train `method` without each collection, test on it: {"record": ..., "url": ...}, each
    {"collections": {name: metrics}, "summary": {...}}.

    "record" scores full records (for our methods: exact signals first, as `ccimg score` does);
    "url" scores the image URL alone: for `ours` the URL model (`ours-url`) trained on the same
    side, for the paper's methods the same model given bare URLs (`urls=False`: records only).
    `rules`: the exact rules that decide before our models (models.decision.RULES when None).
    """
    fit_kw = dict(fit_kw or {})
    names = collections or loco_collections(prep)
    results: dict[str, dict] = {"record": {}, "url": {}}
    for name in names:
        t0 = time.time()
        test_mask = prep.collections == name
        train, test = prep.subset(~test_mask), prep.subset(test_mask).for_evaluation()
        exact_p = exact_calibration(train, rules) if method in OUR_METHODS else None
        ours = {"rules": rules} if method in OUR_METHODS else {}
        est = fit_method(method, train, **fit_kw, **ours)
        results["record"][name] = evaluate_model(method, est, test, exact_p=exact_p, rules=rules)
        if urls and method == "ours":
            url_est = fit_method("ours-url", train, k=fit_kw.get("k", 1000), rules=rules)
            results["url"][name] = evaluate_model("ours-url", url_est, test, exact_p=exact_p, rules=rules)
        elif urls and method in URL_ONLY:
            results["url"][name] = results["record"][name]
        elif urls:
            results["url"][name] = evaluate_model(method, est, test, input_kind="url", exact_p=exact_p)
        m = results["record"][name]
        log(f"{method} without {name}: F1avg {m['f1_avg']:.3f}, SMALL skipped at 95% recall "
            f"{skipped_at(m, 0.95):.1%} ({m['examples']:,} examples, {m['big']:,} BIG; {time.time() - t0:.0f}s)")
    return {kind: {"collections": per, "summary": summarise(per)} for kind, per in results.items() if per}


LOCO_HEADER = ("| method | input | F1avg mean | F1avg worst | SMALL skipped @95% BIG recall, mean | worst | "
               "@90% mean | @99% mean | no options: BIG kept, mean / worst | SMALL skipped |\n"
               "|---|---|---|---|---|---|---|---|---|---|")


def loco_row(name: str, kind: str, summary: dict) -> str:
    s = summary
    kept, skipped = s.get("default_big_kept"), s.get("default_small_skipped")
    default = (f"{kept['mean']:.1%} / {kept['worst']:.1%} | {skipped['mean']:.0%}" if kept and skipped
               else "- | -")
    return (f"| {name} | {kind} | {s['f1_avg']['mean']:.3f} | {s['f1_avg']['worst']:.3f} | "
            f"{s['skipped_95']['mean']:.0%} | {s['skipped_95']['worst']:.0%} | {s['skipped_90']['mean']:.0%} | "
            f"{s['skipped_99']['mean']:.0%} | {default} |")


def per_collection_table(result: dict) -> str:
    """Markdown: one row per left-out collection (record input), F1 and skipped at 95%."""
    lines = ["| left out | examples (BIG) | sites | F1 small | F1 big | F1avg | SMALL skipped @95% | "
             "no options: BIG kept, SMALL skipped |",
             "|---|---|---|---|---|---|---|---|"]
    for name, m in result["collections"].items():
        d = m.get("default_point")
        default = f"{d['big_kept']:.1%}, {d['small_skipped']:.0%}" if d else "-"
        lines.append(f"| {name} | {m['examples']:,} ({m['big']:,}) | {m['sites']} | {m['f1_small']:.3f} | "
                     f"{m['f1_big']:.3f} | {m['f1_avg']:.3f} | {skipped_at(m, 0.95):.0%} | {default} |")
    return "\n".join(lines)
