"""The named methods: the paper's baselines and our own model, each an sklearn estimator over records.

Every method takes a sequence of image records (dicts as written by the extraction job; a bare
URL string counts as a record with only `img_url`) and predicts 1 = BIG, 0 = SMALL.

  TOKENS-trf   URL tokens (`\\W+`), top k per class by trf, random forest   (paper)
  NG-trf       URL character 3-5-grams, top k per class by trf, forest     (paper)
  NG-tsrf      the same with tsrf selection                               (paper)
  NG-plain     every 3-5-gram seen twice, no selection (the plain baseline of the issue)
  features     the paper's 23 non-textual features, forest                (paper)
  hybrid       NG-trf forest and features forest, the paper's margin rule  (paper)
  ours         grams and tokens of the URL's path (no host: a site never seen shares no host grams with
               the training sites) + words of the element's class/id/alt + words of its surroundings
               (`ancestors`) + the 23 features + our context features (URL sizes and hints, srcset,
               position, ...), one forest, calibrated probabilities and operating points (records)
  ours-url     path n-grams + binned URL numbers + URL hints, calibrated logistic regression (for URL
               lists; the fast scoring path)
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from features.model_inputs.context import ContextFeatures
from features.model_inputs.paper import PaperFeatures
from features.model_inputs.url_grams import GramVectorizer
from features.model_inputs.url_shape import UrlHintFeatures, UrlShapeFeatures
from models.calibration import CalibratedThreshold

PAPER_METHODS = ("TOKENS-trf", "NG-trf", "NG-tsrf", "features", "hybrid")
OUR_METHODS = ("ours", "ours-url")
METHODS = PAPER_METHODS + ("NG-plain",) + OUR_METHODS
URL_ONLY = frozenset({"TOKENS-trf", "NG-trf", "NG-tsrf", "NG-plain", "ours-url"})


def paper_forest(trees: int, seed: int = 0) -> RandomForestClassifier:
    """Weka's RandomForest as the paper ran it: unlimited depth, sqrt(features) per split."""
    return RandomForestClassifier(n_estimators=trees, max_features="sqrt", n_jobs=-1, random_state=seed)


def tsrf_min_count(n_train: int) -> int:
    """The paper's 500 occurrences at 1M training examples, scaled to our training size (at least 5)."""
    return max(5, round(500 * n_train / 1_000_000))


class HybridClassifier(ClassifierMixin, BaseEstimator):
    """The paper's hybrid: where the n-gram and the feature forests disagree, the more confident wins.

    The n-gram forest's label is kept if its |p_big - p_small| + margin > the feature forest's.
    """

    def __init__(self, ngram_model=None, feature_model=None, margin: float = 0.1):
        self.ngram_model = ngram_model
        self.feature_model = feature_model
        self.margin = margin

    def fit(self, X, y):
        self.ngram_model_ = clone(self.ngram_model).fit(X, y)
        self.feature_model_ = clone(self.feature_model).fit(X, y)
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        pn = self.ngram_model_.predict_proba(X)[:, 1]
        pf = self.feature_model_.predict_proba(X)[:, 1]
        take_ngram = (np.abs(2 * pn - 1) + self.margin) > np.abs(2 * pf - 1)
        p = np.where(take_ngram, pn, pf)
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def url_union(k: int = 1000, hints: bool = True) -> FeatureUnion:
    """Features of the URL alone, every one computed per batch (the fast scoring path).

    The numeric URL features are binned into indicator columns so that a linear model can use them.
    No TOKENS: on the shared data they added nothing to the n-grams (F1avg 0.890 with, 0.890 without)
    and cost a third of the scoring time.  N-grams of the path only, and the URL hints, for pages of
    sites never seen (leave-one-collection-out, SMALL skipped at 95% recall of BIG: 55% with host
    n-grams and no hints, 61% with path n-grams and hints: see models/generalisation.py).
    """
    parts = [("ngrams", GramVectorizer("ngram", "trf", k, url_part="path")), ("shape", UrlShapeFeatures(bins=8))]
    if hints:  # off only to measure what they add (benchmarks/url_model_variants.py)
        parts.append(("hints", UrlHintFeatures()))
    return FeatureUnion(parts)


# The settings of the shipped model (ccimg build-default-model), and of the paper's methods in our tables.
SHIPPED_SETTINGS = {"record": {"trees": 40, "k": 1000, "min_samples_leaf": 2},  # ours: forest
                    "url": {"k": 1000}}  # ours-url: linear model
PAPER_SETTINGS = {"trees": 30, "k": 1000}


def settings_for(method: str, trees: int | None = None, k: int | None = None) -> dict:
    """`build`/`fit_method` keyword arguments for a method as the README's tables train it: ours at the
    shipped settings, the paper's methods at 30 trees and K=1000; `trees` and `k` override where they apply."""
    if method == "ours":
        out = dict(SHIPPED_SETTINGS["record"])
    elif method == "ours-url":
        out = dict(SHIPPED_SETTINGS["url"])
    else:
        out = dict(PAPER_SETTINGS) if method != "features" else {"trees": PAPER_SETTINGS["trees"]}
    if trees and "trees" in out:
        out["trees"] = trees
    if k and "k" in out:
        out["k"] = k
    return out


def build(method: str, trees: int = 30, k: int = 1000, n_train: int = 100_000, seed: int = 0,
          max_depth: int | None = None, min_samples_leaf: int = 2, url_hints: bool = True):
    """A fresh, unfitted estimator for a named method.

    max_depth and min_samples_leaf apply to our forest only; leaves of at least 2 examples give
    fewer tied scores (pure leaves vote exactly 0 or 1), which matters at 95-99% recall of BIG.
    """
    if method == "TOKENS-trf":
        return Pipeline([("grams", GramVectorizer("token", "trf", k)), ("forest", paper_forest(trees, seed))])
    if method == "NG-trf":
        return Pipeline([("grams", GramVectorizer("ngram", "trf", k)), ("forest", paper_forest(trees, seed))])
    if method == "NG-tsrf":
        return Pipeline([("grams", GramVectorizer("ngram", "tsrf", k, min_count=tsrf_min_count(n_train))),
                         ("forest", paper_forest(trees, seed))])
    if method == "NG-plain":
        return Pipeline([("grams", GramVectorizer("ngram", "none", min_count=2)),
                         ("forest", paper_forest(trees, seed))])
    if method == "features":
        return Pipeline([("features", PaperFeatures()), ("forest", paper_forest(trees, seed))])
    if method == "hybrid":
        return HybridClassifier(build("NG-trf", trees, k, n_train, seed), build("features", trees, k, n_train, seed))
    if method == "ours-url":
        # A linear model: a sparse dot product scores millions of URLs a second, and on these data it
        # ranks better than a forest of the same features (more SMALL skipped at high BIG recall).
        linear = LogisticRegression(C=0.3, class_weight="balanced", max_iter=3000)
        return CalibratedThreshold(Pipeline([("features", url_union(k, url_hints)), ("linear", linear)]))
    if method == "ours":
        forest = RandomForestClassifier(n_estimators=trees, max_features="sqrt", n_jobs=-1, random_state=seed,
                                        max_depth=max_depth, min_samples_leaf=min_samples_leaf,
                                        class_weight="balanced_subsample")
        features = FeatureUnion([
            ("ngrams", GramVectorizer("ngram", "trf", k, url_part="path")),
            ("tokens", GramVectorizer("token", "trf", 500, url_part="path")),
            ("words", GramVectorizer("attr-words", "trf", 200)),
            ("ancestors", GramVectorizer("ancestor-words", "trf", 300)),
            ("paper", PaperFeatures()),
            ("context", ContextFeatures()),
        ])
        return CalibratedThreshold(Pipeline([("features", features), ("forest", forest)]))
    raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
