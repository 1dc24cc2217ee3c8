"""How good is a model: the paper's table (P/R/F1 per class and F1avg) and what a crawler saves.

"Fetches skipped at R% recall of BIG": lower the threshold until R% of the BIG images would be
fetched; the share of SMALL images below it is the share of useless downloads saved.  Every
figure comes with the number of examples and of sites (registered domains) behind it.
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_curve, precision_recall_fscore_support

from models.calibration import RECALL_TARGETS, recall_threshold


def skipped_at_recall(y: np.ndarray, p: np.ndarray, recall: float) -> dict:
    """Threshold for `recall` of BIG on these data, and the share of SMALL fetches it skips."""
    t = recall_threshold(y, p, recall)
    small = y == 0
    return {"recall_target": recall, "threshold": t,
            "recall_big": float((p[y == 1] >= t).mean()) if (y == 1).any() else float("nan"),
            "small_skipped": float((p[small] < t).mean()) if small.any() else float("nan")}


def evaluate(y, p_big, pred=None, sites=None, reasons=None, threshold: float = 0.5) -> dict:
    """The metrics of one model on one labelled set (y: 1 = BIG, p_big: score, pred: labels)."""
    y = np.asarray(y).astype(int)
    p = np.asarray(p_big, dtype=float)
    pred = (p >= threshold).astype(int) if pred is None else np.asarray(pred).astype(int)
    prec, rec, f1, sup = precision_recall_fscore_support(y, pred, labels=[0, 1], zero_division=0)
    out = {
        "examples": int(len(y)), "big": int((y == 1).sum()), "small": int((y == 0).sum()),
        "sites": int(len(set(sites))) if sites is not None else None,
        "precision_small": float(prec[0]), "recall_small": float(rec[0]), "f1_small": float(f1[0]),
        "precision_big": float(prec[1]), "recall_big": float(rec[1]), "f1_big": float(f1[1]),
        "f1_avg": float((f1[0] + f1[1]) / 2),
        "skipped": [skipped_at_recall(y, p, r) for r in RECALL_TARGETS],
    }
    if reasons is not None:
        reasons = np.asarray(reasons, dtype=object)
        out["by_reason"] = {}
        for r in sorted(set(reasons)):
            m = reasons == r
            out["by_reason"][r] = {"examples": int(m.sum()), "accuracy": float((pred[m] == y[m]).mean())}
    return out


def pr_curve(y, p_big, max_points: int = 200) -> dict:
    """Precision and recall of BIG along the threshold, thinned to at most max_points."""
    precision, recall, thresholds = precision_recall_curve(np.asarray(y).astype(int), np.asarray(p_big, float))
    idx = np.unique(np.linspace(0, len(thresholds) - 1, min(max_points, len(thresholds))).astype(int))
    return {"threshold": thresholds[idx].tolist(), "precision": precision[idx].tolist(),
            "recall": recall[idx].tolist()}


def table_row(name: str, m: dict) -> str:
    s = {round(x["recall_target"] * 100): x["small_skipped"] for x in m["skipped"]}
    return (f"| {name} | {m['f1_small']:.3f} | {m['f1_big']:.3f} | {m['f1_avg']:.3f} | "
            f"{s[90]:.0%} | {s[95]:.0%} | {s[99]:.0%} | {m['examples']:,} ({m['big']:,} BIG) | {m['sites']} |")


TABLE_HEADER = ("| method | F1 small | F1 big | F1 avg | SMALL skipped @90% BIG recall | @95% | @99% | "
                "test examples | test sites |\n|---|---|---|---|---|---|---|---|---|")
