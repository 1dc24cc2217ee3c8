"""robots.txt, fetched once per origin through the same HTTP client, read as RFC 9309 says.

Why through the client: robots.txt URLs come from the same untrusted hosts as everything else, so the
fetch goes through the address guard, the deadline and the host gate like any other request.

How statuses are read (RFC 9309, section 2.3.1), which differs from urllib.robotparser on one point:
  * 2xx: the rules in the first 500 KiB of the body (RFC 9309 lets parsers stop there);
  * 4xx, including 401 and 403: "unavailable", everything is allowed.  urllib.robotparser reads 401/403
    as "disallow all"; the RFC does not, and we follow the RFC.  Exception: 429 Too Many Requests is
    read as "unreachable" below, since the server is asking us to back off, not saying it has no rules;
  * 5xx, network errors, timeouts, refused addresses: "unreachable", everything is disallowed:
    `allowed()` raises FetchError("robots_unavailable"), and that answer is cached for
    `unreachable_ttl` seconds so that a broken server is not asked again for every URL;
  * redirects are followed by the client (at most its max_redirects; RFC 9309 asks for at least five);
    more than that reads as "unavailable" (allow), as the RFC permits.
Rules are parsed by `protego` (RFC 9309 matching, wildcards and all) when it is installed, else by the
standard library's urllib.robotparser (no '*'/'$' wildcards in paths).  The cache holds at most
`max_entries` origins (least recently used forgotten first), each for at most `ttl` seconds (24 h, the
RFC's limit).
"""
from __future__ import annotations

import threading
import time
import urllib.robotparser
from collections import OrderedDict
from collections.abc import Callable
from contextlib import nullcontext

from network.errors import FetchError, TransientError
from network.guard import CheckedURL, check_url
from network.identity import PRODUCT_TOKEN

ROBOTS_MAX_BYTES = 500 * 1024

try:  # pragma: no cover - depends on what is installed
    import protego  # noqa: F401

    DEFAULT_PARSER = "protego"
except ImportError:  # pragma: no cover
    DEFAULT_PARSER = "urllib"


def parse_rules(body: bytes, agent_token: str, parser: str = DEFAULT_PARSER) -> Callable[[str], bool]:
    """A function url -> allowed? from a robots.txt body (at most ROBOTS_MAX_BYTES of it are read)."""
    capped = len(body) >= ROBOTS_MAX_BYTES
    text = body[:ROBOTS_MAX_BYTES].decode("utf-8", "replace").lstrip("\ufeff")
    if capped and "\n" in text:
        text = text.rsplit("\n", 1)[0]  # the last line was cut off by the cap: do not read half a rule
    if parser == "protego":
        from protego import Protego

        rules = Protego.parse(text)
        return lambda url: bool(rules.can_fetch(url, agent_token))
    if parser != "urllib":
        raise ValueError(f"unknown robots.txt parser {parser!r}")
    rules = urllib.robotparser.RobotFileParser()
    rules.parse(text.splitlines())
    return lambda url: rules.can_fetch(agent_token, url)


class _Entry:
    __slots__ = ("expires", "allows", "unreachable")

    def __init__(self, expires: float, allows: Callable[[str], bool] | None = None, unreachable: str | None = None):
        self.expires = expires
        self.allows = allows
        self.unreachable = unreachable  # why robots.txt could not be read, or None


def _allow_all(url: str) -> bool:
    return True


class RobotsCache:
    """`allowed(url)`: may `agent_token` fetch `url`?  robots.txt is fetched once per scheme://host:port.

    `client` is a network.http.HttpClient (its guard, deadline and User-Agent apply); `gate` (a
    network.gate.HostGate, or None) is held for the host while robots.txt is fetched.  Thread-safe:
    threads asking about the same origin at once wait for one fetch.  Ask before holding the host's gate
    slot yourself: a thread that holds it while waiting for another thread's robots.txt fetch of the same
    host would make that fetch wait for the slot (bounded by `wait_timeout`, then robots_unavailable)."""

    def __init__(self, client, gate=None, agent_token: str = PRODUCT_TOKEN, *, ttl: float = 24 * 3600.0,
                 unreachable_ttl: float = 600.0, max_entries: int = 10_000, parser: str = DEFAULT_PARSER,
                 clock: Callable[[], float] = time.monotonic, wait_timeout: float = 300.0):
        self.client = client
        self.gate = gate
        self.agent_token = agent_token
        self.ttl = ttl
        self.unreachable_ttl = unreachable_ttl
        self.max_entries = max_entries
        self.parser = parser
        self._clock = clock
        self.wait_timeout = wait_timeout
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._pending: dict[str, threading.Event] = {}
        self.fetches = 0  # robots.txt requests made (for tests and stats)

    def allowed(self, url: str | CheckedURL) -> bool:
        """True if robots.txt allows `url`; FetchError("robots_unavailable") if robots.txt is unreachable.

        FetchError("bad_url") for a URL the guard refuses to parse."""
        checked = url if isinstance(url, CheckedURL) else check_url(url)
        if checked.target == "/robots.txt":
            return True
        entry = self._entry(checked)
        if entry.unreachable is not None:
            raise FetchError("robots_unavailable",
                             f"{checked.origin}/robots.txt could not be read ({entry.unreachable}): "
                             "RFC 9309 says to assume everything is disallowed")
        return entry.allows(checked.normalized)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _entry(self, checked: CheckedURL) -> _Entry:
        origin = checked.origin
        while True:
            with self._lock:
                entry = self._entries.get(origin)
                if entry is not None and entry.expires > self._clock():
                    self._entries.move_to_end(origin)
                    return entry
                pending = self._pending.get(origin)
                mine = pending is None
                if mine:
                    pending = self._pending[origin] = threading.Event()
            if not mine:
                # Another thread is fetching it; its request has a deadline, but it may first wait for the
                # host gate, so the wait is bounded separately.
                if not pending.wait(self.wait_timeout):
                    raise FetchError("robots_unavailable", f"{origin}/robots.txt: another thread's fetch "
                                                           f"did not end within {self.wait_timeout:g}s")
                continue
            entry = None
            try:
                entry = self._fetch(checked)
                return entry
            finally:
                with self._lock:
                    if entry is not None:
                        self._entries[origin] = entry
                        self._entries.move_to_end(origin)
                        while len(self._entries) > self.max_entries:
                            self._entries.popitem(last=False)
                    del self._pending[origin]
                pending.set()

    def _fetch(self, checked: CheckedURL) -> _Entry:
        now = self._clock()
        robots_url = check_url(checked.origin + "/robots.txt")
        hold = self.gate.hold(robots_url.host) if self.gate is not None else nullcontext()
        with self._lock:
            self.fetches += 1
        try:
            with hold, self.client.get(robots_url) as response:
                status = response.status
                body = response.read_capped(ROBOTS_MAX_BYTES) if 200 <= status < 300 else b""
        except FetchError as exc:
            if exc.kind == "too_many_redirects":
                return _Entry(now + self.ttl, _allow_all)
            return _Entry(now + self.unreachable_ttl, unreachable=exc.kind)
        except TransientError as exc:
            return _Entry(now + self.unreachable_ttl, unreachable=exc.kind)
        if 200 <= status < 300:
            return _Entry(now + self.ttl, parse_rules(body, self.agent_token, self.parser))
        if 400 <= status < 500 and status != 429:
            return _Entry(now + self.ttl, _allow_all)
        return _Entry(now + self.unreachable_ttl, unreachable=f"http_{status}")
