"""`ccimg eval`: the paper's table for a model on labelled records, the PR curve, and the fetches saved.

Labels as in `ccimg train` (true sizes first, then declared sizes, hidden from the features).  Paper
methods are evaluated as the paper ran them (the model alone), ours with its exact signals first.

With --leave-one-collection-out no model file is read: the method (--method, default ours) is trained
on all collections of the data but one and tested on the one left out, for each collection with at
least --min-per-class BIG and SMALL examples (a record's `collection`; records without one count their
site as their collection), on full records and on bare URLs (models/generalisation.py).  This is how
the README's figures are measured: a site-disjoint split inside the same collections flatters.

examples:
  ccimg eval --data images/ --split test
  ccimg eval --model ng.skops --data out/shared_records.jsonl.gz --split test --input url --pr-out pr.csv
  ccimg eval --data out/shared_records.jsonl.gz --leave-one-collection-out --json-out loco.json

output (stdout): the counts of examples, BIG and SMALL, and sites; the table row (F1 of SMALL, BIG and
their average; SMALL fetches skipped at 90/95/99% recall of BIG); precision, recall and F1 per class;
accuracy per deciding reason.  --pr-out: CSV of threshold, precision, recall of BIG.  --json-out: all
figures as JSON (examples, big, small, sites, f1_small, f1_big, f1_avg, precision_*, recall_*, skipped
[{recall_target, threshold, small_skipped}], by_reason, pr_curve).  With --leave-one-collection-out: the
mean and worst over the collections left out, then one row per collection; --json-out holds
{"record"|"url": {"collections": {name: figures}, "summary": {...}}}.
"""
from __future__ import annotations

import argparse
import csv
import io
import json

from ccimg.commands.common import (NothingToDo, Progress, UsageError, add_quiet_argument, check_new_file,
                                   check_recall, load_model, positive_int, recall_target, say, share,
                                   write_text_atomic)
from ccimg.commands.data_args import add_data_arguments, label_sources, load_data
from models.decision import ALL_RULES
from models.generalisation import MIN_PER_CLASS
from models.methods import METHODS, settings_for

BATCH = 65536


def add_arguments(parser) -> None:
    parser.add_argument("--model", metavar="FILE", help="model file (default: the shipped model)")
    add_data_arguments(parser)
    parser.add_argument("--split", choices=("all", "test", "train"), default="all",
                        help="evaluate on all data (default), or one side of the standard site-disjoint split")
    parser.add_argument("--test-share", type=share, default=0.25, metavar="SHARE",
                        help="share of sites on the test side (default 0.25)")
    parser.add_argument("--input", choices=("record", "url"), default="record",
                        help="score full records (default), or only their URLs (the URL model)")
    exact = parser.add_mutually_exclusive_group()
    exact.add_argument("--no-exact", action="store_true", help="the model alone, without the exact signals")
    exact.add_argument("--exact", action="store_true",
                       help="exact signals first even for a paper method (default: only for ours)")
    parser.add_argument("--recall", type=recall_target, metavar="R",
                        help="use the model's threshold for this recall of BIG (default: the model's own target)")
    loco = parser.add_argument_group("leave-one-collection-out (trains instead of reading --model)")
    loco.add_argument("--leave-one-collection-out", action="store_true",
                      help="train --method without each collection in turn and test on the one left out")
    loco.add_argument("--method", default="ours", choices=METHODS, metavar="METHOD",
                      help=f"the method to train (default ours; one of {', '.join(METHODS)})")
    loco.add_argument("--rules", metavar="R,R", type=exact_rules,
                      help="the exact rules that decide before our models (default declared,url-pattern:BIG; "
                           "e.g. declared,srcset,url-pattern for every rule and every label)")
    loco.add_argument("--trees", type=positive_int, metavar="N",
                      help="trees per forest (default: as the shipped model for ours, 30 for the paper's methods)")
    loco.add_argument("--min-per-class", type=positive_int, default=MIN_PER_CLASS, metavar="N",
                      help=f"leave out only collections with N BIG and N SMALL examples (default {MIN_PER_CLASS})")
    parser.add_argument("--pr-out", metavar="FILE.csv", help="write the precision-recall curve of BIG to this CSV")
    parser.add_argument("--json-out", metavar="FILE.json", help="write all figures to this JSON file")
    parser.add_argument("--overwrite", action="store_true", help="replace existing --pr-out/--json-out files")
    add_quiet_argument(parser)


def run(args) -> int:
    import numpy as np

    from models.evaluate import TABLE_HEADER, evaluate, pr_curve, table_row
    from models.score import Scorer
    from models.train import prepare, split_by_site

    for path in (args.pr_out, args.json_out):
        if path:
            check_new_file(path, args.overwrite)
    if args.leave_one_collection_out:
        return run_leave_one_collection_out(args)
    if args.rules:
        raise UsageError("--rules applies to --leave-one-collection-out (a model file keeps the rules it was trained "
                         "with)")
    bundle = load_model(args.model)
    check_recall(bundle, args.recall, kinds=(args.input,))
    sources = label_sources(args)
    records, truth = load_data(args)
    prep = prepare(records, truth, sources)
    if args.split != "all":
        train, test = split_by_site(prep, args.test_share)
        prep = test if args.split == "test" else train
    prep = prep.for_evaluation()  # true and declared labels: stated sizes train, they are not evaluated
    if len(prep.data) == 0:
        raise NothingToDo(f"no labelled examples in {len(records):,} records"
                          + (f" on the {args.split} side of the split" if args.split != "all" else "")
                          + f" (label sources: {', '.join(sources)})")
    if len(set(prep.data.y.tolist())) < 2:
        have = "BIG" if prep.data.y[0] else "SMALL"
        raise NothingToDo(f"need labelled examples of both classes to evaluate, have only {have} "
                          f"({len(prep.data):,})")
    items = [r["img_url"] for r in prep.data.records] if args.input == "url" else prep.data.records
    # Paper methods are evaluated as the paper ran them (the model alone); ours with its exact signals.
    use_exact = args.exact or (not args.no_exact and str(bundle.metadata.get("method", "")).startswith("ours"))
    scorer = Scorer(bundle, recall=args.recall, exact=use_exact)
    p_big, labels, reasons = [], [], []
    with Progress("scoring", total=len(items), quiet=args.quiet) as progress:
        for start in range(0, len(items), BATCH):  # batches do not change scores (tests/unit/test_score.py)
            s = scorer.score(items[start:start + BATCH])
            p_big.append(s.p_big)
            labels += s.label
            reasons += s.reason
            progress.update(len(s.label))
    p_big = np.concatenate(p_big)
    pred = np.array([lab == "BIG" for lab in labels], dtype=int)
    m = evaluate(prep.data.y, p_big, pred, sites=prep.sites, reasons=reasons)
    m["pr_curve"] = pr_curve(prep.data.y, p_big)
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
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["threshold", "precision", "recall"])
        w.writerows(zip(*(m["pr_curve"][k] for k in ("threshold", "precision", "recall"))))
        write_text_atomic(args.pr_out, buf.getvalue())
    if args.json_out:
        write_text_atomic(args.json_out, json.dumps(m, indent=1, default=_plain) + "\n")
    return 0


def exact_rules(text: str) -> tuple[str, ...]:
    """--rules: comma-separated rules of models.decision (declared, srcset, url-pattern), each optionally
    limited to labels ("url-pattern:BIG", "url-pattern:BIG+SMALL")."""
    rules = tuple(r.strip() for r in text.split(",") if r.strip())
    for rule in rules:
        name, _, labels = rule.partition(":")
        if name not in ALL_RULES or (
                labels and not set(labels.split("+")) <= {"BIG", "SMALL", "MEDIUM"}):
            raise argparse.ArgumentTypeError(f"{rule!r}: a rule is declared, srcset or url-pattern, optionally "
                                             "with :LABEL[+LABEL] (BIG, SMALL, MEDIUM)")
    if not rules:
        raise argparse.ArgumentTypeError("no rule given")
    return rules


def run_leave_one_collection_out(args) -> int:
    """Train args.method without each collection, test on it; print the summary and per-collection tables."""
    from models.generalisation import (LOCO_HEADER, leave_one_collection_out, loco_collections, loco_row,
                                       per_collection_table)
    from models.train import prepare

    for given in ("model", "pr_out", "recall"):
        if getattr(args, given):
            raise UsageError(f"--{given.replace('_', '-')} does not apply to --leave-one-collection-out "
                             "(it trains a model per collection)")
    if args.split != "all" or args.input != "record" or args.no_exact or args.exact:
        raise UsageError("--leave-one-collection-out reports records and bare URLs on every collection left out: "
                         "drop --split/--input/--exact/--no-exact")
    records, truth = load_data(args)
    prep = prepare(records, truth, label_sources(args))
    names = loco_collections(prep, args.min_per_class)
    if len(names) < 2:
        raise NothingToDo(f"{len(names)} collection(s) with {args.min_per_class} BIG and {args.min_per_class} "
                          "SMALL labelled examples: need 2 to leave one out (lower --min-per-class, or give "
                          "records a `collection`)")
    settings = settings_for(args.method, trees=args.trees)
    log = (lambda _msg: None) if args.quiet else say
    result = leave_one_collection_out(prep, args.method, settings, names, log=log, rules=args.rules)
    print(f"{args.method}, leaving out in turn {len(names)} collections: {', '.join(names)}")
    print(LOCO_HEADER)
    for kind, r in result.items():
        label = "ours-url (URL model)" if args.method == "ours" and kind == "url" else args.method
        print(loco_row(label, "record" if kind == "record" else "URL only", r["summary"]))
    for kind, r in result.items():
        print(f"\nper collection left out ({'records' if kind == 'record' else 'URL only'}):")
        print(per_collection_table(r))
    if args.json_out:
        write_text_atomic(args.json_out, json.dumps(result, indent=1, default=_plain) + "\n")
    return 0


def _plain(value):
    """numpy numbers and arrays in the figures, as JSON numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
