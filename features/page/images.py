"""From one HTML page to its image occurrences: where an image record is born.

The rules (which elements count, which attribute gives the URL, what is skipped) live here,
once; the HTML backends in `features.page.backends` only walk trees.

What counts as an image occurrence:
  * <img>: its `src`; where `src` is missing, empty, a `data:` URI or a known placeholder
    file (blank.gif, spacer.png, ...), a lazy-loading attribute (data-src, data-lazy-src,
    data-original, ...) or the first candidate of `srcset` / `data-srcset` instead;
  * <source srcset> inside <picture>: the first srcset candidate;
  * <a href>, <embed src>, <object data>, <iframe src> whose URL path ends in an image
    extension, and <link href> that is an image (extension, rel=icon/image_src, or
    rel=preload as=image): the media links of the paper.
URLs are resolved against <base href> (itself resolved against the page URL), then the page
URL.  `data:`, `javascript:` and other non-http(s) URLs are skipped and counted by reason.

Speed (this runs once per page of a crawl): ordinary links, most of the candidates, are dropped
on their href alone (`could_be_image_link`); plain absolute URLs are resolved without urllib
(`_plain_absolute_url`); a page that is valid UTF-8 is handed to the parser as its payload bytes
(`extract_payload`).  Each shortcut gives exactly the result of the general code.
"""
from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

from features.page.charset import decode_html, utf8_payload
from features.page.backends import make_backend
from features.page.licenses import attach_licenses
from features.page.pixels import BIG_MIN, parse_pixels
from features.page.limits import PageLimits, PageSkipped, can_fork, estimated_depth, run_guarded
from features.page.record_fields import PARENT_TEXT_MAX
from features.page.srcset import first_url
from features.urls import NEEDS_BROWSER_FORM, ascii_host, browser_url, host_of, url_extension

LAZY_SRC_ATTRS = (
    "data-src", "data-lazy-src", "data-original", "data-lazy", "data-echo", "data-url",
    "data-hi-res-src", "data-full-src", "data-orig-src", "data-original-src",
)
LAZY_SRCSET_ATTRS = ("data-srcset", "data-lazy-srcset")
IMAGE_EXTENSIONS = frozenset(
    "jpg jpeg jpe jfif pjpeg png apng gif bmp tif tiff webp avif svg ico heic heif".split())
# A placeholder file: named exactly like one (pixel.gif, loading.png) or with a telling word in its name.
_PLACEHOLDER = re.compile(
    r"^(?:(?:pixel|empty|clear|dot|grey|gray|loading|lazy|trans|1x1|px)\.(?:gif|png|jpe?g|svg|webp)"
    r"|.*(?:placeholder|spacer|transparent|lazy[-_]?load|blank).*\.(?:gif|png|jpe?g|svg|webp))$", re.I)
_LINK_IMAGE_RELS = frozenset({"icon", "shortcut", "apple-touch-icon", "apple-touch-icon-precomposed",
                              "image_src", "mask-icon"})
_WS = " \t\n\r\f"
# ".jpg", ".PNG", ... anywhere in a URL (see could_be_image_link).
_IMAGE_EXTENSION_ANYWHERE = re.compile(r"\.(?:" + "|".join(sorted(IMAGE_EXTENSIONS)) + ")", re.I)
# "http://host..." or "https://host..." or "//host...", the host made of letters, digits, '.' and '-' only,
# followed by the path, query, fragment or the end (see _plain_absolute_url).
_PLAIN_ABSOLUTE_URL = re.compile(r"(?:(https?):)?//([A-Za-z0-9.\-]+)(?:[/?#]|$)")


@dataclass
class PageImages:
    """The occurrences found on one page, and the candidates skipped, by reason."""

    images: list[dict] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    capped: Counter = field(default_factory=Counter)  # values cut to a cap (attribute values), by what


def is_placeholder(src: str) -> bool:
    if not src or src.startswith("data:") or src.startswith("about:"):
        return True
    name = src.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]
    return bool(_PLACEHOLDER.match(name))


def _img_source(attrs: dict) -> tuple[str | None, str | None, bool]:
    """(raw url, attribute name, lazy?) for an <img>."""
    src = (attrs.get("src") or "").strip(_WS)
    if not is_placeholder(src):
        return src, "src", False
    for name in LAZY_SRC_ATTRS:
        v = (attrs.get(name) or "").strip(_WS)
        if v and not v.startswith("data:"):
            return v, name, True
    for name in LAZY_SRCSET_ATTRS:
        v = first_url(attrs.get(name))
        if v and not v.startswith("data:"):
            return v, name, True
    v = first_url(attrs.get("srcset"))
    if v and not v.startswith("data:"):
        return v, "srcset", False
    if src:
        return src, "src", False
    return None, None, False


def _source_srcset(attrs: dict) -> tuple[str | None, str | None, bool]:
    """(raw url, attribute name, lazy?) for a <picture><source>: `srcset`, unless it is a data: placeholder
    and a lazy-loading `data-srcset` holds the real candidates (lazysizes' pattern)."""
    src = first_url(attrs.get("srcset"))
    if src and not src.startswith("data:"):
        return src, "srcset", False
    for name in LAZY_SRCSET_ATTRS:
        v = first_url(attrs.get(name))
        if v and not v.startswith("data:"):
            return v, name, True
    if src:
        return src, "srcset", False
    return None, None, False


def _media_link_source(tag: str, attrs: dict) -> tuple[str | None, str | None]:
    """(raw url, attribute) for a/link/embed/object/iframe when it points to an image, else (None, None)."""
    attr = {"a": "href", "link": "href", "embed": "src", "object": "data", "iframe": "src"}[tag]
    url = (attrs.get(attr) or "").strip(_WS)
    if not url:
        return None, None
    if url_extension(url) in IMAGE_EXTENSIONS:
        return url, attr
    if tag == "link":
        rels = set((attrs.get("rel") or "").lower().split())
        if rels & _LINK_IMAGE_RELS or ("preload" in rels and (attrs.get("as") or "").lower() == "image"):
            return url, attr
    if tag == "object" and (attrs.get("type") or "").lower().startswith("image/"):
        return url, attr
    return None, None


def could_be_image_link(href: str | None) -> bool:
    """False when an <a href> certainly does not point to an image (no ".jpg", ".png", ... in it).

    Why: about 85 % of the candidate elements are ordinary links, and this test on the href alone
    lets them go before their attributes are read.  Exact: _media_link_source accepts an <a> only
    when url_extension() of its href is an image extension, and that extension, with its dot, then
    occurs in the href (in some case: only ASCII letters lower-case to those extensions).
    """
    return bool(href) and _IMAGE_EXTENSION_ANYWHERE.search(href) is not None


def _url_scheme(url: str) -> str | None:
    """The scheme of `url` as urljoin reads it; None where urllib cannot parse `url` at all."""
    try:
        return urlsplit(url).scheme
    except ValueError:
        return None


def _plain_absolute_url(raw: str, base_scheme: str | None) -> tuple[str, str, str] | None:
    """(urljoin(base, raw), its scheme, its lower-cased host) when `raw` is a plain absolute URL, else None.

    Why: about 80 % of the image URLs on real pages are absolute (http(s)://host/...) or
    protocol-relative (//host/...), and urljoin + urlsplit cost more than the rest of the record.
    Exact, for Python 3.11's urllib (tests/unit/test_page_images.py compares with urljoin):
      * urljoin(base, "http(s)://host/x") is the URL itself when its scheme is not the base's,
        and urlunsplit(urlsplit(url)) when it is: that round trip changes a URL only where it
        holds ';' (path parameters), a tab, CR or LF (removed), or an empty query or fragment
        ('?' or '#' with nothing after, dropped).  Those URLs are left to urljoin (None), and so are
        URLs holding a backslash, which _resolve reads as a browser does ('/') before joining.
      * urljoin(base, "//host/x") is base_scheme + ":" + raw, with the same exceptions, when the
        base scheme is http(s).
      * a host of letters, digits, '.' and '-' holds no user, port, brackets or non-ASCII, so
        urlsplit(url).hostname is host.lower().
    `base_scheme` None (a base urllib cannot parse: urljoin raises for every URL) never takes this path.
    """
    if base_scheme is None:
        return None
    m = _PLAIN_ABSOLUTE_URL.match(raw)
    if m is None or ";" in raw or "\t" in raw or "\n" in raw or "\r" in raw or "\\" in raw:
        return None
    before_fragment, hash_sign, fragment = raw.partition("#")
    _path, question_mark, query = before_fragment.partition("?")
    if (hash_sign and not fragment) or (question_mark and not query):
        return None  # an empty fragment or query: urljoin drops the '#' or '?'
    scheme, host = m.group(1), m.group(2).lower()
    if scheme is not None:
        return raw, scheme, host
    if base_scheme in ("http", "https"):
        return base_scheme + ":" + raw, base_scheme, host
    return None


def _resolve(base: str, base_scheme: str | None, raw: str) -> tuple[str, str, str]:
    """(absolute URL, its scheme, its lower-cased host) of `raw` on a page whose base URL is `base`
    (of scheme `base_scheme`, see _url_scheme), in the form a browser requests it (features.urls.browser_url:
    spaces and non-ASCII percent-encoded, IDNA hosts).  Raises ValueError where urllib or a browser would."""
    plain = _plain_absolute_url(raw, base_scheme)
    if plain is not None:
        url, scheme, host = plain
    else:
        if "\\" in raw:  # before the query, a browser reads '\' as '/' in an http(s) URL
            end = min((i for i in (raw.find("?"), raw.find("#")) if i >= 0), default=len(raw))
            raw = raw[:end].replace("\\", "/") + raw[end:]
        url = urljoin(base, raw)
        parts = urlsplit(url)
        scheme, host = parts.scheme, (parts.hostname or "").lower()
    if scheme in ("http", "https") and NEEDS_BROWSER_FORM.search(url) is not None:
        url = browser_url(url)
        if not host.isascii():
            host = ascii_host(host)
    return url, scheme, host


# How often (in candidate elements) the extraction loop looks at the clock: a clock read per element would
# cost more than the check is worth, and 256 elements take well under a millisecond.
_DEADLINE_EVERY = 256


class ImageExtractor:
    """Extracts image occurrences from pages with one backend (reused across pages), within `limits`."""

    def __init__(self, parser: str = "lexbor", text_limit: int = PARENT_TEXT_MAX, limits: PageLimits | None = None):
        self.backend = make_backend(parser, text_limit=text_limit)
        self.parser = parser
        self.limits = limits or PageLimits()

    def extract_payload(self, payload: bytes, content_type: str | None, page_url: str,
                        deadline: float | None = None) -> PageImages:
        """The images of an HTTP payload: decode_html, then extract, under the page guard
        (features.page.limits): PageSkipped when the page is over a cap or a limit.

        A page that is valid UTF-8 (most of the web) also hands the payload itself to the parser,
        which saves lexbor a UTF-8 copy of the text; the records are the same as extract(text, ...).
        `deadline` (time.monotonic()) bounds the page's time.
        """
        limits = self.limits
        if len(page_url) > limits.max_url_length:
            raise PageSkipped("page URL too long", f"page URL of {len(page_url)} characters, more than "
                                                   f"{limits.max_url_length}")
        tags = payload.count(b"<")
        if tags > limits.max_tags:
            raise PageSkipped("too many elements", f"{tags} '<' in the page, more than {limits.max_tags}")
        if tags > limits.inline_tags and limits.fork and can_fork():
            seconds = limits.max_seconds
            if deadline is not None:
                seconds = min(seconds, deadline - time.monotonic())
            return run_guarded(lambda: self._extract_payload(payload, content_type, page_url, deadline, True),
                               seconds, limits.max_memory)
        return self._extract_payload(payload, content_type, page_url, deadline, False)

    def _extract_payload(self, payload: bytes, content_type: str | None, page_url: str, deadline: float | None,
                         check_depth: bool) -> PageImages:
        html, encoding = decode_html(payload, content_type)
        if check_depth:
            depth = estimated_depth(html, self.limits.max_depth)
            if depth > self.limits.max_depth:
                raise PageSkipped("too deep", f"elements nested more than {self.limits.max_depth} deep")
        return self.extract(html, page_url, utf8=utf8_payload(payload, html, encoding), deadline=deadline)

    def extract(self, html: str, page_url: str, utf8: bytes | None = None, deadline: float | None = None) -> PageImages:
        """The images of a page.  `utf8`, optional, is `html` encoded as UTF-8 (see extract_payload).

        Applies the per-page caps of `self.limits` (image records, URL and attribute lengths) and
        `deadline`, but not the guard around the parse (extract_payload does that)."""
        result = PageImages()
        backend = self.backend
        limits = self.limits
        max_images, max_url, max_attr = limits.max_images, limits.max_url_length, limits.max_attribute_length
        capped = result.capped

        def cut(value: str | None) -> str | None:
            if value is not None and len(value) > max_attr:
                capped["attribute values"] += 1
                return value[:max_attr]
            return value

        doc = backend.parse(html, utf8)
        base = page_url
        base_href = backend.base_href(doc)
        if base_href is not None and base_href.strip(_WS):
            try:
                base = urljoin(page_url, base_href.strip(_WS))
            except ValueError:
                result.skipped["bad_base_href"] += 1
        base_scheme = _url_scheme(base)
        page_host = host_of(page_url)
        images = result.images
        nodes = []  # the element of each image record, for the figure-caption licenses
        candidates = backend.candidates(doc)
        seen = 0
        for tag, node in candidates:
            seen += 1
            if deadline is not None and seen % _DEADLINE_EVERY == 0 and time.monotonic() > deadline:
                raise PageSkipped("record time limit", f"the page's time ran out after {seen} candidate elements")
            if tag == "a" and not could_be_image_link(backend.attribute(node, "href")):
                continue  # an ordinary link, most candidates: dropped before its attributes are read
            attrs = backend.attributes(node)
            lazy = False
            if tag == "img":
                raw, src_attr, lazy = _img_source(attrs)
                if raw is None:
                    result.skipped["no_src"] += 1
                    continue
            elif tag == "source":
                if backend.parent_tag(node) != "picture":
                    continue  # <source> of <video>/<audio>: not an image
                raw, src_attr, lazy = _source_srcset(attrs)
                if raw is None:
                    result.skipped["no_src"] += 1
                    continue
            else:
                raw, src_attr = _media_link_source(tag, attrs)
                if raw is None:
                    continue  # an ordinary link: not an image candidate at all
            scheme = raw.split(":", 1)[0].lower() if ":" in raw[:12] else ""
            if scheme == "data":
                result.skipped["data_url"] += 1
                continue
            if scheme == "javascript":
                result.skipped["javascript_url"] += 1
                continue
            if len(raw) > max_url:
                result.skipped["url_too_long"] += 1
                continue
            try:
                img_url, img_scheme, img_host = _resolve(base, base_scheme, raw)
            except ValueError:
                result.skipped["invalid_url"] += 1
                continue
            if img_scheme not in ("http", "https") or not img_host:
                result.skipped["other_scheme"] += 1
                continue
            if len(img_url) > max_url:
                result.skipped["url_too_long"] += 1
                continue
            if len(images) >= max_images:
                result.skipped["over_image_cap"] += 1 + sum(1 for _ in candidates)  # counted, not examined
                break
            parent_tag, parent_text, depth, siblings, in_noscript, ancestors = backend.context(node)
            srcset = attrs.get("srcset")
            if srcset is None:
                srcset = attrs.get("data-srcset")
            style = attrs.get("style")
            images.append({
                "page_url": page_url,
                "img_url": img_url,
                "src": raw,
                "src_attr": src_attr,
                "element": tag,
                "alt": cut(attrs.get("alt")),
                "title": cut(attrs.get("title")),
                "width_attr": cut(attrs.get("width")),
                "height_attr": cut(attrs.get("height")),
                "srcset": cut(srcset),
                "sizes": cut(attrs.get("sizes")),
                "class": cut(attrs.get("class")),
                "id": cut(attrs.get("id")),
                "style": style[:200] if style is not None else None,
                "loading": cut(attrs.get("loading")),
                "fetchpriority": cut(attrs.get("fetchpriority")),
                "decoding": cut(attrs.get("decoding")),
                "lazy": lazy,
                "in_noscript": in_noscript,
                "rel": cut(attrs.get("rel")),
                "parent_tag": parent_tag,
                "parent_text": parent_text,
                "ancestors": ancestors,
                "dom_depth": depth,
                "dom_siblings": siblings,
                "position": len(images),
                "same_domain": img_host == page_host,
                "page_host": page_host,
                "img_host": img_host,
            })
            nodes.append(node)
        if images:
            attach_licenses(images, nodes, backend, doc, html, utf8)
        add_page_context(images)
        return result


def url_folder(url: str) -> str:
    """The URL without its query and last path segment: the "folder" an image file sits in."""
    return url.split("?", 1)[0].rsplit("/", 1)[0]


_EXTENSION = re.compile(r"\.[A-Za-z0-9]{2,5}$")
_IMAGE_EXTENSION = re.compile(r"\.(?:jpe?g|jfif|png|gif|webp|avif|svg|bmp|tiff?|ico)$", re.I)
_FILE_PARAMETER = re.compile(r"(?:^|&)(?:url|src|image|img|file)=([^&]+)", re.I)
_SCHEME_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//[^/]*", re.I)


def url_file(url: str) -> str:
    """One image file, whatever its host, format or resize parameters: the URL's path (or the path a resizer's
    `url=`/`src=` parameter names, as Next.js `/_next/image?url=...&w=640` does) without scheme, host, query,
    fragment and extension (and an image extension before it: `a.png.webp`), lower-cased.  `a.jpg`,
    `A.webp?w=300`, `a.png.webp`, `//cdn.x.org/a.jpg#1` are one file."""
    head, _, query = url.partition("#")[0].partition("?")
    named = _FILE_PARAMETER.search(query) if query else None
    if named:
        head = unquote(named.group(1)).partition("?")[0]
    path = _EXTENSION.sub("", _SCHEME_HOST.sub("", head))
    return _IMAGE_EXTENSION.sub("", path).lower()


def add_page_context(images: list[dict]) -> None:
    """Per-page context, computed once here so that every later step reads it from the record alone.

    Why here: a model feature that looks at the other rows of the batch it is given (how often an
    image's URL repeats on its page) gives one record different values alone and in a batch; the
    page is only whole during extraction.

    The sizes the page's other image files declare (`page_declared_others`, `_big`, `_longest`, and
    `folder_declared_*` for those in the image's folder): an image that does not declare its size
    usually sits among images that do (79% of the undeclared occurrences in ../shared/data have one
    on their page, 27% in their folder: benchmarks/page_context.py), and a gallery's or an article's
    images share a template.
    "Other" means another file (`url_file`): the same file under another URL or format states this
    image's own size, which is a label, not a context.  Sums by page, folder and file, so that a
    page of thousands of images costs no more than a pass over them.
    """
    urls = Counter(rec["img_url"] for rec in images)
    folders = Counter(url_folder(rec["img_url"]) for rec in images)
    # [occurrences that declare both sizes, of them BIG by the paper's rule, sum of their longer sides]
    totals: dict[tuple, list[int]] = {}
    keys = []
    for rec in images:
        file, folder = url_file(rec["img_url"]), url_folder(rec["img_url"])
        keys.append((file, folder))
        w, h = parse_pixels(rec.get("width_attr")), parse_pixels(rec.get("height_attr"))
        if w is not None and h is not None:
            for key in (("page",), ("folder", folder), ("file", file), ("folder file", folder, file)):
                t = totals.setdefault(key, [0, 0, 0])
                t[0] += 1
                t[1] += w > BIG_MIN and h > BIG_MIN
                t[2] += max(w, h)
    none = [0, 0, 0]
    for rec, (file, folder) in zip(images, keys):
        rec["page_images"] = len(images)
        rec["page_url_count"] = urls[rec["img_url"]]
        rec["page_folder_count"] = folders[folder]
        for prefix, key, own_key in (("page", ("page",), ("file", file)),
                                     ("folder", ("folder", folder), ("folder file", folder, file))):
            n, big, longest = (a - b for a, b in zip(totals.get(key, none), totals.get(own_key, none)))
            rec[f"{prefix}_declared_others"] = n
            rec[f"{prefix}_declared_big"] = big
            rec[f"{prefix}_declared_longest"] = round(longest / n) if n else None


def extract_images(html: str, page_url: str, parser: str = "lexbor") -> PageImages:
    """Convenience one-shot form of `ImageExtractor(parser).extract(html, page_url)`."""
    return ImageExtractor(parser).extract(html, page_url)
