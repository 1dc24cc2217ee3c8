"""The header-only probe behind `ccimg probe`: true pixel sizes of web images from the first bytes of each file.

Why: training and evaluating a BIG/SMALL classifier needs labels, and the true size of an
image is written in its header (PNG IHDR, GIF screen descriptor, JPEG SOF marker, ...), so a
ranged GET of the first 64 KiB gives the label at a small fraction of the cost of downloading
the image.  The output (JSONL: img_url, true_width, true_height, format, status, bytes_read)
is read by `models.labels.read_truth`, so `ccimg train --labels FILE` can use it directly;
rows that failed carry null sizes, which read_truth skips.

How, and why so carefully (other people's servers are on the other end):
  * `Range: bytes=0-N` (N = 64 KiB - 1 by default).  A server that ignores Range and answers
    200 is read as a stream and cut off after N bytes: never more than asked for.  JPEG keeps
    its size in the SOF marker, normally within a few KB but after a large EXIF/ICC block it can
    come later: if the size is not found in the first chunk, one more request with a larger
    range (512 KiB) is made.
  * robots.txt is honoured per host (urllib.robotparser, fetched once per host and cached,
    user agent ``ccimg/0.1``); a host whose robots.txt cannot be read (5xx, timeouts) is not
    probed, as RFC 9309 asks.
  * a per-host rate limit (``--rate``, default 1 request/s, robots.txt included) and a small
    thread pool over hosts (``--workers``); a per-host lock means never two requests to the
    same host at once, even when a redirect leads to a host that another worker is probing.
  * 429 and 5xx are retried a bounded number of times with exponential backoff and full
    jitter, honouring Retry-After (`dataio.sources.RetryPolicy`, `parse_retry_after`).
  * redirects are followed by hand, each hop checked for scheme, address and robots.txt;
    no request goes to a private, loopback, link-local or reserved address unless
    ``--allow-private-addresses`` (`dataio.sources.check_public_address`): the input is data, and
    a URL naming http://169.254.169.254/ must not turn the prober into a proxy.
  * every input line is accounted for in the summary on stderr.

EXIF orientation: imagesize 2.x applies the EXIF orientation where it finds the tag in the
bytes it parses (so a rotated JPEG gives display dimensions, like fastimage), but it does not
find it in every file (of the shared fixtures, orient_6.jpg comes back as stored, i.e. with width
and height swapped).  The labels may therefore be transposed for some photographs; the paper's
BIG/SMALL rule is symmetric in width and height, so the label does not change.
"""
from __future__ import annotations

import json
import threading
import time
import urllib.robotparser
from collections import Counter, OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from dataio.sources import (MAX_REDIRECTS, REDIRECT_STATUS, RETRY_STATUS, FetchError, RetryPolicy, TransientError,
                        check_public_address, parse_retry_after)
from dataio.image_header import image_size

USER_AGENT = "ccimg/0.1"
ROBOTS_AGENT = "ccimg"  # the product token robots.txt groups are matched against
DEFAULT_RANGE_BYTES = 64 * 1024
RETRY_RANGE_BYTES = 512 * 1024


# -- input ---------------------------------------------------------------------------------------
def read_urls(lines, counts: Counter) -> list[str]:
    """Distinct image URLs, in first-seen order, from plain URL lines or extraction JSONL
    (``img_url``).  Every line is counted in `counts` under one of: url, duplicate, blank,
    bad_json, no_img_url."""
    seen: OrderedDict[str, None] = OrderedDict()
    for line in lines:
        counts["lines"] += 1
        text = line.strip()
        if not text or text.startswith("#"):
            counts["blank"] += 1
            continue
        if text.startswith("{"):
            try:
                url = json.loads(text).get("img_url")
            except (ValueError, AttributeError):
                counts["bad_json"] += 1
                continue
            if not url or not isinstance(url, str):
                counts["no_img_url"] += 1
                continue
        else:
            url = text
        if url in seen:
            counts["duplicate"] += 1
        else:
            counts["url"] += 1
            seen[url] = None
    return list(seen)


# -- politeness ----------------------------------------------------------------------------------
class HostGate:
    """Per-host lock and minimum interval between request starts.

    Why a lock and not only the host-to-worker assignment: a redirect can lead a worker to
    another host, which may be another worker's; the lock keeps one request per host at a time."""

    def __init__(self, rate: float, clock=time.monotonic, sleep=time.sleep):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._hosts: dict[str, list] = {}  # host -> [lock, time of last request start]

    def hold(self, host: str):
        with self._lock:
            entry = self._hosts.setdefault(host, [threading.Lock(), None])
        return _Held(self, entry)


class _Held:
    def __init__(self, gate: HostGate, entry: list):
        self.gate, self.entry = gate, entry

    def __enter__(self):
        self.entry[0].acquire()
        last = self.entry[1]
        if last is not None:
            wait = last + self.gate.interval - self.gate._clock()
            if wait > 0:
                self.gate._sleep(wait)
        self.entry[1] = self.gate._clock()
        return self

    def __exit__(self, *exc):
        self.entry[0].release()


@dataclass
class Options:
    range_bytes: int = DEFAULT_RANGE_BYTES
    retry_range_bytes: int = RETRY_RANGE_BYTES
    timeout: float = 10.0
    rate: float = 1.0
    workers: int = 4
    allow_private: bool = False
    policy: RetryPolicy = field(default_factory=lambda: RetryPolicy(max_attempts=3, base_delay=0.5,
                                                                    max_delay=10.0, max_elapsed=60.0))


class _Stop(Exception):
    """The probe of one URL ends with this status (not retried)."""

    def __init__(self, status: str, message: str = ""):
        super().__init__(message or status)
        self.status = status


class Prober:
    """Probes URLs politely; thread-safe (one requests session per thread)."""

    def __init__(self, options: Options, log=None):
        self.o = options
        self.gate = HostGate(options.rate)
        self.log = log or (lambda msg: None)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._robots: dict[str, object] = {}  # scheme://netloc -> RobotFileParser or _Stop
        self._robots_locks: dict[str, threading.Lock] = {}
        self._addresses: dict[str, str | None] = {}  # host -> None (public) or refusal status

    @property
    def session(self):
        s = getattr(self._local, "session", None)
        if s is None:
            import requests

            s = requests.Session()
            s.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
            self._local.session = s
        return s

    # -- checks --------------------------------------------------------------------------------
    def _check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise _Stop("unsupported_scheme", f"{url}: only http(s) is probed")
        if not parts.hostname:
            raise _Stop("bad_url", f"{url}: no host")
        try:
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise _Stop("bad_url", f"{url}: bad port") from None
        if self.o.allow_private:
            return
        host = parts.hostname
        with self._lock:
            known = host in self._addresses
            refusal = self._addresses.get(host)
        if not known:
            refusal = None
            try:
                check_public_address(url)
            except FetchError as exc:
                refusal = exc.kind
            except TransientError:
                refusal = "dns_error"
            with self._lock:
                self._addresses[host] = refusal
        if refusal:
            raise _Stop(refusal, f"{url}: {refusal}")

    def _request(self, url: str, range_bytes: int | None):
        """One GET (no redirects followed), through the host gate; returns (response, body bytes
        read up to range_bytes).  429/5xx raise TransientError with Retry-After for RetryPolicy."""
        import requests

        headers = {"Range": f"bytes=0-{range_bytes - 1}"} if range_bytes else {}
        with self.gate.hold(urlsplit(url).netloc.lower()):
            try:
                resp = self.session.get(url, headers=headers, timeout=self.o.timeout, stream=True,
                                        allow_redirects=False)
            except requests.Timeout as exc:
                raise TransientError("timeout", str(exc)) from exc
            except (requests.ConnectionError, ConnectionError) as exc:
                raise TransientError("connection_error", str(exc)) from exc
            except requests.RequestException as exc:
                raise _Stop("bad_url", str(exc)) from exc
            try:
                if resp.status_code in RETRY_STATUS:
                    raise TransientError(f"http_{resp.status_code}", f"{url}: HTTP {resp.status_code}",
                                     parse_retry_after(resp.headers.get("Retry-After")))
                body = b""
                if resp.status_code in (200, 206) and range_bytes is not None:
                    body = self._read_capped(resp, range_bytes)
                elif resp.status_code == 200:
                    body = self._read_capped(resp, 512 * 1024)  # robots.txt: RFC 9309 allows a 500 KiB cap
            finally:
                resp.close()
        return resp, body

    @staticmethod
    def _read_capped(resp, limit: int) -> bytes:
        """At most `limit` bytes of the body, whatever the server sends (a server that ignored
        Range would send the whole file: the connection is closed after `limit`)."""
        import requests
        import urllib3

        chunks, n = [], 0
        try:
            while n < limit:
                chunk = resp.raw.read(min(65536, limit - n), decode_content=False)
                if not chunk:
                    break
                chunks.append(chunk)
                n += len(chunk)
        except (requests.Timeout, urllib3.exceptions.ReadTimeoutError, TimeoutError) as exc:
            raise TransientError("timeout", str(exc)) from exc
        except (urllib3.exceptions.HTTPError, ConnectionError) as exc:
            raise TransientError("connection_error", str(exc)) from exc
        return b"".join(chunks)

    def _get(self, url: str, range_bytes: int | None, check_robots: bool = True):
        """GET following redirects by hand; every hop is checked (scheme, address, robots.txt)
        and retried on 429/5xx/timeouts.  Returns (final url, response, body)."""
        for _hop in range(MAX_REDIRECTS + 1):
            self._check_url(url)
            if check_robots and not self._robots_allow(url):
                raise _Stop("robots_disallowed", f"{url}: disallowed by robots.txt")
            try:
                resp, body = self.o.policy.run(lambda u=url: self._request(u, range_bytes), url,
                                               lambda kind, msg: self.log(msg))
            except FetchError as exc:
                kind = exc.kind.removeprefix("gave_up_")
                raise _Stop(kind, str(exc)) from exc
            location = resp.headers.get("Location")
            if resp.status_code in REDIRECT_STATUS and location:
                url = urljoin(url, location)
                continue
            return url, resp, body
        raise _Stop("too_many_redirects", f"more than {MAX_REDIRECTS} redirects")

    def _robots_allow(self, url: str) -> bool:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc.lower()}"
        with self._lock:
            lock = self._robots_locks.setdefault(key, threading.Lock())
        with lock:  # fetched once per host, however many threads ask at once
            parser = self._robots.get(key)
            if parser is None:
                parser = self._fetch_robots(key)
                self._robots[key] = parser
        if isinstance(parser, _Stop):
            raise parser
        return parser.can_fetch(ROBOTS_AGENT, url)

    def _fetch_robots(self, base: str):
        """A RobotFileParser for the host, following urllib.robotparser's reading of statuses
        (401/403: disallow all; other 4xx: allow all); 5xx or unreachable: a _Stop, since
        RFC 9309 says to assume complete disallow when robots.txt cannot be read."""
        parser = urllib.robotparser.RobotFileParser(base + "/robots.txt")
        try:
            _url, resp, body = self._get(base + "/robots.txt", None, check_robots=False)
        except _Stop as exc:
            if exc.status in ("private_address", "dns_error", "bad_url", "unsupported_scheme"):
                return exc
            return _Stop("robots_unavailable", f"{base}/robots.txt: {exc}")
        if resp.status_code == 200:
            parser.parse(body.decode("utf-8", "replace").splitlines())
        elif resp.status_code in (401, 403):
            parser.disallow_all = True
        elif 400 <= resp.status_code < 500:
            parser.allow_all = True
        else:
            return _Stop("robots_unavailable", f"{base}/robots.txt: HTTP {resp.status_code}")
        return parser

    # -- one URL -------------------------------------------------------------------------------
    def probe(self, url: str) -> dict:
        row = {"img_url": url, "true_width": None, "true_height": None, "format": None, "status": None,
               "bytes_read": 0}
        try:
            fmt, size, body = None, None, b""
            limits = sorted({self.o.range_bytes, self.o.retry_range_bytes})
            for limit in limits:
                _final, resp, body = self._get(url, limit)
                row["bytes_read"] += len(body)
                if resp.status_code not in (200, 206):
                    raise _Stop("empty" if resp.status_code == 416 else f"http_{resp.status_code}")
                if not body:
                    raise _Stop("empty")
                fmt, size = image_size(body)
                row["format"] = fmt
                if fmt is None:
                    raise _Stop("not_an_image")
                if size is not None or len(body) < limit:
                    break  # found, or the whole file was read: a larger range cannot help
                if limit == limits[-1]:
                    raise _Stop("size_not_in_range")
                # else: our own limit cut the header off (a JPEG with a large EXIF/ICC block): ask once more
            if size is None:
                raise _Stop("svg_no_size" if fmt == "svg" else "too_short" if len(body) < 64 else "bad_header")
            row["true_width"], row["true_height"] = size
            row["status"] = "ok"
        except _Stop as exc:
            row["status"] = exc.status
        return row


def probe_urls(urls: list[str], options: Options, log=None, prober: Prober | None = None):
    """Yield one row per URL, as the probes finish.  URLs are grouped by host and each group
    goes to one worker, in input order, so the rate limit spaces them out without idling the
    other workers.  Pass the same `prober` to successive calls (chunks of a long list) so that
    they share its per-host rate limit and robots.txt cache."""
    prober = prober or Prober(options, log)
    groups: OrderedDict[str, list[str]] = OrderedDict()
    for url in urls:
        try:
            host = urlsplit(url).netloc.lower()
        except ValueError:
            host = ""
        groups.setdefault(host, []).append(url)
    out: list[dict] = []
    cond = threading.Condition()

    def work(group: list[str]) -> None:
        for url in group:
            try:
                row = prober.probe(url)
            except Exception as exc:  # noqa: BLE001 - one bad URL must not lose the others
                row = {"img_url": url, "true_width": None, "true_height": None, "format": None,
                       "status": "error", "bytes_read": 0, "error": f"{type(exc).__name__}: {exc}"}
            with cond:
                out.append(row)
                cond.notify()

    with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
        futures = [pool.submit(work, g) for g in groups.values()]
        done = 0
        while done < len(urls):
            with cond:
                while not out and not all(f.done() for f in futures):
                    cond.wait(0.5)
                batch, out[:] = out[:], []
            yield from batch
            done += len(batch)
            if not batch and all(f.done() for f in futures):
                break
        for f in futures:
            f.result()
