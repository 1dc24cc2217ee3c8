"""`ccimg fetch`: download the images the model says are BIG, with thumbnails and a metadata table.

Example: ccimg fetch scores.jsonl -o images/ --thumbnails 200,640 --contact you@example.org
The library is ccimg.fetch (run.py for the whole run); this module reads the command line.
Exit codes: 0 done (every input row has its status in the metadata table), 1 the destination failed
(rerun to resume), 2 fix the command or the input, 130 interrupted (rerun to resume).
"""
from __future__ import annotations

import argparse
import re
import sys

from ccimg.fetch.image import DEFAULT_MAX_PIXELS, THUMBNAIL_FORMATS
from ccimg.fetch.download import DEFAULT_MAX_BYTES
from ccimg.fetch.store import DEFAULT_SHARD_SIZE, LAYOUTS

_BYTES = re.compile(r"([0-9]+)\s*([kmg]i?b?)?", re.I)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def byte_count(text: str) -> int:
    """'32M', '512k', '1G' or a plain number of bytes (binary units)."""
    m = _BYTES.fullmatch(text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a byte count: {text!r} (e.g. 32M)")
    return int(m.group(1)) * _UNITS[(m.group(2) or "")[:1].lower()]


def sizes(text: str) -> tuple[int, ...]:
    try:
        out = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of sizes: {text!r} (e.g. 200,640)") from None
    if not out or any(not 16 <= s <= 4096 for s in out):
        raise argparse.ArgumentTypeError("thumbnail sizes must be between 16 and 4096 pixels")
    return out


def band(text: str) -> tuple[float, float]:
    try:
        low, high = (float(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not two probabilities: {text!r} (e.g. 0.05,0.5)") from None
    if not 0.0 <= low < high <= 1.0:
        raise argparse.ArgumentTypeError("need 0 <= P1 < P2 <= 1")
    return low, high


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", nargs="+", help="`ccimg score` output or extraction records: JSONL (.gz) or "
                                                 "Parquet files, or a job's part folder")
    parser.add_argument("-o", "--output", required=True, metavar="DEST", help="a folder, or s3://bucket/prefix")
    what = parser.add_argument_group("what to fetch")
    what.add_argument("--all", action="store_true", help="fetch every URL (the baseline the model saves on)")
    what.add_argument("--model", help="model to score extraction records with (default: the shipped model)")
    what.add_argument("--recall", type=float, help="score records at the threshold for this recall of BIG")
    what.add_argument("--threshold", type=float, help="score records at this threshold on p_big")
    what.add_argument("--probe-uncertain", type=band, metavar="P1,P2",
                      help="probe (header-only Range GET) URLs with P1 <= p_big < P2, fetch those that are BIG")
    what.add_argument("--probe-bytes", type=byte_count, default=64 * 1024, metavar="N",
                      help="bytes a probe asks for first (default 64K, as ccimg probe; 512K more where the size "
                           "is not in them)")
    what.add_argument("--keep-small", action="store_true",
                      help="store downloads that turn out not BIG too (default: only their metadata)")
    out = parser.add_argument_group("what is written")
    out.add_argument("--layout", choices=LAYOUTS, default="files",
                     help="img2dataset layout: shard folders of files (default) or webdataset tar shards")
    out.add_argument("--thumbnails", type=sizes, default=(), metavar="S1,S2",
                     help="thumbnail sizes (longest side, px), e.g. 200,640")
    out.add_argument("--thumbnail-format", choices=sorted(THUMBNAIL_FORMATS), default="webp")
    out.add_argument("--shard-size", type=int, default=DEFAULT_SHARD_SIZE, help="images per shard (default 10000)")
    out.add_argument("--s3-endpoint-url", help="an S3 endpoint other than AWS (MinIO, moto)")
    out.add_argument("--state-dir", help="journal and plan (default DEST/_state; for s3:// ./ccimg-fetch-state/...)")
    out.add_argument("--restart", action="store_true", help="forget what an earlier run did (files stay)")
    out.add_argument("--retry-failed", action="store_true",
                     help="also redo URLs that failed for reasons that may pass (timeouts, 5xx, connections)")
    polite = parser.add_argument_group("politeness and limits")
    polite.add_argument("--contact", help="an e-mail address or URL for the User-Agent, so site owners can write")
    polite.add_argument("--workers", type=int, default=16, help="threads (default 16); hosts are spread over them")
    polite.add_argument("--per-host", type=int, default=1, help="requests in flight per host (default 1)")
    polite.add_argument("--delay", type=float, default=1.0, help="seconds between request starts per host (default 1)")
    polite.add_argument("--timeout", type=float, default=30.0, help="seconds for one request, all of it (default 30)")
    polite.add_argument("--max-time", type=float, default=120.0, help="seconds per URL, retries included")
    polite.add_argument("--retries", type=int, default=2, help="retries on 429/5xx/timeouts (default 2)")
    polite.add_argument("--max-bytes", type=byte_count, default=DEFAULT_MAX_BYTES, help="per image (default 32M)")
    polite.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
                        help="width x height above which an image is refused as a decompression bomb (default 1e8)")
    polite.add_argument("--max-redirects", type=int, default=5)
    polite.add_argument("--allow-private-addresses", action="store_true",
                        help="allow private/loopback/link-local hosts (tests, intranets): refused by default")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _refuse(message: str) -> int:
    print(f"ccimg fetch: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from ccimg.fetch.journal import OptionsChanged
    from ccimg.fetch.plan import PlanError
    from ccimg.fetch.run import Fetcher, FetchOptions
    from ccimg.fetch.store import StoreError
    from network.errors import FetchError
    from network.identity import user_agent

    if args.all and (args.probe_uncertain or args.recall is not None or args.threshold is not None):
        return _refuse("--all fetches everything: it goes with neither --probe-uncertain, --recall nor --threshold")
    if args.recall is not None and args.threshold is not None:
        return _refuse("give --recall or --threshold, not both")
    if args.probe_bytes < 32:
        return _refuse("--probe-bytes must be at least 32")
    for name in ("workers", "per_host", "shard_size", "max_bytes", "max_pixels"):
        if getattr(args, name) < 1:
            return _refuse(f"--{name.replace('_', '-')} must be at least 1")
    if args.retries < 0 or args.max_redirects < 0 or args.delay < 0 or args.timeout <= 0 or args.max_time <= 0:
        return _refuse("--retries, --max-redirects and --delay must be >= 0, --timeout and --max-time > 0")
    if args.output.startswith("s3://") and not args.output[len("s3://"):].split("/")[0]:
        return _refuse(f"{args.output}: not s3://bucket[/prefix]")
    try:
        user_agent(args.contact)
    except ValueError as exc:
        return _refuse(f"--contact: {exc}")
    options = FetchOptions(
        inputs=args.input, dest=args.output, layout=args.layout, thumbnails=args.thumbnails,
        thumbnail_format=args.thumbnail_format, fetch_all=args.all, probe_band=args.probe_uncertain,
        probe_bytes=args.probe_bytes,
        model=args.model, recall=args.recall, threshold=args.threshold, keep_small=args.keep_small,
        workers=args.workers, per_host=args.per_host, delay=args.delay, timeout=args.timeout,
        max_time=args.max_time, retries=args.retries, max_bytes=args.max_bytes, max_pixels=args.max_pixels,
        max_redirects=args.max_redirects, contact=args.contact, allow_private=args.allow_private_addresses,
        s3_endpoint_url=args.s3_endpoint_url, state_dir=args.state_dir, restart=args.restart,
        retry_failed=args.retry_failed, shard_size=args.shard_size, progress=not args.no_progress)
    fetcher = Fetcher(options)
    try:
        summary = fetcher.run()
    except (PlanError, OptionsChanged) as exc:
        return _refuse(str(exc))
    except FetchError as exc:  # e.g. an s3:// destination that is not s3://bucket/...
        return _refuse(str(exc))
    except (StoreError, OSError) as exc:
        print(f"ccimg fetch: the destination failed: {exc} (rerun the same command to resume)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ccimg fetch: interrupted before fetching began; rerun the same command", file=sys.stderr)
        return 130
    for line in summary.lines():
        print(f"ccimg fetch: {line}", file=sys.stderr)
    if summary.interrupted:
        print("ccimg fetch: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    return 0
