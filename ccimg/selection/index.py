"""Query a CDX index server (Common Crawl's, or any pywb-compatible one) politely, one page at a time.

Why not simply ``cdx_toolkit.CDXFetcher(...).iter()``?  Tried on this machine against a real pywb:

- it retries 429 and 5xx forever; with its minimum interval at 0 (needed for a local server) it sent about
  3,400 requests in 5 s for a filter regex that pywb answers with a 500 every time;
- it takes any 400 for "no more pages", so a query the server rejects looks like an empty result;
- it hides page boundaries, so an interrupted selection cannot resume at the page where it stopped;
- against pywb with a plain CDXJ index (which ignores ``page=``) it never stops unless ``limit=`` is set.

So this module owns the request loop: one request per ``min_interval`` seconds per host, bounded exponential
backoff with jitter on 429/5xx, paging by ``showNumPages`` and ``page=``, and messages that say what to do.
cdx_toolkit still decodes the answers (pywb JSON lines, IA JSON arrays, "No Captures found" bodies).
"""
from __future__ import annotations

import difflib
import ipaddress
import json
import logging
import os
import random
import time
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import urlsplit

import cdx_toolkit
import requests

from ccimg.selection.query import IndexServerError, Query, UrlPattern, UsageError, crawl_specs
from dataio.sources import parse_retry_after

log = logging.getLogger("ccimg.select")

DEFAULT_CDX_API = "https://index.commoncrawl.org/"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REMOTE_MIN_INTERVAL = 1.0  # seconds between requests to one host; what index.commoncrawl.org asks for
UNPAGED = "unpaged"  # a source that ignores page= (pywb over a plain CDXJ file): one request gets everything
UNKNOWN_HOST = ("Name or service not known", "nodename nor servname provided", "No address associated with hostname")
PEEK_BYTES = 4096  # of a showNumPages answer: {"pages": 3, "pageSize": 5, "blocks": 11} is 40
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


def _message(resp: requests.Response, limit: int = 300) -> str:
    """The server's own words: pywb and Common Crawl answer errors with {"message": ...}."""
    text = resp.text or ""
    try:
        body = json.loads(text)
        if isinstance(body, dict):
            for key in ("message", "error"):
                if key in body:
                    return str(body[key])[:limit]
    except ValueError:
        pass
    text = " ".join(text.split())
    return text[:limit] + ("..." if len(text) > limit else "") if text else resp.reason or "(no body)"


class PoliteSession:
    """One HTTP session that keeps to a per-host request rate and backs off on 429/5xx, a bounded number of times.

    ``min_interval`` None means: 1 s between requests to a remote host, none to a loopback one.  Backoff
    waits ``backoff * 2**attempt`` seconds (at most ``max_backoff``), scaled by a random factor in [0.5, 1]
    so that many clients do not retry in step, or what the server's ``Retry-After`` asks if that is longer.
    """

    def __init__(self, min_interval: float | None = None, retries: int = 6, backoff: float = 1.0,
                 max_backoff: float = 60.0, timeout: float = 60.0, sleep=time.sleep, clock=time.monotonic):
        self.min_interval = min_interval
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.sleep = sleep
        self.clock = clock
        self.requests = 0  # sent, retries included
        self._next = {}  # host -> earliest clock() for the next request
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"ccimg-select (cdx_toolkit/{cdx_toolkit.__version__})"

    @classmethod
    def from_args(cls, args) -> PoliteSession:
        """The session `ccimg select`'s --min-interval, --retries, --backoff and --timeout ask for."""
        return cls(min_interval=args.min_interval, retries=args.retries, backoff=args.backoff, timeout=args.timeout)

    def interval(self, host: str | None) -> float:
        if self.min_interval is not None:
            return self.min_interval
        return 0.0 if _is_loopback(host) else REMOTE_MIN_INTERVAL

    def _wait_turn(self, host: str | None) -> None:
        now = self.clock()
        due = self._next.get(host, now)
        if due > now:
            self.sleep(due - now)
        self._next[host] = max(due, now) + self.interval(host)

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        delay = min(self.max_backoff, self.backoff * 2 ** attempt) * random.uniform(0.5, 1.0)
        asked = parse_retry_after(retry_after)
        if asked is not None:
            delay = max(delay, min(self.max_backoff, asked))
        return delay

    def get(self, url: str, params=None, stream: bool = False) -> requests.Response:
        host = urlsplit(url).hostname
        waited = 0.0
        for attempt in range(self.retries + 1):
            self._wait_turn(host)
            self.requests += 1
            log.debug("GET %s %s", url, params or "")
            try:
                resp = self.session.get(url, params=params, timeout=self.timeout, stream=stream, allow_redirects=True)
            except (requests.ConnectionError, requests.Timeout) as e:
                if any(s in str(e) for s in UNKNOWN_HOST):  # no such name (or no DNS at all): waiting won't help
                    raise IndexServerError(f"cannot resolve {host}: is the name right, and is there a network?"
                                           ) from None
                problem = f"cannot reach {host}: {type(e).__name__}: {e}"
                retry_after = None
            else:
                if resp.status_code not in RETRY_STATUSES:
                    return resp
                problem = f"{host} answered {resp.status_code} {resp.reason}: {_message(resp)}"
                retry_after = resp.headers.get("Retry-After")
            if attempt == self.retries:
                break
            delay = self._delay(attempt, retry_after)
            log.info("%s; retrying in %.1f s (%d/%d)", problem, delay, attempt + 1, self.retries)
            self.sleep(delay)
            waited += delay
        raise IndexServerError(f"{problem} ({self.retries + 1} tries over {waited:.0f} s). "
                               "Try again later: a rerun of the same command resumes where this one stopped.")


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

    def _get(self, url: str, params=None, stream: bool = False) -> requests.Response:
        if any(os.environ.get(k) for k in MAPPER_ENV):
            # Thousands of mappers each asking the index server would get the whole cluster's IP banned.
            raise UsageError("refusing to query the index from inside a map task: run `ccimg select` once, on the "
                             "machine that submits the job, and give the job the manifest it writes")
        return self.session.get(url, params=params, stream=stream)

    # -- which collections ------------------------------------------------------------------------------
    def _collinfo(self, root: str) -> list[Collection] | None:
        """The collections a server root lists (Common Crawl's or pywb's collinfo.json), None if it lists none."""
        resp = self._get(root.rstrip("/") + "/collinfo.json")
        if resp.status_code != 200:
            return None
        try:
            body = resp.json()
        except ValueError:
            return None
        if isinstance(body, list) and all(isinstance(c, dict) and "id" in c and "cdx-api" in c for c in body):
            return [Collection(c["id"], c["cdx-api"], paged=True) for c in body]  # Common Crawl: newest first
        if isinstance(body, dict) and ("fixed" in body or "dynamic" in body):
            ids = list(body.get("fixed") or []) + list(body.get("dynamic") or [])
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
                         stream=True)
        if resp.status_code == 200:
            try:
                head = next(resp.iter_content(PEEK_BYTES), b"")
            finally:
                resp.close()
            try:
                body = json.loads(head)
            except ValueError:
                body = None
            if isinstance(body, dict) and isinstance(body.get("pages"), int):
                return body["pages"]
            if isinstance(body, int) and not isinstance(body, bool):  # the Wayback Machine's CDX server
                return body
        if resp.status_code == 404 and _is_no_captures(resp):
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
        if resp.status_code == 400:
            message = _message(resp)
            if page and "invalid" in message.lower() and "page" in message.lower():
                return None  # "Page 1 invalid: First Page is 0, Last Page is 0": the end
            raise UsageError(f"the index server rejected the query for {where} (400): {message}")
        if resp.status_code == 404:
            if _is_no_captures(resp):
                return []
            raise UsageError(f"{coll.cdx_api} answered 404 Not Found ({_message(resp, 120)}): is --cdx-api right? "
                             "It takes an index server root such as https://index.commoncrawl.org/, or a CDX "
                             "endpoint such as http://HOST:PORT/COLLECTION/cdx")
        if resp.status_code != 200:
            raise IndexServerError(f"the index server answered {resp.status_code} {resp.reason} for {where}: "
                                   f"{_message(resp)}")
        if not resp.text.strip():
            return []  # pywb's answer when nothing matches
        try:
            return [c.data for c in cdx_toolkit.cdx_to_captures(resp)]
        except ValueError as e:
            raise IndexServerError(f"cannot decode the index answer for {where}: {e}") from None


def page_numbers(plan: int | None | str) -> Iterator[int | None]:
    """The pages to fetch for a plan: 0..N-1, None for an unpaged source, an endless count when N is unknown."""
    if plan == UNPAGED:
        yield None
    elif plan is None:
        page = 0
        while True:
            yield page
            page += 1
    else:
        yield from range(plan)


def _is_no_captures(resp: requests.Response) -> bool:
    """Common Crawl's (and pywb's) empty answer: 404 {"message": "No Captures found for: ..."}."""
    return resp.text.lstrip().startswith("{") and "no captures" in _message(resp).lower()


def _suggest(wanted: str, ids: list[str]) -> str:
    close = difflib.get_close_matches(wanted, ids, n=3, cutoff=0.6)
    shown = ", ".join(ids[:5]) + (f", ... ({len(ids)} in all)" if len(ids) > 5 else "")
    return (f"; did you mean {' or '.join(close)}?" if close else "") + f" Available: {shown}"
