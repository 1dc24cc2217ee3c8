"""What each label source adds: the record model left out of each collection, trained with and without it.

Labels come from true sizes, declared `width`/`height` attributes, and sizes the pages state about their
files elsewhere (`stated:srcset`, `stated:icon`, `stated:og:image`, `stated:json-ld`: models/labels.py).
Evaluations count true and declared labels only, so every variant is measured on the same examples;
a variant drops the stated sizes of the sources it names (their records then have no label, or their
declared one).  Leave-one-collection-out as in benchmarks/quality.py, record input, our method.

    python benchmarks/label_sources.py [--records out/shared_records.jsonl.gz] [--out FILE.md]

About 10 minutes per variant on 2 busy cores.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

VARIANTS = {
    "all sources (the default)": (),
    "without stated:srcset": ("srcset",),
    "without stated:icon, og:image, json-ld": ("icon", "og:image", "json-ld"),
    "without any stated size": ("srcset", "icon", "og:image", "json-ld"),
}


def without_stated(records: list[dict], dropped: tuple[str, ...]) -> list[dict]:
    """The records with the stated sizes of the `dropped` sources removed (copies where changed)."""
    out = []
    for rec in records:
        if rec.get("stated_by") in dropped:
            rec = {k: v for k, v in rec.items() if k not in ("stated_width", "stated_height", "stated_by")}
        out.append(rec)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", default="out/shared_records.jsonl.gz",
                    help="extracted records (written by `ccimg build-default-model`)")
    ap.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS), metavar="NAME")
    ap.add_argument("--out", help="also write the markdown table here")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)

    from ccimg.commands.build_default_model import DEFAULT_SETTINGS
    from dataio.tables import read_jsonl
    from models.generalisation import LOCO_HEADER, leave_one_collection_out, loco_collections, loco_row
    from models.train import prepare

    records = list(read_jsonl(args.records))
    full = prepare(records)
    names = loco_collections(full)
    counts = Counter(full.data.sources.tolist())
    lines = ["Labels by source (all records): " + ", ".join(f"{s} {n:,}" for s, n in counts.most_common()),
             f"Collections left out in turn: {', '.join(names)}.", "", LOCO_HEADER]
    print("\n".join(lines), flush=True)
    for name in args.variants:
        prep = full if not VARIANTS[name] else prepare(without_stated(records, VARIANTS[name]))
        res = leave_one_collection_out(prep, "ours", DEFAULT_SETTINGS["record"], names, urls=False,
                                       log=lambda msg: print("   ", msg, file=sys.stderr, flush=True))
        row = loco_row(f"ours, {name} ({len(prep.data):,} labels)", "record", res["record"]["summary"])
        print(row, flush=True)
        lines.append(row)
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
