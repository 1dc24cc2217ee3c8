"""The parts of `ccimg select` that need no server: patterns, filters, key ranges, answers, file names, the journal."""
from __future__ import annotations

import json
import re

import pytest
import pywb.utils.canonicalize as canonicalize
from hypothesis import given, settings
from hypothesis import strategies as st

from ccimg.selection.index import _split_endpoint, decode_captures
from ccimg.selection.manifest import Selection, filename_refusal, split_weighted
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


# -- index answers are data -----------------------------------------------------------------------
def test_decode_captures_reads_both_dialects():
    lines = b'{"urlkey": "a", "filename": "x.warc.gz"}\n\n{"urlkey": "b", "filename": "y.warc.gz"}\n'
    assert decode_captures(lines, "q") == [{"urlkey": "a", "filename": "x.warc.gz"},
                                           {"urlkey": "b", "filename": "y.warc.gz"}]
    rows = b'[["urlkey", "statuscode", "mimetype", "original"], ["a", "200", "text/html", "http://a/"]]'
    assert decode_captures(rows, "q") == [{"urlkey": "a", "status": "200", "mime": "text/html", "url": "http://a/"}]
    assert decode_captures(b"  \n", "q") == [] and decode_captures(b"[]", "q") == []


@pytest.mark.parametrize("body, says", [
    (b'{"urlkey": "a"}\n[1, 2, 3]\n', "line 2 is a list, not a JSON object"),
    (b'{"urlkey": "a"}\n42\n', "line 2 is a int, not a JSON object"),
    (b'"text"\n', "line 1 is a str"),
    (b'{"urlkey": "a"}\n{"urlkey": \n', "line 2 is not JSON"),
    (b'[["urlkey", "filename", "offset"], ["a", "x.warc.gz"]]', "row 2 has 2 fields, the first row names 3"),
    (b'[["urlkey"], ["a"], "b"]', "row 3 has str fields"),
    (b'[[1, 2], [3, 4]]', "does not name fields"),
    (b'[{"a": 1}]', "not a list of rows"),
    (b"[1, 2", "not JSON"),
])
def test_decode_captures_refuses_what_is_not_a_capture(body, says):
    """An index answer is data: a JSON line that is a list or a number, a short row in the array dialect, ...
    end the selection with a message naming what is wrong (cdx_toolkit's decoder raised AttributeError or
    KeyError deep inside, or silently zipped a short row)."""
    with pytest.raises(IndexServerError, match=re.escape(says)):
        decode_captures(body, "q")


@pytest.mark.parametrize("name, refused", [
    ("crawl-data/CC-MAIN-2025-33/segments/1/warc/x.warc.gz", None),
    ("warcs_iana.warc.gz", None),
    ("a..b/x.warc.gz", None),
    ("/etc/passwd", "an absolute path"),
    ("~/x.warc.gz", "an absolute path"),
    ("crawl-data/../../etc/passwd", "'..'"),
    ("..", "'..'"),
    ("file:///etc/passwd", "URL"),
    ("http://169.254.169.254/latest/meta-data/", "URL"),
    ("s3://someone-elses-bucket/x.warc.gz", "URL"),
    ("C:/x.warc.gz", "drive"),
    ("a\\..\\b", "backslash"),
])
def test_index_file_names_must_stay_under_the_source_base(name, refused):
    why = filename_refusal(name)
    assert (why is None) if refused is None else (refused in why), why


def test_selection_refuses_file_names_outside_the_source_base_unless_allowed(tmp_path):
    caps = [{"filename": name, "offset": "0", "length": "10", "url": f"http://x/{i}", "digest": f"D{i}"}
            for i, name in enumerate(["ok.warc.gz", "/etc/passwd", "http://169.254.169.254/x", "a/../../b"])]
    s = Selection(tmp_path / "sel.tsv", {"q": 1})
    assert s.add_page("c p", 0, caps) == 1 and s.refused == 3
    assert "/etc/passwd" in s.refused_example
    s.close()
    s = Selection(tmp_path / "any.tsv", {"q": 1}, allow_any_filename=True)
    assert s.add_page("c p", 0, caps) == 4 and s.refused == 0
    s.close()
