"""The decision rules (models.decision): labels of known sizes, aggregates, and the operating points."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from features.model_inputs.size_signals import SizeSignal
from models.calibration import CalibratedThreshold
from models.decision import aggregate_declared_size, decide_from_size, record_decisions
from models.labels import label_of


@pytest.mark.parametrize("sig,label", [
    (SizeSignal(800, 600, "declared"), "BIG"),
    (SizeSignal(120, 90, "declared"), "SMALL"),
    (SizeSignal(800, 110, "declared"), "MEDIUM"),  # between the classes: not SMALL, and not fetched
    (SizeSignal(300, 300, "declared"), "MEDIUM"),
    (SizeSignal(150, None, "url-pattern"), "SMALL"),  # one stated side under 200
    (SizeSignal(300, None, "url-pattern"), "MEDIUM"),  # one stated side of 200-400
    (SizeSignal(320, None, "url-pattern", "flickr-longest"), "MEDIUM"),
    (SizeSignal(100, None, "url-pattern", "flickr-longest"), "SMALL"),
    (SizeSignal(800, None, "url-pattern"), None),  # one side over 400: the model decides
    (SizeSignal(1024, None, "url-pattern", "flickr-longest"), None),
])
def test_labels_of_known_sizes(sig, label):
    d = decide_from_size(sig)
    assert (d.label if d else None) == label


def test_an_aggregate_line_is_decided_by_what_its_occurrences_declare():
    """`footer-info.gif`, 620x625 in all 29 occurrences: BIG per occurrence, and BIG aggregated."""
    agg = {"img_url": "http://www.archive.org/images/footer-info.gif", "occurrences": 29, "pages": 29,
           "declared_sizes": ["620x625"], "elements": {"img": 29}, "alts": []}
    d = record_decisions([agg])[0]
    assert (d.label, d.reason, d.width, d.height) == ("BIG", "declared", 620, 625)
    assert label_of(agg).label == "BIG" and label_of(agg).source == "declared"  # it can train, too
    # occurrences that disagree decide nothing: the model does
    assert aggregate_declared_size({"declared_sizes": ["620x625", "20x20"]}) is None
    assert aggregate_declared_size({"declared_sizes": ["620x"]}) is None
    assert aggregate_declared_size({"declared_sizes": ["600x500", "640x480"]}).width == 640


def test_recall_targets_are_set_on_the_big_images_left_to_the_model():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3))
    y = (X[:, 0] + 0.7 * rng.normal(size=600) > 0.8).astype(int)
    est = CalibratedThreshold(LogisticRegression()).fit(X, y)
    t95, t80 = est.recall_threshold(0.95), est.recall_threshold(0.80)
    assert t95 <= t80 and 0.0 <= t95 <= 1.0
    assert est.recall_thresholds_["0.95"] == t95 and 0.0 < est.threshold_ < 1.0
    # a recall target the model alone reaches on the held-out scores it kept
    assert (est.big_scores_ >= t95).sum() >= 0.95 * y.sum() - 1
    # when exact signals decide some images, the target is the share of the BIG images left to the model
    est._oof_calibrated = np.sort(rng.random(600))
    est.set_model_side(np.arange(600) < 300, y)
    assert est.big_total_ == int(y[300:].sum()) and len(est.big_scores_) == est.big_total_
    with pytest.raises(ValueError):
        est.recall_threshold(1.5)
