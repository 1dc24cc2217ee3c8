"""The extraction rules of features/page_images.py, each on a small page, with both parsers."""
from __future__ import annotations

import pytest

from features.page.charset import decode_html, sniff_charset
from features.page.record_fields import REQUIRED
from features.page.images import ImageExtractor, extract_images, is_placeholder
from features.page.srcset import first_url, parse_srcset, width_descriptors

PARSERS = ["lexbor", "bs4"]
PAGE = "https://www.example.com/news/story.html"


def extract(html: str, parser: str, page_url: str = PAGE):
    return ImageExtractor(parser).extract(html, page_url)


@pytest.mark.parametrize("parser", PARSERS)
def test_img_src_resolved_against_page_and_base(parser):
    r = extract("<img src='a.jpg'><img src='/b.png'><img src='//cdn.example.net/c.gif'>", parser)
    assert [i["img_url"] for i in r.images] == [
        "https://www.example.com/news/a.jpg", "https://www.example.com/b.png", "https://cdn.example.net/c.gif"]
    r = extract("<head><base href='/assets/v2/'></head><img src='a.jpg'><img src='/b.png'>", parser)
    assert [i["img_url"] for i in r.images] == [
        "https://www.example.com/assets/v2/a.jpg", "https://www.example.com/b.png"]


@pytest.mark.parametrize("parser", PARSERS)
def test_lazy_loading_replaces_placeholder_src(parser):
    html = ("<img src='/img/blank.gif' data-src='/real/1.jpg'>"
            "<img src='data:image/gif;base64,R0lGOD' data-lazy-src='/real/2.jpg'>"
            "<img data-srcset='/real/3-300.jpg 300w, /real/3-600.jpg 600w'>"
            "<img src='/real/4.jpg' data-src='/real/4-big.jpg'>")
    imgs = extract(html, parser).images
    assert [(i["img_url"].rsplit("/", 1)[1], i["src_attr"], i["lazy"]) for i in imgs] == [
        ("1.jpg", "data-src", True), ("2.jpg", "data-lazy-src", True), ("3-300.jpg", "data-srcset", True),
        ("4.jpg", "src", False)]


@pytest.mark.parametrize("parser", PARSERS)
def test_skips_are_counted_by_reason(parser):
    html = ("<img src='data:image/png;base64,AAAA'><img><img src=''><img src='javascript:void(0)'>"
            "<img src='mailto:x@example.com'><img src='ok.png'>")
    r = extract(html, parser)
    assert [i["src"] for i in r.images] == ["ok.png"]
    assert dict(r.skipped) == {"data_url": 1, "no_src": 2, "javascript_url": 1, "other_scheme": 1}


@pytest.mark.parametrize("parser", PARSERS)
def test_picture_sources_and_media_links(parser):
    html = ("<picture><source srcset='/w.webp 1600w, /n.webp 800w'><img src='/p.jpg'></picture>"
            "<video><source src='/v.mp4'></video>"
            "<a href='/full.JPG?size=big'>x</a><a href='/page.html'>y</a>"
            "<link rel='icon' href='/favicon.ico'><link rel='stylesheet' href='/s.css'>"
            "<link rel='apple-touch-icon' href='/touch'><link rel='preload' as='image' href='/hero'>"
            "<embed src='/e.svg'><object data='/o.png'></object><iframe src='/i.gif'></iframe>"
            "<iframe src='/frame.html'></iframe>")
    imgs = extract(html, parser).images
    got = [(i["element"], i["img_url"].split(".com", 1)[1]) for i in imgs]
    assert got == [("source", "/w.webp"), ("img", "/p.jpg"), ("a", "/full.JPG?size=big"), ("link", "/favicon.ico"),
                   ("link", "/touch"), ("link", "/hero"), ("embed", "/e.svg"), ("object", "/o.png"),
                   ("iframe", "/i.gif")]


@pytest.mark.parametrize("parser", PARSERS)
def test_context_fields(parser):
    html = ("<html><body><div id='c'><p>Before <b>bold</b> <script>var no=1</script>after"
            "<img src='x.jpg' alt='An alt' title='T' width='640' height='480' class='hero big'><span>s</span></p>"
            "</div><template><img src='inert.jpg'></template></body></html>")
    imgs = extract(html, parser).images
    assert len(imgs) == 1  # <template> content is inert
    img = imgs[0]
    for field in REQUIRED:
        assert field in img or field in ("warc_filename", "warc_offset", "crawl", "fetch_time")
    assert img["parent_tag"] == "p"
    assert img["parent_text"] == "Before bold afters"  # script text left out, whitespace collapsed
    assert img["dom_depth"] == 4  # html > body > div > p > img
    assert img["dom_siblings"] == 3  # b, script, span
    assert (img["alt"], img["title"], img["width_attr"], img["height_attr"]) == ("An alt", "T", "640", "480")
    assert img["class"] == "hero big"
    assert img["same_domain"] is True and img["page_images"] == 1 and img["position"] == 0


@pytest.mark.parametrize("parser", PARSERS)
def test_the_sizes_the_other_files_of_the_page_declare(parser):
    """Counted per page and per folder, without the image's own file under another URL or format."""
    html = ("<img src='/a/x.jpg' width='800' height='600'><img src='/a/X.webp?w=300'>"
            "<img src='/a/y.jpg' width='100px' height='50'><img src='/a/z.jpg' width='100%' height='50'>"
            "<img src='/b/w.png'><img src='/b/v.png' width='500' height='700'>")
    fields = [f"{scope}_declared_{what}" for scope in ("page", "folder") for what in ("others", "big", "longest")]
    got = {img["img_url"].rsplit("/", 2)[-2] + "/" + img["img_url"].rsplit("/", 1)[-1]: tuple(img[f] for f in fields)
           for img in extract(html, parser).images}
    assert got == {
        "a/x.jpg": (2, 1, 400, 1, 0, 100),  # y and v on the page; y in /a/ (x.webp is x itself; z declares no pixels)
        "a/X.webp?w=300": (2, 1, 400, 1, 0, 100),
        "a/y.jpg": (2, 2, 750, 1, 1, 800),
        "a/z.jpg": (3, 2, 533, 2, 1, 450),
        "b/w.png": (3, 2, 533, 1, 1, 700),
        "b/v.png": (2, 1, 450, 0, 0, None),
    }


@pytest.mark.parametrize("parser", PARSERS)
def test_parent_text_is_capped_at_500_and_equal_to_full_text_prefix(parser):
    words = " ".join(f"word{i}" for i in range(400))
    img = extract(f"<div>{words}<img src='x.jpg'>{words}</div>", parser).images[0]
    assert len(img["parent_text"]) == 500
    assert img["parent_text"] == " ".join((words + words).split())[:500]


def test_srcset_parsing_follows_the_browser_algorithm():
    assert parse_srcset("a.jpg 1x, b.jpg 2x") == [("a.jpg", "1x"), ("b.jpg", "2x")]
    # commas inside URLs (CDN transforms) do not split candidates
    assert parse_srcset("https://c.net/w_300,h_200/a.jpg 300w, https://c.net/w_600,h_400/a.jpg 600w") == [
        ("https://c.net/w_300,h_200/a.jpg", "300w"), ("https://c.net/w_600,h_400/a.jpg", "600w")]
    assert parse_srcset("a.jpg, b.jpg 2x") == [("a.jpg", ""), ("b.jpg", "2x")]
    assert parse_srcset("") == [] and first_url(None) is None
    assert width_descriptors("a.jpg 480w, b.jpg 1024w, c.jpg 2x") == [480, 1024]


def test_placeholders():
    assert is_placeholder("") and is_placeholder("data:image/gif;base64,xx")
    assert is_placeholder("/wp-content/themes/x/images/blank.gif")
    assert is_placeholder("https://x.com/img/spacer.png?v=2")
    assert not is_placeholder("/photos/grey-whale.jpg") and not is_placeholder("/a/dotcom-logo.png")


def test_charset_sniffing_order():
    assert sniff_charset(b"\xef\xbb\xbf<p>x") == "utf-8-sig"
    assert sniff_charset("<p>é</p>".encode("latin-1"), "text/html; charset=ISO-8859-1") == "cp1252"
    assert sniff_charset(b'<meta charset="shift_jis"><p>x') == "cp932"  # WHATWG's Shift_JIS is Windows-31J
    assert sniff_charset("<p>é</p>".encode()) == "utf-8"
    assert sniff_charset("<p>é</p>".encode("latin-1")) == "cp1252"
    assert sniff_charset(b"<p>x", "text/html; charset=no-such-charset") == "utf-8"
    text, enc = decode_html("<p>\u00e9\u4e2d</p>".encode("gb18030"), "text/html; charset=gb2312")
    assert enc == "gb18030" and "\u4e2d" in text


# -- the WHATWG Encoding Standard ----------------------------------------------------------------------
CHARSET_PAGE = "<html><head>{meta}</head><body><p>caf\u00e9 \u2013 \u4e2d</p><img src=x.png></body></html>"


@pytest.mark.parametrize("label, codec", [
    ("latin1", "cp1252"), ("ISO-8859-1", "cp1252"), ("us-ascii", "cp1252"), ("x-sjis", "cp932"),
    ("gb2312", "gb18030"), ("GBK", "gb18030"), ("euc-kr", "cp949"), ("big5", "big5hkscs"),
    ("windows-1251", "cp1251"), ("koi8-r", "koi8-r"), ("  UTF8  ", "utf-8"), ("unicode-1-1-utf-8", "utf-8"),
])
def test_labels_are_read_with_the_whatwg_table(label, codec):
    """Labels as browsers read them (the Encoding Standard's table), not as Python's codec registry does."""
    body = CHARSET_PAGE.format(meta="").encode(codec.replace("cp1252", "cp1252"), "replace")
    assert decode_html(body, f"text/html; charset={label}")[1] == codec
    assert decode_html(f'<meta charset="{label}">'.encode() + body, None)[1] == codec


@pytest.mark.parametrize("label", ["cp500", "ebcdic-cp-us", "cp037", "ibm1047", "utf-32", "base64", "rot13",
                                   "hex", "x-unknown"])
def test_labels_browsers_do_not_know_are_ignored(label):
    """EBCDIC code pages (cp500, cp037), UTF-32 and Python's non-text codecs are not WHATWG labels: browsers
    ignore them and so do we (Python would decode cp500 happily, into nonsense)."""
    body = CHARSET_PAGE.format(meta="").encode("utf-8")
    text, codec = decode_html(body, f"text/html; charset={label}")
    assert codec == "utf-8" and "caf\u00e9" in text


@pytest.mark.parametrize("meta", ['<meta charset="utf-16">', '<meta charset="UTF-16LE">', "<meta charset=utf-16be>",
                                  '<meta charset="utf-32">',
                                  '<meta http-equiv="Content-Type" content="text/html; charset=utf-16">'])
def test_a_meta_naming_utf16_or_utf32_means_utf8(meta):
    body = CHARSET_PAGE.format(meta=meta).encode("utf-8")
    text, codec = decode_html(body, "text/html")
    assert codec == "utf-8" and "caf\u00e9 \u2013 \u4e2d" in text


def test_header_utf16_reads_a_utf16le_body_without_bom():
    """`charset=utf-16` in the HTTP header means UTF-16LE (WHATWG), so a body without a BOM is read right."""
    body = CHARSET_PAGE.format(meta="").encode("utf-16-le")
    text, codec = decode_html(body, "text/html; charset=utf-16")
    assert codec == "utf-16-le" and "caf\u00e9 \u2013 \u4e2d" in text
    assert [r["img_url"] for r in extract_images(text, "http://a.com/").images] == ["http://a.com/x.png"]


@pytest.mark.parametrize("bom, codec", [(b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"),
                                        (b"\xfe\xff", "utf-16-be")])
def test_a_bom_wins_over_header_and_meta(bom, codec):
    body = bom + CHARSET_PAGE.format(meta='<meta charset="windows-1252">').encode(codec)
    text, used = decode_html(body, "text/html; charset=iso-8859-2")
    assert used.replace("-sig", "") == codec and "caf\u00e9 \u2013 \u4e2d" in text and "\ufeff" not in text


def test_meta_in_a_comment_or_past_1024_bytes_is_not_read():
    body = b"<!-- <meta charset=koi8-r> -->" + CHARSET_PAGE.format(meta="").encode("utf-8")
    assert decode_html(body)[1] == "utf-8"
    late = b"<!--" + b"x" * 1100 + b'--><meta charset="koi8-r">' + "\u00e9".encode("utf-8")
    assert decode_html(late)[1] == "utf-8"


def test_replacement_labels_decode_to_one_replacement_character():
    """iso-2022-kr, hz-gb-2312 and the other "replacement" labels: browsers show one U+FFFD (those encodings
    were used to slip markup past filters), so no image is found."""
    body = CHARSET_PAGE.format(meta="").encode("ascii", "replace")
    for label in ("iso-2022-kr", "hz-gb-2312", "csiso2022kr"):
        text, codec = decode_html(body, f"text/html; charset={label}")
        assert (text, codec) == ("\ufffd", "replacement")


# -- the speed-ups give exactly the general code's results ------------------------------------------

URLS = [
    "http://cdn.example.net/a.jpg", "https://CDN.Example.net/a.jpg", "//cdn.example.net/a.jpg",
    "http://cdn.example.net", "http://cdn.example.net?x=1", "http://cdn.example.net#f", "//h/x?",
    "http://h/x?", "http://h/x#", "http://h/x?#", "http://h/x?#f", "http://h/x?q#", "http://h/x??", "http://h/x##",
    "http://h/x;p=1/y.jpg", "http://h/a\tb.jpg", "http://h/a\nb.jpg", "http://user@h/x.jpg", "http://h:8080/x.jpg",
    "http://[::1]/x.jpg", "http://h\u00e9.example/x.jpg", "HTTP://h/x.jpg", "ftp://h/x.jpg", "https:/h/x.jpg",
    "http:x.jpg", "/x.jpg", "x.jpg", "?q", "#f", "///x.jpg", "http://", "//", "http://h/x.jpg?a=b#c",
]
BASES = ["https://www.example.com/news/story.html", "http://www.example.com/", "ftp://files.example.com/",
         "", "relative/base", "http://[bad/"]


@pytest.mark.parametrize("base", BASES)
def test_plain_url_shortcut_agrees_with_urljoin(base):
    """_plain_absolute_url (urllib skipped for plain absolute URLs) gives exactly what urljoin + urlsplit give,
    and _resolve gives that in the browser's form, or raises as they do."""
    from urllib.parse import urljoin, urlsplit

    from features.page.images import _plain_absolute_url, _resolve, _url_scheme
    from features.urls import ascii_host, browser_url

    base_scheme = _url_scheme(base)
    shortcuts = 0
    for raw in URLS:
        try:
            url = urljoin(base, raw)
            parts = urlsplit(url)
            want = (url, parts.scheme, (parts.hostname or "").lower())
        except ValueError:
            with pytest.raises(ValueError):
                _resolve(base, base_scheme, raw)
            continue
        plain = _plain_absolute_url(raw, base_scheme)
        if plain is not None:
            shortcuts += 1
            assert plain == want, raw
        if want[1] in ("http", "https"):
            try:
                want = (browser_url(want[0]), want[1], want[2] if want[2].isascii() else ascii_host(want[2]))
            except ValueError:
                with pytest.raises(ValueError):
                    _resolve(base, base_scheme, raw)
                continue
        assert _resolve(base, base_scheme, raw) == want, raw
    assert shortcuts >= (8 if base_scheme in ("http", "https") else 0)


def test_urls_in_the_form_a_browser_requests():
    """WHATWG URL: each component's percent-encode set, UTF-8, IDNA hosts; `src` keeps the raw value."""
    from features.urls import browser_url

    page = "https://www.example.com/news/story.html"
    html = ("<img src='/Thailand 2011-01/IMG 1.jpg'><img src=\"//bücher.example/ä.png?q=ä b&x='1'\">"
            "<img src='img\\a.jpg?x=\\'><img src='http://h.example/\"<>`{}|.jpg#f g'>"
            "<img src='/already%20encoded.jpg'><img src='http://exa mple.com/x.jpg'><img src='/plain.jpg'>")
    for parser in PARSERS:
        r = extract(html, parser, page)
        assert [(i["img_url"], i["img_host"]) for i in r.images] == [
            ("https://www.example.com/Thailand%202011-01/IMG%201.jpg", "www.example.com"),
            ("https://xn--bcher-kva.example/%C3%A4.png?q=%C3%A4%20b&x=%271%27", "xn--bcher-kva.example"),
            ("https://www.example.com/news/img/a.jpg?x=\\", "www.example.com"),
            ("http://h.example/%22%3C%3E%60%7B%7D|.jpg#f%20g", "h.example"),
            ("https://www.example.com/already%20encoded.jpg", "www.example.com"),
            ("https://www.example.com/plain.jpg", "www.example.com")], parser
        assert r.images[0]["src"] == "/Thailand 2011-01/IMG 1.jpg"  # the raw attribute, as the page has it
        assert r.skipped["invalid_url"] == 1  # a space in the host: a browser refuses it
    assert browser_url("http://a.example/x.jpg") == "http://a.example/x.jpg"
    assert browser_url("http://a.example/\ud800.jpg") == "http://a.example/%EF%BF%BD.jpg"


def test_could_be_image_link_keeps_every_image_link():
    """The <a> prefilter rejects only hrefs whose url_extension() is no image extension."""
    from features.page.images import IMAGE_EXTENSIONS, could_be_image_link, url_extension

    hrefs = ["/a.jpg", "/a.JPG?x=1", "/a.Jpeg#f", "/x.bmp.jpg", "/a.html", "/jpg", "/a.jpg/b.html", "",
             None, "/a.jp\u0130g", "/a.TIFF", "/a.svg?.html", "https://x.com/gallery.webp/"]
    for href in hrefs:
        if href and url_extension(href) in IMAGE_EXTENSIONS:
            assert could_be_image_link(href), href
    assert not could_be_image_link("/a.html") and not could_be_image_link("") and not could_be_image_link(None)


@pytest.mark.parametrize("parser", PARSERS)
def test_links_are_read_by_href_alone(parser):
    html = ("<a href='/x.bmp.jpg'>1</a><a href>2</a><a>3</a><a href='/p.html'>4</a><a href='/y.PNG'>5</a>"
            "<a name='top' href=' /z.gif '>6</a>")
    imgs = extract(html, parser).images
    assert [(i["img_url"], i["position"]) for i in imgs] == [
        ("https://www.example.com/x.bmp.jpg", 0), ("https://www.example.com/y.PNG", 1),
        ("https://www.example.com/z.gif", 2)]


def test_lexbor_candidates_are_unique_and_in_document_order():
    from features.page.backends import LexborBackend

    backend = LexborBackend()
    doc = backend.parse("<a href='x.bmp.jpg'><img src=1></a><p><source><link><svg><a href='y'></a></svg>"
                        "<object><embed></object><iframe></iframe><img src=2></p>")
    tags = [tag for tag, _node in backend.candidates(doc)]
    assert tags == ["a", "img", "source", "link", "a", "object", "embed", "iframe", "img"]


@pytest.mark.parametrize("parser", PARSERS)
def test_context_cached_per_parent_and_deep_trees(parser):
    """Images sharing a parent share its context; a tree deeper than Python's recursion limit is fine."""
    html = ("<div><noscript><img src='a.jpg'></noscript><p>t<img src='b.jpg'><img src='c.jpg'></p>"
            + "<div>" * 1500 + "<img src='deep.jpg'>" + "</div>" * 1500 + "</div>")
    imgs = extract(html, parser).images
    got = [(i["parent_tag"], i["dom_depth"], i["dom_siblings"], i["in_noscript"], i["parent_text"]) for i in imgs]
    assert got[:3] == [("noscript", 4, 0, True, ""), ("p", 4, 1, False, "t"), ("p", 4, 1, False, "t")]
    assert got[3] == ("div", 3 + 1500, 0, False, "")


@pytest.mark.parametrize("payload, content_type, as_bytes", [
    ("<p>\u00e9<img src='/\u00e9.jpg' alt='\u4e2d'>".encode(), "text/html; charset=utf-8", True),
    ("<p>\u00e9<img src='/\u00e9.jpg' alt='\u4e2d'>".encode(), None, True),  # sniffed as UTF-8
    (b"<p>\xff<img src='/a.jpg' alt='\xe9'>", "text/html; charset=utf-8", False),  # bytes replaced: U+FFFD
    ("<p>\ufffd<img src='/a.jpg'>".encode(), None, False),  # a genuine U+FFFD: the general path, same result
    (b"\xef\xbb\xbf<img src='/a.jpg' alt='\xc3\xa9'>", None, False),  # BOM: utf-8-sig, the text lacks the BOM
    ("<img src='/a.jpg' alt='\u00e9'>".encode("latin-1"), "text/html; charset=iso-8859-1", False),
    (b"<img src='/a.jpg' alt='\xc3\xa9'>\xe4\xb8", None, False),  # truncated mid-character: replaced
])
def test_extract_payload_equals_extract_of_the_text(payload, content_type, as_bytes):
    from features.page.charset import utf8_payload

    text, enc = decode_html(payload, content_type)
    assert (utf8_payload(payload, text, enc) is not None) == as_bytes
    for parser in PARSERS:
        got = ImageExtractor(parser).extract_payload(payload, content_type, PAGE)
        want = ImageExtractor(parser).extract(text, PAGE)
        assert [list(i.items()) for i in got.images] == [list(i.items()) for i in want.images]
        assert got.skipped == want.skipped and got.images


def test_url_file_names_one_file_whatever_its_host_format_or_resizer():
    from features.page.images import url_file

    same = ["https://a.org/x/a.jpg", "https://cdn.b.org/x/A.webp?w=300", "https://a.org/x/a.png.webp",
            "//cdn.x.org/x/a.jpg#1", "https://s.org/_next/image?url=%2Fx%2Fa.jpg&w=640"]
    assert {url_file(u) for u in same} == {"/x/a"}
    assert url_file("https://s.org/_next/image?url=%2Fx%2Fb.jpg&w=640") != url_file(same[-1])  # Next.js: not one file
    assert url_file("https://a.org/x/photo.2023.jpg") != url_file("https://a.org/x/photo.2024.jpg")
