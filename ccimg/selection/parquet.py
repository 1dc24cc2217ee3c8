"""`ccimg select --parquet`: the same selection from the columnar index, with DuckDB.

Common Crawl publishes its index also as Parquet (``s3://commoncrawl/cc-index/table/cc-main/warc/``,
partitioned ``crawl=CC-MAIN-2025-33/subset=warc/``), one row per capture with the CDX fields as columns
(``url_surtkey``, ``url``, ``fetch_status``, ``content_mime_type``, ``content_digest``, ``warc_filename``,
``warc_record_offset``, ``warc_record_length``, ...).  There is no rate limit, no paging, and large selections
(a whole TLD, every page in a language) that would take the CDX API hours are one scan.

To select exactly what the CDX API selects, URL patterns become the same SURT key range pywb scans
(``select_query.search_range``) on ``url_surtkey``, and filters are translated with pywb's semantics
(contains / exact / regex anchored at the start, negation).  The range predicate also lets DuckDB skip row
groups by their min/max statistics, since the table is sorted by ``url_surtkey`` within each file.

Remote paths (s3://, https://) need DuckDB's httpfs extension, which DuckDB downloads on first use; s3:// also
needs credentials, e.g. ``CREATE SECRET (TYPE s3, PROVIDER credential_chain)`` in ``~/.duckdbrc``.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator

from ccimg.selection.index import UNPAGED
from ccimg.selection.units import make_units
from ccimg.selection.query import CdxFilter, Query, UrlPattern, UsageError, crawl_specs, search_range, time_bounds

log = logging.getLogger("ccimg.select")

# CDX field -> column of Common Crawl's columnar index
COLUMNS = {
    "urlkey": "url_surtkey",
    "url": "url",
    "mime": "content_mime_type",
    "mime-detected": "content_mime_detected",
    "status": "fetch_status",
    "digest": "content_digest",
    "length": "warc_record_length",
    "offset": "warc_record_offset",
    "filename": "warc_filename",
    "redirect": "fetch_redirect",
    "languages": "content_languages",
    "charset": "content_charset",
    "truncated": "content_truncated",
}
REQUIRED = ("url_surtkey", "url", "warc_filename", "warc_record_offset", "warc_record_length")
BATCH = 10_000


def _quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _is_remote(source: str) -> bool:
    return source.startswith(("s3://", "https://", "http://", "gs://"))


def _as_text(column: str) -> str:
    """A column as the CDX server sees it: text, '' when missing."""
    if column == "fetch_time":
        return "coalesce(strftime(fetch_time, '%Y%m%d%H%M%S'), '')"
    return f"coalesce(CAST({column} AS VARCHAR), '')"


def filter_sql(f: CdxFilter, columns: set[str]) -> tuple[str, list]:
    """One pywb filter as a SQL predicate and its parameters."""
    if not f.field:
        raise UsageError(f"--filter {f.text!r} has no field: the columnar index has no whole CDX line to match")
    column = "fetch_time" if f.field == "timestamp" else COLUMNS.get(f.field)
    if column is None or column not in columns:
        raise UsageError(f"--filter {f.text!r}: the table has no column for {f.field!r}")
    value = _as_text(column)
    if f.op == "exact":
        sql, params = f"{value} = ?", [f.value]
    elif f.op == "contains":
        sql, params = f"contains({value}, ?)", [f.value]
    else:  # pywb uses re.match: anchored at the start only
        sql, params = f"regexp_matches({value}, ?)", ["^(?:" + f.value + ")"]
    return (f"NOT ({sql})" if f.negate else sql), params


class ParquetSource:
    """A Parquet table (file, glob or partitioned directory) and the crawls in it."""

    def __init__(self, source: str):
        try:
            import duckdb
        except ImportError:
            raise UsageError("--parquet needs duckdb: pip install 'ccimg[parquet]'") from None
        self.duckdb = duckdb
        self.source = source
        self.con = duckdb.connect()
        self.root: str | None = None  # a directory partitioned crawl=.../subset=...
        self.crawls_on_disk: list[str] = []
        if not _is_remote(source):
            path = Path(source)
            if path.is_dir():
                self.root = str(path)
                self.crawls_on_disk = sorted((p.name.split("=", 1)[1] for p in path.glob("crawl=*") if p.is_dir()),
                                             reverse=True)
            elif not any(c in source for c in "*?[") and not path.exists():
                raise UsageError(f"--parquet {source}: no such file or directory")
        elif source.endswith("/"):
            self.root = source.rstrip("/")

    def files(self, crawl: str | None) -> str:
        """The read_parquet() path list for one crawl (None: the whole table)."""
        if self.root is None:
            return _quote(self.source)
        if crawl is not None and (self.crawls_on_disk or _is_remote(self.source)):
            return _quote(f"{self.root}/crawl={crawl}/subset=warc/*.parquet")
        return _quote(f"{self.root}/**/*.parquet")

    def relation(self, crawl: str | None) -> str:
        return f"read_parquet({self.files(crawl)}, hive_partitioning = true, union_by_name = true)"

    def columns(self, crawl: str | None) -> set[str]:
        try:
            rows = self.con.execute(f"DESCRIBE SELECT * FROM {self.relation(crawl)}").fetchall()
        except self.duckdb.Error as e:
            raise UsageError(f"cannot read --parquet {self.source}{f' for {crawl}' if crawl else ''}: "
                             f"{str(e).splitlines()[0]}") from None
        cols = {r[0] for r in rows}
        missing = [c for c in REQUIRED if c not in cols]
        if missing:
            raise UsageError(f"--parquet {self.source} lacks the columns {', '.join(missing)}: not a CDX-like table "
                             "(Common Crawl's columnar index has them)")
        return cols

    def resolve(self, crawls: list[str]) -> list[str | None]:
        specs = crawl_specs(crawls)
        if not specs:
            return [None]  # the whole table
        if any(s.isdigit() for s in specs):
            available = self.crawls_on_disk or self._crawl_column_values()
            return available[: max(1, int(specs[0]))]
        if self.crawls_on_disk:
            unknown = [s for s in specs if s not in self.crawls_on_disk]
            if unknown:
                more = f", ... ({len(self.crawls_on_disk)} in all)" if len(self.crawls_on_disk) > 5 else ""
                raise UsageError(f"unknown crawl id {unknown[0]!r}: {self.source} holds "
                                 f"{', '.join(self.crawls_on_disk[:5])}{more}")
        return list(dict.fromkeys(specs))

    def _crawl_column_values(self) -> list[str]:
        if _is_remote(self.source):
            raise UsageError("--crawl N (the newest N) needs a local table; name the crawls for a remote one")
        if "crawl" not in self.columns(None):
            raise UsageError(f"--parquet {self.source} has no crawl column or crawl=... directories")
        rows = self.con.execute(f"SELECT DISTINCT crawl FROM {self.relation(None)} ORDER BY crawl DESC").fetchall()
        return [r[0] for r in rows]

    def select(self, crawl: str | None, pattern: UrlPattern, query: Query) -> Iterator[dict]:
        """The captures of `pattern` in `crawl`, in the CDX server's order (SURT key, then time), lazily.

        No SQL LIMIT: --limit counts captures kept after dropping revisits and duplicate digests, so the
        caller stops reading instead."""
        cols = self.columns(crawl)
        start, end = search_range(pattern)
        where, params = ["url_surtkey >= ?", "url_surtkey < ?"], [start, end]
        if crawl is not None and "crawl" in cols:
            where.append("crawl = ?")
            params.append(crawl)
        if "subset" in cols:
            where.append("subset = 'warc'")  # robotstxt and crawldiagnostics hold no pages
        lo, hi = time_bounds(query.from_ts, query.to_ts)
        if (lo or hi) and "fetch_time" not in cols:
            raise UsageError("--from/--to: the table has no fetch_time column")
        if lo:
            where.append(f"{_as_text('fetch_time')} >= ?")
            params.append(lo)
        if hi:
            where.append(f"{_as_text('fetch_time')} <= ?")
            params.append(hi)
        for f in query.filters:
            sql, p = filter_sql(f, cols)
            where.append(sql)
            params += p

        def opt(column: str, alias: str) -> str:
            return f"{column} AS {alias}" if column in cols else f"NULL AS {alias}"

        order = ["url_surtkey"] + (["fetch_time"] if "fetch_time" in cols else []) + [
            "warc_filename", "warc_record_offset"]
        sql = (f"SELECT warc_filename AS filename, warc_record_offset AS offset, warc_record_length AS length, "
               f"url, {opt('content_digest', 'digest')}, {opt('content_mime_type', 'mime')}, "
               f"{opt('url_surtkey', 'urlkey')} FROM {self.relation(crawl)} WHERE {' AND '.join(where)} "
               f"ORDER BY {', '.join(order)}")
        log.debug("duckdb: %s %s", sql, params)
        try:
            cur = self.con.execute(sql, params)
            names = [d[0] for d in cur.description]
            while rows := cur.fetchmany(BATCH):
                for row in rows:
                    yield dict(zip(names, row))
        except self.duckdb.Error as e:
            raise UsageError(f"DuckDB could not run the selection on {self.source}: {str(e).splitlines()[0]}") from None


def parquet_units(args, query: Query):

    table = ParquetSource(args.parquet)
    crawls = table.resolve(args.crawl)
    return make_units(crawls, [c or "table" for c in crawls], query,
                      plan=lambda c, p: UNPAGED,
                      fetch=lambda c, p, page, limit: table.select(c, p, query),
                      lazy=True)
