"""What the URL model's parts add on collections it never saw: the URL hints, and URL sizes that decide SMALL.

Leave-one-collection-out as in benchmarks/quality.py, bare URLs, the URL model (`ours-url`) at the shipped
settings and default labels, in variants: as shipped (URL hints, URL sizes decide only BIG), without the
URL hints (models.methods.url_union(hints=False)), and with URL sizes deciding every label.

    python benchmarks/url_model_variants.py [--records out/shared_records.jsonl.gz]   # about 10 minutes
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

VARIANTS = {
    "as shipped": ({}, None),
    "without the URL hints": ({"url_hints": False}, None),
    "URL sizes decide every label": ({}, ("declared", "url-pattern")),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", default="out/shared_records.jsonl.gz")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)

    from dataio.tables import read_jsonl
    from models.generalisation import LOCO_HEADER, leave_one_collection_out, loco_collections, loco_row
    from models.methods import settings_for
    from models.train import prepare

    prep = prepare(read_jsonl(args.records))
    names = loco_collections(prep)
    print(f"Collections left out in turn: {', '.join(names)}.\n\n{LOCO_HEADER}", flush=True)
    for name, (extra, rules) in VARIANTS.items():
        res = leave_one_collection_out(prep, "ours-url", {**settings_for("ours-url"), **extra}, names, rules=rules,
                                       log=lambda msg: print("   ", msg, file=sys.stderr, flush=True))
        print(loco_row(f"ours-url, {name}", "URL only", res["url"]["summary"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
