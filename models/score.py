"""Where a prediction is made: exact signals first, the model for the rest, each with its reason.

`Scorer.score(items)` takes a batch of records (dicts) or bare URL strings and returns, per item,
p_big (0..1), the label (BIG, or SMALL meaning "not BIG") and the reason:
  declared     both width/height attributes give the size          (records only)
  srcset       the image's own srcset `w` descriptor rules BIG out   (records only)
  url-pattern  a size written in the URL decides
  model        the calibrated model, compared with its threshold
Everything is done per batch: the URL size patterns are searched once over the joined batch (a
URL list's sizes then serve both the decisions and the URL model's features, see `UrlBatch`),
and the model sees only the items no exact signal decided.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import compress
from pathlib import Path
import numpy as np

# The model's own classes, with scikit-learn, are imported with the scoring code, not by the first
# model load (so `ccimg score` reports the model load alone).
from features.model_inputs.size_signals import UrlBatch
from models.calibration import DEFAULT_RECALL
from models.decision import RULES, record_decisions, rule_labels, url_decisions
from models.model_file import ModelBundle, load

DEFAULT_MODEL = Path(__file__).resolve().parent / "default_model.skops"
_MODEL_LABELS = np.array(["SMALL", "BIG"], dtype=object)  # the model's label, by whether p_big >= threshold


@dataclass
class Scores:
    p_big: np.ndarray
    label: list
    reason: list
    width: list
    height: list


class Scorer:
    """Scores batches with a model bundle at an operating point.

    The operating point, in order: `threshold` (a number on p_big, or "f1" for the model's best-F1
    threshold), else `recall` (a target share of BIG images kept), else the recall target stored in
    the model file (`metadata["default_recall"]`, 95%, and `default_recall_url` for bare URLs, 98%:
    a crawler filter's first duty is not to lose BIG images).  Recall thresholds were chosen on
    held-out data of the training run.

    An exact decision keeps its label; its p_big is the BIG share measured for that reason and
    label on the training data (`metadata["exact_p"]`), so that ranking by p_big (to reach a
    recall target) puts a less reliable rule above a confident model score.
    """

    def __init__(self, bundle: ModelBundle | str | Path | None = None, recall: float | None = None,
                 threshold: float | str | None = None, exact: bool = True, rules: tuple[str, ...] | None = None):
        if bundle is None or isinstance(bundle, (str, Path)):
            bundle = load(bundle or DEFAULT_MODEL)
        if recall is not None and not 0.0 < recall <= 1.0:
            raise ValueError(f"--recall is a share of BIG images in (0, 1], e.g. 0.95; got {recall}")
        if isinstance(threshold, str) and threshold != "f1":
            raise ValueError(f"--threshold is a number on p_big or 'f1'; got {threshold!r}")
        self.bundle = bundle
        self.recall = recall
        self.fixed_threshold = threshold
        self.exact = exact
        # the exact rules this model was trained to follow (stored in its file), or those asked for
        self.rules = tuple(rules or bundle.metadata.get("rules") or RULES)

    def default_recall_for(self, kind: str = "record") -> float:
        """The recall target stored in the model file for this input: `default_recall_url` for bare URLs
        where the file has one (the shipped model: 0.98), else `default_recall` (0.95)."""
        meta = self.bundle.metadata
        if kind == "url" and "default_recall_url" in meta:
            return float(meta["default_recall_url"])
        return float(meta.get("default_recall", DEFAULT_RECALL))

    @property
    def default_recall(self) -> float:
        return self.default_recall_for("record")

    def threshold_for(self, estimator, kind: str = "record") -> float:
        if self.fixed_threshold == "f1":
            return float(getattr(estimator, "threshold_", 0.5))
        if self.fixed_threshold is not None:
            return float(self.fixed_threshold)
        if hasattr(estimator, "recall_threshold"):
            return estimator.recall_threshold(self.recall if self.recall is not None else self.default_recall_for(kind))
        return 0.5

    def score(self, items: list) -> Scores:
        n = len(items)
        urls_only = all(isinstance(x, str) for x in items)
        if urls_only and not isinstance(items, UrlBatch):
            items = UrlBatch(items)  # the URL sizes, found once for the decisions and the model
        if self.exact:
            decisions = (url_decisions(items, rule_labels(self.rules, "url-pattern")) if urls_only
                         else record_decisions(items, self.rules))
        else:
            decisions = [None] * n
        p = np.zeros(n)
        # labels and reasons as object arrays: whole blocks of rows are set at once (a Python loop per
        # item cost more than the linear model)
        label = np.full(n, None, dtype=object)
        reason = np.full(n, None, dtype=object)
        width: list = [None] * n
        height: list = [None] * n
        decided = list(compress(range(n), decisions))  # a Decision is true, None false (C, not a Python loop)
        exact_p = self.bundle.metadata.get("exact_p", {})
        for i in decided:
            d = decisions[i]
            p[i] = exact_p.get(f"{d.reason}:{d.label}", d.p_big)
            label[i], reason[i], width[i], height[i] = d.label, d.reason, d.width, d.height
        if len(decided) < n:
            undecided = np.ones(n, dtype=bool)
            undecided[decided] = False
            rest = np.flatnonzero(undecided)
            est = self.bundle.for_input("url" if urls_only else "record")
            batch = items.take(rest.tolist()) if urls_only else [items[i] for i in rest.tolist()]
            pm = est.predict_proba(batch)[:, 1]
            t = self.threshold_for(est, "url" if urls_only else "record")
            p[rest] = pm
            label[rest] = _MODEL_LABELS[(pm >= t).astype(np.intp)]
            reason[rest] = "model"
        return Scores(p, label.tolist(), reason.tolist(), width, height)
