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
from pathlib import Path

from ccimg.selection.index import PoliteSession
from ccimg.selection.manifest import write_manifest
from ccimg.selection.query import IndexServerError, UsageError

log = logging.getLogger("ccimg.select")

CRAWL_ID = re.compile(r"CC-MAIN-\d{4}-\d{2}")
_SEGMENT = re.compile(r"/segments/([^/]+)/")


def segment_of(path: str) -> str | None:
    m = _SEGMENT.search(path)
    return m.group(1) if m else None


def _read_s3(url: str) -> bytes:
    """Read s3://bucket/key with boto3's normal credential chain (anonymous reads of s3://commoncrawl/ stopped in
    2022).  AWS_ENDPOINT_URL, if set, points it elsewhere (a local S3 in the tests)."""
    import boto3
    import botocore.exceptions

    bucket, _, key = url[len("s3://"):].partition("/")
    if not bucket or not key:
        raise UsageError(f"{url!r} is not an s3://BUCKET/KEY URL")
    try:
        return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except botocore.exceptions.NoCredentialsError:
        raise UsageError(f"reading {url} needs AWS credentials (Common Crawl's bucket refuses anonymous reads); "
                         f"outside AWS use https://data.commoncrawl.org/{key} instead") from None
    except botocore.exceptions.ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "NoSuchBucket", "404", "AccessDenied", "403"):
            raise UsageError(f"cannot read {url}: {code}") from None
        raise IndexServerError(f"cannot read {url}: {e}") from None
    except botocore.exceptions.BotoCoreError as e:
        raise IndexServerError(f"cannot read {url}: {e}") from None


def read_listing(source: str, session: PoliteSession, data_base: str) -> list[str]:
    """The lines of a warc.paths(.gz) given as a local path, an http(s) or s3 URL, or a crawl id."""
    if CRAWL_ID.fullmatch(source):
        source = f"{data_base.rstrip('/')}/crawl-data/{source}/warc.paths.gz"
    if source.startswith(("http://", "https://")):
        resp = session.get(source)
        if resp.status_code != 200:
            err = UsageError if resp.status_code in (403, 404) else IndexServerError
            raise err(f"cannot fetch {source}: {resp.status_code} {resp.reason}")
        data = resp.content
    elif source.startswith("s3://"):
        data = _read_s3(source)
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as e:
            raise UsageError(f"cannot read --warc-paths {source}: {e.strerror}") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.GzipFile(fileobj=io.BytesIO(data)).read()
        except (OSError, EOFError) as e:
            raise UsageError(f"{source} is not a readable gzip file: {e}") from None
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
    listing = read_listing(args.warc_paths, PoliteSession.from_args(args), args.data_base)
    chosen = choose(listing, args.sample, args.segments, args.seed)
    paths = write_manifest(args.output, [(p, 1) for p in chosen], args.parts)
    log.info("selected %d of %d WARC files -> %s", len(chosen), len(listing),
             paths[0] if len(paths) == 1 else f"{len(paths)} parts in {args.output}")
    for p in paths:
        print(p)
    return 0
