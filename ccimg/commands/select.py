"""`ccimg select`: choose the WARC records the extraction job reads, and write them as its input manifest.

Three ways in, one way out:

- the CDX index API (default: Common Crawl's index server; any pywb-compatible CDX endpoint works), queried
  page by page with cdx_toolkit decoding the answers;
- ``--parquet``: the columnar index (Common Crawl's cc-index table, or a local copy), queried with DuckDB;
- ``--warc-paths``: a crawl's warc.paths.gz, for bulk runs over whole WARC files.

The first two write ``FILENAME<TAB>OFFSET<TAB>LENGTH<TAB>URL`` lines, the third whole-file lines; all can
split their output into part files for the mappers.  The index is queried here, once, on the machine that
submits the job, and never from a mapper: Common Crawl's index server allows about one request per second per
IP, and a cluster of mappers asking it at once would be refused (and would be rude).

Exit codes: 0 done; 1 the index server failed (try again later: a rerun resumes); 2 the command has to change;
3 nothing matched; 130 interrupted (a rerun resumes).
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from ccimg.commands.common import non_negative_float, non_negative_int, positive_float, positive_int
from ccimg.selection.index import DEFAULT_CDX_API, IndexClient, PoliteSession
from ccimg.selection.manifest import STATE_SUFFIX, Selection
from ccimg.selection.units import Unit, make_units, run_units
from ccimg.selection.query import (
    DEFAULT_FILTERS,
    MATCH_TYPES,
    EmptySelection,
    Query,
    SelectError,
    UsageError,
    check_timestamp,
    parse_filter,
    parse_pattern,
)

log = logging.getLogger("ccimg.select")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        "examples:\n"
        "  ccimg select --crawl CC-MAIN-2025-33 --url '*.example.com' --url 'example.org/blog/*' -o sel.tsv\n"
        "  python -m jobs.extract_images -r inline sel.tsv > images.jsonl\n"
        "  ccimg select --cdx-api http://127.0.0.1:8080/my-coll/cdx --url example.com --match host -o sel.tsv\n"
        "  ccimg select --parquet s3://commoncrawl/cc-index/table/cc-main/warc/ --crawl CC-MAIN-2025-33 \\\n"
        "      --url '*.example.com' -o sel.tsv\n"
        "  ccimg select --warc-paths CC-MAIN-2025-33 --sample 20 --parts 4 -o warcs/\n"
        "exit codes: 0 done, 1 index server trouble (rerun to resume), 2 fix the command, 3 nothing matched,\n"
        "130 interrupted (rerun to resume)")
    parser.add_argument("-o", "--output", required=True, type=Path,
                        help="manifest to write; with --parts N > 1, a directory of N part-NNNNN.tsv files")
    src = parser.add_argument_group("where to select from (default: the CDX index API)")
    src.add_argument("--cdx-api", default=DEFAULT_CDX_API, metavar="URL",
                     help="index server root (lists its crawls in collinfo.json) or one CDX endpoint "
                          "(…/COLL/cdx, …/CC-MAIN-2025-33-index); default %(default)s")
    src.add_argument("--parquet", metavar="TABLE",
                     help="select from the columnar index instead: a Parquet file, glob or directory (local, "
                          "s3:// or https://); a directory may be partitioned crawl=…/subset=… like Common Crawl's")
    src.add_argument("--warc-paths", metavar="PATHS",
                     help="write whole-file lines from a warc.paths(.gz): a local path, https:// or s3:// URL, "
                          "or a crawl id (fetched from --data-base)")
    what = parser.add_argument_group("what to select")
    what.add_argument("--crawl", action="append", default=[], metavar="ID",
                      help="crawl id (repeat or comma-separate for several), or a number N for the newest N; "
                           "default: the newest")
    what.add_argument("--url", action="append", default=[], metavar="PATTERN",
                      help="URL pattern (repeatable): example.com/page (exact), example.com/path/* (prefix), "
                           "*.example.com (domain)")
    what.add_argument("--url-file", type=Path, metavar="FILE", help="more URL patterns, one per line")
    what.add_argument("--match", choices=MATCH_TYPES,
                      help="match type for patterns without a wildcard (default exact)")
    what.add_argument("--filter", action="append", default=None, metavar="FILTER",
                      help="CDX filter, pywb syntax, repeatable: status:200, =mime:text/html, !status:404, "
                           f"~url:.*\\.html$ (default: {' and '.join(DEFAULT_FILTERS)})")
    what.add_argument("--no-filter", action="store_true", help="no filter at all (revisits are still dropped)")
    what.add_argument("--from", dest="from_ts", metavar="TS", help="earliest capture time, YYYY[MM[DD[hh[mm[ss]]]]]")
    what.add_argument("--to", dest="to_ts", metavar="TS", help="latest capture time, same form")
    what.add_argument("--limit", type=positive_int, metavar="N", help="at most N captures in all")
    what.add_argument("--no-dedupe", action="store_true",
                      help="keep captures whose payload digest was already selected")
    what.add_argument("--allow-any-filename", action="store_true",
                      help="keep WARC file names from the index that are absolute paths, hold '..' or are URLs "
                           "(refused by default: the job would read them from outside its --source-base)")
    idx = parser.add_argument_group("politeness and paging (CDX API)")
    idx.add_argument("--page-size", type=positive_int, metavar="BLOCKS",
                     help="index blocks per page (ZipNum servers; Common Crawl's default is 5 blocks of 3000 lines)")
    idx.add_argument("--min-interval", type=non_negative_float, metavar="SECONDS",
                     help="seconds between requests to one host (default 1 for remote hosts, 0 for localhost)")
    idx.add_argument("--retries", type=non_negative_int, default=6,
                     help="retries on 429/5xx/connection errors (default 6)")
    idx.add_argument("--backoff", type=non_negative_float, default=1.0, metavar="SECONDS",
                     help="first retry delay, doubled each time up to 60 s (default 1)")
    idx.add_argument("--timeout", type=positive_float, default=60.0, metavar="SECONDS", help="per request (default 60)")
    wp = parser.add_argument_group("whole files (--warc-paths)")
    wp.add_argument("--sample", type=positive_int, metavar="N", help="N files chosen at random (seeded)")
    wp.add_argument("--segments", metavar="SPEC",
                    help="only these segments: comma-separated segment ids, or a number K for K random segments")
    wp.add_argument("--seed", type=int, default=0, help="random seed for --sample/--segments (default 0)")
    wp.add_argument("--data-base", default="https://data.commoncrawl.org/", metavar="URL",
                    help="where a crawl id's warc.paths.gz lives (default %(default)s)")
    out = parser.add_argument_group("output")
    out.add_argument("--parts", type=positive_int, default=1, metavar="N", help="split into N part files (default 1)")
    out.add_argument("--overwrite", action="store_true",
                     help="replace an existing manifest (refused otherwise; an unfinished selection resumes "
                          "without it)")
    out.add_argument("--restart", action="store_true", help="discard an unfinished selection's state, start over")
    out.add_argument("--keep-state", action="store_true", help="keep OUTPUT.select-state/ after finishing")
    out.add_argument("-q", "--quiet", action="store_true", help="no progress bar, only errors")
    out.add_argument("-v", "--verbose", action="store_true", help="log every request")


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a message comes (a test harness may have swapped it since)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def _setup_logging(args) -> None:
    log.setLevel(logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO)
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("ccimg select: %(message)s"))
        log.addHandler(handler)
        log.propagate = False


def _patterns(args) -> list:
    texts = list(args.url)
    if args.url_file:
        from dataio.tables import InputError, Skips, iter_rows

        skips = Skips(log=lambda message: log.warning("--url-file %s", message))
        try:  # one pattern a line; blank lines and # comments skipped, a line that is not text skipped and named
            texts += [row.data for row in iter_rows([args.url_file], text=True, skips=skips) if type(row.data) is str]
        except InputError as e:
            raise UsageError(f"--url-file: {e}") from None
    if not texts:
        raise UsageError("nothing to select: give --url PATTERN (or --url-file), e.g. --url '*.example.com'")
    return list(dict.fromkeys(parse_pattern(t, args.match) for t in texts))


def _query(args) -> Query:
    if args.no_filter and args.filter:
        raise UsageError("--filter and --no-filter contradict each other")
    texts = [] if args.no_filter else (args.filter if args.filter is not None else list(DEFAULT_FILTERS))
    return Query(patterns=tuple(_patterns(args)), filters=tuple(parse_filter(f) for f in texts),
                 from_ts=check_timestamp(args.from_ts, "--from"), to_ts=check_timestamp(args.to_ts, "--to"))


def _check_common(args) -> None:
    if str(args.output) == "-":
        raise UsageError("-o -: a selection keeps its resume state beside its output file, so it needs a file "
                         "name (e.g. -o sel.tsv); the job reads that file, and `cat sel.tsv` prints it")
    if args.parts < 1:
        raise UsageError("--parts needs N >= 1")
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit needs N >= 1")
    if args.page_size is not None and args.page_size < 1:
        raise UsageError("--page-size needs a number of blocks >= 1")
    if args.retries < 0 or args.backoff < 0 or (args.min_interval is not None and args.min_interval < 0):
        raise UsageError("--retries, --backoff and --min-interval cannot be negative")
    # checked now, not after an hour of index queries
    if args.parts == 1 and args.output.is_dir():
        raise UsageError(f"-o {args.output} is a directory: name a file (or pass --parts N for part files in it)")
    if args.parts > 1 and args.output.exists() and not args.output.is_dir():
        raise UsageError(f"--parts {args.parts} writes a directory of part files, but {args.output} is a file")
    written = args.output.is_file() or (args.output.is_dir() and any(args.output.glob("part-*.tsv")))
    unfinished = args.output.with_name(args.output.name + STATE_SUFFIX).exists()
    if written and not unfinished and not args.overwrite:
        raise UsageError(f"{args.output} exists: pass --overwrite to replace it")


def _index_units(args, query: Query) -> tuple[list[Unit], list[str]]:
    client = IndexClient(args.cdx_api, PoliteSession.from_args(args), page_size=args.page_size)
    collections = client.resolve(args.crawl)
    return make_units(collections, [c.id for c in collections], query,
                      plan=lambda c, p: client.plan(c, p, query),
                      fetch=lambda c, p, page, limit: client.fetch(c, p, query, page, limit))


def run(args) -> int:
    _setup_logging(args)
    started = time.monotonic()
    selection = None
    try:
        _check_common(args)
        if args.warc_paths:
            from ccimg.selection.warc_paths import run_warc_paths

            return run_warc_paths(args)
        for name in ("sample", "segments"):
            if getattr(args, name) is not None:
                raise UsageError(f"--{name} only applies to --warc-paths")
        query = _query(args)
        if args.parquet:
            from ccimg.selection.parquet import parquet_units

            units, sources = parquet_units(args, query)
            origin = {"parquet": args.parquet}
        else:
            units, sources = _index_units(args, query)
            origin = {"cdx_api": args.cdx_api, "page_size": args.page_size}
        fingerprint = {**origin, **query.fingerprint(), "crawls": sources, "limit": args.limit,
                       "dedupe": not args.no_dedupe, **({"any_filename": True} if args.allow_any_filename else {})}
        selection = Selection(args.output, fingerprint, limit=args.limit, dedupe=not args.no_dedupe,
                              restart=args.restart, allow_any_filename=args.allow_any_filename)
        if selection.resumed_pages:
            log.info("resuming: %d pages already done, %d captures kept (state in %s)",
                     selection.resumed_pages, selection.kept, selection.state)
        fetched = run_units(units, selection, args.quiet)
        kept, seen = selection.kept, selection.seen
        notes = [f"{n} {what}" for n, what in ((selection.duplicates, "duplicate digests"),
                                                (selection.revisits, "revisits"),
                                                (selection.unusable, "without filename/offset/length"),
                                                (selection.refused, "with a file name outside the source base"))
                 if n]
        unusable_only = kept == 0 and selection.unusable and selection.unusable == seen - selection.revisits
        paths = selection.finish(args.parts, keep_state=args.keep_state)
        elapsed = time.monotonic() - started
        summary = (f"selected {kept} captures of {seen} returned" + (f" (dropped {', '.join(notes)})" if notes else "")
                   + f" from {fetched} pages ({len(selection.done)} in all) of {', '.join(sources)} in {elapsed:.1f} s")
        if unusable_only:
            raise UsageError(f"{summary}: the index has no filename/offset/length for its captures, so it does not "
                             "point into WARC files (is it the Wayback Machine's CDX server?)")
        if kept == 0 and selection.refused:
            raise UsageError(f"{summary}: every file name the index gave is outside the job's --source-base, e.g. "
                             f"{selection.refused_example}; pass --allow-any-filename if you trust this index")
        if kept == 0:
            raise EmptySelection(f"{summary}: nothing matched {', '.join(map(str, query.patterns))} with "
                                 f"filters {[f.text for f in query.filters] or 'none'}; try another --crawl, a "
                                 "domain match (*.example.com), or fewer filters")
        log.info("%s -> %s", summary, paths[0] if len(paths) == 1 else f"{len(paths)} parts in {args.output}")
        for p in paths:
            print(p)
        return 0
    except SelectError as e:
        print(f"ccimg select: error: {e}", file=sys.stderr)
        return e.exit_code
    except OSError as e:  # the manifest or its state cannot be written
        print(f"ccimg select: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        where = f"; state in {selection.state}" if selection else ""
        print(f"ccimg select: interrupted; rerun the same command to resume{where}", file=sys.stderr)
        return 130
    finally:
        if selection is not None:
            selection.close()
