"""The parts of `ccimg select` that need no server: patterns, filters, key ranges, politeness, the journal."""
from __future__ import annotations

import json

import pytest
import pywb.utils.canonicalize as canonicalize
from hypothesis import given, settings
from hypothesis import strategies as st

from ccimg.selection.index import PoliteSession, _split_endpoint
from ccimg.selection.manifest import Selection, split_weighted
from ccimg.selection.query import (
    IndexServerError,
    UsageError,
    check_timestamp,
    parse_filter,
    parse_pattern,
    search_range,
)
from tests.conftest import shared_path


# -- URL patterns ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, match, url, expected", [
    ("example.com", None, "example.com", "exact"),
    ("example.com/path/*", None, "example.com/path/", "prefix"),
    ("*.example.com", None, "example.com", "domain"),
    ("example.com", "host", "example.com", "host"),
    ("https://www.example.com/a?b=1", None, "https://www.example.com/a?b=1", "exact"),
    ("example.com/*", "prefix", "example.com/", "prefix"),
])
def test_patterns(text, match, url, expected):
    p = parse_pattern(text, match)
    assert (p.url, p.match) == (url, expected)


@pytest.mark.parametrize("text, match, says", [
    ("", None, "empty"),
    ("exa mple.com", None, "white space"),
    ("example.*.com", None, "'*' may only lead"),
    ("*.example.com/*", None, "'*' may only lead"),
    ("http://[bad/", None, "Invalid IPv6"),
    ("http://example.com:99999/", None, "out of range"),
    ("http:///nohost", None, "no valid host"),
    ("ex<ample>.com", None, "no valid host"),
    ("example.com/path", "host", "takes a host name"),
    ("*.example.com", "prefix", "implies a domain match"),
])
def test_malformed_patterns_say_why(text, match, says):
    with pytest.raises(UsageError, match=r"(?i)" + says.replace("*", r"\*").replace("(", r"\(")):
        parse_pattern(text, match)


urls = st.builds(
    lambda scheme, www, host, tld, path, q: f"{scheme}{www}{host}.{tld}{path}{q}",
    st.sampled_from(["", "http://", "https://"]),
    st.sampled_from(["", "www.", "blog.", "a.b."]),
    st.from_regex(r"[a-z0-9][a-z0-9-]{0,10}", fullmatch=True),
    st.sampled_from(["com", "org", "co.uk", "de"]),
    st.sampled_from(["", "/", "/a", "/a/", "/A/b.html", "/x?"]),
    st.sampled_from(["", "?b=2&a=1", "?x"]),
)


@settings(max_examples=300, deadline=None)
@given(url=urls, match=st.sampled_from(["exact", "prefix", "host", "domain"]))
def test_search_range_is_pywbs(url, match):
    """The Parquet path scans the same SURT key range a pywb CDX server (Common Crawl's) scans."""
    if match in ("host", "domain") and ("/" in url.split("://")[-1].rstrip("/") or "?" in url):
        return  # those match types take a host
    assert search_range(parse_pattern(url, match)) == canonicalize.calc_search_range(url, match)


def test_search_range_of_real_cdx_keys():
    """Every urlkey of the pywb sample CDX falls in its own host, domain and exact ranges."""
    cdx = shared_path("cdx", "pywb_sample_archive", "cdx_iana.cdx")
    rows = [ln.split(" ") for ln in cdx.read_text().splitlines()[1:]]
    assert len(rows) == 171
    for urlkey, _ts, url, *_ in rows:
        for match in ("exact", "host"):
            text = url if match == "exact" else url.split("://")[-1].split("/")[0]
            lo, hi = search_range(parse_pattern(text, match))
            assert lo <= urlkey < hi, (url, match, lo, hi)
    lo, hi = search_range(parse_pattern("*.iana.org"))
    assert all(lo <= r[0] < hi for r in rows)


# -- filters -----------------------------------------------------------------------------------
def test_filters_parse_like_pywb():
    f = parse_filter("!=statuscode:200")  # IA's field name, translated by cdx_toolkit
    assert (f.negate, f.op, f.field, f.value, f.text) == (True, "exact", "status", "200", "!=status:200")
    f = parse_filter("~url:.*\\.html$")
    assert (f.op, f.field) == ("regex", "url")
    assert parse_filter("mime:text/html").op == "contains"


def test_bad_filters_fail_before_any_request():
    with pytest.raises(UsageError, match="bad regular expression"):
        parse_filter("~status:(")
    with pytest.raises(UsageError, match="unknown field 'stauts'"):
        parse_filter("stauts:200")


@pytest.mark.parametrize("value, ok", [
    ("2017", True), ("201702", True), ("20140126201", True),
    ("20170229", False), ("2017-01", False), ("1700000000", False), ("201", False),
])
def test_timestamps(value, ok):
    if ok:
        assert check_timestamp(value, "--from") == value
    else:
        with pytest.raises(UsageError):
            check_timestamp(value, "--from")


def test_endpoint_or_root():
    assert _split_endpoint("http://127.0.0.1:8080/iana/cdx") == ("http://127.0.0.1:8080/", "iana")
    assert _split_endpoint("https://index.commoncrawl.org/CC-MAIN-2025-33-index") == (
        "https://index.commoncrawl.org/", "CC-MAIN-2025-33")
    assert _split_endpoint("http://cdx.example/pywb/coll/cdx") == ("http://cdx.example/pywb/", "coll")
    assert _split_endpoint("http://h:1/cdx") == (None, "")
    assert _split_endpoint("https://index.commoncrawl.org/") is None


# -- politeness --------------------------------------------------------------------------------
class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, s):
        self.sleeps.append(s)
        self.now += s


def test_min_interval_per_host(monkeypatch):
    fake = FakeClock()
    session = PoliteSession(sleep=fake.sleep, clock=fake.clock)
    sent = []
    monkeypatch.setattr(session.session, "get", lambda url, **kw: sent.append((url, fake.now)) or _Resp(200))
    for _ in range(3):
        session.get("https://index.commoncrawl.org/CC-MAIN-2025-33-index")
    session.get("http://127.0.0.1:1/x/cdx")
    session.get("http://127.0.0.1:1/x/cdx")
    times = [t for u, t in sent if "commoncrawl" in u]
    assert times == [0.0, 1.0, 2.0]  # one request per second to a remote index
    assert [t for u, t in sent if "127.0.0.1" in u] == [2.0, 2.0]  # none needed on loopback


def test_backoff_is_exponential_bounded_and_honours_retry_after(monkeypatch):
    fake = FakeClock()
    session = PoliteSession(retries=4, backoff=1.0, sleep=fake.sleep, clock=fake.clock)
    answers = [_Resp(503), _Resp(429, {"Retry-After": "7"}), _Resp(503), _Resp(200)]
    monkeypatch.setattr(session.session, "get", lambda url, **kw: answers.pop(0))
    assert session.get("http://127.0.0.1:1/cdx").status_code == 200
    first, second, third = fake.sleeps
    assert 0.5 <= first <= 1.0 and second == 7.0 and 2.0 <= third <= 4.0

    session = PoliteSession(retries=2, backoff=0.01, sleep=fake.sleep, clock=fake.clock)
    monkeypatch.setattr(session.session, "get", lambda url, **kw: _Resp(503, text='{"message": "Slow Down"}'))
    with pytest.raises(IndexServerError, match=r"503 .*Slow Down \(3 tries"):
        session.get("http://127.0.0.1:1/cdx")


def test_an_unknown_host_fails_at_once(monkeypatch):
    import requests

    fake = FakeClock()
    session = PoliteSession(retries=6, sleep=fake.sleep, clock=fake.clock)

    def no_dns(url, **kw):
        raise requests.ConnectionError("Failed to resolve 'index.commoncrawl.org' "
                                       "([Errno -2] Name or service not known)")
    monkeypatch.setattr(session.session, "get", no_dns)
    with pytest.raises(IndexServerError, match="cannot resolve index.commoncrawl.org"):
        session.get("https://index.commoncrawl.org/collinfo.json")
    assert fake.sleeps == [] and session.requests == 1


class _Resp:
    def __init__(self, status, headers=None, text=""):
        self.status_code, self.headers, self.text = status, headers or {}, text
        self.reason = {200: "OK", 429: "Too Many Requests", 503: "Service Unavailable"}[status]


# -- manifest and journal ----------------------------------------------------------------------
def test_split_is_contiguous_and_balanced_by_bytes():
    items = [(f"l{i}", w) for i, w in enumerate([100, 1, 1, 1, 100, 1, 1, 100, 1, 1])]
    parts = split_weighted(items, 3)
    assert [x for p in parts for x in p] == [x for x, _ in items]
    sizes = [sum(dict(items)[x] for x in p) for p in parts]
    assert max(sizes) <= 103 and min(sizes) >= 100


def _cap(i, digest=None, mime="text/html"):
    return {"filename": "a.warc.gz", "offset": str(i * 10), "length": "10", "url": f"http://x/{i}",
            "digest": digest or f"D{i}", "mime": mime}


def test_journal_resumes_without_repeating_pages(tmp_path):
    out = tmp_path / "sel.tsv"
    fp = {"q": 1}
    s = Selection(out, fp)
    s.set_plan("c p", 3)
    s.add_page("c p", 0, [_cap(0), _cap(1), _cap(2, digest="D0")])
    s.add_page("c p", 1, [_cap(3), _cap(4, mime="warc/revisit")])
    s._captures.write(b"torn\tline")  # a page half written when the process died
    s._captures.flush()
    s._journal.write('{"done": "c p", "pa')  # and its journal line cut short
    s.close()

    r = Selection(out, fp)
    assert r.plans == {"c p": 3}
    assert r.done == {("c p", 0), ("c p", 1)} and r.kept == 3 and (r.duplicates, r.revisits) == (1, 1)
    assert r.add_page("c p", 2, [_cap(5), _cap(6, digest="D3")]) == 1  # D3 was kept before the interruption
    paths = r.finish(1)
    assert [ln.split("\t")[3] for ln in paths[0].read_text().splitlines()] == [f"http://x/{i}" for i in (0, 1, 3, 5)]
    assert not r.state.exists()

    unfinished = Selection(out, fp)
    unfinished.add_page("c p", 0, [_cap(0)])
    unfinished.close()
    with pytest.raises(UsageError, match="different settings.*--restart"):
        Selection(out, {"q": 2})
    Selection(out, {"q": 2}, restart=True).close()  # --restart throws the old state away
    journal = (tmp_path / "sel.tsv.select-state" / "journal.jsonl").read_text().splitlines()
    assert [json.loads(ln) for ln in journal] == [{"fingerprint": {"q": 2}}]
