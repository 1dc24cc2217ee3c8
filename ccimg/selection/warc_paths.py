"""`ccimg select --warc-paths`: whole WARC files as the job's input, for bulk runs.

A crawl's ``warc.paths.gz`` lists its WARC files (about 90,000 of about 1 GB each, in 100 segments), one path
per line relative to the bucket (``crawl-data/CC-MAIN-2025-33/segments/<segment>/warc/<file>.warc.gz``).  Those
paths are written as they are: the extraction job resolves them against its --source-base.

Sampling is seeded, so the same command gives the same files: ``--segments`` narrows to some segments (ids, or
a count of random ones), then ``--sample N`` picks N files at random; the output keeps the listing's order.
"""
from __future__ import annotations

import gzip
import io
import logging
import random
import re

from ccimg.selection.index import PoliteSession
from ccimg.selection.manifest import filename_refusal, write_manifest
from ccimg.selection.query import IndexServerError, UsageError
from network.errors import FetchError, TransientError
from network.s3 import S3Reader, split_s3_url

log = logging.getLogger("ccimg.select")

CRAWL_ID = re.compile(r"CC-MAIN-\d{4}-\d{2}")
_SEGMENT = re.compile(r"/segments/([^/]+)/")


def segment_of(path: str) -> str | None:
    m = _SEGMENT.search(path)
    return m.group(1) if m else None


MAX_LISTING_BYTES = 256 * 1024 * 1024  # a crawl's warc.paths is about 10 MB uncompressed (90,000 lines)


def _read_s3(url: str) -> bytes:
    """Read s3://bucket/key through network.s3.S3Reader with boto3's normal credential chain (anonymous reads of
    s3://commoncrawl/ stopped in 2022).  AWS_ENDPOINT_URL, if set, points it elsewhere (a local S3 in the tests)."""
    try:
        bucket, key = split_s3_url(url)
    except FetchError:
        raise UsageError(f"{url!r} is not an s3://BUCKET/KEY URL") from None
    try:
        with S3Reader().open_body(bucket, key) as body:
            data = body.read(MAX_LISTING_BYTES + 1)
    except FetchError as e:
        if e.kind == "no_credentials":
            raise UsageError(f"reading {url} needs AWS credentials (Common Crawl's bucket refuses anonymous reads); "
                             f"outside AWS use https://data.commoncrawl.org/{key} instead") from None
        if e.kind in ("not_found", "access_denied"):
            raise UsageError(f"cannot read {e}") from None
        raise IndexServerError(f"cannot read {url}: {e}") from None
    except TransientError as e:
        raise IndexServerError(f"cannot read {url}: {e}") from None
    if len(data) > MAX_LISTING_BYTES:
        raise UsageError(f"{url} is larger than {MAX_LISTING_BYTES >> 20} MiB: not a warc.paths listing")
    return data


def read_listing(source: str, session: PoliteSession, data_base: str, allow_any_filename: bool = False) -> list[str]:
    """The lines of a warc.paths(.gz) given as a local path, an http(s) or s3 URL, or a crawl id.

    Each line must be a path relative to the job's --source-base (manifest.filename_refusal), unless
    `allow_any_filename`; the listing, gzipped or not, may hold at most MAX_LISTING_BYTES."""
    if CRAWL_ID.fullmatch(source):
        source = f"{data_base.rstrip('/')}/crawl-data/{source}/warc.paths.gz"
    if source.startswith(("http://", "https://")):
        resp = session.get(source, max_bytes=MAX_LISTING_BYTES)
        if resp.status != 200:
            err = UsageError if resp.status in (403, 404) else IndexServerError
            raise err(f"cannot fetch {source}: {resp.status} {resp.reason}")
        data = resp.body
    elif source.startswith("s3://"):
        data = _read_s3(source)
    else:
        try:
            with open(source, "rb") as f:
                data = f.read(MAX_LISTING_BYTES + 1)
        except OSError as e:
            raise UsageError(f"cannot read --warc-paths {source}: {e.strerror}") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.GzipFile(fileobj=io.BytesIO(data)).read(MAX_LISTING_BYTES + 1)
        except (OSError, EOFError) as e:
            raise UsageError(f"{source} is not a readable gzip file: {e}") from None
    if len(data) > MAX_LISTING_BYTES:
        raise UsageError(f"{source} holds more than {MAX_LISTING_BYTES >> 20} MiB: not a warc.paths listing")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{source} is not a text listing of WARC paths") from None
    paths = [ln.strip() for ln in text.splitlines() if ln.strip()]
    bad = [p for p in paths if any(c.isspace() for c in p)]
    if bad:
        raise UsageError(f"{source} does not look like a warc.paths listing: line {bad[0][:80]!r}")
    if not paths:
        raise UsageError(f"{source} lists no WARC files")
    if not allow_any_filename:
        for p in paths:
            why = filename_refusal(p)
            if why is not None:
                raise UsageError(f"{source} names {p[:100]!r}, {why}: the job would read it from outside its "
                                 "--source-base; pass --allow-any-filename if you trust this listing")
    return paths


def choose(paths: list[str], sample: int | None = None, segments: str | None = None, seed: int = 0) -> list[str]:
    """Narrow `paths` to some segments and/or a random sample, reproducibly, keeping their order."""
    rng = random.Random(seed)
    if segments:
        present = list(dict.fromkeys(s for s in map(segment_of, paths) if s))
        if not present:
            raise UsageError("--segments: these paths name no segments (no /segments/<id>/ in them)")
        spec = segments.strip()
        if spec.isdigit():
            k = int(spec)
            if k < 1:
                raise UsageError("--segments K needs K >= 1")
            wanted = set(rng.sample(present, min(k, len(present))))
        else:
            wanted = {s.strip() for s in spec.split(",") if s.strip()}
            missing = sorted(wanted - set(present))
            if missing:
                raise UsageError(f"--segments: no segment {missing[0]!r} in this listing ({len(present)} segments, "
                                 f"e.g. {', '.join(present[:3])})")
        paths = [p for p in paths if segment_of(p) in wanted]
    if sample is not None:
        if sample < 1:
            raise UsageError("--sample N needs N >= 1")
        if sample < len(paths):
            keep = set(rng.sample(range(len(paths)), sample))
            paths = [p for i, p in enumerate(paths) if i in keep]
        else:
            log.info("--sample %d: the listing has only %d files, taking them all", sample, len(paths))
    return paths


def run_warc_paths(args) -> int:
    for name in ("url", "crawl", "filter"):
        if getattr(args, name):
            raise UsageError(f"--{name} has no meaning with --warc-paths (whole files are not filtered)")
    if args.url_file or args.limit or args.parquet:
        raise UsageError("--url-file, --limit and --parquet have no meaning with --warc-paths (use --sample)")
    listing = read_listing(args.warc_paths, PoliteSession.from_args(args), args.data_base, args.allow_any_filename)
    chosen = choose(listing, args.sample, args.segments, args.seed)
    paths = write_manifest(args.output, [(p, 1) for p in chosen], args.parts)
    log.info("selected %d of %d WARC files -> %s", len(chosen), len(listing),
             paths[0] if len(paths) == 1 else f"{len(paths)} parts in {args.output}")
    for p in paths:
        print(p)
    return 0
