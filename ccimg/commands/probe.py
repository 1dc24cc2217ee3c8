"""`ccimg probe`: true image sizes by a polite header-only probe (see ccimg.probe for how and why)."""
from __future__ import annotations

import argparse
import sys
from collections import Counter

from ccimg.probe import DEFAULT_RANGE_BYTES, RETRY_RANGE_BYTES, Options, probe_urls, read_urls
from network.retry import RetryPolicy
from dataio.tables import dumps, open_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="image URLs, one per line, or extraction JSONL (img_url); .gz ok; '-' = stdin")
    parser.add_argument("-o", "--output", default="-", help="JSONL output (.gz ok; default stdout)")
    parser.add_argument("--range-bytes", type=int, default=DEFAULT_RANGE_BYTES,
                        help="bytes asked for first (default 65536: Range bytes=0-65535)")
    parser.add_argument("--retry-range-bytes", type=int, default=RETRY_RANGE_BYTES,
                        help="bytes asked for once more when the size is not in the first chunk (default 524288)")
    parser.add_argument("--rate", type=float, default=1.0, help="requests per second per host (default 1)")
    parser.add_argument("--workers", type=int, default=4, help="hosts probed at once (default 4)")
    parser.add_argument("--timeout", type=float, default=10.0, help="connect/read timeout in seconds (default 10)")
    parser.add_argument("--retries", type=int, default=2, help="retries on 429/5xx/timeouts (default 2)")
    parser.add_argument("--allow-private-addresses", action="store_true",
                        help="allow private/loopback/link-local hosts (tests, intranets): refused by default")


def run(args: argparse.Namespace) -> int:
    if args.range_bytes < 32 or args.retry_range_bytes < args.range_bytes:
        print("ccimg probe: need 32 <= --range-bytes <= --retry-range-bytes", file=sys.stderr)
        return 2
    options = Options(range_bytes=args.range_bytes, retry_range_bytes=args.retry_range_bytes, timeout=args.timeout,
                      rate=args.rate, workers=args.workers, allow_private=args.allow_private_addresses,
                      policy=RetryPolicy(max_attempts=max(1, args.retries + 1), base_delay=0.5, max_delay=10.0,
                                         max_elapsed=60.0))
    counts: Counter = Counter()
    f = open_text(args.input)
    try:
        urls = read_urls(f, counts)
    finally:
        if f is not sys.stdin:
            f.close()
    statuses: Counter = Counter()
    out = open_text(args.output, "wt")
    try:
        for row in probe_urls(urls, options, log=lambda msg: print(f"ccimg probe: {msg}", file=sys.stderr)):
            statuses[row["status"]] += 1
            out.write(dumps(row).decode() + "\n")
            out.flush()
    finally:
        if out is not sys.stdout:
            out.close()
    skipped = {k: counts[k] for k in ("blank", "duplicate", "bad_json", "no_img_url") if counts[k]}
    print(f"ccimg probe: {counts['lines']} lines, {sum(statuses.values())} probed, {statuses['ok']} ok; "
          f"by status: {dict(sorted(statuses.items()))}; lines not probed: {skipped}", file=sys.stderr)
    return 0
