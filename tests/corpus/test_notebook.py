"""The training notebook runs end to end on a small slice of the shared data (so it never rots)."""
from __future__ import annotations

import json
from pathlib import Path

import papermill

from tests.support.size_model_data import require

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "train_size_classifier.ipynb"


def test_training_notebook_runs_on_a_small_slice(tmp_path):
    require("html-more", "pages.jsonl")
    out = tmp_path / "executed.ipynb"
    papermill.execute_notebook(str(NOTEBOOK), str(out), parameters={"limit_pages": 60, "trees": 5, "paper_k": 300},
                               cwd=str(NOTEBOOK.parents[1]), kernel_name="python3", progress_bar=False)
    nb = json.loads(out.read_text())
    last = nb["cells"][-1]["outputs"]
    text = "".join("".join(o["text"]) for o in last if o.get("output_type") == "stream")  # str or list of lines
    summary = json.loads(text)
    for name in ("TOKENS-trf", "NG-trf", "NG-tsrf", "features", "hybrid", "ours", "ours-url"):
        assert 0.0 <= summary[name]["f1_avg"] <= 1.0 and summary[name]["examples"] > 100
    # one site-disjoint test side for every method
    assert len({(s["examples"], s["sites"]) for s in summary.values()}) == 1
    images = [o for c in nb["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 3  # PR curve, fetches saved, feature importances
