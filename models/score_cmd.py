"""`ccimg score`: p_big, label and reason for each image URL or extraction record, in input order.

INPUT is a text file of URLs (one per line) or the extraction job's JSONL (`.gz` allowed, `-` for
stdin); the output has one JSONL line per input line.  Batches of --batch lines are scored at once
(see models.score), so per-line Python work stays small.
"""
from __future__ import annotations

import json
import sys
import time
from itertools import islice

from models.cli_common import open_text

_ENCODE = json.encoder.encode_basestring_ascii


def add_arguments(parser) -> None:
    parser.add_argument("input", help="URL list or extraction JSONL (.gz allowed, - for stdin)")
    parser.add_argument("--model", help="model file (default: the shipped model)")
    parser.add_argument("-o", "--output", default="-", help="output JSONL (.gz allowed; default stdout)")
    parser.add_argument("--recall", type=float, help="threshold for this recall of BIG (0.90, 0.95 or 0.99)")
    parser.add_argument("--threshold", type=float, help="explicit threshold on p_big")
    parser.add_argument("--no-exact", action="store_true", help="the model alone, without the exact signals")
    parser.add_argument("--batch", type=int, default=65536, help="lines per batch")


def format_lines(items, scores, is_records: bool) -> str:
    """Output lines for one batch (hand-built JSON: json.dumps per line would cost more than scoring)."""
    out = []
    for i, item in enumerate(items):
        url = item.get("img_url") or "" if is_records else item
        extra = ""
        if scores.width[i] is not None or scores.height[i] is not None:
            extra = f',"width":{json.dumps(scores.width[i])},"height":{json.dumps(scores.height[i])}'
        if is_records and item.get("page_url") is not None:
            extra += f',"page_url":{_ENCODE(item["page_url"])}'
        out.append(f'{{"img_url":{_ENCODE(url)},"p_big":{scores.p_big[i]:.4f},"label":"{scores.label[i]}",'
                   f'"reason":"{scores.reason[i]}"{extra}}}\n')
    return "".join(out)


def run(args) -> int:
    from models.score import Scorer

    t0 = time.perf_counter()
    scorer = Scorer(args.model, recall=args.recall, threshold=args.threshold, exact=not args.no_exact)
    load_s = time.perf_counter() - t0
    n = 0
    with open_text(args.input, "rt") as fin, open_text(args.output, "wt") as fout:
        is_records = None
        while True:
            lines = list(islice(fin, args.batch))
            if not lines:
                break
            if is_records is None:
                first = next((ln for ln in lines if ln.strip()), "")
                is_records = first.lstrip().startswith("{")
            items = ([json.loads(ln) if ln.strip() else {"img_url": ""} for ln in lines] if is_records
                     else [ln.strip() for ln in lines])
            fout.write(format_lines(items, scorer.score(items), is_records))
            n += len(items)
    dt = time.perf_counter() - t0
    print(f"scored {n:,} lines in {dt:.2f}s (model load {load_s:.2f}s)", file=sys.stderr)
    return 0
