"""The header-only probe behind `ccimg probe`: true pixel sizes of web images from the first bytes of each file.

Why: training and evaluating a BIG/SMALL classifier needs labels, and the true size of an
image is written in its header (PNG IHDR, GIF screen descriptor, JPEG SOF marker, ...), so a
ranged GET of the first 64 KiB gives the label at a small fraction of the cost of downloading
the image.  The output (JSONL: img_url, true_width, true_height, format, status, bytes_read)
is read by `models.labels.read_truth`, so `ccimg train --labels FILE` can use it directly;
rows that failed carry null sizes, which read_truth skips.

How, and why so carefully (other people's servers are on the other end); the network parts are the
project's one network layer (network/), shared with the jobs and `ccimg select`:
  * `Range: bytes=0-N` (N = 64 KiB - 1 by default).  A server that ignores Range and answers
    200 is read as a stream and cut off after N bytes (`Response.read_capped`): never more than
    asked for.  JPEG keeps its size in the SOF marker, normally within a few KB but after a large
    EXIF/ICC block it can come later: if the size is not found in the first chunk, one more request
    with a larger range (512 KiB) is made.
  * robots.txt is honoured per origin (`network.robots.RobotsCache`, RFC 9309, fetched once and
    cached, product token ``ccimg``): a host whose robots.txt cannot be read (5xx, timeouts) is not
    probed, as the RFC asks; 4xx (401 and 403 included, as the RFC says) means no rules.  Every
    redirect hop is checked against the robots.txt of its own host before it is requested.
  * a per-host rate limit (``--rate``, default 1 request/s, robots.txt included) and at most one
    request per host at a time (`network.gate.HostGate`, held by the client for every hop, so a
    redirect to a host another worker is probing waits its turn), with a small thread pool over
    hosts (``--workers``).
  * 429 and 5xx are retried a bounded number of times with exponential backoff and full jitter,
    honouring Retry-After (`network.retry.RetryPolicy`).
  * one HTTP GET (`network.http.HttpClient`): redirects followed by hand, each hop's address checked
    (no request goes to a private, loopback, link-local or reserved address unless
    ``--allow-private-addresses``: the input is data, and a URL naming http://169.254.169.254/ must
    not turn the prober into a proxy), one deadline per request, the project's one User-Agent.
  * every input line is accounted for in the summary on stderr.

EXIF orientation: imagesize 2.x applies the EXIF orientation where it finds the tag in the
bytes it parses (so a rotated JPEG gives display dimensions, like fastimage), but it does not
find it in every file (of the shared fixtures, orient_6.jpg comes back as stored, i.e. with width
and height swapped).  The labels may therefore be transposed for some photographs; the paper's
BIG/SMALL rule is symmetric in width and height, so the label does not change.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from dataio.image_header import image_size
from network.errors import FetchError, TransientError
from network.gate import HostGate
from network.guard import CheckedURL, check_url
from network.http import HttpClient
from network.retry import RETRY_STATUS, RetryPolicy
from network.robots import RobotsCache

DEFAULT_RANGE_BYTES = 64 * 1024
RETRY_RANGE_BYTES = 512 * 1024


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
    """Probes URLs politely; thread-safe (the client's pool gives each request its own connection).

    `client` replaces the HttpClient built from the options (tests pass one with a resolver that lets a
    loopback server stand for a public one)."""

    def __init__(self, options: Options, log=None, client: HttpClient | None = None):
        self.o = options
        self.gate = HostGate(interval=1.0 / options.rate if options.rate > 0 else 0.0, max_per_host=1)
        self.client = client or HttpClient(timeout=options.timeout, allow_private=options.allow_private,
                                           gate=self.gate)
        if self.client.gate is None:
            self.client.gate = self.gate
        self.robots = RobotsCache(self.client)
        self.log = log or (lambda msg: None)

    # -- checks --------------------------------------------------------------------------------
    def _checked(self, url: str) -> CheckedURL:
        """The URL parsed by the guard, its addresses checked (without a request): _Stop otherwise."""
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme and scheme not in ("http", "https") and url[len(scheme):].startswith(":"):
            raise _Stop("unsupported_scheme", "only http(s) is probed")
        try:
            checked = check_url(url)
            # Before robots.txt: a refused address must not even be asked for its robots.txt.
            self.client.resolver.checked_addresses(checked.host, checked.port, self.o.allow_private,
                                                   timeout=self.o.timeout)
        except FetchError as exc:
            raise _Stop(exc.kind, str(exc)) from None
        except TransientError as exc:
            raise _Stop("dns_error", str(exc)) from None
        return checked

    def _allowed(self, checked: CheckedURL) -> None:
        try:
            allowed = self.robots.allowed(checked)
        except FetchError as exc:
            raise _Stop(exc.kind, str(exc)) from None
        if not allowed:
            raise _Stop("robots_disallowed", f"{checked}: disallowed by robots.txt")

    def _get(self, checked: CheckedURL, range_bytes: int) -> tuple[int, bytes]:
        """(status, at most range_bytes of the body) of a ranged GET, retried on 429/5xx/timeouts;
        every redirect hop is guarded by the client and checked against robots.txt here."""
        def once() -> tuple[int, bytes]:
            with self.client.get(checked, {"Range": f"bytes=0-{range_bytes - 1}"},
                                 on_redirect=self._allowed) as resp:
                if resp.status in RETRY_STATUS:
                    resp.raise_for_status()  # TransientError with the server's Retry-After
                body = resp.read_capped(range_bytes) if resp.status in (200, 206) else b""
                return resp.status, body

        try:
            return self.o.policy.run(once, checked.redacted, lambda kind, msg: self.log(msg))
        except FetchError as exc:
            raise _Stop(exc.kind.removeprefix("gave_up_"), str(exc)) from None

    # -- one URL -------------------------------------------------------------------------------
    def probe(self, url: str) -> dict:
        row = {"img_url": url, "true_width": None, "true_height": None, "format": None, "status": None,
               "bytes_read": 0}
        try:
            checked = self._checked(url)
            self._allowed(checked)
            fmt, size, body = None, None, b""
            limits = sorted({self.o.range_bytes, self.o.retry_range_bytes})
            for limit in limits:
                status, body = self._get(checked, limit)
                row["bytes_read"] += len(body)
                if status not in (200, 206):
                    raise _Stop("empty" if status == 416 else f"http_{status}")
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


def _host_key(url: str) -> str:
    """The host a URL's probe goes to first (its group), "" when the URL cannot be parsed."""
    try:
        return check_url(url).host
    except FetchError:
        return ""


def probe_urls(urls: list[str], options: Options, log=None, prober: Prober | None = None,
               client: HttpClient | None = None):
    """Yield one row per URL, as the probes finish.  URLs are grouped by host and each group
    goes to one worker, in input order, so the rate limit spaces them out without idling the
    other workers.  Pass the same `prober` to successive calls (chunks of a long list) so that
    they share its per-host rate limit and robots.txt cache; `client` replaces the HttpClient a new
    Prober would build (tests)."""
    prober = prober or Prober(options, log, client)
    groups: OrderedDict[str, list[str]] = OrderedDict()
    for url in urls:
        groups.setdefault(_host_key(url), []).append(url)
    out: list[dict] = []
    cond = threading.Condition()

    def work(group: list[str]) -> None:
        for url in group:
            try:
                row = prober.probe(url)
            except Exception as exc:  # noqa: BLE001 - one bad URL must not lose the others
                row = {"img_url": url, "true_width": None, "true_height": None, "format": None,
                       "status": "error", "bytes_read": 0, "error": type(exc).__name__}
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
