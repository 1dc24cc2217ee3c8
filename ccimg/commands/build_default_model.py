"""`ccimg build-default-model`: rebuild the shipped default model from ../shared/data, in one command.

Steps: extract image records from the shared pages and archives (cached as JSONL), label them
(true sizes from the archives, declared sizes elsewhere, hidden from the features), split by site
(the standard 75/25 split), train `ours` (records) and `ours-url` (bare URLs) on the training side,
evaluate both on the held-out sites, and write one model file with both estimators and metadata
(plus a JSON copy of the metadata beside it).  Fixed seeds: the same data give the same model.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from dataio.tables import read_jsonl, write_jsonl
from models.corpus import DEFAULT_DATA_DIR, iter_records
from models.score import DEFAULT_MODEL

DEFAULT_CACHE = Path("out") / "shared_records.jsonl.gz"
DEFAULT_SETTINGS = {"record": {"trees": 40, "k": 1000, "min_samples_leaf": 2},  # ours: forest
                    "url": {"k": 1000}}  # ours-url: linear model


def add_arguments(parser) -> None:
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="the shared data folder")
    parser.add_argument("--records", default=str(DEFAULT_CACHE),
                        help="cache of the extracted records (written if absent; reused if present)")
    parser.add_argument("--rebuild-records", action="store_true", help="extract again even if the cache exists")
    parser.add_argument("--limit-pages", type=int, help="pages per collection (for a quick trial)")
    parser.add_argument("--trees", type=int, help="trees per forest (default 40)")
    parser.add_argument("-o", "--output", default=str(DEFAULT_MODEL))


def records_from_shared(data_dir, cache: Path, rebuild: bool = False, limit_pages: int | None = None) -> list[dict]:
    if cache.exists() and not rebuild and limit_pages is None:
        return read_jsonl(cache)
    records = list(iter_records(Path(data_dir), limit_pages=limit_pages))
    if limit_pages is None:
        write_jsonl(records, cache)
    return records


def run(args) -> int:
    from models.model_file import ModelBundle, save
    from models.train import evaluate_model, exact_calibration, fit_method, metadata, prepare, split_by_site

    if not Path(args.data_dir).is_dir():
        print(f"no shared data at {args.data_dir}")
        return 1
    t0 = time.time()
    records = records_from_shared(args.data_dir, Path(args.records), args.rebuild_records, args.limit_pages)
    prep = prepare(records)
    train, test = split_by_site(prep)
    test = test.for_evaluation()  # true and declared labels, as every evaluation
    print(f"{len(records):,} records; {len(prep.data):,} labelled; train {len(train.data):,} examples "
          f"/ {len(set(train.sites)):,} sites, test {len(test.data):,} / {len(set(test.sites)):,} sites")
    exact_p = exact_calibration(train)
    estimators, evaluations, settings = {}, {}, {}
    for kind, method in (("record", "ours"), ("url", "ours-url")):
        s = dict(DEFAULT_SETTINGS[kind])
        if args.trees and kind == "record":
            s["trees"] = args.trees
        est = fit_method(method, train, **s)
        ev = evaluate_model(method, est, test, exact_p=exact_p)
        ev_model_only = evaluate_model(method, est, test, exact=False)
        estimators[kind], settings[kind] = est, s
        evaluations[kind] = {"with_exact_signals": ev, "model_only": ev_model_only}
        print(f"{method}: F1avg {ev['f1_avg']:.3f} (model alone {ev_model_only['f1_avg']:.3f}); "
              f"SMALL skipped at 95% BIG recall {ev['skipped'][1]['small_skipped']:.1%}")
    meta = metadata("ours+ours-url", train, settings, evaluations, time.time() - t0)
    meta["exact_p"] = exact_p
    meta["split"] = {"test_share": 0.25, "train_examples": len(train.data), "test_examples": len(test.data),
                     "train_sites": len(set(train.sites)), "test_sites": len(set(test.sites))}
    meta["data"] = {"source": "../shared/data (html-more, html-aeb, webarchive, cc)", "records": len(records),
                    "limit_pages": args.limit_pages}
    out = Path(args.output)
    save(out, ModelBundle(estimators, meta))
    out.with_suffix(".json").write_text(json.dumps(meta, indent=1, sort_keys=True, default=str) + "\n")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) in {time.time() - t0:.0f}s")
    return 0
