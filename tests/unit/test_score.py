"""`ccimg score` with the shipped default model: URL lists and records, order, reasons, batching."""
from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from ccimg.cli import main
from features.model_inputs.size_signals import UrlBatch
from models.score import DEFAULT_MODEL, Scorer, record_decisions, url_decisions
from tests.support.size_model_data import aeb_records

REASONS = {"declared", "srcset", "url-pattern", "model"}


@pytest.fixture(scope="module")
def scorer():
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"the shipped model {DEFAULT_MODEL} is missing: run `ccimg build-default-model`")
    return Scorer()


def _read(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_score_a_url_list_with_the_shipped_model(tmp_path):
    urls = [r["img_url"] for r in aeb_records()][:400]
    src = tmp_path / "urls.txt.gz"
    with gzip.open(src, "wt", encoding="utf-8") as f:
        f.write("\n".join(urls) + "\n")
    out = tmp_path / "scores.jsonl"
    assert main(["score", str(src), "-o", str(out)]) == 0
    rows = _read(out)
    assert [r["img_url"] for r in rows] == urls  # one line per input line, same order
    assert all(0.0 <= r["p_big"] <= 1.0 and r["label"] in ("BIG", "MEDIUM", "SMALL") and r["reason"] in REASONS
               for r in rows)
    assert {r["reason"] for r in rows} >= {"model", "url-pattern"}
    assert {r["label"] for r in rows} >= {"BIG", "SMALL"}
    assert all(r["reason"] != "model" for r in rows if r["label"] == "MEDIUM")  # only a stated size says MEDIUM
    wp = next(r for r in rows if r["reason"] == "url-pattern")
    assert wp["width"] is not None or wp["height"] is not None


def test_score_extraction_records(tmp_path):
    records = list(aeb_records())[:600]
    src = tmp_path / "records.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "scores.jsonl.gz"
    assert main(["score", str(src), "-o", str(out), "--recall", "0.95"]) == 0
    rows = _read(out)
    assert [r["img_url"] for r in rows] == [r["img_url"] for r in records]
    assert [r["page_url"] for r in rows] == [r["page_url"] for r in records]
    reasons = [r["reason"] for r in rows]
    assert "declared" in reasons and "model" in reasons
    expected = ["declared" if d is not None and d.reason == "declared" else None for d in record_decisions(records)]
    assert [r if r == "declared" else None for r in reasons] == expected


def test_batches_do_not_change_url_scores(scorer):
    urls = [r["img_url"] for r in aeb_records()][:300]
    whole = scorer.score(urls)
    parts = [scorer.score(urls[i:i + 7]) for i in range(0, len(urls), 7)]
    assert np.allclose(whole.p_big, np.concatenate([p.p_big for p in parts]))
    assert whole.label == sum((p.label for p in parts), [])


def test_a_url_batch_scores_as_a_list(scorer):
    """The scorer scans a URL list once and hands the sizes to the model; the result is the same."""
    urls = [r["img_url"] for r in aeb_records()][:500]
    as_list, as_batch = scorer.score(urls), scorer.score(UrlBatch(urls))
    assert as_list.p_big.tobytes() == as_batch.p_big.tobytes() and as_list.label == as_batch.label
    assert url_decisions(urls) == url_decisions(UrlBatch(urls))
    assert scorer.score([]).label == []


def test_shipped_model_metadata_describes_its_training_and_evaluation(scorer):
    meta = scorer.bundle.metadata
    assert set(scorer.bundle.estimators) == {"record", "url"}
    assert meta["training_data"]["examples"] > 10_000 and len(meta["training_data"]["digest"]) == 64
    ev = meta["evaluation"]["record"]["with_exact_signals"]
    assert ev["examples"] > 1000 and ev["sites"] > 100
    assert meta["split"]["train_sites"] > meta["split"]["test_sites"] > 100
    assert DEFAULT_MODEL.stat().st_size < 8_000_000


def test_a_record_scores_the_same_alone_and_in_any_batch(scorer):
    """Every feature is row-wise (page context is computed in extraction): batching cannot change a score.

    Up to float noise: the forest's trees add their votes from several threads in no fixed order, so the
    same batch scored twice can differ in the last bits (1e-15) of a probability."""
    records = list(aeb_records())[:240]
    together = scorer.score(records)
    alone = np.array([scorer.score([r]).p_big[0] for r in records[:80]])
    np.testing.assert_allclose(alone, together.p_big[:80], rtol=0, atol=1e-12)
    shuffled = scorer.score(records[::-1])
    np.testing.assert_allclose(shuffled.p_big[::-1], together.p_big, rtol=0, atol=1e-12)
    assert shuffled.label[::-1] == together.label
    assert {r for r in together.reason} >= {"model"}


def test_bare_urls_default_to_their_own_recall_target(scorer):
    """The shipped model stores 0.95 for records and 0.98 for bare URLs (a URL alone is weaker evidence):
    with no options each input gets its own, and --recall overrides both."""
    url_model, record_model = scorer.bundle.for_input("url"), scorer.bundle.for_input("record")
    assert scorer.default_recall_for("record") == 0.95 and scorer.default_recall_for("url") == 0.98
    assert scorer.threshold_for(url_model, "url") == url_model.recall_threshold(0.98)
    assert scorer.threshold_for(record_model, "record") == record_model.recall_threshold(0.95)
    assert url_model.recall_threshold(0.98) <= url_model.recall_threshold(0.95)
    urls = [r["img_url"] for r in aeb_records()]
    default, at_95 = scorer.score(urls), Scorer(recall=0.95).score(urls)
    assert default.label.count("BIG") >= at_95.label.count("BIG")
    assert Scorer(recall=0.95).threshold_for(url_model, "url") == url_model.recall_threshold(0.95)
