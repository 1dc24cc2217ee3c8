"""What `ccimg select` asks for: URL patterns, CDX filters, time bounds, and the errors it reports.

Everything here is checked before the first request, so that a typo costs no index query (Common Crawl's
server allows about one request per second per IP) and gives a message that says what to change.

The semantics are those of pywb, which Common Crawl's index server runs, so that the CDX API and the
columnar (Parquet) index select the same captures:

- a pattern ``*.example.com`` is a *domain* match (the host and all its sub-domains), ``example.com/path/*``
  a *prefix* match, anything else an *exact* match unless ``--match`` says otherwise;
- a filter ``[!][=|~]FIELD:VALUE`` is a *contains* test, ``=`` makes it exact, ``~`` a regular expression
  anchored at the start of the value (``re.match``), and ``!`` negates it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from cdx_toolkit.compat import munge_filter
from cdx_toolkit.timeutils import pad_timestamp, timestamp_to_time

MATCH_TYPES = ("exact", "prefix", "host", "domain")

# Fields of a CDX line as Common Crawl and pywb name them.  IA's names (statuscode, mimetype, original) are
# translated by cdx_toolkit's munge_filter before the check.
CDX_FIELDS = (
    "urlkey", "timestamp", "url", "mime", "mime-detected", "status", "digest", "length", "offset",
    "filename", "redirect", "languages", "charset", "truncated",
)

DEFAULT_FILTERS = ("status:200", "mime:text/html")

# A host name: labels of letters (any script), digits, '_' or '-', separated by dots; or an IP address.
_HOST_RE = re.compile(r"[\w-]+(?:\.[\w-]+)*\.?|[0-9a-fA-F:.]+")


class SelectError(Exception):
    """A selection that cannot go on.  `exit_code` tells the shell who has to act."""

    exit_code = 1


class UsageError(SelectError):
    """The command has to change: a bad pattern, an unknown crawl, a query the server rejects."""

    exit_code = 2


class IndexServerError(SelectError):
    """The server is unreachable, overloaded or broken: try again later (finished pages are kept)."""

    exit_code = 1


class EmptySelection(SelectError):
    """The query was fine but matched nothing: widen it (another crawl, pattern or filter)."""

    exit_code = 3


@dataclass(frozen=True)
class UrlPattern:
    """One `--url` pattern: the URL or host as the index expects it, and how to match it."""

    text: str  # as the user wrote it, for messages
    url: str  # without the wildcard
    match: str  # one of MATCH_TYPES

    def cdx_params(self) -> dict[str, str]:
        return {"url": self.url, "matchType": self.match}

    def __str__(self) -> str:
        return self.text if self.text.endswith("*") or self.text.startswith("*.") else f"{self.text} ({self.match})"


def parse_pattern(text: str, match: str | None = None) -> UrlPattern:
    """Turn a `--url` value (and an optional `--match`) into a UrlPattern, or raise UsageError saying why not."""
    raw = text.strip()
    if not raw:
        raise UsageError("empty --url pattern")
    if any(c.isspace() for c in raw):
        raise UsageError(f"malformed --url pattern {text!r}: it contains white space (percent-encode it)")
    implied, body = None, raw
    if body.startswith("*."):
        implied, body = "domain", body[2:]
    elif body.endswith("*"):
        implied, body = "prefix", body[:-1]
    if "*" in body:
        raise UsageError(
            f"malformed --url pattern {text!r}: '*' may only lead ('*.example.com', a domain match) "
            "or end it ('example.com/path/*', a prefix match)")
    if match is not None and match not in MATCH_TYPES:
        raise UsageError(f"unknown match type {match!r}: use one of {', '.join(MATCH_TYPES)}")
    if match and implied and match != implied:
        raise UsageError(f"--url {text!r} implies a {implied} match but --match says {match}")
    match = match or implied or "exact"
    try:
        parts = urlsplit(body if "://" in body else "http://" + body)
        host = parts.hostname
        parts.port  # raises ValueError on a bad port
    except ValueError as e:
        raise UsageError(f"malformed --url pattern {text!r}: {e}") from None
    if not host or not _HOST_RE.fullmatch(host):
        raise UsageError(f"malformed --url pattern {text!r}: no valid host name in it")
    if match in ("host", "domain") and (parts.path not in ("", "/") or parts.query):
        raise UsageError(f"a {match} match takes a host name such as 'example.com', not {text!r}")
    return UrlPattern(text=raw, url=body, match=match)


def search_range(pattern: UrlPattern) -> tuple[str, str]:
    """The SURT key range [start, end) that a CDX server scans for `pattern`.

    The same computation as pywb's ``calc_search_range`` (the tests check them against each other), so that
    a selection from the columnar index's ``url_surtkey`` column matches the CDX API's answer and lets
    DuckDB skip row groups by their min/max statistics.
    """
    import surt  # only the Parquet path needs it

    url = pattern.url
    key = surt.surt(url)
    if pattern.match == "exact":
        return key, key + "!"
    if pattern.match == "prefix":
        if url.endswith("/") and not key.endswith("/"):
            key += "/"
        if url.endswith("?") and not key.endswith("?"):
            key += "?"
        return key, key[:-1] + chr(ord(key[-1]) + 1)
    host = key.split(")/")[0]
    if pattern.match == "host":
        return host + ")/", host + "*"
    # domain: a bare TLD ('com') has no ')' in its key
    return (host + "," if "," not in host else host + ")/"), host + "-"


@dataclass(frozen=True)
class CdxFilter:
    """One `--filter`, parsed as pywb parses it."""

    text: str
    field: str  # '' means the whole CDX line (CDX API only)
    op: str  # 'contains', 'exact' or 'regex'
    value: str
    negate: bool


def parse_filter(text: str) -> CdxFilter:
    (munged,) = munge_filter([text], "cc")  # statuscode: -> status:, mimetype: -> mime:, original: -> url:
    s, negate = munged, munged.startswith("!")
    if negate:
        s = s[1:]
    op = "contains"
    if s.startswith("="):
        op, s = "exact", s[1:]
    elif s.startswith("~"):
        op, s = "regex", s[1:]
    field, sep, value = s.partition(":")
    if not sep:
        field, value = "", s
    if field and field not in CDX_FIELDS:
        raise UsageError(f"unknown field {field!r} in --filter {text!r}; known fields: {', '.join(CDX_FIELDS)}")
    if op == "regex":
        try:
            re.compile(value)
        except re.error as e:
            # pywb would answer 500 "Internal Error" to this, and a naive client retries a 500 forever
            raise UsageError(f"bad regular expression in --filter {text!r}: {e}") from None
    return CdxFilter(text=munged, field=field, op=op, value=value, negate=negate)


def crawl_specs(crawls: list[str]) -> list[str]:
    """The --crawl values (repeatable, comma-separated) as a list; a number N (the newest N) must stand alone."""
    specs = [s.strip() for c in crawls for s in c.split(",") if s.strip()]
    if len(specs) > 1 and any(s.isdigit() for s in specs):
        raise UsageError("--crawl takes crawl ids, or one number N for the newest N crawls, not both")
    return specs


def check_timestamp(value: str | None, option: str) -> str | None:
    """Validate a `--from`/`--to` CDX timestamp: YYYY, then as many more digits of MMDDhhmmss as wanted."""
    if value is None:
        return None
    if not value.isdigit() or not 4 <= len(value) <= 14:
        raise UsageError(f"{option} {value!r} is not a CDX timestamp: use YYYY, YYYYMM, ... up to YYYYMMDDhhmmss")
    if len(value) % 2 == 0:  # a whole number of fields must make a date (an odd length pads like pywb does)
        try:
            timestamp_to_time(pad_timestamp(value))
        except ValueError as e:
            raise UsageError(f"{option} {value!r}: {e}") from None
    return value


def time_bounds(from_ts: str | None, to_ts: str | None) -> tuple[str | None, str | None]:
    """14-digit bounds padded as pywb pads them (warcio's PAD_14_DOWN / PAD_14_UP), so that both APIs agree:
    --from 2017 is 20170101000000, --to 201702 is 20170231235959 (not a date, but the right string bound)."""
    lo = from_ts + "10000101000000"[len(from_ts):] if from_ts else None
    hi = to_ts + "29991231235959"[len(to_ts):] if to_ts else None
    return lo, hi


@dataclass(frozen=True)
class Query:
    """Everything that decides which captures a selection contains (its fingerprint, for resuming)."""

    patterns: tuple[UrlPattern, ...]
    filters: tuple[CdxFilter, ...]
    from_ts: str | None = None
    to_ts: str | None = None

    def fingerprint(self) -> dict:
        return {
            "patterns": [[p.url, p.match] for p in self.patterns],
            "filters": [f.text for f in self.filters],
            "from": self.from_ts,
            "to": self.to_ts,
        }
