"""One image download through the network layer, politely, within caps, ending in a status.

Why a class of its own: the fetch step is where other people's servers see us most, so every rule
lives here once: robots.txt before the first request and before every redirect hop (RobotsCache),
the address guard on every hop and one deadline per request (HttpClient), bounded retries with
backoff that honour Retry-After (RetryPolicy), a byte cap that holds whatever the server announces
or sends, and an early look at the first bytes that stops a decompression bomb or an HTML error page
after one chunk.  `X-Robots-Tag: noimageai / noai / noimageindex / noindex` (the opt-outs image
dataset builders honour, img2dataset among them) ends the download before the body is read.

Every outcome is a `Download` with a short status (``ok``, ``robots``, ``http-404``, ``timeout``,
``too-large``, ``private-address``, ...): a URL never disappears, and no message carries payload
bytes or a URL's query (CheckedURL.redacted).
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from ccimg.fetch.image import early_verdict
from network.errors import FetchError, TransientError
from network.guard import CheckedURL, check_url
from network.retry import RetryPolicy

HEAD_BYTES = 64 * 1024  # read first, and looked at before the rest is downloaded
DEFAULT_MAX_BYTES = 32 * 1024 * 1024
OPT_OUT_TAGS = frozenset({"noai", "noimageai", "noindex", "noimageindex", "none"})

# FetchError/TransientError kinds whose status name is not the kind with '-' for '_'.
_STATUS_OF_KIND = {"not_found": "http-404", "range_not_satisfiable": "http-416", "deadline": "timeout",
                   "robots_disallowed": "robots", "dns": "dns-error"}
# Statuses a later run may try again with --retry-failed: the server or the network may have changed.
TRANSIENT_STATUSES = frozenset({"timeout", "connection", "connection-reset", "dns-error", "incomplete-body",
                                "robots-unavailable", "http-408", "http-425", "http-429", "http-500", "http-502",
                                "http-503", "http-504", "error"})


def status_of(kind: str) -> str:
    """The metadata status for an error kind: ``gave_up_http_503`` -> ``http-503``, ``too_large`` -> ``too-large``."""
    kind = kind.removeprefix("gave_up_")
    return _STATUS_OF_KIND.get(kind, kind.replace("_", "-"))


class _Stop(Exception):
    """Ends a download with `status` (not retried)."""

    def __init__(self, status: str, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass
class Download:
    """The outcome of one URL's download.  `body` is set only when status is "ok"."""

    status: str
    detail: str | None = None
    body: bytes | None = None
    http_status: int | None = None
    content_type: str | None = None
    final_url: str | None = None
    bytes: int = 0          # body bytes received, all attempts together
    requests: int = 0       # HTTP requests made for the image itself (attempts and redirect hops)
    fetch_time: str | None = None
    seconds: float = 0.0

    @property
    def sha256(self) -> str | None:
        return hashlib.sha256(self.body).hexdigest() if self.body is not None else None


def opted_out(header: str | None, agent_token: str) -> str | None:
    """The X-Robots-Tag directive that forbids our use of the image, or None.

    Directives may name a user agent (``googlebot: noindex``): only ours, or none, apply to us."""
    if not header:
        return None
    for part in header.split(","):
        part = part.strip().lower()
        if ":" in part:
            agent, _, part = part.partition(":")
            if agent.strip() != agent_token.lower():
                continue
        for word in part.split():
            if word in OPT_OUT_TAGS:
                return word
    return None


class Downloader:
    """Downloads image bodies; thread-safe (the client, robots cache and gate it shares are)."""

    def __init__(self, client, robots, policy: RetryPolicy, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_pixels: int = 100_000_000, agent_token: str = "ccimg",
                 log: Callable[[str], None] | None = None):
        self.client = client
        self.robots = robots
        self.policy = policy
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.agent_token = agent_token
        self.log = log or (lambda message: None)

    def _allowed(self, checked: CheckedURL) -> None:
        """The address guard, then robots.txt.  The guard first: robots.txt of a refused address cannot be
        read either, and "private-address" says more than "robots-unavailable"."""
        self.client.resolver.checked_addresses(checked.host, checked.port, self.client.allow_private,
                                               timeout=self.client.timeout)
        if not self.robots.allowed(checked):
            raise FetchError("robots_disallowed", f"{checked.redacted}: disallowed by robots.txt")

    def download(self, url: str) -> Download:
        started = time.monotonic()
        out = Download("error", fetch_time=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
        try:
            checked = check_url(url)
            self._allowed(checked)
            out.body = self.policy.run(lambda: self._once(checked, out), checked.redacted,
                                       lambda kind, message: self.log(message))
            out.status = "ok"
        except _Stop as exc:
            out.status, out.detail = exc.status, exc.detail
        except (FetchError, TransientError) as exc:
            out.status, out.detail = status_of(exc.kind), exc.message[:300]
        out.seconds = round(time.monotonic() - started, 3)
        return out

    def _once(self, checked: CheckedURL, out: Download) -> bytes:
        """One attempt: GET (redirects re-checked), status, opt-outs, first chunk, then the rest."""
        def hop(target: CheckedURL) -> None:
            out.requests += 1
            self._allowed(target)

        out.requests += 1
        response = self.client.get(checked, max_bytes=self.max_bytes, on_redirect=hop)
        with response:
            out.http_status = response.status
            out.final_url = response.url
            out.content_type = (response.headers.get("content-type") or "")[:200] or None
            try:
                response.raise_for_status()
                tag = opted_out(response.headers.get("x-robots-tag"), self.agent_token)
                if tag is not None:
                    raise _Stop("x-robots-tag", f"{response.checked.redacted}: X-Robots-Tag {tag}")
                head = response.read(HEAD_BYTES)
                verdict = early_verdict(head, out.content_type, self.max_pixels)
                if verdict is not None:
                    raise _Stop(verdict, f"{response.checked.redacted}: {verdict} (first {len(head)} bytes)")
                rest = response.read()
            finally:
                out.bytes += response.bytes_read
        body = head + rest
        if not body:
            raise _Stop("not-an-image", f"{response.checked.redacted}: empty body")
        return body
