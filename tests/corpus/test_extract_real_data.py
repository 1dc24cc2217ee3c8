"""The extraction job on real third-party data, checked against answers computed independently here.

Data: ../shared/data (README there: origin, license, what each file holds).  Never copied into the repo;
every test skips with the reason where it is absent.

What is "independent": record facts (types, offsets, URLs, dates, HTTP status) come from warcio read
directly; page facts come from lxml.html (libxml2's HTML parser, not the job's lexbor); URLs are resolved
with urllib's urljoin against <base href> and the page URL, then put in the form a browser requests them
(WHATWG percent-encoding, IDNA hosts) with urllib's quote and Python's idna codec (`browser_form`).  No
expectation is computed with the project's own extraction code (features/*, jobs/*): the job is only run,
and its output compared.
"""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from datetime import datetime, timezone
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit

import lxml.html
import pytest
from lxml.etree import ParserError
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from jobs.aggregate_images import MAX_LIST, AggregateImagesJob
from jobs.extract_images import ExtractImagesJob
from tests.conftest import assert_lines_accounted, run_job, shared_path

# -------------------------------------------------------------------------------------------------------------
# Independent facts: warcio for records, lxml.html for pages
# -------------------------------------------------------------------------------------------------------------

HTML_MIMES = ("text/html", "application/xhtml+xml")
WS = " \t\n\r\f"  # HTML's "ASCII whitespace": stripped from both ends of URL attributes (WHATWG)
# Lazy-loading attributes the job documents (README, features/page_images.py docstring), then srcset:
# written out here from the documentation, so that a change in the job's list shows up as a test failure.
LAZY_ATTRS = ("data-src", "data-lazy-src", "data-original", "data-lazy", "data-echo", "data-url",
              "data-hi-res-src", "data-full-src", "data-orig-src", "data-original-src",
              "data-srcset", "data-lazy-srcset", "srcset")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$")


@dataclass
class WarcPage:
    offset: int
    url: str
    record_id: str
    date: str
    body: bytes
    content_type: str = ""


@dataclass
class WarcFacts:
    types: Counter = field(default_factory=Counter)
    pages: list[WarcPage] = field(default_factory=list)       # HTTP 200 HTML responses
    other_html: dict[str, str] = field(default_factory=dict)  # url -> status, for non-200 HTML responses
    image_urls: set[str] = field(default_factory=set)         # URLs of 200 image/* responses or resources


def warc_facts(path) -> WarcFacts:
    facts = WarcFacts()
    with open(path, "rb") as f:
        it = ArchiveIterator(f)
        for rec in it:
            facts.types[rec.rec_type] += 1
            if rec.rec_type not in ("response", "resource"):
                continue
            h = rec.rec_headers
            if rec.rec_type == "response" and rec.http_headers is not None:
                status = rec.http_headers.get_statuscode()
                ctype = rec.http_headers.get_header("Content-Type") or ""
            else:
                status, ctype = "200", h.get_header("Content-Type") or ""
            mime = ctype.split(";", 1)[0].strip().lower()
            url = h.get_header("WARC-Target-URI")
            if mime.startswith("image/") and status == "200":
                facts.image_urls.add(url)
            if mime not in HTML_MIMES:
                continue
            if status != "200":
                facts.other_html[url] = status
                continue
            facts.pages.append(WarcPage(it.offset, url, h.get_header("WARC-Record-ID"), h.get_header("WARC-Date"),
                                        rec.content_stream().read(), ctype))
    return facts


# WHATWG Encoding Standard: labels whose encoding is a superset Python names differently.  Browsers (and the
# job) decode "gb2312" as GBK/gb18030 and "iso-8859-1" as windows-1252; libxml2's iconv does not, and maps a
# few GB2312 codes to other characters (A1A4: U+30FB instead of WHATWG's U+00B7).
WHATWG_LABELS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "iso-8859-1": "cp1252",
                 "latin1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252"}
_CHARSET = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def declared_codec(body: bytes, content_type: str) -> str | None:
    """The Python codec of the charset the HTTP header, else a <meta> in the first 1024 bytes, declares."""
    for m in (_CHARSET.search(content_type.encode("latin-1", "replace")), _CHARSET.search(body[:1024])):
        if m:
            label = m.group(1).decode("ascii").lower()
            try:
                return codecs.lookup(WHATWG_LABELS.get(label, label)).name
            except LookupError:
                continue
    return None


_ABSOLUTE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$", re.S)
_PRINTABLE = [chr(c) for c in range(0x21, 0x7f)]
_PATH_SAFE = "".join(c for c in _PRINTABLE if c not in '"#<>?`{}')  # the WHATWG path percent-encode set's complement
_QUERY_SAFE = "".join(c for c in _PRINTABLE if c not in "\"#<>'")  # the special-query set's
_FRAGMENT_SAFE = "".join(c for c in _PRINTABLE if c not in '"<>`')


def browser_form(url: str) -> str:
    """An absolute URL as a browser requests it, by the WHATWG URL Standard's percent-encode sets (space,
    controls, non-ASCII as UTF-8 %XX; '%' left alone) and IDNA for a non-ASCII host (Python's codec)."""
    m = _ABSOLUTE.match(url)
    scheme, authority, path, query, fragment = (g or "" for g in m.groups())
    userinfo, at, hostport = authority.rpartition("@")
    host, colon, port = hostport.partition(":") if not hostport.startswith("[") else (hostport, "", "")
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    return (scheme + quote(userinfo, safe=_PATH_SAFE) + at + host + colon + port + quote(path, safe=_PATH_SAFE)
            + query[:1] + quote(query[1:], safe=_QUERY_SAFE) + fragment[:1] + quote(fragment[1:], safe=_FRAGMENT_SAFE))


def usable_url(base: str, raw: str | None) -> str | None:
    """The absolute http(s) URL an attribute value gives, or None (empty, data:, javascript:, other scheme)."""
    raw = (raw or "").strip(WS)
    if not raw or raw.lower().startswith(("data:", "javascript:")):
        return None
    try:
        url = urljoin(base, raw)
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return None
    return browser_form(url) if ok else None


def first_token(value: str | None) -> str:
    """First URL of a srcset-like value, the naive way: the first whitespace-separated token, commas trimmed."""
    tokens = (value or "").strip(WS + ",").split()
    return tokens[0].rstrip(",") if tokens else ""


@dataclass
class LxmlPage:
    """What lxml sees on one page.

    The independent <img> rule (`usable`): an <img> outside <template> yields an image record when its
    candidate URL is usable (see `usable_url`).  The candidate is `src` when `src` is non-empty and not a
    data: URI; otherwise the first non-empty, non-data: value among LAZY_ATTRS (first token of a srcset).
    `no_url`: neither; `data_only`: only data: values.  The job's own rule differs in details (it prefers a
    lazy attribute over a placeholder-looking src such as blank.gif, and parses srcset the WHATWG way), which
    change WHICH URL an <img> gives but, unless a placeholder src sits beside an unusable lazy value, not
    WHETHER it gives one: so the counts must be equal, page by page, and the tests assert exactly that.

    `plain`: the <img> whose URL cannot be ambiguous: a non-empty non-data: `src` and no lazy attribute
    and no srcset at all.  For them the record's img_url, width, height and alt are fixed exactly.
    `lazy`: (img_url, attribute, True) of the <img> with no usable src (missing, empty, data:) and exactly one
    lazy attribute, not a srcset one (data-src, ...): the lazy-loading case that cannot be ambiguous.
    `sources`: <source> in <picture>: first token of srcset, else of data-srcset (data: values skipped).
    `icon_data`: <link> with an icon rel (icon, apple-touch-icon, mask-icon, image_src) and a data: href.
    """

    n_img: int = 0
    usable: int = 0
    no_url: int = 0
    data_only: int = 0
    javascript: int = 0
    plain: list[tuple] = field(default_factory=list)
    all_plain: bool = True
    lazy: list[tuple] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    sources_data_only: int = 0
    sources_no_url: int = 0
    icon_data: int = 0  # <link rel="icon" ...> (an image link, README) whose href is a data: URI


def _in_template(el) -> bool:
    return any(a.tag == "template" for a in el.iterancestors())


def lxml_page(body: bytes, page_url: str, encoding: str | None = None) -> LxmlPage:
    out = LxmlPage()
    if encoding and encoding.replace("-", "").lower() not in ("utf8", "utf_8"):
        body, encoding = body.decode(encoding, "replace").encode("utf-8"), "utf-8"
    try:
        doc = lxml.html.document_fromstring(body, parser=lxml.html.HTMLParser(encoding=encoding))
    except ParserError:  # an empty document: nothing in it
        return out
    base = page_url
    for b in doc.iter("base"):
        href = b.get("href")
        if href is not None and not _in_template(b):
            if href.strip(WS):
                base = urljoin(page_url, href.strip(WS))
            break
    for el in doc.iter("img"):
        if _in_template(el):
            continue
        out.n_img += 1
        src = (el.get("src") or "").strip(WS)
        has_lazy = any(el.get(a) is not None for a in LAZY_ATTRS)
        if src and not src.lower().startswith("data:"):
            candidate = src
        else:
            values = [first_token(el.get(a)) if "srcset" in a else (el.get(a) or "").strip(WS) for a in LAZY_ATTRS]
            candidate = next((v for v in values if v and not v.lower().startswith("data:")), None)
            if candidate is None:
                out.no_url += not src
                out.data_only += bool(src)
                out.all_plain = False
                continue
        url = usable_url(base, candidate)
        out.usable += url is not None
        out.javascript += candidate.lower().startswith("javascript:")
        if url is not None and candidate == src and not has_lazy:
            out.plain.append((url, el.get("width"), el.get("height"), el.get("alt")))
        else:
            out.all_plain = False
        present = [a for a in LAZY_ATTRS if el.get(a) is not None]
        if url is not None and candidate != src and len(present) == 1 and "srcset" not in present[0]:
            out.lazy.append((url, present[0], True))
    for el in doc.iter("source"):
        # libxml2 does not know that <source> is void and nests a run of them; browsers do not.
        holder = next((a for a in el.iterancestors() if a.tag != "source"), None)
        if holder is None or holder.tag != "picture" or _in_template(el):
            continue
        values = [first_token(el.get(a)) for a in ("srcset", "data-srcset")]
        if not any(values):
            out.sources_no_url += 1
            continue
        candidate = next((v for v in values if v and not v.lower().startswith("data:")), None)
        if candidate is None:
            out.sources_data_only += 1
        elif (url := usable_url(base, candidate)) is not None:
            out.sources.append(url)
    icon_rels = {"icon", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon", "image_src"}
    for el in doc.iter("link"):
        rels = set((el.get("rel") or "").lower().split())
        if rels & icon_rels and (el.get("href") or "").strip(WS).lower().startswith("data:") and not _in_template(el):
            out.icon_data += 1
    return out


def host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


# -------------------------------------------------------------------------------------------------------------
# Running the job (each distinct run once per module)
# -------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def extract():
    cache: dict = {}

    def run(*args: str):
        key = tuple(str(a) for a in args)
        if key not in cache:
            cache[key] = run_job(ExtractImagesJob, ["-r", "inline", *key])
        return cache[key]

    return run


def check_counters_match_records(counters: dict, facts: WarcFacts, rows: list[dict]) -> None:
    """Counters that must equal what warcio and the output say, for one WARC file given as job input."""
    assert_lines_accounted(counters)
    assert counters["input"] == {"lines": 1, "lines ok": 1, "warc files": 1}
    assert "errors" not in counters, counters
    assert counters["records"]["read"] == sum(facts.types.values())
    assert {k[len("type "):]: v for k, v in counters["records"].items() if k.startswith("type ")} == dict(facts.types)
    assert counters.get("pages", {}).get("html", 0) == len(facts.pages)
    assert counters.get("images", {}).get("emitted", 0) == len(rows)
    pages_with_images = {r["warc_offset"] for r in rows}
    assert counters.get("pages", {}).get("without images", 0) == len(facts.pages) - len(pages_with_images)


def check_provenance(path, rows: list[dict], facts: WarcFacts, crawl: str | None, iso_dates: bool = True) -> None:
    """warc_offset leads back to the page's record; crawl, fetch_time, hosts and same_domain are right.

    fetch_time is the record's WARC-Date in ISO 8601 UTC; `iso_dates` False: the WARC-Dates are not dates,
    and fetch_time is null.
    """
    by_offset = {p.offset: p for p in facts.pages}
    for r in rows:
        page = by_offset.get(r["warc_offset"])
        assert page is not None, f"warc_offset {r['warc_offset']} is not the start of an HTML response"
        assert (r["page_url"], r["warc_record_id"]) == (page.url, page.record_id)
        if iso_dates:
            when = datetime.fromisoformat(page.date).astimezone(timezone.utc)
            assert r["fetch_time"] == when.strftime("%Y-%m-%dT%H:%M:%SZ"), (r["fetch_time"], page.date)
        assert r["warc_filename"] == str(path)
        assert r["crawl"] == crawl
        assert (ISO_DATE.match(r["fetch_time"]) if iso_dates else r["fetch_time"] is None), r["fetch_time"]
        assert r["page_host"] == host(r["page_url"]) and r["img_host"] == host(r["img_url"])
        assert r["same_domain"] is (host(r["img_url"]) == host(r["page_url"]))
    per_page = defaultdict(list)
    for r in rows:
        per_page[r["warc_offset"]].append(r)
    for recs in per_page.values():
        assert [r["position"] for r in recs] == list(range(len(recs)))  # document order, per page
        assert {r["page_images"] for r in recs} == {len(recs)}
    # Re-read each record at its offset with a fresh reader: the offset is a real record boundary.
    with open(path, "rb") as f:
        for offset in sorted({r["warc_offset"] for r in rows}):
            f.seek(offset)
            rec = next(iter(ArchiveIterator(f)))
            assert rec.rec_type == "response"
            assert rec.rec_headers.get_header("WARC-Target-URI") == by_offset[offset].url


def check_img_records_against_lxml(rows: list[dict], facts: WarcFacts) -> dict:
    """Per page: the number of <img> records equals the independent count; plain <img> are there exactly.

    Pages are decoded with the charset they declare (WHATWG labels), else lxml guesses from the bytes.
    """
    img_rows = defaultdict(list)
    for r in rows:
        if r["element"] == "img":
            img_rows[r["warc_offset"]].append(r)
    totals = Counter()
    for page in facts.pages:
        want = lxml_page(page.body, page.url, declared_codec(page.body, page.content_type))
        got = img_rows.get(page.offset, [])
        assert len(got) == want.usable, (page.url, want)
        got_tuples = Counter((r["img_url"], r["width_attr"], r["height_attr"], r["alt"]) for r in got)
        missing = Counter(want.plain) - got_tuples
        assert not missing, (page.url, missing)
        missing = Counter(want.lazy) - Counter((r["img_url"], r["src_attr"], r["lazy"]) for r in got)
        assert not missing, (page.url, missing)
        if want.all_plain:
            assert got_tuples == Counter(want.plain), page.url
            totals["plain pages"] += 1
        totals["img"] += want.n_img
        totals["records"] += len(got)
        totals["plain img"] += len(want.plain)
        totals["lazy img"] += len(want.lazy)
        totals["no_url"] += want.no_url
        totals["data_only"] += want.data_only
        totals["javascript"] += want.javascript
        totals["sources"] += len(want.sources)
        totals["sources_data_only"] += want.sources_data_only
        totals["sources_no_url"] += want.sources_no_url
        totals["icon_data"] += want.icon_data
    return totals


# -------------------------------------------------------------------------------------------------------------
# cc/: Common Crawl excerpts
# -------------------------------------------------------------------------------------------------------------

EUGENE = "eugeneware__CC-MAIN-20140820021334-00006-ip-10-180-136-8.ec2.internal.warc"
# file -> (crawl id expected in the records, where it comes from, HTML pages, <img> records)
CC_WARCS = {
    "resiliparse__warcfile.warc.gz": ("CC-MAIN-2020-34", 16, 149),   # from the warcinfo record
    "whirlwind__whirlwind.warc.gz": ("CC-MAIN-2024-22", 1, 13),     # from the warcinfo record
    EUGENE: ("CC-MAIN-2014-35", 3, 861),                            # warcinfo; the name is a segment, no crawl
    "jwarc__cc.warc.gz": (None, 1, 8),                              # one response record: no warcinfo, no id
}
CC_DERIVED = [EUGENE + ".wat", EUGENE + ".wet", "whirlwind__whirlwind.warc.wat.gz",
              "whirlwind__whirlwind.warc.wet.gz"]


@pytest.mark.parametrize("name", sorted(CC_WARCS))
def test_cc_warc_image_records(name, extract):
    path = shared_path("cc", name)
    crawl, n_pages, n_img = CC_WARCS[name]
    facts = warc_facts(path)
    rows, counters = extract(path)
    check_counters_match_records(counters, facts, rows)
    assert len(facts.pages) == n_pages
    check_provenance(path, rows, facts, crawl)
    totals = check_img_records_against_lxml(rows, facts)
    assert totals["records"] == n_img
    # The skip counters cover the <img> with nothing usable (and <source> without srcset).
    skipped = counters.get("skipped", {})
    assert skipped.get("no_src", 0) == totals["no_url"] + totals["sources_no_url"]
    assert skipped.get("javascript_url", 0) == totals["javascript"]
    assert skipped.get("data_url", 0) == totals["data_only"] + totals["sources_data_only"] + totals["icon_data"]


def test_cc_readme_numbers(extract):
    """The README's image counts, as far as they are counts of parsed elements."""
    rows, _ = extract(shared_path("cc", EUGENE))
    assert sum(r["element"] == "img" for r in rows) == 861           # "3 HTML with 861 <img>"
    rows, _ = extract(shared_path("cc", "whirlwind__whirlwind.warc.gz"))
    assert sum(r["element"] == "img" for r in rows) == 13            # "one Wikipedia page (13 <img>)"
    rows, _ = extract(shared_path("cc", "jwarc__cc.warc.gz"))
    assert sum(r["element"] == "img" for r in rows) == 8             # "commoncrawl.org, 8 <img>"
    # resiliparse: the README says 155 <img> tags on 12 pages (a count of tags in the raw bytes); lxml parses
    # 153 <img> elements; 4 have no src at all, so 149 records, on the 12 pages.
    rows, counters = extract(shared_path("cc", "resiliparse__warcfile.warc.gz"))
    assert_lines_accounted(counters)
    assert len({r["warc_offset"] for r in rows if r["element"] == "img"}) == 12
    assert counters["skipped"]["no_src"] == 4


@pytest.mark.parametrize("name", CC_DERIVED)
def test_cc_wat_and_wet_files_give_no_images(name, extract):
    path = shared_path("cc", name)
    facts = warc_facts(path)
    rows, counters = extract(path)
    assert rows == []
    check_counters_match_records(counters, facts, rows)
    assert facts.types["warcinfo"] == 1
    derived = "metadata" if ".wat" in name else "conversion"
    assert set(facts.types) == {"warcinfo", derived} and facts.types[derived] >= 1
    assert "pages" not in counters and "images" not in counters and "skipped" not in counters


# -------------------------------------------------------------------------------------------------------------
# html-aeb/: 181 real article pages, wrapped into a WARC here
# -------------------------------------------------------------------------------------------------------------

AEB_DATE = "2019-11-20T10:00:00Z"


def write_html_warc(path, pages: dict[str, bytes]) -> None:
    """One response record per page (UTF-8 pages only), with a status line and the usual HTTP headers."""
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for url, body in pages.items():
            body.decode("utf-8")  # the header below says UTF-8: make sure it is true
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                               ("Content-Length", str(len(body))),
                                               ("Date", "Wed, 20 Nov 2019 10:00:00 GMT")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                          http_headers=http,
                                                          warc_headers_dict={"WARC-Date": AEB_DATE}))


@pytest.fixture(scope="module")
def aeb(tmp_path_factory):
    """(warc path, {url: body}, rows, counters): the 181 pages in one WARC, run through the job once."""
    folder = shared_path("html-aeb")
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    bodies = {truth[key]["url"]: gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes())
              for key in sorted(truth)}
    assert len(bodies) == len(truth) == 181
    path = tmp_path_factory.mktemp("aeb") / "aeb.warc.gz"
    write_html_warc(path, bodies)
    rows, counters = run_job(ExtractImagesJob, ["-r", "inline", str(path)])
    return path, bodies, rows, counters


def test_aeb_counters_and_provenance(aeb):
    path, bodies, rows, counters = aeb
    facts = warc_facts(path)
    assert len(facts.pages) == 181 and facts.types == Counter(response=181)
    check_counters_match_records(counters, facts, rows)
    check_provenance(path, rows, facts, crawl=None)  # no warcinfo, no crawl id in the name
    assert {r["fetch_time"] for r in rows} == {AEB_DATE}
    assert {r["page_url"] for r in rows} <= set(bodies)


def test_aeb_img_records_match_lxml(aeb):
    """Every page: #<img> records == #<img> with a usable URL (lxml); plain <img> exactly (URL, size, alt)."""
    path, _bodies, rows, counters = aeb
    assert_lines_accounted(counters)
    facts = warc_facts(path)
    totals = check_img_records_against_lxml(rows, facts)
    # How much the independent rule covered, so that a silent shrink of coverage fails too.
    assert totals["img"] == 3808              # <img> elements lxml parses (the README counts 3,965 tags)
    assert totals["records"] == 3660          # == 3808 - 130 data:-only - 18 without any URL
    assert (totals["data_only"], totals["no_url"], totals["javascript"]) == (130, 18, 0)
    assert totals["plain img"] == 2039        # checked element by element (URL, width, height, alt)
    assert totals["plain pages"] == 63        # pages whose <img> set is checked exactly
    assert totals["lazy img"] == 613          # lazy-loaded, checked element by element (URL, attribute)
    assert counters["skipped"]["no_src"] == totals["no_url"] + totals["sources_no_url"]
    assert counters["images"]["emitted"] == len(rows)


def test_aeb_picture_sources_lazy_data_srcset(aeb):
    """<picture><source srcset="data:..." data-srcset="real.jpg">: lazysizes' pattern, as for <img>.

    Regression: the job took `srcset` whenever it was present, found the data: placeholder and skipped
    the source as data_url, losing the real URL in data-srcset.  On rt.com's page that was 22 of its
    <source> elements; the <img> of the same pictures are handled right (data: src, real data-src).
    """
    path, _bodies, rows, counters = aeb
    assert_lines_accounted(counters)
    facts = warc_facts(path)
    source_rows = defaultdict(list)
    for r in rows:
        if r["element"] == "source":
            source_rows[r["warc_offset"]].append(r["img_url"])
    totals = Counter()
    wrong = {}
    for page in facts.pages:
        want = lxml_page(page.body, page.url, "utf-8")
        totals["img data_only"] += want.data_only
        totals["sources"] += len(want.sources)
        totals["sources data_only"] += want.sources_data_only
        if Counter(source_rows.get(page.offset, [])) != Counter(want.sources):
            wrong[page.url] = (len(want.sources), len(source_rows.get(page.offset, [])))
    assert totals["sources"] == 284
    assert wrong == {}, f"<picture><source> records differ (want, got) on {wrong}"
    assert counters["skipped"].get("data_url", 0) == totals["img data_only"] + totals["sources data_only"]


# -------------------------------------------------------------------------------------------------------------
# webarchive/: pages with their images, and truth/ computed from them
# -------------------------------------------------------------------------------------------------------------

TRUTH = {
    "aut__example.warc.gz": "aut__example_img_truth.csv",
    "ukwa__sopa-wikipedia-homepage.warc.gz": "ukwa__sopa_img_truth.csv",
}


def read_truth(name: str) -> list[dict]:
    with open(shared_path("truth", TRUTH[name]), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows and set(rows[0]) >= {"page_url", "img_src_raw", "img_url_abs", "attr_width", "attr_height",
                                     "in_warc"}, rows[:1]
    return rows


def _blank_none(v: str) -> str | None:
    return v if v != "" else None


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_truth_csv_regenerates(name):
    """Don't trust the answer key blindly: its <img src> rows and in_warc come out of the WARC again."""
    truth = read_truth(name)
    path = shared_path("webarchive", name)
    regenerated = Counter()
    with open(path, "rb") as f:
        for rec in ArchiveIterator(f):
            if rec.rec_type != "response" or rec.http_headers is None:
                continue
            if "text/html" not in (rec.http_headers.get_header("Content-Type") or ""):
                continue
            url = rec.rec_headers.get_header("WARC-Target-URI")
            body = rec.content_stream().read()
            if not body.strip():
                continue
            doc = lxml.html.document_fromstring(body)
            bases = [b.get("href") for b in doc.iter("base") if b.get("href")]
            base = urljoin(url, bases[0].strip(WS)) if bases else url
            for el in doc.iter("img"):
                src = el.get("src")
                if src is not None:
                    regenerated[(url, src, urljoin(base, src.strip(WS)), el.get("width") or "",
                                 el.get("height") or "")] += 1
    assert Counter((r["page_url"], r["img_src_raw"], r["img_url_abs"], r["attr_width"], r["attr_height"])
                   for r in truth) == regenerated
    images = warc_facts(path).image_urls
    assert [r["in_warc"] == "1" for r in truth] == [r["img_url_abs"] in images for r in truth]


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_webarchive_img_records_match_truth(name, extract):
    """The job's <img> records == the truth rows of the HTTP 200 HTML pages (src, URL, width, height).

    The truth covers every HTML response; the job reads only status 200 pages (aut's 404/302/301 pages
    are error pages and redirects).  The pages it leaves out are checked to be exactly those.
    """
    path = shared_path("webarchive", name)
    truth = read_truth(name)
    facts = warc_facts(path)
    rows, counters = extract(path)
    check_counters_match_records(counters, facts, rows)
    check_provenance(path, rows, facts, crawl=None)
    ok_pages = {p.url for p in facts.pages}
    want = Counter((r["page_url"], r["img_src_raw"].strip(WS), browser_form(r["img_url_abs"]),
                    _blank_none(r["attr_width"]),
                    _blank_none(r["attr_height"])) for r in truth if r["page_url"] in ok_pages)
    got = Counter((r["page_url"], r["src"], r["img_url"], r["width_attr"], r["height_attr"])
                  for r in rows if r["element"] == "img")
    assert got == want
    left_out = {r["page_url"] for r in truth} - ok_pages
    assert left_out <= set(facts.other_html)
    assert all(facts.other_html[u] != "200" for u in left_out)
    if name.startswith("aut"):
        # README: 140 HTML pages, 858 <img src>; of those pages 94 answered 200 and hold 788 of the <img>.
        assert (len(truth), len(facts.pages) + len(facts.other_html)) == (858, 140)
        assert (len(facts.pages), sum(got.values())) == (94, 788)
        # README: 824 of the 858 resolve to an image record of the file, 48 distinct images.
        assert sum(r["in_warc"] == "1" for r in truth) == 824
        assert len({r["img_url_abs"] for r in truth if r["in_warc"] == "1"}) == 48
        in_warc = [r["img_url"] for r in rows if r["element"] == "img" and r["img_url"] in facts.image_urls]
        truth_ok = [r for r in truth if r["page_url"] in ok_pages and r["in_warc"] == "1"]
        assert len(in_warc) == len(truth_ok)
        assert set(in_warc) == {browser_form(r["img_url_abs"]) for r in truth_ok}
    else:
        assert len(facts.pages) == 1 and sum(got.values()) == len(truth) == 17
        assert all(r["img_url"] in facts.image_urls for r in rows if r["element"] == "img")  # every <img> resolves


def test_clueweb_quirk_does_not_crash(extract):
    """ClueWeb's quirky WARC: README says 29 HTML pages, about 1,250 <img>."""
    path = shared_path("webarchive", "resiliparse__clueweb-quirk.warc.gz")
    facts = warc_facts(path)
    rows, counters = extract(path)
    check_counters_match_records(counters, facts, rows)
    # One of its quirks: WARC-Date values such as "2008-10-294T05:21:46-0700": not dates, so null and counted.
    check_provenance(path, rows, facts, crawl=None, iso_dates=False)
    assert counters["records"]["without a valid WARC-Date"] == 29
    assert counters["pages"]["html"] == 29
    totals = check_img_records_against_lxml(rows, facts)
    assert abs(totals["records"] - 1250) <= 25, totals
    assert totals["records"] == totals["img"] == 1252  # every <img> here has a plain usable src


# -------------------------------------------------------------------------------------------------------------
# --aggregate and AggregateImagesJob
# -------------------------------------------------------------------------------------------------------------

AGG_INPUTS = [("webarchive", "aut__example.warc.gz"), ("cc", "resiliparse__warcfile.warc.gz"),
              ("cc", "whirlwind__whirlwind.warc.gz")]


def declared_size(w: str | None, h: str | None) -> str | None:
    # "WxH" from the raw attributes (stripped), a missing side left empty.
    return f"{(w or '').strip()}x{(h or '').strip()}" if w is not None or h is not None else None


def expected_aggregates(occurrences: list[dict]) -> dict[str, dict]:
    by_url = defaultdict(list)
    for r in occurrences:
        by_url[r["img_url"]].append(r)
    out = {}
    for url, occ in by_url.items():
        out[url] = {
            "occurrences": len(occ),
            "pages": {r["page_url"] for r in occ},
            "sites": {host(r["page_url"]) for r in occ},
            "alts": {r["alt"] for r in occ if r["alt"]},
            "declared_sizes": {d for r in occ if (d := declared_size(r["width_attr"], r["height_attr"]))},
            "elements": Counter(r["element"] for r in occ),
            "crawls": {r["crawl"] for r in occ if r["crawl"]},
            "first_seen": min(r["fetch_time"] for r in occ),
            "last_seen": max(r["fetch_time"] for r in occ),
        }
    return out


def check_aggregates(agg: list[dict], expected: dict[str, dict]) -> None:
    assert len(agg) == len({a["img_url"] for a in agg}) == len(expected)
    for a in agg:
        e = expected[a["img_url"]]
        assert a["occurrences"] == e["occurrences"], a
        assert a["pages"] == len(e["pages"]), a
        assert a["sites"] == len(e["sites"]), a
        assert a["elements"] == dict(e["elements"]), a
        assert (a["first_seen"], a["last_seen"]) == (e["first_seen"], e["last_seen"]), a
        assert a["example_page"] in e["pages"], a
        for name in ("alts", "declared_sizes", "crawls"):
            got, want = a[name], e[name]
            assert len(got) == len(set(got)), (name, a)
            if len(want) <= MAX_LIST:
                assert set(got) == want, (name, a)
            else:  # capped: the MAX_LIST smallest true values, whatever the merge order
                assert got == sorted(want)[:MAX_LIST], (name, a)
        assert a["example_page"] == min(e["pages"]), a


@pytest.fixture(scope="module")
def aggregated(extract):
    paths = [shared_path(*p) for p in AGG_INPUTS]
    occurrences, occ_counters = extract(*paths)
    agg, agg_counters = extract("--aggregate", *paths)
    return occurrences, occ_counters, agg, agg_counters


def test_aggregate_equals_aggregation_of_occurrences(aggregated):
    occurrences, occ_counters, agg, agg_counters = aggregated
    expected = expected_aggregates(occurrences)
    check_aggregates(agg, expected)
    assert_lines_accounted(agg_counters)
    assert agg_counters["images"]["distinct urls"] == len(expected) == len(agg)
    # The map side is the same run: same counters apart from the reducer's.
    assert {g: c for g, c in agg_counters.items() if g != "images"} == {
        g: c for g, c in occ_counters.items() if g != "images"}
    assert agg_counters["images"]["emitted"] == occ_counters["images"]["emitted"] == len(occurrences)
    # The data exercises what matters: images on many pages, across files and crawls, a capped alt list.
    assert max(a["pages"] for a in agg) > 50
    assert {c for a in agg for c in a["crawls"]} == {"CC-MAIN-2020-34", "CC-MAIN-2024-22"}
    assert any(len(e["alts"]) > MAX_LIST for e in expected.values())
    assert sum(a["occurrences"] for a in agg) == len(occurrences)


def test_aggregate_job_over_jsonl_gives_the_same(aggregated, tmp_path):
    occurrences, _occ_counters, agg, _agg_counters = aggregated
    jsonl = tmp_path / "occurrences.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in occurrences), encoding="utf-8")
    agg2, counters = run_job(AggregateImagesJob, ["-r", "inline", str(jsonl)])
    check_aggregates(agg2, expected_aggregates(occurrences))
    assert counters["input"]["records"] == len(occurrences)
    assert "errors" not in counters
    assert counters["images"]["distinct urls"] == len(agg2)

    def stable(a: dict) -> dict:  # fields that do not depend on the order partials are merged in
        s = {k: v for k, v in a.items() if k not in ("alts", "declared_sizes", "crawls", "example_page")}
        s.update({k: sorted(a[k]) for k in ("alts", "declared_sizes", "crawls") if len(a[k]) < MAX_LIST})
        return s

    assert sorted(map(stable, agg2), key=lambda a: a["img_url"]) == sorted(map(stable, agg),
                                                                              key=lambda a: a["img_url"])


# -------------------------------------------------------------------------------------------------------------
# html-more/: real pages on which the extractor raised (found by a sweep of all 5,409 pages against lxml)
# -------------------------------------------------------------------------------------------------------------

def run_html_more(tmp_path, files: list[str]):
    """The named html-more pages in one WARC, through the job; checked page by page against lxml."""
    index = {}
    with open(shared_path("html-more", "pages.jsonl"), encoding="utf-8") as f:
        for line in f:
            meta = json.loads(line)
            index[meta["file"]] = meta
    pages = {index[name]["url"]: gzip.decompress(shared_path("html-more", name).read_bytes()) for name in files}
    path = tmp_path / "html-more.warc.gz"
    write_html_warc(path, pages)
    facts = warc_facts(path)
    rows, counters = run_job(ExtractImagesJob, ["-r", "inline", str(path)])
    assert_lines_accounted(counters)
    return rows, counters, facts


def test_html_more_processing_instruction_beside_an_image(tmp_path):
    """Pages holding `<?php ... ?>` in the parent of an image (served unprocessed PHP, common enough).

    lexbor parses `<?php ?>` into a node whose `.tag` is None: the lexbor backend's sibling count and text
    walk must skip it (they once raised AttributeError, and the job lost the whole page).
    """
    rows, counters, facts = run_html_more(tmp_path, ["dragnet/R464.html.gz", "msv-chaos/ranger_8_.htm.gz"])
    assert counters.get("errors", {}) == {}
    assert counters["pages"]["html"] == len(facts.pages)
    totals = check_img_records_against_lxml(rows, facts)
    assert totals["records"] == 29 + 2


def test_html_more_link_with_bracketed_non_ip_host(tmp_path):
    """`<a href="http://[ccpa-preferences]">` (a template placeholder left in three TV station pages).

    Since Python 3.11.4 urlsplit raises ValueError for a bracketed host that is not an IP address; the link
    is no image, and reading its extension must not call urlsplit (it once did, and the page's 152 images
    were lost with it).
    """
    files = ["htmldate/eval/fox2news.com-Hawley.html.gz", "htmldate/eval/kron4.com-wolf.html.gz",
             "htmldate/eval/wivb.com-offenses.html.gz"]
    rows, counters, facts = run_html_more(tmp_path, files)
    assert counters.get("errors", {}) == {}
    assert counters["pages"]["html"] == len(facts.pages)
    totals = check_img_records_against_lxml(rows, facts)
    assert totals["records"] == 51 + 55 + 46
