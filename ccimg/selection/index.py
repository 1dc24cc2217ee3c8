"""Query a CDX index server (Common Crawl's, or any pywb-compatible one) politely, one page at a time.

Why not simply ``cdx_toolkit.CDXFetcher(...).iter()``?  Tried on this machine against a real pywb:

- it retries 429 and 5xx forever; with its minimum interval at 0 (needed for a local server) it sent about
  3,400 requests in 5 s for a filter regex that pywb answers with a 500 every time;
- it takes any 400 for "no more pages", so a query the server rejects looks like an empty result;
- it hides page boundaries, so an interrupted selection cannot resume at the page where it stopped;
- against pywb with a plain CDXJ index (which ignores ``page=``) it never stops unless ``limit=`` is set.

So this module owns the request loop, on the project's network layer (network/): one request per
``min_interval`` seconds per host (`network.gate.HostGate`), bounded exponential backoff with full jitter on
429/5xx honouring Retry-After (`network.retry.RetryPolicy`), one GET with a deadline and the address guard on
every hop (`network.http.HttpClient`), paging by ``showNumPages`` and ``page=``, and messages that say what
to do.  The answers are decoded here too, strictly (`decode_captures`): an index answer is data, and a line
that is a list or a number, a short row, a page count of 10^9 or an answer of 300 MB ends the selection
with a message, not with a crash, a hang or all the memory.

The index server the user names may be on the intranet or on 127.0.0.1 (a local pywb): that host (and
the --warc-paths / --data-base host) is trusted; anything else, such as the cdx-api links of a
collinfo.json, goes through the address guard like any URL from the web.
"""
from __future__ import annotations

import difflib
import ipaddress
import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import urlencode, urlsplit

from cdx_toolkit.compat import fields_to_pywb

from ccimg.selection.query import IndexServerError, Query, UrlPattern, UsageError, crawl_specs
from network.errors import FetchError, TransientError
from network.gate import HostGate
from network.guard import Resolver, check_url
from network.http import Headers, HttpClient
from network.retry import RETRY_STATUS, RetryPolicy, parse_retry_after

log = logging.getLogger("ccimg.select")

DEFAULT_CDX_API = "https://index.commoncrawl.org/"
REMOTE_MIN_INTERVAL = 1.0  # seconds between requests to one host; what index.commoncrawl.org asks for
UNPAGED = "unpaged"  # a source that ignores page= (pywb over a plain CDXJ file): one request gets everything
PEEK_BYTES = 4096  # of a showNumPages answer: {"pages": 3, "pageSize": 5, "blocks": 11} is 40
MAX_ANSWER_BYTES = 64 * 1024 * 1024  # one index page; Common Crawl's are about 10 MB (5 blocks of 3000 lines)
MAX_PAGES = 100_000  # pages of one (crawl, pattern): 1.5 billion captures, a day of requests at 1/s
MAX_RETRY_SECONDS = 600.0  # retries of one request stop after this much time, whatever --retries says
# Set by Hadoop streaming and by mrjob's local/inline runners in every task.
MAPPER_ENV = ("mapreduce_task_id", "mapred_task_id")


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Answer:
    """An index server's answer: status, reason, headers and (at most the asked number of bytes of) body."""

    status: int
    reason: str
    headers: Headers
    body: bytes
    url: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def message(self, limit: int = 300) -> str:
        """The server's own words: pywb and Common Crawl answer errors with {"message": ...}."""
        text = self.text
        try:
            body = json.loads(text)
            if isinstance(body, dict):
                for key in ("message", "error"):
                    if key in body:
                        return str(body[key])[:limit]
        except ValueError:
            pass
        text = " ".join(text.split())
        return text[:limit] + ("..." if len(text) > limit else "") if text else self.reason or "(no body)"


def _trusted_host(url: str | None) -> set[tuple[str, int]]:
    if not url or not url.startswith(("http://", "https://")):
        return set()
    try:
        checked = check_url(url)
    except FetchError:
        return set()
    return {(checked.host, checked.port)}


class PoliteSession:
    """GETs to index servers: a per-host request interval, bounded retries on 429/5xx, a size cap per answer.

    ``min_interval`` None means: 1 s between requests to a remote host, none to a loopback one.  Retries:
    `network.retry.RetryPolicy` (``retries`` + 1 attempts, first delay ``backoff``, at most ``max_backoff``
    each, at most MAX_RETRY_SECONDS in all), honouring Retry-After.  ``timeout`` bounds each whole request
    (connect, headers and the whole body).  ``trusted`` are the URLs the user named (their hosts may be
    private); ``client`` replaces the HttpClient built here (tests)."""

    def __init__(self, min_interval: float | None = None, retries: int = 6, backoff: float = 1.0,
                 max_backoff: float = 60.0, timeout: float = 60.0, sleep=time.sleep, clock=time.monotonic,
                 trusted: tuple[str | None, ...] = (), client: HttpClient | None = None):
        self.min_interval = min_interval
        self.timeout = timeout
        self.policy = RetryPolicy(max_attempts=max(1, retries + 1), base_delay=backoff, max_delay=max_backoff,
                                  max_elapsed=MAX_RETRY_SECONDS, sleep=sleep, clock=clock)
        hosts: set[tuple[str, int]] = set()
        for url in trusted:
            hosts |= _trusted_host(url)
        self.client = client or HttpClient(timeout=timeout, resolver=Resolver(trusted=frozenset(hosts)))
        remote = REMOTE_MIN_INTERVAL if min_interval is None else min_interval
        local = 0.0 if min_interval is None else min_interval
        self._gates = {False: HostGate(interval=remote, clock=clock, sleep=sleep),
                       True: HostGate(interval=local, clock=clock, sleep=sleep)}
        self.requests = 0  # sent, retries included

    @classmethod
    def from_args(cls, args) -> PoliteSession:
        """The session `ccimg select`'s --min-interval, --retries, --backoff and --timeout ask for; the URLs the
        user gave (--cdx-api, --warc-paths, --data-base) are trusted."""
        trusted = tuple(getattr(args, name, None) for name in ("cdx_api", "warc_paths", "data_base"))
        return cls(min_interval=args.min_interval, retries=args.retries, backoff=args.backoff, timeout=args.timeout,
                   trusted=trusted)

    def get(self, url: str, params=None, max_bytes: int = MAX_ANSWER_BYTES, truncate: bool = False) -> Answer:
        """The answer to GET url?params after retries of 429/5xx and connection failures; other statuses are
        returned for the caller to read.  A body longer than `max_bytes` is an IndexServerError, or with
        `truncate` cut to its first `max_bytes` (the rest is never read)."""
        if params:
            url = url + ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        try:
            checked = check_url(url)
        except FetchError as exc:
            raise UsageError(f"cannot query {exc}") from None
        gate = self._gates[_is_loopback(checked.host)]
        attempts = 0

        def once() -> Answer:
            nonlocal attempts
            attempts += 1
            self.requests += 1
            log.debug("GET %s", checked.redacted)
            with gate.hold(checked.host), self.client.get(checked) as resp:
                where = resp.checked.host
                if resp.status in RETRY_STATUS:
                    answer = Answer(resp.status, resp.reason, resp.headers, resp.read_capped(PEEK_BYTES), resp.url)
                    retry_after = resp.headers.get("Retry-After")
                    raise TransientError(f"http_{resp.status}", f"{where} answered {resp.status} {resp.reason}: "
                                                                f"{answer.message()}", parse_retry_after(retry_after))
                body = resp.read_capped(max_bytes + (0 if truncate else 1))
                if len(body) > max_bytes:
                    raise IndexServerError(f"{where} sent more than {max_bytes >> 20} MiB for one request "
                                           f"({checked.redacted}): narrow the query (--limit, --page-size, a "
                                           "narrower --url) or use --parquet for large selections")
                return Answer(resp.status, resp.reason, resp.headers, body, resp.url)

        def on_retry(kind: str, message: str) -> None:
            log.info("%s", message)

        try:
            return self.policy.run(once, checked.host, on_retry)
        except FetchError as exc:
            last = exc.__cause__ if isinstance(exc.__cause__, TransientError) else None
            if last is None:
                raise _refusal(exc, checked.host) from None
            problem = last.message if last.kind.startswith("http_") else f"cannot reach {checked.host}: {last.message}"
            raise IndexServerError(f"{problem} ({attempts} tries over {_elapsed(exc)}). Try again later: a rerun of "
                                   "the same command resumes where this one stopped.") from None


def _elapsed(exc: FetchError) -> str:
    text = str(exc)
    marker = " in "
    at = text.find(marker, text.find("gave up after"))
    return text[at + len(marker):].split(":", 1)[0] if at >= 0 else "?"


def _refusal(exc: FetchError, host: str) -> IndexServerError:
    """The error for a request that failed at once (not retried): what to do about it."""
    if exc.kind == "unknown_host":
        return IndexServerError(f"cannot resolve {host}: is the name right, and is there a network?")
    if exc.kind in ("private_address", "bad_redirect", "bad_url"):
        return IndexServerError(f"refused to follow the index server to another address: {exc}")
    return IndexServerError(f"{host}: {exc}")


def decode_captures(body: bytes, where: str) -> list[dict]:
    """The captures of a CDX answer: pywb/Common Crawl JSON lines, or the Wayback Machine's JSON array
    of rows whose first row names the fields.  IndexServerError for anything else: a line that is not a
    JSON object, a row shorter or longer than the field names, fields that are not text."""
    text = body.decode("utf-8", "replace")
    stripped = text.lstrip()
    if not stripped:
        return []  # pywb's answer when nothing matches
    if stripped.startswith("["):
        return _decode_rows(stripped, where)
    captures = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            raise IndexServerError(f"cannot decode the index answer for {where}: line {n} is not JSON") from None
        if not isinstance(value, dict):
            raise IndexServerError(f"cannot decode the index answer for {where}: line {n} is a "
                                   f"{type(value).__name__}, not a JSON object")
        captures.append(value)
    return captures


def _decode_rows(text: str, where: str) -> list[dict]:
    try:
        rows = json.loads(text)
    except ValueError:
        raise IndexServerError(f"cannot decode the index answer for {where}: not JSON") from None
    if not isinstance(rows, list) or (rows and not isinstance(rows[0], list)):
        raise IndexServerError(f"cannot decode the index answer for {where}: not a list of rows")
    if not rows:
        return []
    fields = rows[0]
    if not fields or not all(isinstance(f, str) for f in fields):
        raise IndexServerError(f"cannot decode the index answer for {where}: its first row does not name fields")
    names = [fields_to_pywb.get(f, f) for f in fields]  # the Wayback Machine's names as pywb's (statuscode: status)
    out = []
    for n, row in enumerate(rows[1:], 2):
        if not isinstance(row, list) or len(row) != len(fields):
            size = len(row) if isinstance(row, list) else type(row).__name__
            raise IndexServerError(f"cannot decode the index answer for {where}: row {n} has {size} fields, "
                                   f"the first row names {len(fields)}")
        out.append(dict(zip(names, row)))
    return out


@dataclass(frozen=True)
class Collection:
    """One index to query: a Common Crawl crawl (CC-MAIN-2025-33) or a pywb collection."""

    id: str
    cdx_api: str
    paged: bool  # known to page by page= (Common Crawl's ZipNum indexes), even if showNumPages is missing


def _split_endpoint(url: str) -> tuple[str | None, str] | None:
    """(root, id) when `url` is one CDX endpoint (.../COLL/cdx or .../CC-MAIN-...-index), None for a server root.

    root is where the server's collinfo.json would be (None for a bare /cdx, e.g. OutbackCDX), id the
    collection's name, which a root's collinfo.json must list.
    """
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}/"
    segs = [s for s in parts.path.split("/") if s]
    if segs and segs[-1] == "cdx":
        if len(segs) == 1:
            return None, ""
        return origin + "".join(s + "/" for s in segs[:-2]), segs[-2]
    if segs and segs[-1].endswith("-index"):
        return origin + "".join(s + "/" for s in segs[:-1]), segs[-1][: -len("-index")]
    return None


class IndexClient:
    """Resolves crawls, plans pages and fetches them from one index server."""

    def __init__(self, cdx_api: str, session: PoliteSession, page_size: int | None = None):
        if not cdx_api.startswith(("http://", "https://")):
            raise UsageError(f"--cdx-api {cdx_api!r} is not an http(s) URL")
        self.cdx_api = cdx_api
        self.session = session
        self.page_size = page_size

    def _get(self, url: str, params=None, max_bytes: int = MAX_ANSWER_BYTES, truncate: bool = False) -> Answer:
        if any(os.environ.get(k) for k in MAPPER_ENV):
            # Thousands of mappers each asking the index server would get the whole cluster's IP banned.
            raise UsageError("refusing to query the index from inside a map task: run `ccimg select` once, on the "
                             "machine that submits the job, and give the job the manifest it writes")
        return self.session.get(url, params=params, max_bytes=max_bytes, truncate=truncate)

    # -- which collections ------------------------------------------------------------------------------
    def _collinfo(self, root: str) -> list[Collection] | None:
        """The collections a server root lists (Common Crawl's or pywb's collinfo.json), None if it lists none."""
        resp = self._get(root.rstrip("/") + "/collinfo.json")
        if resp.status != 200:
            return None
        try:
            body = json.loads(resp.body)
        except ValueError:
            return None
        if isinstance(body, list) and all(isinstance(c, dict) and isinstance(c.get("id"), str)
                                          and isinstance(c.get("cdx-api"), str) for c in body):
            return [Collection(c["id"], c["cdx-api"], paged=True) for c in body]  # Common Crawl: newest first
        if isinstance(body, dict) and ("fixed" in body or "dynamic" in body):
            ids = [i for key in ("fixed", "dynamic") for i in (body.get(key) or []) if isinstance(i, str)]
            return [Collection(i, f"{root.rstrip('/')}/{i}/cdx", paged=False) for i in ids]
        return None

    def resolve(self, crawls: list[str]) -> list[Collection]:
        """Map `--crawl` values (ids, or one number N for the newest N) to collections, checking they exist."""
        specs = crawl_specs(crawls)
        endpoint = _split_endpoint(self.cdx_api)
        if endpoint is not None:
            root, coll_id = endpoint
            if specs and specs != [coll_id]:
                raise UsageError(f"--cdx-api {self.cdx_api} is a single CDX endpoint, so --crawl cannot choose "
                                 f"another; give the server root (such as {root}) to choose crawls with --crawl")
            paged = coll_id.startswith("CC-")
            if coll_id:
                listed = self._collinfo(root) if root else None
                if listed is not None:
                    ids = [c.id for c in listed]
                    if coll_id not in ids:
                        raise UsageError(f"{root} has no collection {coll_id!r}{_suggest(coll_id, ids)}")
                    paged = paged or next(c.paged for c in listed if c.id == coll_id)
            return [Collection(coll_id or self.cdx_api, self.cdx_api, paged=paged)]

        listed = self._collinfo(self.cdx_api)
        if listed is None:
            raise UsageError(f"{self.cdx_api} lists no collections (no usable collinfo.json): for a single CDX "
                             "endpoint give its full URL, ending in /cdx (pywb) or -index (Common Crawl)")
        if not listed:
            raise UsageError(f"{self.cdx_api} lists no collections")
        if not specs:
            log.info("no --crawl given: using the newest, %s", listed[0].id)
            return [listed[0]]
        if any(s.isdigit() for s in specs):
            n = int(specs[0])
            if n < 1:
                raise UsageError("--crawl N needs N >= 1")
            return listed[:n]
        by_id = {c.id: c for c in listed}
        unknown = [s for s in specs if s not in by_id]
        if unknown:
            ids = [c.id for c in listed]
            raise UsageError(f"unknown crawl id {unknown[0]!r}{_suggest(unknown[0], ids)}")
        return [by_id[s] for s in dict.fromkeys(specs)]

    # -- pages ------------------------------------------------------------------------------------------
    def _params(self, pattern: UrlPattern, query: Query) -> dict:
        params = dict(pattern.cdx_params())
        if query.from_ts:
            params["from"] = query.from_ts
        if query.to_ts:
            params["to"] = query.to_ts
        if self.page_size:
            params["pageSize"] = self.page_size
        return params

    def plan(self, coll: Collection, pattern: UrlPattern, query: Query) -> int | None | str:
        """How many pages `pattern` spans in `coll`: a number, None (paged but count unknown) or UNPAGED.

        A ZipNum index (Common Crawl, pywb with .idx) answers ``showNumPages=true`` with {"pages": N, ...}.
        pywb over a plain CDX/CDXJ file ignores it, and limit= too, and sends every matching line: so only the
        first bytes of the answer are read, enough to tell a page count from CDX lines, and the rest is dropped.
        """
        resp = self._get(coll.cdx_api, {**self._params(pattern, query), "showNumPages": "true", "limit": 1},
                         max_bytes=PEEK_BYTES, truncate=True)
        if resp.status == 200:
            try:
                body = json.loads(resp.body)
            except ValueError:
                body = None
            pages = body.get("pages") if isinstance(body, dict) else body  # the Wayback Machine's: a bare number
            if isinstance(pages, int) and not isinstance(pages, bool):
                if not 0 <= pages <= MAX_PAGES:
                    raise IndexServerError(f"the index server says {pattern} spans {pages} pages in {coll.id}: "
                                           f"more than {MAX_PAGES} (or not a count); narrow the pattern, or select "
                                           "large sets from the columnar index (--parquet)")
                return pages
        if resp.status == 404 and _is_no_captures(resp):
            return 0
        return None if coll.paged else UNPAGED

    def fetch(self, coll: Collection, pattern: UrlPattern, query: Query, page: int | None,
              limit: int | None) -> list[dict] | None:
        """The captures on one page (page None: the whole unpaged answer); None when `page` is past the end."""
        params = {**self._params(pattern, query), "output": "json"}
        if query.filters:
            params["filter"] = [f.text for f in query.filters]
        if page is not None:
            params["page"] = page
        if limit is not None:
            params["limit"] = limit
        resp = self._get(coll.cdx_api, params)
        where = f"{pattern} in {coll.id}" + (f", page {page}" if page is not None else "")
        if resp.status == 400:
            message = resp.message()
            if page and "invalid" in message.lower() and "page" in message.lower():
                return None  # "Page 1 invalid: First Page is 0, Last Page is 0": the end
            raise UsageError(f"the index server rejected the query for {where} (400): {message}")
        if resp.status == 404:
            if _is_no_captures(resp):
                return []
            raise UsageError(f"{coll.cdx_api} answered 404 Not Found ({resp.message(120)}): is --cdx-api right? "
                             "It takes an index server root such as https://index.commoncrawl.org/, or a CDX "
                             "endpoint such as http://HOST:PORT/COLLECTION/cdx")
        if resp.status != 200:
            raise IndexServerError(f"the index server answered {resp.status} {resp.reason} for {where}: "
                                   f"{resp.message()}")
        return decode_captures(resp.body, where)


def page_numbers(plan: int | None | str) -> Iterator[int | None]:
    """The pages to fetch for a plan: 0..N-1, None for an unpaged source, 0..MAX_PAGES-1 when N is unknown
    (the caller stops at the first page past the end)."""
    if plan == UNPAGED:
        yield None
    elif plan is None:
        yield from range(MAX_PAGES)
    else:
        yield from range(plan)


def _is_no_captures(resp: Answer) -> bool:
    """Common Crawl's (and pywb's) empty answer: 404 {"message": "No Captures found for: ..."}."""
    return resp.text.lstrip().startswith("{") and "no captures" in resp.message().lower()


def _suggest(wanted: str, ids: list[str]) -> str:
    close = difflib.get_close_matches(wanted, ids, n=3, cutoff=0.6)
    shown = ", ".join(ids[:5]) + (f", ... ({len(ids)} in all)" if len(ids) > 5 else "")
    return (f"; did you mean {' or '.join(close)}?" if close else "") + f" Available: {shown}"
