"""Fuzz tests (hypothesis): the HTML extractor and the WARC record reader on generated and mutated input.

(a) `features.page.images.ImageExtractor`, with both parsers (lexbor and bs4), on HTML-ish text
    built from tags, attributes, URLs and entities, and on real article pages (html-aeb) cut,
    spliced and corrupted: no exception, every record complete and well typed, `img_url`
    absolute http(s).  Also `features.page.charset.decode_html` on arbitrary bytes and charset labels.
(b) `dataio.warc.iter_records` / `read_one_record` on real WARC bytes with bit flips,
    truncations, insertions, deletions and damaged headers: records or `WarcFormatError`, never
    another exception; and the job's mapper on the same bytes: counted error, no crash.
(c) `dataio.lines.parse_input_line` on generated lines (BOMs, spaces, odd digits, surrogate escapes,
    control characters, 60,000 spaces), the job's mapper on raw line bytes through its input protocol,
    and `ccimg.selection.index.decode_captures` on arbitrary index answers.

Budget: several thousand examples in all, about a minute; `deadline=None` because the first
call of a parser is slow.  Set FUZZ_SCALE=10 in the environment for a longer run.
"""
from __future__ import annotations

import codecs
import encodings.aliases
import gzip
import io
import json
import os
import tempfile
import zlib
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from mrjob.parse import parse_mr_job_stderr

from features.page.charset import decode_html
from features.page.record_fields import FIELDS
from features.page.images import ImageExtractor
from jobs.extract_images import ExtractImagesJob
from dataio.warc import WarcFormatError, iter_records, read_one_record
from tests.conftest import SHARED_DATA, assert_lines_accounted, shared_path
from tests.support.servers import response_pointers

SCALE = float(os.environ.get("FUZZ_SCALE", "1"))


def fuzz_settings(n: int, **kw):
    return settings(max_examples=max(1, int(n * SCALE)), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much], **kw)


# =============================================================================================
# (a) the HTML extractor
# =============================================================================================
CANDIDATES = ("img", "source", "a", "link", "embed", "object", "iframe")
TAGS = CANDIDATES + ("picture", "base", "div", "p", "span", "template", "script", "style", "table", "tr", "td",
                     "svg", "math", "html", "head", "body", "noscript", "video", "audio", "figure", "ul", "li",
                     "br", "meta", "title", "textarea", "select", "option", "form", "image", "frameset", "iframe",
                     "h1", "b", "i", "font", "center", "marquee", "plaintext", "xmp", "foreignObject")
ATTRS = ("src", "srcset", "data-src", "data-lazy-src", "data-original", "data-srcset", "data-lazy-srcset",
         "data-lazy", "data-echo", "data-url", "href", "data", "rel", "as", "type", "alt", "title", "width",
         "height", "style", "class", "id", "loading", "sizes", "charset", "content", "http-equiv", "xlink:href",
         "SRC", "Src", "on-error", "x")
ENTITIES = ("&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&#x41;", "&#0;", "&#xD800;", "&#1114112;", "&#x110000;",
            "&nbsp;", "&notin;", "&not", "&", "&#", "&#x;", "&unknown;", "&ampx", "&AMP;", "&#x2F;", "&#10;")
HOSTS = ("example.com", "EXAMPLE.com", "img.example.com", "[::1]", "[bad", "[::1", "127.0.0.1:8080", "a..b",
         "xn--bcher-kva.ch", "bücher.ch", "", "user:pw@h.com", "h.com:99999", "h.com:-1", "h.com:port",
         "[fe80::1%25eth0]", "%zz", "a b", "ex\tample.com", "ex\nample.com", "例え.jp", "-", ".", "..")
SCHEMES = ("http://", "https://", "//", "", "HTTP://", "hTTps://", "data:", "data:image/png;base64,",
           "javascript:", "JavaScript:", "mailto:", "ftp://", "about:", "file:///", "http:/", "http:", " http://",
           "\thttps://", "blob:", "cid:", "ws://")
PATH_BITS = ("/", "img.png", "a b.jpg", "..", "../", "./", "%20", "%", "?x=1", "#f", "&amp;", "&#x2F;",
             "spacer.gif", "blank.png", "x.svg;y", "\t", "\n", "é", "\u200b", "photo.JPEG", ".webp", "?w=100&h=50",
             "/wp-content/uploads/2019/01/", "1x1.gif", "\\", "//", ":", "@", "[", "]", "\x00", "\x7f")
PAGE_URLS = ("http://example.com/dir/page.html", "https://EXAMPLE.com:8443/a/b?c=d#e", "http://[::1]/x",
             "http://[bad/", "", "not a url", "http://bücher.ch/", "https://a.com/%zz", "http://a.com/a b",
             "https://www.wsj.com/articles/x", "http://h.com:99999/", "ftp://files.example.com/", "//no-scheme.com/")

urls = st.one_of(
    st.builds(lambda s, h, p: s + h + p, st.sampled_from(SCHEMES), st.sampled_from(HOSTS),
              st.lists(st.sampled_from(PATH_BITS), max_size=6).map("".join)),
    st.lists(st.sampled_from(PATH_BITS + ENTITIES), max_size=8).map("".join),
    st.text(max_size=30),
)
srcsets = st.lists(
    st.tuples(urls, st.sampled_from(("", " 1x", " 2x", " 100w", " 1.5x", " w", " x", " -1x", ", ", " 100w 2x"))),
    max_size=4).map(lambda items: ", ".join(u + d for u, d in items))
attr_values = st.one_of(urls, srcsets, st.sampled_from(ENTITIES), st.text(max_size=20),
                        st.sampled_from(("icon", "shortcut icon", "preload", "image", "image/png", "lazy", "100",
                                         "-5", "100%", "auto", "", " ", "utf-8", "image_src", "apple-touch-icon")))


def _attribute(name: str, style: str, value: str) -> str:
    if style == "novalue":
        return name
    if style == "sq":
        return f"{name}='{value}'"
    if style == "bare":
        return f"{name}={value}"
    if style == "spaced":
        return f'{name} = "{value}"'
    return f'{name}="{value}"'


attributes = st.builds(_attribute, st.sampled_from(ATTRS), st.sampled_from(("dq", "dq", "sq", "bare", "novalue",
                                                                            "spaced")), attr_values)
open_tags = st.builds(lambda tag, attrs, end: "<" + " ".join([tag, *attrs]) + end, st.sampled_from(TAGS),
                      st.lists(attributes, max_size=4), st.sampled_from((">", ">", " />", "")))
close_tags = st.builds(lambda tag, upper: f"</{tag.upper() if upper else tag}>", st.sampled_from(TAGS), st.booleans())
LEAVES = ("<", ">", "</", "<!", "<!-- c -->", "<!--", "-->", "<?php echo $x ?>", "<![CDATA[x]]>", "<!DOCTYPE html>",
          "<br>", "</p>", "<p>", "\x00", "\r\n", "<img", "<img src=", "</template>", "<script>if (a < b) {}</script>",
          "<style>img{}</style>", "<base href='http://b.com/x/'>", "<base href=//c.org/>", "<base>",
          "<picture><source srcset='s.png 2x'><img src=f.jpg></picture>",
          "<svg><image href='x.png'/><a href='y.png'>y</a></svg>", "<table><img src=t.png><tr>",
          "<noscript><img src=n.png></noscript>", "<template><img src=t.png></template>")
# A page is a flat run of tokens: nesting comes from tags left open, as in real broken markup.
tokens = st.one_of(open_tags, open_tags, close_tags, st.sampled_from(LEAVES), st.sampled_from(ENTITIES),
                   st.text(max_size=12))
html_pages = st.lists(tokens, min_size=1, max_size=60).map("".join)

RECORD_KEYS = frozenset({
    "page_url", "img_url", "src", "src_attr", "element", "alt", "title", "width_attr", "height_attr", "srcset",
    "sizes", "class", "id", "style", "loading", "lazy", "rel", "parent_tag", "parent_text", "dom_depth",
    "dom_siblings", "position", "page_images", "same_domain", "page_host", "img_host"})
STR_OR_NONE = ("alt", "title", "width_attr", "height_attr", "srcset", "sizes", "class", "id", "style", "loading",
               "rel", "parent_tag")


@lru_cache(maxsize=None)
def extractor(parser: str) -> ImageExtractor:
    return ImageExtractor(parser)


def check_page(parser: str, html: str, page_url: str) -> None:
    page = extractor(parser).extract(html, page_url)
    images = page.images
    for i, rec in enumerate(images):
        assert set(rec) >= RECORD_KEYS, RECORD_KEYS - set(rec)
        assert set(rec) <= set(FIELDS), set(rec) - set(FIELDS)  # every field is in the documented schema
        parts = urlsplit(rec["img_url"])
        assert parts.scheme in ("http", "https"), rec["img_url"]
        assert parts.hostname, rec["img_url"]
        assert rec["img_host"] == parts.hostname.lower()
        assert rec["page_url"] == page_url
        assert isinstance(rec["src"], str) and rec["src"]
        assert isinstance(rec["src_attr"], str) and rec["src_attr"]
        assert rec["element"] in CANDIDATES
        for key in STR_OR_NONE:
            assert rec[key] is None or isinstance(rec[key], str), (key, rec[key])
        assert isinstance(rec["parent_text"], str) and len(rec["parent_text"]) <= 500
        assert rec["style"] is None or len(rec["style"]) <= 200
        assert type(rec["lazy"]) is bool and type(rec["same_domain"]) is bool
        for key in ("dom_depth", "dom_siblings", "position", "page_images"):
            assert type(rec[key]) is int and rec[key] >= 0, (key, rec[key])
        assert rec["position"] == i and rec["page_images"] == len(images)
        assert isinstance(rec["page_host"], str)
        assert rec["same_domain"] == (rec["img_host"] == rec["page_host"])
        json.dumps(rec)  # the job writes them as JSON lines
    assert all(isinstance(n, int) and n > 0 for n in page.skipped.values())


@pytest.mark.parametrize("parser, n", [("lexbor", 3000), ("bs4", 800)])
def test_extractor_on_generated_html(parser, n):
    @fuzz_settings(n)
    @given(html=html_pages, page_url=st.one_of(st.sampled_from(PAGE_URLS), urls))
    @example(html="<base href='http://[bad/'><img src=x.png>", page_url="http://a.com/")
    @example(html="<img src='http://[::1'>", page_url="http://a.com/")
    @example(html="<a href='http://a.com:99999/x.png'>x</a>", page_url="http://a.com/")
    @example(html="<img src=''><img><img src='data:,'>", page_url="")
    @example(html="<?php echo 1 ?><img src=a.png>", page_url="http://a.com/")
    def run(html, page_url):
        check_page(parser, html, page_url)

    run()


# -- mutated real pages ------------------------------------------------------------------------
@lru_cache(maxsize=None)
def real_pages() -> tuple[tuple[str, bytes], ...]:
    folder = SHARED_DATA / "html-aeb" / "html"
    if not folder.is_dir():
        return ()
    truth = json.loads((SHARED_DATA / "html-aeb" / "ground-truth.json").read_text("utf-8"))
    out = []
    for path in sorted(folder.glob("*.html.gz")):
        key = path.name.split(".", 1)[0]
        out.append((truth.get(key, {}).get("url", ""), gzip.decompress(path.read_bytes())))
    return tuple(out)


def need_real_pages():
    pages = real_pages()
    if not pages:
        pytest.skip(f"shared data not found: {SHARED_DATA / 'html-aeb'}")
    return pages


MUTATIONS = ("delete", "insert", "duplicate", "truncate", "flip", "splice_char", "move")


@st.composite
def mutated_bytes(draw, data: bytes, max_ops: int = 6, insert_strategy=None) -> bytes:
    """`data` with up to `max_ops` random edits: bit flips, deletions, insertions, duplication,
    truncation, moved slices, and (for HTML) markup characters dropped in."""
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, max_ops))):
        if not buf:
            break
        op = draw(st.sampled_from(MUTATIONS))
        pos = draw(st.integers(0, len(buf) - 1))
        span = draw(st.integers(1, max(1, min(len(buf) - pos, 4096))))
        if op == "delete":
            del buf[pos:pos + span]
        elif op == "insert":
            blob = draw(insert_strategy) if insert_strategy is not None else draw(st.binary(max_size=64))
            buf[pos:pos] = blob
        elif op == "duplicate":
            buf[pos:pos] = buf[pos:pos + span]
        elif op == "truncate":
            del buf[pos:]
        elif op == "flip":
            buf[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "splice_char":
            buf[pos:pos + 1] = draw(st.sampled_from((b"<", b">", b'"', b"'", b"&", b"\x00", b"=", b"/", b"\xff",
                                                      b"\r\n\r\n", b"0", b"9")))
        elif op == "move":
            piece = bytes(buf[pos:pos + span])
            del buf[pos:pos + span]
            to = draw(st.integers(0, len(buf)))
            buf[to:to] = piece
    return bytes(buf)


html_inserts = st.one_of(st.lists(tokens, max_size=6).map(lambda t: "".join(t).encode("utf-8", "surrogatepass")),
                         st.binary(max_size=32))


@pytest.mark.parametrize("parser, n, window", [("lexbor", 1000, None), ("bs4", 200, 40_000)])
def test_extractor_on_mutated_real_pages(parser, n, window):
    pages = need_real_pages()

    @fuzz_settings(n)
    @given(data=st.data(), index=st.integers(0, len(pages) - 1))
    def run(data, index):
        page_url, body = pages[index]
        if window is not None and len(body) > window:  # BeautifulSoup on html5lib is slow: parse a slice
            start = data.draw(st.integers(0, len(body) - window))
            body = body[start:start + window]
        body = data.draw(mutated_bytes(body, insert_strategy=html_inserts))
        content_type = data.draw(st.sampled_from((None, "text/html", "text/html; charset=utf-8",
                                                  "text/html; charset=windows-1252", "text/html; charset=bogus")))
        html, _enc = decode_html(body, content_type)
        check_page(parser, html, page_url)

    run()


def test_both_parsers_on_unmutated_real_pages_give_complete_records():
    """The property checker itself, on the real pages as they are: it must accept them (and find images)."""
    pages = need_real_pages()
    total = 0
    for page_url, body in pages[:40]:
        html, _ = decode_html(body, None)
        check_page("lexbor", html, page_url)
        total += len(extractor("lexbor").extract(html, page_url).images)
    assert total > 100


# -- charset decoding --------------------------------------------------------------------------
CHARSET_LABELS = sorted(set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values())
                        | {"utf-8", "windows-1252", "x-user-defined", "bogus", "", "utf8mb4", "none", "binary"})


@fuzz_settings(2000)
@given(body=st.binary(max_size=300), label=st.sampled_from(CHARSET_LABELS), where=st.sampled_from(("header", "meta")),
       prefix=st.sampled_from((b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)))
@example(body=b"\xff<p>x</p>", label="base64", where="header", prefix=b"")
@example(body=b"\xff<p>x</p>", label="idna", where="meta", prefix=b"")
def test_decode_html_never_raises(body, label, where, prefix):
    """`decode_html` promises text for any bytes ("never an exception").  Charset labels come from
    pages and servers, so they are arbitrary: here every name Python's codec registry knows.

    Found a bug (fixed in 4cd0a23): labels of non-text codecs (base64, hex, zlib, rot13, uu, quopri,
    bz2) raised LookupError, and idna/punycode/undefined UnicodeError: the page was lost (a
    `process_record_LookupError` counter in the job)."""
    if where == "meta":
        data = prefix + f'<meta charset="{label}">'.encode() + body
        content_type = "text/html"
    else:
        data = prefix + body
        content_type = f"text/html; charset={label}"
    text, enc = decode_html(data, content_type)
    assert isinstance(text, str) and isinstance(enc, str)


# =============================================================================================
# (b) the WARC record reader
# =============================================================================================
READER_SOURCES = (
    "cc/jwarc__cc.warc.gz",
    "cc/whirlwind__whirlwind.warc.gz",
    "cc/resiliparse__warcfile.warc.gz",
    "cc/eugeneware__CC-MAIN-20140820021334-00006-ip-10-180-136-8.ec2.internal.warc",
    "webarchive/aut__example.warc.gz",
    "webarchive/ukwa__sopa-wikipedia-homepage.warc.gz",
    "webarchive/resiliparse__clueweb-quirk.warc.gz",
    "cdx/pywb_sample_archive/warcs_iana.warc.gz",
)
MAX_SAMPLE = 48_000
WARC_ERROR_KINDS = {"not_warc", "truncated", "bad_header", "empty"}


def _gunzip_members(data: bytes) -> bytes:
    out = []
    while data:
        d = zlib.decompressobj(31)
        out.append(d.decompress(data))
        data = d.unused_data
        if not d.eof:
            break
    return b"".join(out)


def _reader_sources():
    """(name, path, bytes) of each READER_SOURCES file present in the shared data."""
    for name in READER_SOURCES:
        path = SHARED_DATA / name
        if path.exists():
            yield name, path, path.read_bytes()


def _as_stored_and_gunzipped(name: str, label: str, data: bytes) -> list[tuple[str, bytes]]:
    """`data` as stored, and also uncompressed when `name` is gzipped (so that mutations reach the headers)."""
    out = [(label, data)]
    if name.endswith(".gz"):
        out.append((f"{label} (gunzipped)", _gunzip_members(data)))
    return out


@lru_cache(maxsize=None)
def warc_samples() -> tuple[tuple[str, bytes], ...]:
    """Real WARC bytes: the first records of each file (at most MAX_SAMPLE bytes, on record
    boundaries), gzipped as stored and also uncompressed (so that mutations reach the headers)."""
    from warcio.archiveiterator import ArchiveIterator

    out = []
    for name, path, data in _reader_sources():
        cut = 0
        with open(path, "rb") as f:
            it = ArchiveIterator(f)
            for _rec in it:
                end = it.get_record_offset() + it.get_record_length()
                if end > MAX_SAMPLE and cut:
                    break
                cut = end
        out.extend(_as_stored_and_gunzipped(name, name, data[:cut]))
    clipped = SHARED_DATA / "bad" / "resiliparse__clipped.warc.gz"
    if clipped.exists():
        out.append(("bad/resiliparse__clipped.warc.gz", clipped.read_bytes()))
    return tuple(out)


@lru_cache(maxsize=None)
def record_samples() -> tuple[tuple[str, bytes], ...]:
    """Single response records as an index pointer would fetch them (gzip member or plain bytes)."""
    out = []
    for name, path, data in _reader_sources():
        for p in response_pointers(path, name)[:6]:
            raw = data[p.offset:p.offset + p.length]
            if len(raw) <= 200_000:
                out.extend(_as_stored_and_gunzipped(name, f"{name}@{p.offset}", raw))
    return tuple(out)


def need(samples):
    if not samples:
        pytest.skip(f"shared data not found: {SHARED_DATA}")
    return samples


header_inserts = st.one_of(
    st.binary(max_size=40),
    st.sampled_from((b"Content-Length: 0\r\n", b"Content-Length: -1\r\n", b"Content-Length: 99999999999\r\n",
                     b"Content-Length: abc\r\n", b"WARC/1.0\r\n", b"WARC/0.9\r\n", b"\r\n\r\n", b"\r\n",
                     b"WARC-Type: response\r\n", b"WARC-Type: \r\n", b"Content-Type: application/http\r\n",
                     b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 abc\r\n", b"Transfer-Encoding: chunked\r\n",
                     b"Content-Encoding: gzip\r\n", b"Content-Encoding: br\r\n", b"Content-Encoding: deflate\r\n",
                     b"\x1f\x8b\x08\x00\x00\x00\x00\x00", b"filedesc://x 0.0.0.0 20000101000000 text/plain 10\n",
                     b"http://a.com/ 1.2.3.4 20000101000000 text/html 5\n", b":", b"\x00", b"\xff\xfe")),
)


def mutated_warc(samples):
    @st.composite
    def strategy(draw):
        name, data = draw(st.sampled_from(samples))
        return name, draw(mutated_bytes(data, max_ops=4, insert_strategy=header_inserts))
    return strategy()


def consume(records) -> int:
    """Iterate as the job does: read each record's payload (errors there are the job's per-record
    errors, caught and counted in `_process`), then go on to the next record."""
    n = 0
    while True:
        try:
            rec = next(records)
        except StopIteration:
            return n
        n += 1
        assert n < 100_000
        assert rec.type is None or isinstance(rec.type, str)  # None where WARC-Type is missing
        assert isinstance(rec.offset, int) and rec.offset >= 0
        assert rec.url is None or isinstance(rec.url, str)
        try:
            rec.payload(1 << 20)
            rec.is_html()
        except Exception:  # noqa: BLE001, S110 - counted per record by the job; the next record must still come
            pass


@fuzz_settings(2500)
@given(sample=st.data())
def test_iter_records_yields_records_or_warc_format_error(sample):
    name, data = sample.draw(mutated_warc(need(warc_samples())), label="input")
    try:
        consume(iter_records(io.BytesIO(data)))
    except WarcFormatError as exc:
        assert exc.kind in WARC_ERROR_KINDS


@fuzz_settings(2000)
@given(sample=st.data())
def test_read_one_record_returns_a_record_or_warc_format_error(sample):
    """The pointer path: `read_one_record` runs outside the job's per-record guard, so any other
    exception type would end the whole task."""
    name, data = sample.draw(mutated_warc(need(record_samples())), label="input")
    try:
        rec = read_one_record(data)
    except WarcFormatError as exc:
        assert exc.kind in WARC_ERROR_KINDS
    else:
        assert rec.type is None or isinstance(rec.type, str)


def test_reader_samples_are_real_and_readable():
    """The unmutated samples read cleanly (so that the fuzz starts from good WARCs)."""
    samples = need(warc_samples())
    assert len(samples) >= 10
    for name, data in samples:
        if name.startswith("bad/"):
            continue
        assert consume(iter_records(io.BytesIO(data))) >= 1, name
    for name, data in need(record_samples()):
        assert read_one_record(data).type == "response", name


# -- through the job's mapper -------------------------------------------------------------------
_FOLDER = Path(tempfile.mkdtemp(prefix="ccimg-fuzz-"))


def map_one_line(line: str) -> tuple[list, dict]:
    """What a mapper task does with one input line: mapper_init, then mapper; returns (pairs, counters)."""
    job = ExtractImagesJob(["--no-conf", "--source-base", str(_FOLDER), "--max-attempts", "1"])
    job.sandbox()
    job.mapper_init()
    out = list(job.mapper(None, line))
    counters = parse_mr_job_stderr(job.stderr.getvalue())["counters"]
    return out, counters


@fuzz_settings(600)
@given(sample=st.data(), as_pointer=st.booleans())
def test_mapper_counts_damaged_warcs_and_never_crashes(sample, as_pointer):
    if as_pointer:
        name, data = sample.draw(mutated_warc(need(record_samples())), label="input")
    else:
        name, data = sample.draw(mutated_warc(need(warc_samples())), label="input")
    path = _FOLDER / ("x.warc.gz" if ".gz" in name and "gunzipped" not in name else "x.warc")
    path.write_bytes(data)
    line = f"{path.name}\t0\t{len(data)}" if as_pointer and data else path.name
    out, counters = map_one_line(line)
    assert_lines_accounted(counters)
    inp = counters["input"]
    assert inp["lines"] == 1
    errors = counters.get("errors", {})
    if inp.get("lines failed"):
        assert len(errors) == 1
        assert all(k.startswith(("warc_", "bad_input_line", "fetch_short_range")) for k in errors), errors
    failed = [value for _key, value in out if "failed_line" in value]
    assert len(failed) == inp.get("lines failed", 0)  # one failed-line record per failed line, for a rerun
    assert all(f["failed_line"] == line and f["error"] in errors for f in failed)
    for _key, value in out:
        if "failed_line" not in value:
            assert set(value) >= RECORD_KEYS


# =============================================================================================
# Regression tests for what the fuzzing found (minimal examples)
# =============================================================================================
NO_TARGET_URI = b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 5\r\n\r\nabcde\r\n\r\n"


def test_record_without_target_uri_is_read_as_a_record_without_url():
    """Found by test_read_one_record_...: a response, request or revisit record without a
    WARC-Target-URI header.  warcio's `load_http_headers` calls `uri.startswith(...)` on None and
    raises AttributeError.  First fixed (4cd0a23) as a WarcFormatError, which cost the rest of the
    file; now the record comes out with `url` None (the job fails that record alone) and the next
    records are read."""
    nxt = NO_TARGET_URI.replace(b"WARC-Type: response\r\n", b"WARC-Type: response\r\nWARC-Target-URI: http://a/\r\n")
    for rec_type in (b"response", b"request", b"revisit"):
        data = NO_TARGET_URI.replace(b"response", rec_type)
        rec = read_one_record(data)
        assert rec.type == rec_type.decode() and rec.url is None and rec.missing_target_uri
        assert [(r.type, r.url) for r in iter_records(io.BytesIO(data + nxt))] == [
            (rec_type.decode(), None), ("response", "http://a/")]


def test_blank_line_inside_real_warc_headers_does_not_crash_the_job(tmp_path):
    """The same bug on real bytes, as fuzzing first met it: one blank line inserted after
    `WARC-Type: response` in Common Crawl's commoncrawl.org record ends the WARC headers before
    WARC-Target-URI.  Whole-file and pointer lines: counted errors; the good line beside them
    is kept, and the job finishes."""
    from tests.conftest import run_job

    path = shared_path("cc", "jwarc__cc.warc.gz")
    raw = _gunzip_members(path.read_bytes())
    assert b"WARC-Type: response\r\n" in raw
    bad = raw.replace(b"WARC-Type: response\r\n", b"WARC-Type: response\r\n\r\n", 1)
    (tmp_path / "bad.warc").write_bytes(bad)
    (tmp_path / "bad.warc.gz").write_bytes(gzip.compress(bad))
    manifest = tmp_path / "m.txt"
    manifest.write_text(f"bad.warc\nbad.warc.gz\t0\t{len(gzip.compress(bad))}\n{path}\n")
    rows, counters = run_job(ExtractImagesJob, ["-r", "inline", "--source-base", str(tmp_path), str(manifest)])
    assert_lines_accounted(counters)
    assert counters["input"]["lines ok"] == 1 and counters["input"]["lines failed"] == 2
    assert all(k.startswith("warc_") for k in counters["errors"]), counters["errors"]
    assert sum(r["element"] == "img" for r in rows) == 8


NON_TEXT_LABELS = ("base64", "hex", "rot13", "zlib", "bz2", "uu", "quopri", "idna", "punycode", "undefined")


def test_decode_html_with_a_non_text_charset_label():
    """Found by test_decode_html_never_raises.  Regression (fixed in 4cd0a23): `_normalise` accepted
    any name Python's codec registry knows, so `charset=base64` (LookupError: not a text encoding)
    or `charset=idna` (UnicodeError: no errors='replace') raised instead of falling back."""
    body = "<p>caf\u00e9 \u2013 ok</p>".encode()
    raised = []
    for label in NON_TEXT_LABELS:
        for where, data, content_type in (("header", body, f"text/html; charset={label}"),
                                          ("meta", f'<meta charset="{label}">'.encode() + body, "text/html")):
            try:
                text, _enc = decode_html(data, content_type)
            except Exception as exc:  # noqa: BLE001 - collected, to report every label at once
                raised.append(f"{label} ({where}): {type(exc).__name__}")
            else:
                assert "ok</p>" in text
    assert raised == [], raised


def test_page_declaring_a_non_text_charset_keeps_its_images(tmp_path):
    """End to end: a real page, served in a WARC record whose Content-Type says charset=base64.
    Regression (fixed in 4cd0a23): the page was lost (errors/process_record_LookupError)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from tests.conftest import run_job

    pages = need_real_pages()
    page_url, body = next((u, b) for u, b in pages if b.count(b"<img") >= 3)
    path = tmp_path / "charset.warc.gz"
    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=True)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=base64")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(page_url or "http://example.com/", "response",
                                                      payload=io.BytesIO(body), http_headers=http))
    rows, counters = run_job(ExtractImagesJob, ["-r", "inline", str(path)])
    assert_lines_accounted(counters)
    assert "errors" not in counters, counters.get("errors")
    assert counters["pages"]["html"] == 1 and len(rows) > 0


# =============================================================================================
# (c) input lines and index answers
# =============================================================================================
LINE_PARTS = ("x.warc.gz", "crawl-data/CC-MAIN-2025-33/segments/1/warc/a.warc.gz", "my warcs/a b.warc.gz", "\t", " ",
              "  ", "0", "12", "-5", "1.5", "1e3", "0x10", "\u0663", "9" * 30, str(2 ** 63), "http://e.com/a b",
              "s3://b/k", "#", "\ufeff", "\r", "\x00", "\x1b", "\udce9", "é", "\n", "", ":", "/")
input_lines = st.one_of(st.lists(st.sampled_from(LINE_PARTS), max_size=8).map("".join),
                        st.text(max_size=80),
                        st.binary(max_size=80).map(lambda b: b.decode("utf-8", "surrogateescape")))


@fuzz_settings(1500)
@given(line=input_lines)
@example(line="\ufeffx.warc.gz\t0\t10")
@example(line="a" + " " * 60_000 + "b")
@example(line=" 1 " * 20_000)
def test_parse_input_line_returns_a_meaning_or_bad_input_line(line):
    """Any text: None, a RecordPointer within the limits, a WarcFile, or BadInputLine; never another exception,
    and in time linear in the line (a regular expression here once backtracked on spaces and digits)."""
    from dataio.lines import MAX_OFFSET, MAX_RECORD_LENGTH, BadInputLine, RecordPointer, WarcFile, parse_input_line

    try:
        item = parse_input_line(line)
    except BadInputLine as exc:
        assert str(exc)
        return
    assert item is None or isinstance(item, (RecordPointer, WarcFile))
    if isinstance(item, RecordPointer):
        assert item.filename and "\t" not in item.filename
        assert 0 <= item.offset <= MAX_OFFSET and 0 < item.length <= MAX_RECORD_LENGTH
    if isinstance(item, WarcFile):
        assert item.location and item.location == item.location.strip() and "\x00" not in item.location


@fuzz_settings(500)
@given(name=st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40).filter(
    lambda s: s.strip() == s and not s.startswith(("#", "\ufeff"))),  # a leading BOM is the file's, dropped
    offset=st.integers(0, 2 ** 48), length=st.integers(1, 64 * 1024 * 1024), url=st.sampled_from(["", "http://a/x"]))
def test_pointer_lines_round_trip(name, offset, length, url):
    from dataio.lines import RecordPointer, parse_input_line

    line = f"{name}\t{offset}\t{length}" + (f"\t{url}" if url else "")
    assert parse_input_line(line) == RecordPointer(name, offset, length, url or None)


def test_a_long_line_of_spaces_and_digits_parses_in_linear_time():
    import time

    from dataio.lines import BadInputLine, parse_input_line

    started = time.monotonic()
    for line in ("a" + " " * 60_000 + "b", " 1" * 30_000, "x " + "1 " * 30_000 + "u"):
        try:
            parse_input_line(line)
        except BadInputLine:
            pass
    assert time.monotonic() - started < 2


_MAPPER_JOB = None


def _mapper_job():
    global _MAPPER_JOB
    if _MAPPER_JOB is None:
        _MAPPER_JOB = ExtractImagesJob(["--no-conf", "--source-base", str(_FOLDER), "--max-attempts", "1"])
        _MAPPER_JOB.sandbox()
        _MAPPER_JOB.mapper_init()
    return _MAPPER_JOB


@fuzz_settings(300)
@given(raw=st.one_of(input_lines.map(lambda s: s.encode("utf-8", "surrogateescape")), st.binary(max_size=100)))
def test_mapper_ends_every_line_ok_failed_or_skipped(raw):
    """The mapper as a task runs it: a raw input line through the job's input protocol (latin-1 bytes and all),
    then the mapper; it always ends the line one of the three ways, with one failed-line record if failed."""
    assume(b"://" not in raw)  # no request may leave this machine: URLs are the network tests' business
    job = _mapper_job()
    before = parse_mr_job_stderr(job.stderr.getvalue())["counters"]
    _key, line = job.pick_protocols(0, "mapper")[0](raw.split(b"\n")[0].rstrip(b"\r"))
    out = list(job.mapper(None, line))
    after = parse_mr_job_stderr(job.stderr.getvalue())["counters"]
    delta = {k: after.get("input", {}).get(k, 0) - before.get("input", {}).get(k, 0)
             for k in ("lines", "lines ok", "lines failed", "lines skipped")}
    assert delta["lines"] == 1 and delta["lines ok"] + delta["lines failed"] + delta["lines skipped"] == 1
    failed = [v for _k, v in out if "failed_line" in v]
    assert len(failed) == delta["lines failed"]
    assert not [k for k in after.get("errors", {}) if k.startswith("internal_")]  # no input is a bug's occasion


@fuzz_settings(600)
@given(body=st.one_of(st.binary(max_size=300),
                      st.lists(st.one_of(st.dictionaries(st.sampled_from(["urlkey", "filename", "offset"]),
                                                         st.one_of(st.text(max_size=5), st.integers())),
                                         st.lists(st.text(max_size=5), max_size=4), st.integers(), st.text(max_size=5)),
                               max_size=5).map(lambda rows: "\n".join(json.dumps(r) for r in rows).encode()),
                      st.lists(st.lists(st.text(max_size=5), max_size=4), max_size=4).map(
                          lambda v: json.dumps(v).encode())))
def test_decode_captures_gives_dicts_or_a_clear_error(body):
    from ccimg.selection.index import decode_captures
    from ccimg.selection.query import IndexServerError

    try:
        captures = decode_captures(body, "q")
    except IndexServerError as exc:
        assert "cannot decode the index answer for q" in str(exc)
    else:
        assert all(isinstance(c, dict) for c in captures)
