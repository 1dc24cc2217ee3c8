"""Calibrated probabilities and a decision threshold chosen on held-out sites, as one estimator.

Why: a forest's vote share is not a probability, and a crawler needs a threshold set for what it
wants (the best F1avg, or "keep 95% of the big images").  `CalibratedThreshold` fits its
estimator on site-disjoint folds of the training data, collects the out-of-fold scores, fits an
isotonic map from score to probability on them, and picks thresholds on the calibrated
out-of-fold probabilities; then it refits the estimator on all the training data.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.isotonic import IsotonicRegression

RECALL_TARGETS = (0.90, 0.95, 0.99)


def _take(X, idx):
    return [X[i] for i in idx] if isinstance(X, list) else X[idx]


def f1avg_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The threshold on p (predict BIG when p >= t) with the best mean F1 of BIG and SMALL."""
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order].astype(bool)
    tp = np.cumsum(ys)  # BIG predicted BIG when cutting after position i
    fp = np.cumsum(~ys)
    n_big, n_small = ys.sum(), (~ys).sum()
    fn = n_big - tp
    tn = n_small - fp
    f1_big = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    f1_small = 2 * tn / np.maximum(2 * tn + fn + fp, 1)
    last = np.r_[ps[1:] != ps[:-1], True]  # only cut between distinct scores
    score = np.where(last, (f1_big + f1_small) / 2, -1)
    i = int(np.argmax(score))
    return float(ps[i])


def recall_threshold(y: np.ndarray, p: np.ndarray, recall: float) -> float:
    """The highest threshold that keeps at least `recall` of the BIG examples (p >= t)."""
    big = np.sort(p[y == 1])
    if len(big) == 0:
        return 0.5
    k = int(np.floor((1 - recall) * len(big) + 1e-9))
    return float(big[min(k, len(big) - 1)])


class CalibratedThreshold(ClassifierMixin, BaseEstimator):
    """An estimator with isotonic-calibrated probabilities and thresholds tuned out of fold."""

    def __init__(self, estimator=None, n_folds: int = 3):
        self.estimator = estimator
        self.n_folds = n_folds

    def fit(self, X, y, groups=None):
        y = np.asarray(y).astype(int)
        n = len(y)
        if groups is None:
            folds = np.arange(n) % self.n_folds
        else:
            _, inv = np.unique(np.asarray(groups, dtype=object).astype(str), return_inverse=True)
            folds = (inv * 2654435761 % 2 ** 32) % self.n_folds
        oof = np.full(n, np.nan)
        for f in range(self.n_folds):
            test = np.flatnonzero(folds == f)
            train = np.flatnonzero(folds != f)
            if len(test) == 0 or len(np.unique(y[train])) < 2:
                continue
            est = clone(self.estimator).fit(_take(X, train), y[train])
            oof[test] = est.predict_proba(_take(X, test))[:, 1]
        ok = ~np.isnan(oof)
        self.calibrator_ = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(oof[ok], y[ok])
        cal = self.calibrator_.predict(oof[ok])
        self.threshold_ = f1avg_threshold(y[ok], cal)
        self.recall_thresholds_ = {f"{r:.2f}": recall_threshold(y[ok], cal, r) for r in RECALL_TARGETS}
        self.oof_examples_ = int(ok.sum())
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        raw = self.estimator_.predict_proba(X)[:, 1]
        p = self.calibrator_.predict(raw)
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] >= self.threshold_).astype(int)
