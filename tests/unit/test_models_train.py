"""Training the named methods on a small real slice, calibration, the hybrid rule, the model file."""
from __future__ import annotations

import fractions
import zipfile

import numpy as np
import pytest

from models.calibration import f1avg_threshold, recall_threshold
from models.evaluate import evaluate, skipped_at_recall
from models.methods import HybridClassifier, build
from models.model_file import ModelBundle, UntrustedModelError, load, save
from models.train import evaluate_model, fit_method, metadata, prepare, split_by_site
from tests.support.size_model_data import aeb_records, more_records


@pytest.fixture(scope="module")
def split():
    prep = prepare(list(more_records()) + list(aeb_records()))
    train, test = split_by_site(prep)
    assert set(train.sites).isdisjoint(test.sites)
    return train, test


@pytest.mark.parametrize("method", ["TOKENS-trf", "NG-trf", "NG-tsrf", "NG-plain", "features", "hybrid", "ours",
                                    "ours-url"])
def test_every_method_trains_and_beats_chance_on_held_out_sites(method, split):
    train, test = split
    est = fit_method(method, train, trees=10, k=300)
    m = evaluate_model(method, est, test)
    assert m["examples"] == len(test.data) and m["sites"] == len(set(test.sites))
    assert m["big"] + m["small"] == m["examples"]
    # a real signal even from a few hundred pages: better than predicting one class (F1avg <= 0.5)
    assert m["f1_avg"] > 0.6, m


def test_our_model_calibrates_and_picks_thresholds_out_of_fold(split):
    train, _ = split
    est = fit_method("ours", train, trees=10, k=300)
    assert 0.0 < est.threshold_ < 1.0
    t = est.recall_thresholds_
    assert t["0.99"] <= t["0.95"] <= t["0.90"]
    p = est.predict_proba(train.data.records[:500])[:, 1]
    assert ((p >= 0) & (p <= 1)).all()


def test_threshold_helpers_against_brute_force():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    p = np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1)
    t = f1avg_threshold(y, p)
    brute = max(np.unique(p), key=lambda th: evaluate(y, p, threshold=th)["f1_avg"])
    assert evaluate(y, p, threshold=t)["f1_avg"] == pytest.approx(evaluate(y, p, threshold=brute)["f1_avg"])
    for r in (0.9, 0.95, 0.99):
        s = skipped_at_recall(y, p, r)
        assert s["recall_big"] >= r
        assert (p[y == 1] >= recall_threshold(y, p, r)).mean() >= r


class _Fixed:
    def __init__(self, p):
        self.p = np.asarray(p)

    def predict_proba(self, X):
        return np.column_stack([1 - self.p, self.p])


def test_the_hybrid_rule_of_the_paper():
    h = HybridClassifier(margin=0.1)
    h.ngram_model_ = _Fixed([0.9, 0.40, 0.45, 0.2])
    h.feature_model_ = _Fixed([0.8, 0.95, 0.52, 0.9])
    # agree -> that label; disagree -> n-gram forest if its margin + 0.1 beats the feature forest's
    assert h.predict([None] * 4).tolist() == [1, 1, 0, 1]


def test_model_file_round_trip_with_metadata(tmp_path, split):
    train, test = split
    est = fit_method("ours-url", train, k=200)
    meta = metadata("ours-url", train, {"k": 200})
    path = tmp_path / "m.skops"
    save(path, ModelBundle({"url": est}, meta))
    back = load(path)
    assert back.metadata["training_data"]["digest"] == meta["training_data"]["digest"]
    assert back.metadata["versions"]["scikit-learn"]
    urls = [r["img_url"] for r in test.data.records]
    assert np.allclose(back.for_input("url").predict_proba(urls), est.predict_proba(urls))


def test_loading_refuses_types_outside_the_allow_list(tmp_path):
    import skops.io as sio

    path = tmp_path / "evil.skops"
    sio.dump({"format": "ccimg-size-model/1", "estimators": {"url": fractions.Fraction(1, 3)}, "metadata": "{}"},
             path, compression=zipfile.ZIP_DEFLATED)
    with pytest.raises(UntrustedModelError):
        load(path)


def test_build_rejects_unknown_methods():
    with pytest.raises(ValueError):
        build("NG-magic")
