"""Creative Commons licenses on the real pages of ../shared/data: hand-checked pages, counts, both parsers.

The expectations below were checked by reading each page's source (the element and its ancestors).
The scan reads only pages whose bytes match a broad hint (any "licence"/"license", "creativecommons",
"CC BY", "CC0", any case): a page without one cannot declare a license by any rule of
features/page/licenses.py, so the counts are those of the whole collection.
"""
from __future__ import annotations

import gzip
import json
import re
from collections import Counter

import pytest

from features.page.images import ImageExtractor
from models.corpus import CorpusReader, html_record
from tests.conftest import shared_path

BROAD_HINTS = (b"licen", b"creativecommons", b"cc by", b"cc-by", b"ccby", b"cc0")  # searched in the lower-cased page
# An independent look at the markup: a rel="license" element whose href is a CC deed.
REL_LICENSE_TO_CC = re.compile(
    rb"<(?:link|a)\b[^>]*\brel=[\"']?[^\"'>]*\blicense\b[^>]*\bhref=[\"']?(?:https?:)?//(?:www\.)?creativecommons\.org/"
    rb"(?:licenses|publicdomain)/|<(?:link|a)\b[^>]*\bhref=[\"']?(?:https?:)?//(?:www\.)?creativecommons\.org/"
    rb"(?:licenses|publicdomain)/[^>]*\brel=[\"']?[^\"'>]*\blicense\b", re.I)

# file -> {(license, version, jurisdiction, place): images}, or the set of licenses where counts are not the point
HAND_CHECKED = {
    # <div id="footer"> ... licensed <a href=".../licenses/by/3.0/us/">CC-BY</a>
    "dragnet/R24.html.gz": {("by", "3.0", "us", "footer")},
    # <div id="customfooter"> Images: <a rel="license" href=".../by-nc/2.0/uk/">: rel=license beats the footer
    "dragnet/R404.html.gz": {("by-nc", "2.0", "uk", "link")},
    # <div id="footer_grad"> ... <div class="copyright"><a href=".../by-nc-nd/2.5/">
    "dragnet/R21.html.gz": {("by-nc-nd", "2.5", None, "footer")},
    # Wikipedia: <link rel="license" href="https://creativecommons.org/licenses/by-sa/4.0/deed.en">
    "wcxb/dev/2904.html.gz": {("by-sa", "4.0", None, "link")},
    # <meta name="DC.Rights" content="... Creative Commons Attribution License
    #   (http://creativecommons.org/licenses/by/4.0/) ...">
    "wcxb/dev/2020.html.gz": {("by", "4.0", None, "meta")},
    # JSON-LD "license": "https://creativecommons.org/licenses/by-nc-sa/4.0/"
    "wcxb/dev/2684.html.gz": {("by-nc-sa", "4.0", None, "jsonld")},
    # one <figure> with <figcaption>Foto: ... <a href=".../by-sa/2.0/">CC BY-SA 2.0</a>; nothing for the page
    "htmldate/eval/akweb.de-Antisemitismus.html.gz": {("by-sa", "2.0", None, "figure"), (None, None, None, None)},
    # <figcaption> <span class="author">Autor: BelleCo, Cottonbro Studio / CC0 / pexels.com</span>
    "mercury/szczecin.se.pl_1739329179505.html.gz": {("cc0", "1.0", None, "figure"), (None, None, None, None)},
    # captions "Image Credit: ... via Flickr (<a href=".../licenses/by/2.0/">license</a>)" and a by-sa/2.0 one
    "wcxb/dev/0334.html.gz": {("by", "2.0", None, "figure"), ("by-sa", "2.0", None, "figure"),
                              (None, None, None, None)},
    # captions "Foto: Karin Dalziel CC BY 2.0" (text only); the page's own credits link .../by/2.0/deed.de in <p>
    "htmldate/cache/futurezone.at.cc.html.gz": {("by", "2.0", None, "figure"), ("by", "2.0", None, "body")},
}


def _pages():
    root = shared_path("html-more")
    with open(root / "pages.jsonl", encoding="utf-8") as f:
        for line in f:
            meta = json.loads(line)
            url = meta.get("url") or meta.get("canonical_url")
            if url:
                yield meta, url, gzip.decompress((root / meta["file"]).read_bytes())


def _licenses(extractor, meta, url, body) -> list[tuple]:
    ctype = f"text/html; charset={meta['charset']}" if meta.get("charset") else "text/html"
    page = extractor.extract_payload(body, ctype, url)
    return [(r["license"], r["license_version"], r["license_jurisdiction"], r["license_place"]) for r in page.images]


@pytest.fixture(scope="module")
def scan():
    """file -> license tuples of its images, for every page with a broad hint; plus the rel=license pages."""
    extractor = ImageExtractor("lexbor")
    found, rel_pages, hinted, total = {}, set(), 0, 0
    for meta, url, body in _pages():
        total += 1
        low = body.lower()
        if not any(h in low for h in BROAD_HINTS):
            continue
        hinted += 1
        found[meta["file"]] = _licenses(extractor, meta, url, body)
        if REL_LICENSE_TO_CC.search(body):
            rel_pages.add(meta["file"])
    return found, rel_pages, hinted, total


def test_hand_checked_pages(scan):
    found = scan[0]
    for file, expected in HAND_CHECKED.items():
        assert set(found[file]) == expected, file


def test_license_counts_on_the_shared_pages(scan):
    found, rel_pages, hinted, total = scan
    with_license = {f: lic for f, lic in found.items() if any(x[0] for x in lic)}
    by_place = Counter(x[3] for lic in with_license.values() for x in set(lic) if x[0])
    by_license = Counter(x[0] for lic in with_license.values() for x in set(lic) if x[0])
    print(f"\nhtml-more: {total} pages with a URL, {hinted} with a hint, {len(with_license)} with a CC license; "
          f"pages by place {dict(by_place)}; by license {dict(by_license)}")
    assert set(HAND_CHECKED) <= set(with_license)
    # Every place and both public-domain tools are met on real pages.
    assert set(by_place) == {"meta", "jsonld", "link", "footer", "body", "figure"}
    assert {"cc0", "pdm"} <= set(by_license)
    # Independent of the module's own walk: a page with rel="license" to a deed has a page license from
    # rel=license or a place before it, on all its images outside figures (the regex cannot see figures:
    # it is checked on images whose place is not "figure").
    assert rel_pages
    for file in rel_pages:
        page_places = {x[3] for x in found[file] if x[3] != "figure"}
        assert page_places and page_places <= {"meta", "jsonld", "link"}, (file, page_places)


def test_both_parsers_agree_on_the_hand_checked_pages():
    lexbor, bs4 = ImageExtractor("lexbor"), ImageExtractor("bs4")
    for meta, url, body in _pages():
        if meta["file"] in HAND_CHECKED and len(body) < 400_000:
            assert _licenses(lexbor, meta, url, body) == _licenses(bs4, meta, url, body), meta["file"]


def test_licenses_in_real_warcs():
    """Whole real WARCs through the extraction job's own path: Wikipedia and archive.org pages mark theirs."""
    reader = CorpusReader(shared_path(""), stated=False)  # the extraction job's own records
    pages = {}
    for name in ("cc/whirlwind__whirlwind.warc.gz", "webarchive/ukwa__sopa-wikipedia-homepage.warc.gz",
                 "webarchive/aut__example.warc.gz"):
        for rec in reader.warc(shared_path(*name.split("/"))):
            if rec["license"]:
                pages.setdefault(rec["page_url"], set()).add(
                    (rec["license"], rec["license_version"], rec["license_place"]))
    assert pages["https://an.wikipedia.org/wiki/Escopete"] == {("by-sa", "4.0", "link")}
    assert pages["http://en.wikipedia.org/wiki/Main_Page"] == {("by-sa", "3.0", "link")}  # 2012
    # <a rel="license" href="http://creativecommons.org/licenses/publicdomain/">: the old public-domain deed
    assert pages["http://www.archive.org/details/no_thoroughfare_librivox"] == {("publicdomain", None, "link")}
    assert len(pages) == 6


def test_bare_html_record_path_gives_the_same_licenses():
    """The corpus reads bare HTML files as resource records: the license fields come through that path too."""
    meta, url, body = next(p for p in _pages() if p[0]["file"] == "wcxb/dev/2904.html.gz")
    reader = CorpusReader(shared_path(""), stated=False)  # the extraction job's own records
    recs = reader._images(html_record(url, body, meta.get("charset")), meta["file"], "test")
    assert recs and {r["license_url"] for r in recs} == {"https://creativecommons.org/licenses/by-sa/4.0/"}
