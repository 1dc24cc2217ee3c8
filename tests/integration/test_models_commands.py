"""`ccimg train` and `ccimg eval` end to end on a small slice of real records."""
from __future__ import annotations

import csv
import json

from ccimg.cli import main
from models.model_file import load
from tests.support.size_model_data import aeb_records, more_records


def test_train_then_eval_on_held_out_sites(tmp_path, capsys):
    data = tmp_path / "records.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in list(more_records()) + list(aeb_records())))
    model = tmp_path / "ng.skops"
    assert main(["train", "--data", str(data), "--method", "NG-trf", "--trees", "10", "--k", "300",
                 "--holdout-sites", "0.25", "-o", str(model)]) == 0
    meta = load(model).metadata
    assert meta["method"] == "NG-trf" and meta["settings"]["k"] == 300
    held_out = meta["evaluation"]
    assert held_out["examples"] > 100 and held_out["sites"] > 10
    pr, figures = tmp_path / "pr.csv", tmp_path / "eval.json"
    assert main(["eval", "--model", str(model), "--data", str(data), "--split", "test", "--input", "url",
                 "--pr-out", str(pr), "--json-out", str(figures)]) == 0
    out = capsys.readouterr().out
    assert "F1avg" in out and "of SMALL fetches skipped" in out
    again = json.loads(figures.read_text())
    # eval on the same held-out sites reproduces the figures stored at training time
    assert (again["examples"], again["sites"]) == (held_out["examples"], held_out["sites"])
    assert abs(again["f1_avg"] - held_out["f1_avg"]) < 1e-9
    rows = list(csv.DictReader(open(pr)))
    assert len(rows) > 10 and all(0 <= float(r["precision"]) <= 1 for r in rows)


def test_eval_leave_one_collection_out(tmp_path, capsys):
    """Two real collections (html-aeb, wcxb): each is left out in turn, on records and on bare URLs."""
    data = tmp_path / "records.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in list(more_records()) + list(aeb_records())))
    figures = tmp_path / "loco.json"
    assert main(["eval", "--data", str(data), "--leave-one-collection-out", "--trees", "8", "--quiet",
                 "--json-out", str(figures)]) == 0
    out = capsys.readouterr().out
    assert "ours-url (URL model) | URL only" in out and "| html-aeb |" in out
    result = json.loads(figures.read_text())
    assert set(result) == {"record", "url"}
    for kind in ("record", "url"):
        per = result[kind]["collections"]
        assert set(per) == {"html-aeb", "html-more/wcxb"}
        f1 = [m["f1_avg"] for m in per.values()]
        assert result[kind]["summary"]["f1_avg"]["worst"] == min(f1)
        assert abs(result[kind]["summary"]["f1_avg"]["mean"] - sum(f1) / 2) < 1e-9
        # better than chance on a collection never seen in training
        assert all(m["f1_avg"] > 0.6 for m in per.values())
    assert main(["eval", "--data", str(data), "--leave-one-collection-out", "--model", "x.skops"]) == 2
    assert "does not apply" in capsys.readouterr().err
    assert main(["eval", "--data", str(data), "--leave-one-collection-out", "--min-per-class", "100000"]) == 3
