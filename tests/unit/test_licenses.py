"""License URLs and texts normalised, places and precedence, figure captions: features/page/licenses.py."""
from __future__ import annotations

import pytest

from features.page.images import ImageExtractor
from features.page.licenses import License, has_license_hint, parse_license_text, parse_license_url


@pytest.mark.parametrize("url, expected", [
    ("https://creativecommons.org/licenses/by-sa/4.0/", ("by-sa", "4.0", None)),
    ("http://creativecommons.org/licenses/by-nc-nd/3.0/de/deed.en", ("by-nc-nd", "3.0", "de")),
    ("//creativecommons.org/licenses/by/2.0/legalcode", ("by", "2.0", None)),
    ("https://www.creativecommons.org/licenses/by-nc/2.0/uk/", ("by-nc", "2.0", "uk")),
    ("HTTP://CreativeCommons.org/Licenses/BY/4.0/", ("by", "4.0", None)),
    ("creativecommons.org/licenses/by-nd-nc/1.0/", ("by-nc-nd", "1.0", None)),
    ("https://creativecommons.org/publicdomain/zero/1.0/deed.fr", ("cc0", "1.0", None)),
    ("https://creativecommons.org/publicdomain/mark/1.0/", ("pdm", "1.0", None)),
    ("http://creativecommons.org/licenses/publicdomain/", ("publicdomain", None, None)),
    ("https://i.creativecommons.org/l/by-sa/4.0/88x31.png", ("by-sa", "4.0", None)),
    ("https://creativecommons.org/licenses/by/4.0/deed", ("by", "4.0", None)),
])
def test_license_urls_are_normalised(url, expected):
    found = parse_license_url(url)
    assert (found.license, found.version, found.jurisdiction) == expected


@pytest.mark.parametrize("url", [
    "https://creativecommons.org/", "https://creativecommons.org/about/", "https://creativecommons.org/licenses/",
    "https://creativecommons.org/licenses/gpl/2.0/", "https://notcreativecommons.org/licenses/by/4.0/",
    "https://example.com/creativecommons.org/licenses/by/4.0/", "https://www.gnu.org/licenses/gpl-3.0.html",
    "", None, "http://[::1", "https://creativecommons.org/publicdomain/other/1.0/",
])
def test_other_urls_are_no_license(url):
    assert parse_license_url(url) is None


@pytest.mark.parametrize("text, expected", [
    ("Foto: Karin Dalziel CC BY 2.0", ("by", "2.0")),
    ("Autor: BelleCo / CC0 / pexels.com", ("cc0", "1.0")),
    ("licensed CC-BY-NC-SA 4.0 by the author", ("by-nc-sa", "4.0")),
    ("CC BY-SA", ("by-sa", None)),
    ("Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International", ("by-nc-sa", "4.0")),
    ("Creative Commons Attribution License (http://creativecommons.org/licenses/by/4.0/)", ("by", "4.0")),
    ("PKO LICENSE: Creative Commons Attribution", ("by", None)),
])
def test_license_texts(text, expected):
    found = parse_license_text(text)
    assert (found.license, found.version) == expected


@pytest.mark.parametrize("text", ["Copyright 2025 Springer Nature Limited", "ACCBY 2.0", "cc by the author",
                                  "the CCBYSA group", "CC0123", ""])
def test_texts_without_license(text):
    assert parse_license_text(text) is None


def test_canonical_url():
    assert License("by-sa", "3.0", "de", "link").url == "https://creativecommons.org/licenses/by-sa/3.0/de/"
    assert License("cc0", "1.0", None, "meta").url == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert License("publicdomain", None, None, "body").url == "https://creativecommons.org/licenses/publicdomain/"


def test_hint_on_bytes_and_text():
    assert has_license_hint("", b"<a rel=\"License\">") and has_license_hint("<a rel=\"license\">")
    assert has_license_hint("", b"//creativecommons.org/x") and not has_license_hint("", b"<p>CC BY</p>")
    assert not has_license_hint("<html><img src=a.jpg></html>")


CC = "https://creativecommons.org/licenses"
PLACES_PAGE = f"""<html><head>
<meta name="dcterms.license" content="{CC}/by/4.0/">
<script type="application/ld+json">{{"@graph": [{{"@type": "ImageObject", "license": "{CC}/by-nd/4.0/"}},
  {{"@type": "WebPage", "license": "{CC}/by-sa/4.0/"}}]}}</script>
<link rel="license" href="{CC}/by-nc/4.0/"></head>
<body><img src="/a.jpg">
<p>see <a href="{CC}/by-nc-nd/4.0/">a deed</a></p>
<figure><a href="/big.jpg"><img src="/b.jpg"></a><figcaption>Photo: X, <a href="{CC}/by-sa/2.0/">CC BY-SA 2.0</a>
</figcaption></figure>
<figure><img src="/c.jpg"><figcaption>Autor: Y / CC0 / pexels.com</figcaption></figure>
<figure><img src="/d.jpg"><figcaption>no license here</figcaption></figure>
<div id="site-footer"><a href="{CC}/by-nc-sa/3.0/us/">CC</a></div></body></html>"""


def _licenses(html, parser):
    page = ImageExtractor(parser).extract(html, "https://example.org/p")
    return {r["img_url"].rsplit("/", 1)[1]: (r["license"], r["license_version"], r["license_jurisdiction"],
                                             r["license_place"]) for r in page.images}


def _without(html: str, *pieces: str) -> str:
    for piece in pieces:
        assert piece in html
        html = html.replace(piece, "")
    return html


@pytest.mark.parametrize("parser", ["lexbor", "bs4"])
def test_places_and_precedence(parser):
    meta = f'<meta name="dcterms.license" content="{CC}/by/4.0/">'
    jsonld = PLACES_PAGE[PLACES_PAGE.index("<script"):PLACES_PAGE.index("</script>") + 9]
    link = f'<link rel="license" href="{CC}/by-nc/4.0/">'
    footer = f'<div id="site-footer"><a href="{CC}/by-nc-sa/3.0/us/">CC</a></div>'
    found = _licenses(PLACES_PAGE, parser)
    # figure captions win for their images (a deed link in one, "CC0" text in the other); the rest get the page's
    assert found["b.jpg"] == ("by-sa", "2.0", None, "figure")
    assert found["big.jpg"] == ("by-sa", "2.0", None, "figure")
    assert found["c.jpg"] == ("cc0", "1.0", None, "figure")
    assert found["a.jpg"] == found["d.jpg"] == ("by", "4.0", None, "meta")
    # take the winning place away, one after the other: the next place in PLACES takes over
    assert _licenses(_without(PLACES_PAGE, meta), parser)["a.jpg"] == ("by-sa", "4.0", None, "jsonld")
    assert _licenses(_without(PLACES_PAGE, meta, jsonld), parser)["a.jpg"] == ("by-nc", "4.0", None, "link")
    assert _licenses(_without(PLACES_PAGE, meta, jsonld, link), parser)["a.jpg"] == (
        "by-nc-sa", "3.0", "us", "footer")
    assert _licenses(_without(PLACES_PAGE, meta, jsonld, link, footer), parser)["a.jpg"] == (
        "by-nc-nd", "4.0", None, "body")


@pytest.mark.parametrize("parser", ["lexbor", "bs4"])
def test_figure_credit_is_not_the_page_license(parser):
    html = f"""<html><body><img src="/a.jpg"><figure><img src="/b.jpg">
    <figcaption>Photo: <a href="{CC}/by/2.0/" rel="license">CC BY 2.0</a></figcaption></figure></body></html>"""
    found = _licenses(html, parser)
    assert found["a.jpg"] == (None, None, None, None)
    assert found["b.jpg"] == ("by", "2.0", None, "figure")


@pytest.mark.parametrize("parser", ["lexbor", "bs4"])
def test_non_cc_rel_license_and_bad_jsonld_give_nothing(parser):
    html = """<html><head><link rel="license" href="/terms"><script type="application/ld+json">{"license": </script>
    <meta name="copyright" content="(c) 2025 Example Inc."></head><body><img src="/a.jpg"></body></html>"""
    rec = ImageExtractor(parser).extract(html, "https://example.org/").images[0]
    assert rec["license"] is None and rec["license_url"] is None and rec["license_place"] is None
