"""What the sizes a page's other image files declare add, and where they are there to help.

The record model reads, for each image, how many other image files on its page (and in its folder) declare
their size, how many of those are BIG, and their mean longer side (`page_declared_*`, `folder_declared_*`:
features/page/images.py add_page_context).  Leave-one-collection-out as in benchmarks/quality.py, record
input, our method at the shipped settings, trained and tested once with these fields and once with them
removed from every record (the model then sees -1, as for records extracted before them).

The evaluated images declare their size (the label; hidden from their own features), and their neighbours
declare theirs more often than the neighbours of an image that declares nothing, which is what a crawler
scores (both shares are printed).  So the table also gives F1avg on the images with another file in their
folder that declares its size and on those without: a crawler's figure lies between the two, nearer the
second.

    python benchmarks/page_context.py [--records out/shared_records.jsonl.gz] [--out FILE.md]

About 40 minutes on 2 busy cores (two runs of 8 collections).
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FIELDS = tuple(f"{scope}_declared_{what}" for scope in ("page", "folder") for what in ("others", "big", "longest"))


def f1avg(y: np.ndarray, pred: np.ndarray) -> float:
    """Mean F1 of SMALL and BIG; NaN for no images (a collection where none, or all, have the neighbour)."""
    from sklearn.metrics import f1_score

    if len(y) == 0:
        return float("nan")
    return float(f1_score(y, pred, average=None, labels=[0, 1], zero_division=0).mean())


def run(prep, names: list[str], near_all: np.ndarray) -> dict[str, dict[str, float]]:
    """Per collection left out: F1avg on all its evaluated images, on those with a declaring neighbour in their
    folder (`near_all`, per example of prep: the same images in both runs) and on those without, and SMALL
    skipped at 95% recall of BIG."""
    from models.evaluate import skipped_at_recall
    from models.methods import settings_for
    from models.train import exact_calibration, fit_method, predict

    out = {}
    for name in names:
        test_mask = prep.collections == name
        train, test = prep.subset(~test_mask), prep.subset(test_mask).for_evaluation()
        near = near_all[test_mask][prep.evaluated[test_mask]]
        est = fit_method("ours", train, **settings_for("ours"))
        p, _, _ = predict("ours", est, test, exact_p=exact_calibration(train))
        pred = (p >= 0.5).astype(int)  # F1 at p_big >= 0.5, as every table
        y = np.asarray(test.data.y)
        out[name] = {"all": f1avg(y, pred), "with": f1avg(y[near], pred[near]),
                     "without": f1avg(y[~near], pred[~near]), "share_with": float(near.mean()),
                     "skipped_95": skipped_at_recall(y, p, 0.95)["small_skipped"]}
        print(f"    {name}: {out[name]}", file=sys.stderr, flush=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", default="out/shared_records.jsonl.gz",
                    help="extracted records (written by `ccimg build-default-model`)")
    ap.add_argument("--out", help="also write the markdown table here")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)

    from dataio.tables import read_jsonl
    from features.model_inputs.size_signals import declared_size
    from models.generalisation import loco_collections
    from models.train import prepare

    if not Path(args.records).is_file():
        print(f"no such file: {args.records} (write it with `ccimg build-default-model`)", file=sys.stderr)
        return 2
    records = list(read_jsonl(args.records))
    if not any(FIELDS[0] in r for r in records[:1000]):
        print(f"{args.records} has no {FIELDS[0]}: extract again (ccimg build-default-model --rebuild-records)",
              file=sys.stderr)
        return 2
    with_fields = prepare(records)
    names = loco_collections(with_fields)
    without_fields = prepare([{k: v for k, v in r.items() if k not in FIELDS} for r in records])
    near_all = np.array([(r.get("folder_declared_others") or 0) > 0 for r in with_fields.data.records])
    results = {"with the page's declared sizes": run(with_fields, names, near_all),
               "without them": run(without_fields, names, near_all)}
    lines = ["| record model | F1avg mean (worst) | on images with a declaring file in their folder (mean) | "
             "without one (mean) | "
             "SMALL skipped @95% BIG recall, mean (worst) |", "|---|---|---|---|---|"]
    for label, per in results.items():
        col = {k: [m[k] for m in per.values()] for k in ("all", "with", "without", "skipped_95")}
        lines.append(f"| {label} | {np.mean(col['all']):.3f} ({np.min(col['all']):.3f}) | "
                     f"{np.nanmean(col['with']):.3f} | {np.nanmean(col['without']):.3f} | "
                     f"{np.mean(col['skipped_95']):.0%} ({np.min(col['skipped_95']):.0%}) |")
    share = np.mean([m["share_with"] for m in results["with the page's declared sizes"].values()])
    undeclared = [r for r in records if declared_size(r) is None]
    crawler = np.mean([(r.get("folder_declared_others") or 0) > 0 for r in undeclared])
    on_page = np.mean([(r.get("page_declared_others") or 0) > 0 for r in undeclared])
    lines.append(f"\nImages with another file in their folder that declares its size: {share:.0%} of the evaluated "
                 f"images (mean over the {len(names)} collections left out), {crawler:.0%} of the {len(undeclared):,} "
                 f"images that declare no size (what a crawler scores; {on_page:.0%} of them have one on their page).")
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
