"""`ccimg train`: fit one named method on extraction records and write a model file.

Example: ccimg train --data records.jsonl.gz --method ours --trees 30 -o model.skops
With --holdout-sites 0.25 the sites of the standard split's test side are held out and the
model's evaluation on them is stored in its metadata.
"""
from __future__ import annotations

import sys
import time

from ccimg.commands.data_args import add_data_arguments, label_sources, load_data
from models.methods import METHODS, OUR_METHODS, URL_ONLY


def add_arguments(parser) -> None:
    add_data_arguments(parser)
    parser.add_argument("--method", required=True, choices=METHODS)
    parser.add_argument("--trees", type=int, default=30, help="trees per forest (paper: 10, 30, 100)")
    parser.add_argument("--k", type=int, default=1000, help="grams kept per class by trf/tsrf (paper: 500, 1000)")
    parser.add_argument("--max-depth", type=int, help="tree depth limit (ours only; smaller files)")
    parser.add_argument("--min-samples-leaf", type=int, default=2, help="(ours only)")
    parser.add_argument("--holdout-sites", type=float, default=0.0,
                        help="share of sites held out for evaluation (standard site-disjoint split); 0 = none")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", required=True, help="model file to write (.skops)")


def run(args) -> int:
    from models.calibration import DEFAULT_RECALL
    from models.decision import RULES
    from models.model_file import ModelBundle, save
    from models.train import evaluate_model, exact_calibration, fit_method, metadata, prepare, split_by_site

    records, truth = load_data(args)
    prep = prepare(records, truth, label_sources(args))
    if len(prep.data) == 0 or len(set(prep.data.y)) < 2:
        print("ccimg train: need labelled examples of both classes", file=sys.stderr)
        return 1
    train, test = split_by_site(prep, args.holdout_sites) if args.holdout_sites else (prep, None)
    extra = {}
    if args.method in OUR_METHODS:
        extra = {"max_depth": args.max_depth, "min_samples_leaf": args.min_samples_leaf}
    t0 = time.time()
    est = fit_method(args.method, train, trees=args.trees, k=args.k, seed=args.seed, **extra)
    seconds = time.time() - t0
    exact_p = exact_calibration(train) if args.method in OUR_METHODS else {}
    evaluation = None
    if test is not None and len(test.data):
        evaluation = evaluate_model(args.method, est, test, exact_p=exact_p)
    settings = {"trees": args.trees, "k": args.k, "seed": args.seed, "holdout_sites": args.holdout_sites,
                "label_sources": list(label_sources(args)), **extra}
    meta = metadata(args.method, train, settings, evaluation, seconds)
    meta["exact_p"] = exact_p
    meta["rules"] = list(RULES)
    meta["default_recall"] = DEFAULT_RECALL
    kind = "url" if args.method in URL_ONLY else "record"
    save(args.output, ModelBundle({kind: est}, meta))
    print(f"trained {args.method} on {len(train.data):,} examples from {len(set(train.sites)):,} sites "
          f"in {seconds:.0f}s -> {args.output}")
    if evaluation:
        print(f"held-out sites: F1avg {evaluation['f1_avg']:.3f} on {evaluation['examples']:,} examples, "
              f"{evaluation['sites']} sites")
    return 0
