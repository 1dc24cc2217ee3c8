"""`ccimg probe`: true image sizes by a polite header-only probe of each image URL (see ccimg.probe).

Each distinct URL is asked for its first 64 KiB (a Range request), and its pixel size is read from the
image header: labels for `ccimg train --labels` without downloading the images.  robots.txt is honoured,
requests to one host are spaced by --rate, private addresses are refused.

INPUT: URL lists and extraction records (img_url), as files, folders of the job's part-* files, globs,
s3://bucket/prefix or '-'.  The input is streamed: URLs are probed in rounds of --chunk distinct URLs, and
duplicates are dropped by a hash of each URL seen (8 bytes a URL), so a list of millions of URLs never sits
in memory.  A bad row is skipped, counted and logged with its file and row number.

examples:
  ccimg probe images/ -o sizes.jsonl
  ccimg probe urls.txt --rate 0.5 -o sizes.parquet
  ccimg train --data images/ --labels sizes.jsonl -o model.skops

output fields (one row per distinct URL, in the order the probes finish):
  img_url      the URL probed
  true_width   the image's width in pixels, null where the probe failed
  true_height  its height, likewise
  format       png, jpeg, gif, webp, svg, ... as read from the header, or null
  status       ok, or why not: robots_disallowed, private_address, http_404, not_an_image, timeout, ...
  bytes_read   bytes downloaded for this URL
  error        for status "error" only: what went wrong
Interrupted (Ctrl-C), the output keeps the rows probed so far, and the command exits 130.
"""
from __future__ import annotations

import argparse
from collections import Counter

from ccimg.commands.common import (EXIT_INTERRUPTED, NothingToDo, Progress, UsageError, add_output_arguments,
                                   add_quiet_argument, non_negative_int, positive_float, positive_int, say)
from ccimg.commands.data_args import MAX_URL_LENGTH, check_url
from ccimg.probe import DEFAULT_RANGE_BYTES, RETRY_RANGE_BYTES, Options, Prober, probe_urls
from network.retry import RetryPolicy
from dataio.tables import RowWriter, Skips, iter_rows

SCHEMA = {"img_url": "string", "true_width": "int64", "true_height": "int64", "format": "string",
          "status": "string", "bytes_read": "int64", "error": "string"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", nargs="+", metavar="INPUT",
                        help="image URLs (one per line) or extraction records (img_url): files, folders, globs, "
                             "s3://bucket/prefix, '-' for stdin")
    add_output_arguments(parser, what="sizes")
    parser.add_argument("--range-bytes", type=positive_int, default=DEFAULT_RANGE_BYTES,
                        help="bytes asked for first (default 65536: Range bytes=0-65535)")
    parser.add_argument("--retry-range-bytes", type=positive_int, default=RETRY_RANGE_BYTES,
                        help="bytes asked for once more when the size is not in the first chunk (default 524288)")
    parser.add_argument("--rate", type=positive_float, default=1.0, help="requests per second per host (default 1)")
    parser.add_argument("--workers", type=positive_int, default=4, help="hosts probed at once (default 4)")
    parser.add_argument("--timeout", type=positive_float, default=10.0,
                        help="connect/read timeout in seconds (default 10)")
    parser.add_argument("--retries", type=non_negative_int, default=2, help="retries on 429/5xx/timeouts (default 2)")
    parser.add_argument("--allow-private-addresses", action="store_true",
                        help="allow private/loopback/link-local hosts (tests, intranets): refused by default")
    parser.add_argument("--chunk", type=positive_int, default=10000, metavar="N",
                        help="distinct URLs probed per round (default 10000): bounds memory on long lists")
    parser.add_argument("--max-url-length", type=positive_int, default=MAX_URL_LENGTH, metavar="N",
                        help=f"skip (and count) URLs longer than this (default {MAX_URL_LENGTH})")
    add_quiet_argument(parser)


def _distinct_urls(rows, skips: Skips, counts: Counter, max_url_length: int):
    """The distinct image URLs of `rows`, in first-seen order, without holding them (see dataio.dedupe)."""
    from dataio.dedupe import Seen

    seen = Seen()
    for row in rows:
        counts["rows"] += 1
        data = row.data
        url, reason = check_url(data if type(data) is str else data.get("img_url"), max_url_length)
        if reason:
            skips.add(reason, row.source, row.number)
            continue
        if not seen.add(url):
            counts["duplicate"] += 1
            continue
        yield url


def _chunks(items, size: int):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run(args: argparse.Namespace) -> int:
    if args.range_bytes < 32 or args.retry_range_bytes < args.range_bytes:
        raise UsageError("need 32 <= --range-bytes <= --retry-range-bytes")
    options = Options(range_bytes=args.range_bytes, retry_range_bytes=args.retry_range_bytes, timeout=args.timeout,
                      rate=args.rate, workers=args.workers, allow_private=args.allow_private_addresses,
                      policy=RetryPolicy(max_attempts=args.retries + 1, base_delay=0.5, max_delay=10.0,
                                         max_elapsed=60.0))
    counts: Counter = Counter()
    statuses: Counter = Counter()
    skips = Skips(log=say)
    prober = Prober(options, say)
    interrupted = False
    rows = iter_rows(args.input, text=True, skips=skips)
    with RowWriter(args.output, schema=SCHEMA, overwrite=args.overwrite) as out, \
            Progress("probing", unit="URLs", quiet=args.quiet) as progress:
        try:
            for chunk in _chunks(_distinct_urls(rows, skips, counts, args.max_url_length), args.chunk):
                for row in probe_urls(chunk, options, log=say, prober=prober):
                    statuses[row["status"]] += 1
                    out.write(row)
                    progress.update()
        except KeyboardInterrupt:  # keep what was probed: the rows written so far are whole
            interrupted = True
    probed = sum(statuses.values())
    not_probed = {"duplicate": counts["duplicate"], "blank": skips.blank, **skips.counts}
    say(f"{counts['rows']:,} rows, {probed:,} URLs probed, {statuses['ok']:,} ok; by status: "
        f"{dict(sorted(statuses.items()))}; rows not probed: {dict((k, v) for k, v in not_probed.items() if v)}")
    if interrupted:
        say(f"interrupted: {args.output if args.output != '-' else 'stdout'} holds the {probed:,} rows probed so far")
        return EXIT_INTERRUPTED
    if probed == 0:
        raise NothingToDo("nothing to probe: the input has no usable URLs")
    return 0
