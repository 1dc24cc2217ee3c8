"""The training notebook runs end to end (so it never rots): on a slice of the shared data, and on a user's own
records with no shared data at all."""
from __future__ import annotations

import json
from pathlib import Path

import papermill

from tests.support.size_model_data import require

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "train_size_classifier.ipynb"
METHODS = ("TOKENS-trf", "NG-trf", "NG-tsrf", "features", "hybrid", "ours", "ours-url")


def _run(out: Path, **parameters) -> tuple[dict, dict]:
    papermill.execute_notebook(str(NOTEBOOK), str(out), parameters=parameters, cwd=str(NOTEBOOK.parents[1]),
                               kernel_name="python3", progress_bar=False)
    nb = json.loads(out.read_text())
    last = nb["cells"][-1]["outputs"]
    text = "".join("".join(o["text"]) for o in last if o.get("output_type") == "stream")  # str or list of lines
    return json.loads(text), nb


def _check(summary: dict, nb: dict, min_examples: int) -> None:
    for name in METHODS:
        assert 0.0 <= summary[name]["f1_avg"] <= 1.0 and summary[name]["examples"] >= min_examples, (name, summary)
    # one site-disjoint test side for every method
    assert len({(s["examples"], s["sites"]) for s in summary.values()}) == 1
    images = [o for c in nb["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 3  # PR curve, fetches saved, feature importances


def test_training_notebook_runs_on_a_small_slice(tmp_path):
    require("html-more", "pages.jsonl")
    summary, nb = _run(tmp_path / "executed.ipynb", limit_pages=60, trees=5, paper_k=300)
    _check(summary, nb, min_examples=100)


def test_training_notebook_on_a_users_own_records_without_shared_data(tmp_path, monkeypatch):
    """The job's output folder (part-* files, a bad row among them) and jobs.image_sizes labels, from a WARC
    the user made (here `ccimg sample`'s); ../shared/data pointed elsewhere, so that nothing can come from it."""
    from ccimg.sample import write_sample
    from dataio.tables import write_jsonl
    from jobs.extract_images import ExtractImagesJob
    from jobs.image_sizes import ImageSizesJob
    from tests.conftest import run_job

    warc = tmp_path / "crawl.warc.gz"
    write_sample(warc, pages=90)
    records, _ = run_job(ExtractImagesJob, ["-r", "inline", str(warc)])
    sizes, _ = run_job(ImageSizesJob, ["-r", "inline", str(warc)])
    folder = tmp_path / "images"
    half = len(records) // 2
    write_jsonl(records[:half], folder / "part-00000")
    write_jsonl(records[half:], folder / "part-00001")
    with open(folder / "part-00001", "a", encoding="utf-8") as f:
        f.write('{"img_url": 5}\n')  # a row of the wrong shape: skipped and counted, not a KeyError
    (folder / "_SUCCESS").write_text("")
    write_jsonl(sizes, tmp_path / "sizes.jsonl")
    monkeypatch.setenv("CCIMG_SHARED_DATA", str(tmp_path / "no-shared-data-here"))
    summary, nb = _run(tmp_path / "executed.ipynb", records_path=str(folder), labels_path=str(tmp_path / "sizes.jsonl"),
                       trees=5, paper_k=300)
    _check(summary, nb, min_examples=100)
    outputs = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert f"{len(records):,} image records" in outputs and "1 row skipped (img_url_not_text 1)" in outputs
