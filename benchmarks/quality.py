"""The paper's table re-run on our data, beside our model, on one site-disjoint split.

Every method is trained on the training sites and scored on the held-out sites of the standard
split (models.split: 25% of sites by a hash of the site name); declared sizes are hidden from the
features wherever they are the label.  Paper methods are scored as the paper did (forest vote,
threshold 0.5); ours adds the exact signals and its calibrated threshold.

    python benchmarks/quality.py [--records out/shared_records.jsonl.gz] [--trees 10 30 100] [--out FILE.md]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", default="out/shared_records.jsonl.gz",
                    help="extracted records (written by `ccimg build-default-model`)")
    ap.add_argument("--trees", type=int, nargs="+", default=[10, 30, 100])
    ap.add_argument("--k", type=int, nargs="+", default=[500, 1000])
    ap.add_argument("--our-trees", type=int, default=40)
    ap.add_argument("--methods", nargs="+",
                    default=["TOKENS-trf", "NG-trf", "NG-tsrf", "NG-plain", "features", "hybrid", "ours", "ours-url"])
    ap.add_argument("--out", help="also write the markdown table here")
    ap.add_argument("--json-out", help="all figures as JSON")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)

    from dataio.tables import read_jsonl as read_records
    from models.evaluate import TABLE_HEADER, table_row
    from models.train import evaluate_model, exact_calibration, fit_method, prepare, split_by_site

    prep = prepare(read_records(args.records))
    train, test = split_by_site(prep)
    head = (f"Data: ../shared/data, {len(prep.data):,} labelled image occurrences "
            f"({int(prep.data.y.sum()):,} BIG, {int((prep.data.y == 0).sum()):,} SMALL; labels: "
            + ", ".join(f"{s} {int((prep.data.sources == s).sum()):,}" for s in sorted(set(prep.data.sources)))
            + f"). Train: {len(train.data):,} examples from {len(set(train.sites)):,} sites; "
            f"test: {len(test.data):,} examples from {len(set(test.sites)):,} sites (site-disjoint).")
    print(head)
    print(TABLE_HEADER, flush=True)
    lines, figures = [head, "", TABLE_HEADER], {}
    exact_p = exact_calibration(train)
    runs = []
    for method in args.methods:
        if method in ("ours", "ours-url"):
            runs.append((method, {"trees": args.our_trees, "k": 1000}))
        elif method in ("features", "NG-plain"):
            runs += [(method, {"trees": t}) for t in args.trees]
        else:
            runs += [(method, {"trees": t, "k": k}) for k in args.k for t in args.trees]
    for method, kw in runs:
        t0 = time.time()
        est = fit_method(method, train, **kw)
        variants = [("", True)]
        if method in ("ours", "ours-url"):
            variants = [(" (model alone)", False), (" (exact signals + model)", True)]
        for suffix, exact in variants:
            m = evaluate_model(method, est, test, exact=exact, exact_p=exact_p)
            if method == "ours-url":
                name = f"ours-url: URL only, linear{suffix}"
            elif method == "ours":
                name = f"ours: forest {kw['trees']} trees{suffix}"
            else:
                name = f"{method} " + (f"K={kw['k']} " if "k" in kw else "") + f"{kw['trees']} trees"
            row = table_row(name, m)
            print(row, f"  ({time.time() - t0:.0f}s)", flush=True)
            lines.append(row)
            figures[name] = m
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
