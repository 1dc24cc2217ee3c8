"""Training: labelled records in, a fitted model (with its metadata) out.

`prepare` turns records into labelled examples (labels.py), keeping each example's site;
`split_by_site` gives the site-disjoint train/test sides; `fit_method` fits one named method
(methods.py); `evaluate_model` scores a test side the way `ccimg score` would (exact signals
first for our models) and returns the paper's table figures.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from models.calibration import DEFAULT_RECALL, DEFAULT_RECALL_URL
from models.decision import RULES, record_decisions, rule_labels, url_decisions
from models.evaluate import evaluate
from models.labels import DEFAULT_SOURCES, LabelledData, labelled
from models.methods import OUR_METHODS, build
from models.model_file import ModelBundle, data_digest, library_versions
from models.score import Scorer
from models.split import is_test_site, record_site


@dataclass
class Prepared:
    """Labelled examples with the site (registered domain) and the collection each came from."""

    data: LabelledData
    sites: np.ndarray
    collections: np.ndarray

    def subset(self, mask) -> "Prepared":
        idx = np.flatnonzero(mask)
        return Prepared(self.data.subset(mask), self.sites[idx], self.collections[idx])

    @property
    def evaluated(self) -> np.ndarray:
        """The examples evaluations report on: true and declared labels (not the stated sizes)."""
        return np.array([not str(s).startswith("stated") for s in self.data.sources], dtype=bool)

    def for_evaluation(self) -> "Prepared":
        return self.subset(self.evaluated)


def collection_of(rec) -> str:
    """Where a record came from (`collection`, set by models.corpus), or its site where that is missing
    (a user's own records: each site then counts as a collection of its own)."""
    if isinstance(rec, dict) and rec.get("collection"):
        return str(rec["collection"])
    return record_site(rec)


def prepare(records, truth: dict | None = None, sources=DEFAULT_SOURCES) -> Prepared:
    data = labelled(records, truth, sources)
    return Prepared(data, np.array([record_site(r) for r in data.records], dtype=object),
                    np.array([collection_of(r) for r in data.records], dtype=object))


def split_by_site(prep: Prepared, test_share: float = 0.25) -> tuple[Prepared, Prepared]:
    test = is_test_site(prep.sites, test_share)
    return prep.subset(~test), prep.subset(test)


def fit_method(method: str, train: Prepared, trees: int = 30, k: int = 1000, seed: int = 0,
               rules: tuple[str, ...] | None = None, **kw):
    """Fit a named method on the training side (ours: with site-grouped calibration folds, and recall
    targets on the BIG images the exact `rules` leave to the model)."""
    est = build(method, trees=trees, k=k, n_train=len(train.data), seed=seed, **kw)
    if method not in OUR_METHODS:
        return est.fit(train.data.records, train.data.y)
    est.fit(train.data.records, train.data.y, groups=train.sites, calibrate_on=train.evaluated)
    rules = rules or RULES
    if method == "ours-url":
        decisions = url_decisions([r["img_url"] for r in train.data.records], rule_labels(rules, "url-pattern"))
    else:
        decisions = record_decisions(train.data.records, rules)
    # recall targets are set on the examples evaluations count (true and declared labels) that reach the model
    decided = np.array([d is not None for d in decisions], dtype=bool) | ~train.evaluated
    est.set_model_side(decided, train.data.y)
    est.drop_fit_data()
    return est


def predict(method: str, est, test: Prepared, exact: bool = True, exact_p: dict | None = None,
            input_kind: str = "record", rules: tuple[str, ...] | None = None):
    """(p_big, predicted labels 0/1, reasons) on a test side; exact signals only for our methods.

    input_kind "url" gives every method the image URL alone (a record model then sees no HTML).
    """
    records = test.data.records
    if method == "ours-url":
        input_kind = "url"
    items = [r["img_url"] for r in records] if input_kind == "url" else records
    if method in OUR_METHODS:
        kind = "url" if method == "ours-url" else "record"
        bundle = ModelBundle({kind: est}, {"exact_p": exact_p or {}, "default_recall": DEFAULT_RECALL,
                                           "default_recall_url": DEFAULT_RECALL_URL, "rules": list(rules or RULES)})
        scores = Scorer(bundle, exact=exact).score(items)
        return scores.p_big, np.array([lab == "BIG" for lab in scores.label], dtype=int), scores.reason
    p = est.predict_proba(items)[:, 1]
    return p, (p >= 0.5).astype(int), ["model"] * len(p)


def evaluate_model(method: str, est, test: Prepared, exact: bool = True, exact_p: dict | None = None,
                   input_kind: str = "record", rules: tuple[str, ...] | None = None) -> dict:
    """The metrics on a test side: F1 at p_big >= 0.5 (calibrated probabilities for ours, the forest
    vote for the paper's methods, as they published), SMALL skipped at recall targets of BIG (the
    threshold set on the test side itself), and for ours `default_point`: BIG kept and SMALL skipped
    at the threshold chosen on the training side (the default of `ccimg score`).  `rules`: the exact
    rules that decide first (models.decision.RULES when None)."""
    p, pred, reasons = predict(method, est, test, exact, exact_p, input_kind, rules)
    out = evaluate(test.data.y, p, None, sites=test.sites, reasons=reasons)
    if method in OUR_METHODS:  # what `ccimg score` with no options does: the model's stored recall target
        y = np.asarray(test.data.y)
        out["default_point"] = {"big_kept": float(pred[y == 1].mean()) if (y == 1).any() else None,
                                "small_skipped": float(1 - pred[y == 0].mean()) if (y == 0).any() else None}
    return out


def exact_calibration(train: Prepared, rules: tuple[str, ...] | None = None) -> dict:
    """BIG share of the training examples each exact rule decides, per reason and label (smoothed)."""
    counts: dict[str, list[int]] = {}
    for d, y in zip(record_decisions(train.data.records, rules or RULES), train.data.y):
        if d is not None:
            c = counts.setdefault(f"{d.reason}:{d.label}", [0, 0])
            c[0] += int(y)
            c[1] += 1
    return {key: (big + 0.5) / (n + 1) for key, (big, n) in counts.items()}


def metadata(method: str, train: Prepared, settings: dict, evaluation: dict | None = None,
             seconds: float | None = None) -> dict:
    y = train.data.y
    return {
        "method": method, "settings": settings, "versions": library_versions(),
        "training_data": {"examples": int(len(y)), "big": int(y.sum()), "small": int((y == 0).sum()),
                          "sites": int(len(set(train.sites))),
                          "label_sources": {s: int((train.data.sources == s).sum())
                                            for s in sorted(set(train.data.sources))},
                          "digest": data_digest(train.data.records, y)},
        "evaluation": evaluation, "train_seconds": seconds,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
