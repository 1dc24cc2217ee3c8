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

from models.decision import record_decisions
from models.evaluate import evaluate
from models.labels import LabelledData, labelled
from models.methods import OUR_METHODS, build
from models.model_file import ModelBundle, data_digest, library_versions
from models.score import Scorer
from models.split import is_test_site, record_site


@dataclass
class Prepared:
    data: LabelledData
    sites: np.ndarray

    def subset(self, mask) -> "Prepared":
        return Prepared(self.data.subset(mask), self.sites[np.flatnonzero(mask)])


def prepare(records, truth: dict | None = None, sources=("true", "declared")) -> Prepared:
    data = labelled(records, truth, sources)
    return Prepared(data, np.array([record_site(r) for r in data.records], dtype=object))


def split_by_site(prep: Prepared, test_share: float = 0.25) -> tuple[Prepared, Prepared]:
    test = is_test_site(prep.sites, test_share)
    return prep.subset(~test), prep.subset(test)


def fit_method(method: str, train: Prepared, trees: int = 30, k: int = 1000, seed: int = 0, **kw):
    """Fit a named method on the training side (ours: with site-grouped calibration folds)."""
    est = build(method, trees=trees, k=k, n_train=len(train.data), seed=seed, **kw)
    if method in OUR_METHODS:
        return est.fit(train.data.records, train.data.y, groups=train.sites)
    return est.fit(train.data.records, train.data.y)


def predict(method: str, est, test: Prepared, exact: bool = True, exact_p: dict | None = None):
    """(p_big, predicted labels 0/1, reasons) on a test side; exact signals only for our methods."""
    records = test.data.records
    if method in OUR_METHODS:
        kind = "url" if method == "ours-url" else "record"
        items = [r["img_url"] for r in records] if kind == "url" else records
        bundle = ModelBundle({kind: est}, {"exact_p": exact_p or {}})
        scores = Scorer(bundle, exact=exact).score(items)
        return scores.p_big, np.array([lab == "BIG" for lab in scores.label], dtype=int), scores.reason
    p = est.predict_proba(records)[:, 1]
    return p, (p >= 0.5).astype(int), ["model"] * len(p)


def evaluate_model(method: str, est, test: Prepared, exact: bool = True, exact_p: dict | None = None) -> dict:
    p, pred, reasons = predict(method, est, test, exact, exact_p)
    return evaluate(test.data.y, p, pred, sites=test.sites, reasons=reasons)


def exact_calibration(train: Prepared) -> dict:
    """BIG share of the training examples each exact rule decides, per reason and label (smoothed)."""
    counts: dict[str, list[int]] = {}
    for d, y in zip(record_decisions(train.data.records), train.data.y):
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
