"""`ccimg eval`: the paper's table for a model on labelled records, the PR curve, fetches saved.

Example: ccimg eval --model models/default_model.skops --data records.jsonl.gz --split test
"""
from __future__ import annotations

import csv
import json

from ccimg.commands.data_args import add_data_arguments, label_sources, load_data


def add_arguments(parser) -> None:
    parser.add_argument("--model", help="model file (default: the shipped model)")
    add_data_arguments(parser)
    parser.add_argument("--split", choices=("all", "test", "train"), default="all",
                        help="evaluate on all data, or one side of the standard site-disjoint split")
    parser.add_argument("--test-share", type=float, default=0.25)
    parser.add_argument("--input", choices=("record", "url"), default="record",
                        help="score full records, or only their URLs (the URL model)")
    exact = parser.add_mutually_exclusive_group()
    exact.add_argument("--no-exact", action="store_true", help="the model alone, without the exact signals")
    exact.add_argument("--exact", action="store_true",
                       help="exact signals first even for a paper method (default: only for ours)")
    parser.add_argument("--recall", type=float,
                        help="use the model's threshold for this recall of BIG (0.90/0.95/0.99)")
    parser.add_argument("--pr-out", help="write the precision-recall curve of BIG to this CSV")
    parser.add_argument("--json-out", help="write all figures to this JSON file")


def run(args) -> int:
    import numpy as np

    from models.evaluate import TABLE_HEADER, evaluate, pr_curve, table_row
    from models.model_file import load
    from models.score import DEFAULT_MODEL, Scorer
    from models.train import prepare, split_by_site

    bundle = load(args.model or DEFAULT_MODEL)
    records, truth = load_data(args)
    prep = prepare(records, truth, label_sources(args))
    if args.split != "all":
        train, test = split_by_site(prep, args.test_share)
        prep = test if args.split == "test" else train
    prep = prep.for_evaluation()  # true and declared labels: stated sizes train, they are not evaluated
    items = [r["img_url"] for r in prep.data.records] if args.input == "url" else prep.data.records
    # Paper methods are evaluated as the paper ran them (the model alone); ours with its exact signals.
    use_exact = args.exact or (not args.no_exact and str(bundle.metadata.get("method", "")).startswith("ours"))
    scores = Scorer(bundle, recall=args.recall, exact=use_exact).score(items)
    pred = np.array([lab == "BIG" for lab in scores.label], dtype=int)
    m = evaluate(prep.data.y, scores.p_big, pred, sites=prep.sites, reasons=scores.reason)
    m["pr_curve"] = pr_curve(prep.data.y, scores.p_big)
    name = bundle.metadata.get("method", "model")
    print(f"{len(prep.data):,} labelled examples ({m['big']:,} BIG, {m['small']:,} SMALL) from {m['sites']} sites; "
          "labels: " + ", ".join(f"{s} {int((prep.data.sources == s).sum()):,}"
                                  for s in sorted(set(prep.data.sources))))
    print(TABLE_HEADER)
    print(table_row(name, m))
    print()
    print(f"SMALL: precision {m['precision_small']:.3f} recall {m['recall_small']:.3f} F1 {m['f1_small']:.3f}")
    print(f"BIG:   precision {m['precision_big']:.3f} recall {m['recall_big']:.3f} F1 {m['f1_big']:.3f}")
    print(f"F1avg {m['f1_avg']:.3f}")
    for s in m["skipped"]:
        print(f"at {s['recall_target']:.0%} recall of BIG (threshold {s['threshold']:.3f}): "
              f"{s['small_skipped']:.1%} of SMALL fetches skipped")
    for reason, r in m.get("by_reason", {}).items():
        print(f"decided by {reason}: {r['examples']:,} examples, accuracy {r['accuracy']:.3f}")
    if args.pr_out:
        with open(args.pr_out, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["threshold", "precision", "recall"])
            w.writerows(zip(*(m["pr_curve"][k] for k in ("threshold", "precision", "recall"))))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(m, f, indent=1)
    return 0
