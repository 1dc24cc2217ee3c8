"""`ccimg train`: fit one method on labelled extraction records and write a model file for `ccimg score`.

Labels: true sizes (records' true_width/true_height, or --labels rows from `ccimg probe` or
`jobs.image_sizes`) first, else declared width/height attributes, which are then hidden from the
features.  Images between SMALL (both sides under 200 px) and BIG (both over 400 px) are left out.
With --holdout-sites 0.25 the sites of the standard site-disjoint split's test side are held out and
the model's evaluation on them is stored in its metadata (`ccimg eval` reproduces it).

methods: ours (exact signals + calibrated forest over URL and HTML context; the default), ours-url (the URL
alone, linear), and the paper's TOKENS-trf, NG-trf, NG-tsrf, features, hybrid, and NG-plain (no selection).

examples:
  ccimg train --data images/ -o model.skops
  ccimg train --data images/ --labels sizes.jsonl --method NG-trf --trees 100 --holdout-sites 0.25 -o ng.skops

output: one model file (skops, loaded with an allow-list of types: it never runs code), holding the
estimator, its settings, library versions, a digest of the training data and the held-out evaluation.
"""
from __future__ import annotations

import time

from ccimg.commands.common import (NothingToDo, add_quiet_argument, atomic_path, check_new_file, number_type,
                                   phase, positive_int, say)
from ccimg.commands.data_args import add_data_arguments, label_sources, load_data
from models.labels import DEFAULT_SOURCES
from models.methods import METHODS, OUR_METHODS, URL_ONLY


_holdout = number_type(float, lambda v: 0.0 <= v < 1.0, "must be at least 0 and below 1")


def add_arguments(parser) -> None:
    add_data_arguments(parser, label_sources=",".join(DEFAULT_SOURCES))
    parser.add_argument("--method", default="ours", choices=METHODS, metavar="METHOD",
                        help=f"what to train (default ours): {', '.join(METHODS)}")
    parser.add_argument("--trees", type=positive_int, default=30, help="trees per forest (default 30; paper: 10, 30, "
                                                                       "100)")
    parser.add_argument("--k", type=positive_int, default=1000,
                        help="grams kept per class by trf/tsrf, grams of ours (default 1000; paper: 500, 1000)")
    parser.add_argument("--max-depth", type=positive_int, help="tree depth limit (ours only; smaller files)")
    parser.add_argument("--min-samples-leaf", type=positive_int, default=2, help="(ours only; default 2)")
    parser.add_argument("--holdout-sites", type=_holdout, default=0.0, metavar="SHARE",
                        help="share of sites held out for evaluation (standard site-disjoint split); 0 = none")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("-o", "--output", required=True, metavar="MODEL.skops", help="model file to write")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing model file")
    add_quiet_argument(parser)


def run(args) -> int:
    from models.calibration import DEFAULT_RECALL, DEFAULT_RECALL_URL
    from models.decision import RULES
    from models.model_file import ModelBundle, save
    from models.train import evaluate_model, exact_calibration, fit_method, metadata, prepare, split_by_site

    check_new_file(args.output, args.overwrite)
    sources = label_sources(args)
    records, truth = load_data(args)
    prep = prepare(records, truth, sources)
    classes = set(prep.data.y.tolist())
    if len(prep.data) == 0 or len(classes) < 2:
        have = "no labelled examples" if not len(prep.data) else \
            f"only {'BIG' if 1 in classes else 'SMALL'} examples ({len(prep.data):,})"
        raise NothingToDo(f"need labelled examples of both classes, have {have} in {len(records):,} records "
                          f"(label sources: {', '.join(sources)}; --labels adds true sizes)")
    train, test = split_by_site(prep, args.holdout_sites) if args.holdout_sites else (prep, None)
    if test is not None:
        test = test.for_evaluation()  # true and declared labels: stated sizes train, they are not evaluated
    if len(set(train.data.y.tolist())) < 2:
        raise NothingToDo("the training side of the split has one class only: use a smaller --holdout-sites")
    extra = {}
    if args.method in OUR_METHODS:
        extra = {"max_depth": args.max_depth, "min_samples_leaf": args.min_samples_leaf}
    t0 = time.time()
    with phase(f"fitting {args.method} on {len(train.data):,} examples from {len(set(train.sites)):,} sites",
               args.quiet):
        est = fit_method(args.method, train, trees=args.trees, k=args.k, seed=args.seed, **extra)
    seconds = time.time() - t0
    exact_p = exact_calibration(train) if args.method in OUR_METHODS else {}
    evaluation = None
    if test is not None and len(test.data):
        with phase(f"evaluating on {len(test.data):,} held-out examples", args.quiet):
            evaluation = evaluate_model(args.method, est, test, exact_p=exact_p)
    settings = {"trees": args.trees, "k": args.k, "seed": args.seed, "holdout_sites": args.holdout_sites,
                "label_sources": list(sources), **extra}
    meta = metadata(args.method, train, settings, evaluation, seconds)
    meta["exact_p"] = exact_p
    meta["rules"] = list(RULES)
    meta["default_recall"] = DEFAULT_RECALL
    meta["default_recall_url"] = DEFAULT_RECALL_URL
    kind = "url" if args.method in URL_ONLY else "record"
    with atomic_path(args.output) as tmp:
        save(tmp, ModelBundle({kind: est}, meta))
    print(f"trained {args.method} on {len(train.data):,} examples from {len(set(train.sites)):,} sites "
          f"in {seconds:.0f}s -> {args.output}")
    if evaluation:
        print(f"held-out sites: F1avg {evaluation['f1_avg']:.3f} on {evaluation['examples']:,} examples, "
              f"{evaluation['sites']} sites")
    if test is not None and not len(test.data):
        say("--holdout-sites: no examples fell on the held-out side; the model has no stored evaluation")
    return 0
