"""`ccimg build-default-model`: rebuild the shipped default model from ../shared/data, in one command.

Steps: extract image records from the shared pages and archives (cached as JSONL), label them
(true sizes from the archives, declared sizes elsewhere, hidden from the features), split by site
(the standard 75/25 split), train `ours` (records) and `ours-url` (bare URLs) on the training side,
evaluate both on the held-out sites, and write one model file with both estimators and metadata
(plus a JSON copy of the metadata beside it).  Fixed seeds: the same data give the same model.

examples:
  ccimg build-default-model                        # replaces models/default_model.skops (its purpose)
  ccimg build-default-model --limit-pages 50 --trees 5 -o /tmp/trial.skops

output: the model file (-o, default the shipped models/default_model.skops, which this command exists to
replace; another existing -o is refused without --overwrite), its metadata as JSON beside it (.json), and
the cache of extracted records (--records, JSONL or Parquet by extension; reused when present).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from ccimg.commands.common import (Progress, UsageError, add_quiet_argument, atomic_path, check_new_file, counted,
                                   phase, positive_int, say, write_text_atomic)
from dataio.tables import RowWriter, Skips, iter_rows
from models.corpus import DEFAULT_DATA_DIR, iter_records
from models.score import DEFAULT_MODEL

DEFAULT_CACHE = Path("out") / "shared_records.jsonl.gz"


def add_arguments(parser) -> None:
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="the shared data folder")
    parser.add_argument("--records", default=str(DEFAULT_CACHE),
                        help="cache of the extracted records (written if absent; reused if present)")
    parser.add_argument("--rebuild-records", action="store_true", help="extract again even if the cache exists")
    parser.add_argument("--limit-pages", type=positive_int, help="pages per collection (for a quick trial)")
    parser.add_argument("--trees", type=positive_int, help="trees per forest (default 40)")
    parser.add_argument("-o", "--output", default=str(DEFAULT_MODEL), help="model file (default: the shipped one)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing -o other than the default")
    add_quiet_argument(parser)


def records_from_shared(data_dir, cache: Path, rebuild: bool = False, limit_pages: int | None = None,
                        quiet: bool = False) -> list[dict]:
    if cache.exists() and not rebuild and limit_pages is None:
        with Progress(f"reading {cache}", quiet=quiet) as progress:
            return [row.data for row in counted(iter_rows(cache, skips=Skips(log=say)), progress)]
    with Progress(f"extracting images from {data_dir}", unit="images", quiet=quiet) as progress:
        records = list(counted(iter_records(Path(data_dir), limit_pages=limit_pages), progress))
    if limit_pages is None:
        with RowWriter(cache, overwrite=True) as out:
            out.write_many(records)
    return records


def run(args) -> int:
    from models.calibration import DEFAULT_RECALL, DEFAULT_RECALL_URL
    from models.decision import RULES
    from models.methods import SHIPPED_SETTINGS
    from models.model_file import ModelBundle, save
    from models.train import evaluate_model, exact_calibration, fit_method, metadata, prepare, split_by_site

    if not Path(args.data_dir).is_dir():
        raise UsageError(f"no shared data at {args.data_dir} (--data-dir; CCIMG_SHARED_DATA)")
    if Path(args.output).resolve() != DEFAULT_MODEL.resolve():
        check_new_file(args.output, args.overwrite)
    t0 = time.time()
    records = records_from_shared(args.data_dir, Path(args.records), args.rebuild_records, args.limit_pages,
                                  args.quiet)
    prep = prepare(records)
    train, test = split_by_site(prep)
    test = test.for_evaluation()  # true and declared labels, as every evaluation
    print(f"{len(records):,} records; {len(prep.data):,} labelled; train {len(train.data):,} examples "
          f"/ {len(set(train.sites)):,} sites, test {len(test.data):,} / {len(set(test.sites)):,} sites")
    exact_p = exact_calibration(train)
    estimators, evaluations, settings = {}, {}, {}
    for kind, method in (("record", "ours"), ("url", "ours-url")):
        s = dict(SHIPPED_SETTINGS[kind])
        if args.trees and kind == "record":
            s["trees"] = args.trees
        with phase(f"fitting {method} on {len(train.data):,} examples", args.quiet):
            est = fit_method(method, train, **s)
        ev = evaluate_model(method, est, test, exact_p=exact_p)
        ev_model_only = evaluate_model(method, est, test, exact=False)
        estimators[kind], settings[kind] = est, s
        evaluations[kind] = {"with_exact_signals": ev, "model_only": ev_model_only}
        print(f"{method}: F1avg {ev['f1_avg']:.3f} (model alone {ev_model_only['f1_avg']:.3f}); "
              f"SMALL skipped at 95% BIG recall {ev['skipped'][1]['small_skipped']:.1%}")
    meta = metadata("ours+ours-url", train, settings, evaluations, time.time() - t0)
    meta["exact_p"] = exact_p
    meta["rules"] = list(RULES)
    meta["default_recall"] = DEFAULT_RECALL
    meta["default_recall_url"] = DEFAULT_RECALL_URL
    meta["split"] = {"test_share": 0.25, "train_examples": len(train.data), "test_examples": len(test.data),
                     "train_sites": len(set(train.sites)), "test_sites": len(set(test.sites))}
    meta["data"] = {"source": "../shared/data (html-more, html-aeb, webarchive, cc)", "records": len(records),
                    "limit_pages": args.limit_pages}
    out = Path(args.output)
    with atomic_path(out) as tmp:
        save(tmp, ModelBundle(estimators, meta))
    write_text_atomic(out.with_suffix(".json"), json.dumps(meta, indent=1, sort_keys=True, default=str) + "\n")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) in {time.time() - t0:.0f}s")
    return 0
