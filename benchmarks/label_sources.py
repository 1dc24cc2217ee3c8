"""What each label source adds: the record model left out of each collection, trained with and without it.

Labels come from true sizes, declared `width`/`height` attributes, and sizes the pages state about their
files elsewhere (`stated:srcset`, `stated:icon`, `stated:og:image`, `stated:json-ld`: models/labels.py).
Evaluations count true and declared labels only, so every variant is measured on the same examples; a
variant trains on the label sources it names (records whose only label is another source's are left out).
Leave-one-collection-out as in benchmarks/quality.py, record input, our method at the shipped settings.

    python benchmarks/label_sources.py [--records out/shared_records.jsonl.gz] [--variants NAME...] [--out FILE.md]

2-7 minutes per variant and collection on 2 busy cores (more labels, longer).
"""
from __future__ import annotations

import argparse
import sys
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

VARIANTS = {
    "every source": ("true", "declared", "stated"),
    "the default: without stated:srcset": ("true", "declared", "stated:og:image", "stated:json-ld", "stated:icon"),
    "without stated:icon, og:image, json-ld": ("true", "declared", "stated:srcset"),
    "true and declared only": ("true", "declared"),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", default="out/shared_records.jsonl.gz",
                    help="extracted records (written by `ccimg build-default-model`)")
    ap.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS), metavar="NAME",
                    help=f"which to run (default all): {'; '.join(VARIANTS)}")
    ap.add_argument("--out", help="also write the markdown table here")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)

    from dataio.tables import read_jsonl
    from models.generalisation import LOCO_HEADER, leave_one_collection_out, loco_collections, loco_row
    from models.labels import DEFAULT_SOURCES
    from models.methods import settings_for
    from models.train import prepare

    assert VARIANTS["the default: without stated:srcset"] == DEFAULT_SOURCES, "keep the variant the default"
    records = list(read_jsonl(args.records))
    everything = prepare(records, sources=VARIANTS["every source"])
    names = loco_collections(everything)
    counts = Counter(everything.data.sources.tolist())
    lines = ["Labels by source: " + ", ".join(f"{s} {n:,}" for s, n in counts.most_common()),
             f"Collections left out in turn: {', '.join(names)}.", "", LOCO_HEADER]
    print("\n".join(lines), flush=True)
    for name in args.variants:
        prep = prepare(records, sources=VARIANTS[name])
        res = leave_one_collection_out(prep, "ours", settings_for("ours"), names, urls=False,
                                       log=lambda msg: print("   ", msg, file=sys.stderr, flush=True))
        row = loco_row(f"ours, {name} ({len(prep.data):,} labels)", "record", res["record"]["summary"])
        print(row, flush=True)
        lines.append(row)
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
