"""Argument and input helpers shared by the `ccimg train/eval/score` commands."""
from __future__ import annotations

import gzip
from pathlib import Path

from dataio.tables import read_jsonl as read_records
from models.labels import read_truth


def add_data_arguments(parser) -> None:
    parser.add_argument("--data", required=True, nargs="+", metavar="RECORDS.jsonl",
                        help="extraction records (JSONL, .gz allowed); several files are concatenated")
    parser.add_argument("--labels", metavar="FILE",
                        help="true sizes: CSV or JSONL with img_url and true_width/true_height (or width/height)")
    parser.add_argument("--label-sources", default="true,declared",
                        help="label sources to use, best first (default: true,declared)")
    parser.add_argument("--limit", type=int, help="read at most this many records per file")


def load_data(args):
    """(records, truth) from --data / --labels."""
    records = []
    for path in args.data:
        records.extend(read_records(path, limit=args.limit))
    truth = read_truth(args.labels) if args.labels else None
    return records, truth


def label_sources(args) -> tuple[str, ...]:
    return tuple(s.strip() for s in args.label_sources.split(",") if s.strip())


def open_text(path: str | Path, mode: str = "rt"):
    """Open a text file, gzip by suffix; '-' is stdin/stdout."""
    import sys
    if str(path) == "-":
        return sys.stdin if "r" in mode else sys.stdout
    return gzip.open(path, mode, encoding="utf-8") if str(path).endswith(".gz") else open(path, mode, encoding="utf-8")
