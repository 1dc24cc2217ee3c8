"""What a bare URL's default recall target keeps on collections never seen: the URL model left out of each.

For each collection with 50 BIG and 50 SMALL labelled examples: train `ours-url` on the others (default
labels), score the left-out collection's image URLs with no options but the recall target, and count
the BIG images kept and the SMALL fetches skipped.  The threshold of a target is chosen on the training
side, so on an unseen collection it keeps less than its target: this measures how much less.  It is
why the shipped model stores 0.98 for bare URLs (models.calibration.DEFAULT_RECALL_URL).

    python benchmarks/url_recall_targets.py [--records out/shared_records.jsonl.gz]   # about 5 minutes
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGETS = (0.95, 0.97, 0.98, 0.99)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", default="out/shared_records.jsonl.gz")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)
    import numpy as np

    from dataio.tables import read_jsonl
    from models.generalisation import loco_collections
    from models.model_file import ModelBundle
    from models.score import Scorer
    from models.train import exact_calibration, fit_method, prepare

    prep = prepare(read_jsonl(args.records))
    kept: dict[float, list[tuple[float, float]]] = {r: [] for r in TARGETS}
    for name in loco_collections(prep):
        left_out = prep.collections == name
        train, test = prep.subset(~left_out), prep.subset(left_out).for_evaluation()
        bundle = ModelBundle({"url": fit_method("ours-url", train)}, {"exact_p": exact_calibration(train)})
        urls, y = [r["img_url"] for r in test.data.records], test.data.y
        for target in TARGETS:
            big = np.array([label == "BIG" for label in Scorer(bundle, recall=target).score(urls).label])
            kept[target].append((float(big[y == 1].mean()), float(1 - big[y == 0].mean())))
        print(name, "  ".join(f"{t}: BIG kept {k[-1][0]:.1%}, SMALL skipped {k[-1][1]:.0%}"
                              for t, k in kept.items()), file=sys.stderr, flush=True)
    print("| recall target (bare URLs) | BIG kept, mean | worst | SMALL skipped, mean | worst |\n|---|---|---|---|---|")
    for target, rows in kept.items():
        a = np.array(rows)
        print(f"| {target} | {a[:, 0].mean():.1%} | {a[:, 0].min():.1%} | {a[:, 1].mean():.0%} | {a[:, 1].min():.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
