"""`ccimg fetch`: download the images worth fetching, with thumbnails and a metadata table, politely.

INPUT is `ccimg score` output or the extraction job's records (scored here: the shipped model at its recall
target, or --model/--recall/--threshold), JSONL (.gz), Parquet, folders of part-* files, globs, s3://.
Each distinct URL is fetched once; every input row gets a row in DEST/metadata.jsonl (and .parquet) with
its status.  The library is ccimg.fetch (run.py for the whole run); this module reads the command line.

examples:
  ccimg fetch images/ -o fetched/ --thumbnails 200,640 --contact you@example.org
  ccimg fetch scores.jsonl -o s3://bucket/fetched/ --layout webdataset
  ccimg fetch images/ -o fetched/ --probe-uncertain 0.0002,0.53        # probe the uncertain band first
  ccimg fetch images/ -o everything/ --all                             # the baseline the model saves on

exit codes: 0 done (a URL that failed is a status in the metadata, not an error); 1 the destination or the
network failed (rerun the same command to resume); 2 fix the command or its files; 3 no usable input rows;
130 interrupted (rerun the same command to resume)
"""
from __future__ import annotations

import argparse
import re

from ccimg.commands.common import (EXIT_INTERRUPTED, CommandError, NothingToDo, Progress, UsageError,
                                   add_model_arguments, add_quiet_argument, check_recall, load_model,
                                   non_negative_float,
                                   non_negative_int, positive_float, positive_int, say)
from ccimg.commands.filter_args import add_filter_arguments, filter_from_args
from ccimg.fetch.download import DEFAULT_MAX_BYTES
from ccimg.fetch.image import DEFAULT_MAX_PIXELS, THUMBNAIL_FORMATS
from ccimg.fetch.store import DEFAULT_SHARD_SIZE, LAYOUTS

_BYTES = re.compile(r"([0-9]+)\s*([kmg]i?b?)?", re.I)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def byte_count(text: str) -> int:
    """'32M', '512k', '1G' or a plain number of bytes (binary units), at least 32."""
    m = _BYTES.fullmatch(text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a byte count (e.g. 32M)")
    value = int(m.group(1)) * _UNITS[(m.group(2) or "")[:1].lower()]
    if value < 32:
        raise argparse.ArgumentTypeError(f"{text} is too small (at least 32 bytes)")
    return value


def sizes(text: str) -> tuple[int, ...]:
    try:
        out = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of sizes (e.g. 200,640)") from None
    if not out or any(not 16 <= s <= 4096 for s in out):
        raise argparse.ArgumentTypeError("thumbnail sizes must be between 16 and 4096 pixels")
    return out


def band(text: str) -> tuple[float, float]:
    try:
        low, high = (float(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not two probabilities (e.g. 0.0002,0.53)") from None
    if not 0.0 <= low < high <= 1.0:
        raise argparse.ArgumentTypeError("need 0 <= P1 < P2 <= 1")
    return low, high


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", nargs="+", metavar="INPUT",
                        help="`ccimg score` output or extraction records: files, folders of part-* files, globs, "
                             "s3://bucket/prefix")
    parser.add_argument("-o", "--output", required=True, metavar="DEST", help="a folder, or s3://bucket/prefix")
    what = parser.add_argument_group("what to fetch")
    what.add_argument("--all", action="store_true", help="fetch every URL (the baseline the model saves on)")
    add_model_arguments(what)  # for extraction records, scored here
    what.add_argument("--probe-uncertain", type=band, metavar="P1,P2",
                      help="probe (a header-only Range GET, as ccimg probe) the URLs the model scored "
                           "P1 <= p_big < P2, and download those that are BIG")
    what.add_argument("--probe-bytes", type=byte_count, default=64 * 1024, metavar="N",
                      help="bytes a probe asks for first (default 64K, as ccimg probe; 512K more where the size "
                           "is not in them)")
    what.add_argument("--keep-small", action="store_true",
                      help="store downloads that turn out not BIG too (default: only their metadata)")
    add_filter_arguments(what)
    out = parser.add_argument_group("what is written")
    out.add_argument("--layout", choices=LAYOUTS, default="files",
                     help="img2dataset layout: shard folders of files (default) or webdataset tar shards")
    out.add_argument("--thumbnails", type=sizes, default=(), metavar="S1,S2",
                     help="thumbnail sizes (longest side, px), e.g. 200,640")
    out.add_argument("--thumbnail-format", choices=sorted(THUMBNAIL_FORMATS), default="webp")
    out.add_argument("--shard-size", type=positive_int, default=DEFAULT_SHARD_SIZE, metavar="N",
                     help="images per shard (default 10000)")
    out.add_argument("--s3-endpoint-url", metavar="URL", help="an S3 endpoint other than AWS (MinIO, moto)")
    out.add_argument("--state-dir", metavar="DIR",
                     help="journal and plan (default DEST/_state; for s3:// ./ccimg-fetch-state/BUCKET/PREFIX)")
    out.add_argument("--restart", action="store_true", help="forget what an earlier run did (stored files stay)")
    out.add_argument("--retry-failed", action="store_true",
                     help="also redo URLs that failed for reasons that may pass (timeouts, 5xx, connections)")
    polite = parser.add_argument_group("politeness and limits")
    polite.add_argument("--contact", metavar="EMAIL|URL",
                        help="who runs the crawl, in the User-Agent, so that site owners can write to a person")
    polite.add_argument("--workers", type=positive_int, default=16, metavar="N",
                        help="threads (default 16); they are handed only hosts that are free")
    polite.add_argument("--per-host", type=positive_int, default=1, metavar="N",
                        help="requests in flight per host (default 1)")
    polite.add_argument("--delay", type=non_negative_float, default=1.0, metavar="S",
                        help="seconds between request starts per host, robots.txt and redirects included (default 1)")
    polite.add_argument("--timeout", type=positive_float, default=30.0, metavar="S",
                        help="seconds for one request, all of it, however slowly the server sends (default 30)")
    polite.add_argument("--max-time", type=positive_float, default=120.0, metavar="S",
                        help="seconds per URL, retries included (default 120)")
    polite.add_argument("--retries", type=non_negative_int, default=2, metavar="N",
                        help="retries on 429/5xx/timeouts, with backoff, honouring Retry-After (default 2)")
    polite.add_argument("--max-bytes", type=byte_count, default=DEFAULT_MAX_BYTES, metavar="N",
                        help="per image, announced or sent (default 32M)")
    polite.add_argument("--max-pixels", type=positive_int, default=DEFAULT_MAX_PIXELS, metavar="N",
                        help="width x height above which an image is refused as a decompression bomb (default 1e8)")
    polite.add_argument("--max-redirects", type=non_negative_int, default=5, metavar="N")
    polite.add_argument("--allow-private-addresses", action="store_true",
                        help="allow private/loopback/link-local hosts (tests, intranets): refused by default")
    add_quiet_argument(parser)


def options_from_args(args):
    """FetchOptions from the command line; UsageError for a combination that makes no sense."""
    from ccimg.commands.data_args import clean_record
    from ccimg.fetch.run import FetchOptions
    from network.identity import user_agent

    if args.all and (args.probe_uncertain or args.recall is not None or args.threshold is not None):
        raise UsageError("--all fetches everything: it goes with neither --probe-uncertain, --recall nor --threshold")
    if args.output.startswith("s3://") and not args.output[len("s3://"):].split("/")[0]:
        raise UsageError(f"{args.output}: not s3://bucket[/prefix]")
    try:
        user_agent(args.contact)
    except ValueError as exc:
        raise UsageError(f"--contact: {exc}") from None
    try:
        keep = filter_from_args(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.model is not None or args.recall is not None:
        check_recall(load_model(args.model), args.recall, kinds=("record",))
    return FetchOptions(
        inputs=args.input, dest=args.output, layout=args.layout, thumbnails=args.thumbnails,
        thumbnail_format=args.thumbnail_format, fetch_all=args.all, probe_band=args.probe_uncertain,
        probe_bytes=args.probe_bytes, model=args.model, recall=args.recall, threshold=args.threshold, keep=keep,
        clean=clean_record, keep_small=args.keep_small, workers=args.workers, per_host=args.per_host,
        delay=args.delay, timeout=args.timeout, max_time=args.max_time, retries=args.retries,
        max_bytes=args.max_bytes, max_pixels=args.max_pixels, max_redirects=args.max_redirects,
        contact=args.contact, allow_private=args.allow_private_addresses, s3_endpoint_url=args.s3_endpoint_url,
        state_dir=args.state_dir, restart=args.restart, retry_failed=args.retry_failed, shard_size=args.shard_size)


def run(args: argparse.Namespace) -> int:
    from ccimg.fetch.journal import OptionsChanged
    from ccimg.fetch.plan import PlanError
    from ccimg.fetch.run import Fetcher
    from ccimg.fetch.store import StoreError
    from network.errors import FetchError

    options = options_from_args(args)
    with Progress("fetching", unit="URLs", quiet=args.quiet) as progress:
        fetcher = Fetcher(options, log=say, progress=progress)
        try:
            summary = fetcher.run()
        except (PlanError, OptionsChanged, FetchError) as exc:  # FetchError: an s3:// DEST the sink refuses
            raise UsageError(str(exc)) from None
        except StoreError as exc:
            raise CommandError(f"the destination failed: {exc} (rerun the same command to resume)") from None
    for line in summary.lines():
        say(line)
    if summary.interrupted:
        say("interrupted; rerun the same command to resume")
        return EXIT_INTERRUPTED
    if summary.rows == 0:
        raise NothingToDo("nothing to fetch: the input has no usable rows")
    return 0
