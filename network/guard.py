"""The address guard: which URLs we parse at all, and which machines we are willing to connect to.

Why: the URLs we fetch are data (from web pages, manifests, redirects), and a URL naming
http://169.254.169.254/ (cloud metadata) or an intranet host must not turn a mapper into a proxy into
the cluster's network.  Two classic ways around such a check, and what this module does about them:

  * Parser confusion: the check and the HTTP library read the same string differently
    (``http://127.0.0.1:80\\@8.8.8.8/`` is 8.8.8.8 to one parser and 127.0.0.1 to a browser-like one).
    `check_url` is the only parser: it refuses every form on which parsers are known to disagree
    (backslashes, userinfo, control characters, percent-encoded or numeric-shortcut hosts, odd ports)
    and hands the HTTP layer the host, port and request target it must use, already split.
  * DNS rebinding: the name resolves to a public address when checked and to a private one when the
    HTTP library resolves it again.  `Resolver.checked_addresses` resolves once, checks every address,
    and the HTTP layer connects to one of exactly those addresses (network.http never resolves names).
"""
from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from network.errors import FetchError, TransientError

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 8192  # longer is not an image URL but an attack or an accident; and it would bloat logs

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0 controls (tab, CR, LF ...), DEL, C1 controls
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # cannot be UTF-8 encoded: a line's undecodable bytes, kept as escapes
_PORT = re.compile(r"[0-9]{1,5}")  # ASCII digits only: int() would also take '٨٠'
_LABEL = re.compile(r"[a-z0-9_-]{1,63}")  # DNS labels as found on the web (underscores and all)
_NUMERIC_LAST_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")  # makes WHATWG and inet_aton read the host as IPv4
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_DOTTED_QUAD = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")

# What stays as it is in the request target; everything else (space, non-ASCII, quotes, ...) is
# percent-encoded as browsers do (WHATWG path and special-query percent-encode sets).
_PATH_SAFE = "!$%&'()*+,-./:;=@[]^_|~"
_QUERY_SAFE = "!$%&()*+,-./:;=?@[]^_`{|}~"


@dataclass(frozen=True, repr=False)
class CheckedURL:
    """A URL that passed `check_url`, split the way the HTTP layer will use it.

    `host` is ASCII and lowercase (IDNA-encoded; an IPv6 literal without brackets), `port` is explicit,
    `target` is the percent-encoded path and query for the request line (no fragment), `url` is the
    string as given."""

    scheme: str
    host: str
    port: int
    target: str
    url: str

    @property
    def is_ip_literal(self) -> bool:
        return _ip_or_none(self.host) is not None

    @property
    def netloc(self) -> str:
        """host[:port] as in a URL or a Host header: brackets around IPv6, the port only if not the default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.netloc}"

    @property
    def normalized(self) -> str:
        """The URL as sent: scheme://netloc/target."""
        return self.origin + self.target

    @property
    def redacted(self) -> str:
        """For log lines and error messages: the query may carry tokens, so it is not shown."""
        path, sep, _query = self.target.partition("?")
        return self.origin + path + ("?..." if sep else "")

    def __str__(self) -> str:
        return self.redacted

    def __repr__(self) -> str:
        return f"CheckedURL({self.redacted!r})"


def _shown(url: str) -> str:
    """A bounded, escaped rendering of a refused URL for an error message, without its query (which may
    carry tokens)."""
    head, sep, _query = url.partition("?")
    head = head[:200] + ("..." if len(head) > 200 else "")
    return repr(head + ("?..." if sep else ""))


def _refuse(url: str, why: str) -> FetchError:
    return FetchError("bad_url", f"{_shown(url)}: {why}")


def _ip_or_none(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def check_url(url: str) -> CheckedURL:
    """Parse an absolute http(s) URL strictly, or raise FetchError("bad_url").

    Refused: anything but http/https; control characters, tabs, newlines and lone surrogates anywhere; leading
    or trailing whitespace; backslashes anywhere (browsers read them as '/', so ``/\\evil.com`` would be another host);
    userinfo ('@' in the authority); '%' or whitespace in the host; hosts that are neither DNS names
    (after IDNA/UTS 46 mapping) nor canonical IP literals (``0x7f.1``, ``2130706433``, ``0177.0.0.1`` are
    read as 127.0.0.1 by some parsers and not by others); IPv6 zone identifiers; empty, non-digit or
    out-of-range ports; URLs longer than MAX_URL_LENGTH.  Accepted and normalised: upper-case scheme and
    host, one trailing dot on the host, spaces and non-ASCII characters in path and query (percent-encoded,
    as browsers do).  Dot segments in the path are sent as they are."""
    if not isinstance(url, str):
        raise FetchError("bad_url", f"not a string: {type(url).__name__}")
    if len(url) > MAX_URL_LENGTH:
        raise _refuse(url, f"longer than {MAX_URL_LENGTH} characters")
    if _CONTROL.search(url):
        raise _refuse(url, "control character (tab, newline, ...) in the URL")
    if _SURROGATE.search(url):
        raise _refuse(url, "a lone surrogate (bytes that were not UTF-8) in the URL")
    if url != url.strip():
        raise _refuse(url, "leading or trailing whitespace")
    if "\\" in url:
        raise _refuse(url, "backslash in the URL")
    match = _SCHEME.match(url)
    if not match:
        raise _refuse(url, "no scheme")
    scheme = match.group(1).lower()
    if scheme not in DEFAULT_PORTS:
        raise _refuse(url, f"scheme {scheme!r} is not http or https")
    rest = url[match.end():]
    if not rest.startswith("//"):
        raise _refuse(url, "not of the form scheme://host/...")
    rest = rest[2:]
    end = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    authority, rest = rest[:end], rest[end:]
    host, port = _split_authority(url, authority)
    return CheckedURL(scheme=scheme, host=host, port=port if port is not None else DEFAULT_PORTS[scheme],
                      target=_request_target(rest), url=url)


def _split_authority(url: str, authority: str) -> tuple[str, int | None]:
    if not authority:
        raise _refuse(url, "empty host")
    if "@" in authority:
        raise _refuse(url, "userinfo ('@') in the authority")
    if "%" in authority:
        raise _refuse(url, "'%' in the host (percent-encoded host or IPv6 zone)")
    if any(c.isspace() for c in authority):
        raise _refuse(url, "whitespace in the host")
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            raise _refuse(url, "unclosed '[' in the host")
        literal, after = authority[1:close], authority[close + 1:]
        if after and not after.startswith(":"):
            raise _refuse(url, "characters after the IPv6 literal")
        port_text = after[1:] if after else None
        try:
            host = ipaddress.IPv6Address(literal).compressed
        except ValueError:
            raise _refuse(url, "not an IPv6 address in brackets") from None
    else:
        if authority.count(":") > 1 or "[" in authority or "]" in authority:
            raise _refuse(url, "more than one ':' or stray brackets in the authority")
        name, sep, port_text = authority.partition(":")
        host = _check_host_name(url, name)
        if not sep:
            port_text = None
    if port_text is None:
        return host, None
    if not _PORT.fullmatch(port_text):
        raise _refuse(url, "bad port")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise _refuse(url, "port out of range")
    return host, port


def _check_host_name(url: str, name: str) -> str:
    """A DNS name (IDNA-encoded, lowercase, no trailing dot) or a canonical dotted-quad IPv4 address."""
    if not name:
        raise _refuse(url, "empty host")
    if not name.isascii():
        import idna  # UTS 46 mapping, as browsers do (full-width digits and dots become ASCII ones)

        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            raise _refuse(url, "host is not a valid internationalised domain name") from None
    name = name.lower()
    if name.endswith("."):
        name = name[:-1]
    if not name:
        raise _refuse(url, "empty host")
    labels = name.split(".")
    if _NUMERIC_LAST_LABEL.fullmatch(labels[-1]):
        if not _DOTTED_QUAD.fullmatch(name):
            raise _refuse(url, "host looks like an IPv4 address but is not a canonical dotted quad")
        return name
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise _refuse(url, "host is not a valid DNS name")
    return name


def _request_target(rest: str) -> str:
    rest = rest.split("#", 1)[0]
    path, sep, query = rest.partition("?")
    target = quote(path or "/", safe=_PATH_SAFE)
    if sep:
        target += "?" + quote(query, safe=_QUERY_SAFE)
    return target


def join_redirect(base: CheckedURL, location: str) -> CheckedURL:
    """The URL a redirect's Location leads to, checked like any other; FetchError("bad_redirect") if refused.

    Why not urljoin alone: a Location with a tab, a backslash or an odd scheme is resolved differently by
    different parsers; the raw value is screened first, then joined, then checked as a whole."""
    from urllib.parse import urljoin

    if not location or _CONTROL.search(location) or "\\" in location or location != location.strip():
        raise FetchError("bad_redirect", f"{base}: redirect with an unusable Location {_shown(location)}")
    try:
        joined = urljoin(base.normalized, location)
    except ValueError:  # e.g. "Invalid IPv6 URL"
        raise FetchError("bad_redirect", f"{base}: redirect with an unusable Location {_shown(location)}") from None
    scheme = joined.split(":", 1)[0].lower() if _SCHEME.match(joined) else ""
    if scheme not in DEFAULT_PORTS:
        raise FetchError("bad_redirect", f"{base}: redirect to a non-http(s) URL {_shown(joined)}")
    try:
        return check_url(joined)
    except FetchError as exc:
        raise FetchError("bad_redirect", f"{base}: redirect refused: {exc}") from None


# -- which addresses are public --------------------------------------------------------------------------
def _networks(*cidrs: str) -> tuple:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


# Refused on top of ipaddress's is_global, whose tables differ between Python patch releases (3.11.7
# calls 224.0.0.1, fec0::1 and 3fff::1 global).
_V4_NOT_PUBLIC = _networks(
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4")
_V6_NOT_PUBLIC = _networks(
    "::/8",           # unspecified, loopback, IPv4-compatible (deprecated), SIIT ::ffff:0:0:0/96
    "100::/64", "100:0:0:1::/64",  # discard-only, dummy prefix
    "2001::/23",      # IETF protocol assignments, Teredo 2001::/32 included
    "2001:db8::/32", "3fff::/20",  # documentation
    "5f00::/16",      # SRv6 SIDs
    "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215): not global whatever it embeds
    "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")


def _v4_is_public(addr: ipaddress.IPv4Address) -> bool:
    return addr.is_global and not addr.is_multicast and not any(addr in net for net in _V4_NOT_PUBLIC)


def is_public_address(ip) -> bool:
    """True if `ip` (str or ipaddress object) is a globally reachable unicast address.

    IPv6 forms that embed an IPv4 address are judged by the IPv4 address they embed, because some
    networks translate them to it: IPv4-mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96`` (RFC 6052, a
    global prefix) and 6to4 ``2002:AABB:CCDD::/48`` (RFC 3056) are public when the IPv4 address is.
    Never public, whatever they embed: IPv4-compatible ``::a.b.c.d`` (deprecated by RFC 4291, nobody
    routes it), local-use NAT64 ``64:ff9b:1::/48`` (RFC 8215 says not global) and Teredo ``2001::/32``
    (inside 2001::/23, which IANA lists as not global; Teredo clients are hosts behind NATs, not web
    servers).  Multicast is never public.  Unparsable input is not public."""
    if isinstance(ip, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        addr = ip
    else:
        addr = _ip_or_none(str(ip).split("%", 1)[0])
        if addr is None:
            return False
    if isinstance(addr, ipaddress.IPv4Address):
        return _v4_is_public(addr)
    if addr.is_multicast:
        return False
    if addr.ipv4_mapped is not None:
        return _v4_is_public(addr.ipv4_mapped)
    if addr in _NAT64:
        return _v4_is_public(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    if addr in _SIX_TO_FOUR:
        return _v4_is_public(addr.sixtofour)
    if any(addr in net for net in _V6_NOT_PUBLIC):
        return False
    return addr.is_global


# -- resolving ----------------------------------------------------------------------------------------
def _getaddrinfo_addresses(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [info[4][0] for info in infos]


_NO_SUCH_NAME = {getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, name)}


class Resolver:
    """Resolves host names once per request and checks every address before anyone connects.

    `lookup(host, port) -> [ip, ...]` replaces socket.getaddrinfo (tests use it to play DNS rebinding);
    `is_public` replaces is_public_address (tests use it to let a loopback server stand for a public one).
    Answers are cached for `ttl` seconds per (host, port), at most `max_entries` of them (least recently
    used forgotten first): the cache saves lookups for the thousands of ranged GETs to one data host, and
    the address the client connects to is still always one that this check returned.
    `trusted` names (host, port) pairs the user named themselves (an index server on the intranet, a
    pywb on 127.0.0.1): their addresses may be private; every other host, including whatever those
    servers point to, is checked as usual."""

    def __init__(self, lookup: Callable[[str, int], list[str]] | None = None, *, ttl: float = 30.0,
                 max_entries: int = 4096, clock: Callable[[], float] = time.monotonic,
                 is_public: Callable[[str], bool] = is_public_address,
                 trusted: frozenset[tuple[str, int]] = frozenset()):
        self.trusted = frozenset(trusted)
        self._lookup = lookup
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._is_public = is_public
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, int], tuple[float, list[str]]] = OrderedDict()

    def resolve(self, host: str, port: int, timeout: float | None = None) -> list[str]:
        """Every address of `host`, in the resolver's order, without repeats; an IP literal is its own answer.

        Not cached.  `timeout` bounds the system resolver, which has no timeout of its own: the lookup
        runs in a daemon thread that is abandoned (TransientError "dns") if it takes longer."""
        if _ip_or_none(host) is not None:
            return [host]
        try:
            if self._lookup is not None:
                found = self._lookup(host, port)
            elif timeout is None:
                found = _getaddrinfo_addresses(host, port)
            else:
                found = _call_with_timeout(lambda: _getaddrinfo_addresses(host, port), timeout)
        except socket.gaierror as exc:
            if exc.errno in _NO_SUCH_NAME:
                raise FetchError("unknown_host", f"cannot resolve {host}: no such name") from None
            raise TransientError("dns", f"cannot resolve {host}: {exc.strerror or 'lookup failed'}") from None
        except TimeoutError:
            raise TransientError("dns", f"cannot resolve {host}: no answer within {timeout:.1f}s") from None
        except (OSError, UnicodeError) as exc:
            raise TransientError("dns", f"cannot resolve {host}: {type(exc).__name__}") from None
        addresses = list(dict.fromkeys(found))
        if not addresses:
            raise TransientError("dns", f"cannot resolve {host}: no address")
        return addresses

    def checked_addresses(self, host: str, port: int, allow_private: bool = False,
                          timeout: float | None = None) -> list[str]:
        """The addresses to connect to, all of them public unless `allow_private`.

        FetchError("private_address") if ANY address is not public: a name with one public and one
        private address could otherwise be used to reach the private one."""
        addresses = self._cached(host, port)
        if addresses is None:
            addresses = self.resolve(host, port, timeout)
            self._remember(host, port, addresses)
        if not allow_private and (host, port) not in self.trusted:
            for address in addresses:
                if not self._is_public(address):
                    raise FetchError("private_address",
                                     f"{host} resolves to the non-public address {address} "
                                     f"(refused: pass allow_private to fetch from it)")
        return addresses

    def _cached(self, host: str, port: int) -> list[str] | None:
        if self.ttl <= 0:
            return None
        with self._lock:
            entry = self._cache.get((host, port))
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._cache[(host, port)]
                return None
            self._cache.move_to_end((host, port))
            return list(entry[1])

    def _remember(self, host: str, port: int, addresses: list[str]) -> None:
        if self.ttl <= 0 or self.max_entries <= 0:
            return
        with self._lock:
            self._cache[(host, port)] = (self._clock() + self.ttl, list(addresses))
            self._cache.move_to_end((host, port))
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)


def _call_with_timeout(fn: Callable[[], list[str]], timeout: float) -> list[str]:
    """fn() in a daemon thread, waiting at most `timeout` seconds (TimeoutError after that)."""
    done = threading.Event()
    result: dict = {}

    def work() -> None:
        try:
            result["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            result["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name="ccimg-dns", daemon=True).start()
    if not done.wait(max(0.0, timeout)):
        raise TimeoutError("lookup timed out")
    if "error" in result:
        raise result["error"]
    return result["value"]
