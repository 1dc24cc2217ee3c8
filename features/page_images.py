"""From one HTML page to its image occurrences: where an image record is born.

The rules (which elements count, which attribute gives the URL, what is skipped) live here,
once; the HTML backends in `features.html_backends` only walk trees.

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
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from features.html_backends import make_backend
from features.image_record import PARENT_TEXT_MAX
from features.srcset import first_url

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


@dataclass
class PageImages:
    """The occurrences found on one page, and the candidates skipped, by reason."""

    images: list[dict] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)


def url_extension(url: str) -> str:
    """The lower-cased extension of the URL's last path segment ('' if none)."""
    path = url.split("#", 1)[0].split("?", 1)[0]
    last = path.rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1].lower() if "." in last else ""


def is_placeholder(src: str) -> bool:
    if not src or src.startswith("data:") or src.startswith("about:"):
        return True
    name = src.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]
    return bool(_PLACEHOLDER.match(name))


def _attr(attrs: dict, name: str) -> str | None:
    v = attrs.get(name)
    return v if v is None else str(v)


def _img_source(attrs: dict) -> tuple[str | None, str | None, bool]:
    """(raw url, attribute name, lazy?) for an <img>."""
    src = (_attr(attrs, "src") or "").strip(_WS)
    if not is_placeholder(src):
        return src, "src", False
    for name in LAZY_SRC_ATTRS:
        v = (_attr(attrs, name) or "").strip(_WS)
        if v and not v.startswith("data:"):
            return v, name, True
    for name in LAZY_SRCSET_ATTRS:
        v = first_url(_attr(attrs, name))
        if v and not v.startswith("data:"):
            return v, name, True
    v = first_url(_attr(attrs, "srcset"))
    if v and not v.startswith("data:"):
        return v, "srcset", False
    if src:
        return src, "src", False
    return None, None, False


def _source_srcset(attrs: dict) -> tuple[str | None, str | None, bool]:
    """(raw url, attribute name, lazy?) for a <picture><source>: `srcset`, unless it is a data: placeholder
    and a lazy-loading `data-srcset` holds the real candidates (lazysizes' pattern)."""
    src = first_url(_attr(attrs, "srcset"))
    if src and not src.startswith("data:"):
        return src, "srcset", False
    for name in LAZY_SRCSET_ATTRS:
        v = first_url(_attr(attrs, name))
        if v and not v.startswith("data:"):
            return v, name, True
    if src:
        return src, "srcset", False
    return None, None, False


def _media_link_source(tag: str, attrs: dict) -> tuple[str | None, str | None]:
    """(raw url, attribute) for a/link/embed/object/iframe when it points to an image, else (None, None)."""
    attr = {"a": "href", "link": "href", "embed": "src", "object": "data", "iframe": "src"}[tag]
    url = (_attr(attrs, attr) or "").strip(_WS)
    if not url:
        return None, None
    if url_extension(url) in IMAGE_EXTENSIONS:
        return url, attr
    if tag == "link":
        rels = set((_attr(attrs, "rel") or "").lower().split())
        if rels & _LINK_IMAGE_RELS or ("preload" in rels and (_attr(attrs, "as") or "").lower() == "image"):
            return url, attr
    if tag == "object" and (_attr(attrs, "type") or "").lower().startswith("image/"):
        return url, attr
    return None, None


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


class ImageExtractor:
    """Extracts image occurrences from pages with one backend (reused across pages)."""

    def __init__(self, parser: str = "lexbor", text_limit: int = PARENT_TEXT_MAX):
        self.backend = make_backend(parser, text_limit=text_limit)
        self.parser = parser

    def extract(self, html: str, page_url: str) -> PageImages:
        result = PageImages()
        backend = self.backend
        doc = backend.parse(html)
        base = page_url
        base_href = backend.base_href(doc)
        if base_href is not None and base_href.strip(_WS):
            try:
                base = urljoin(page_url, base_href.strip(_WS))
            except ValueError:
                result.skipped["bad_base_href"] += 1
        page_host = host_of(page_url)
        images = result.images
        for tag, attrs, node in backend.candidates(doc):
            lazy = False
            if tag == "img":
                raw, src_attr, lazy = _img_source(attrs)
                if raw is None:
                    result.skipped["no_src"] += 1
                    continue
            elif tag == "source":
                if backend_parent_tag(backend, node) != "picture":
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
            try:
                img_url = urljoin(base, raw)
                parts = urlsplit(img_url)
                img_host = (parts.hostname or "").lower()
            except ValueError:
                result.skipped["invalid_url"] += 1
                continue
            if parts.scheme not in ("http", "https") or not img_host:
                result.skipped["other_scheme"] += 1
                continue
            parent_tag, parent_text, depth, siblings, in_noscript = backend.context(node)
            srcset = _attr(attrs, "srcset")
            if srcset is None:
                srcset = _attr(attrs, "data-srcset")
            style = _attr(attrs, "style")
            images.append({
                "page_url": page_url,
                "img_url": img_url,
                "src": raw,
                "src_attr": src_attr,
                "element": tag,
                "alt": _attr(attrs, "alt"),
                "title": _attr(attrs, "title"),
                "width_attr": _attr(attrs, "width"),
                "height_attr": _attr(attrs, "height"),
                "srcset": srcset,
                "sizes": _attr(attrs, "sizes"),
                "class": _attr(attrs, "class"),
                "id": _attr(attrs, "id"),
                "style": style[:200] if style is not None else None,
                "loading": _attr(attrs, "loading"),
                "lazy": lazy,
                "in_noscript": in_noscript,
                "rel": _attr(attrs, "rel"),
                "parent_tag": parent_tag,
                "parent_text": parent_text,
                "dom_depth": depth,
                "dom_siblings": siblings,
                "position": len(images),
                "same_domain": img_host == page_host,
                "page_host": page_host,
                "img_host": img_host,
            })
        for rec in images:
            rec["page_images"] = len(images)
        return result


def backend_parent_tag(backend, node) -> str | None:
    if backend.name == "lexbor":
        p = node.parent
        return p.tag if p is not None else None
    p = node.parent
    return p.name if p is not None else None


def extract_images(html: str, page_url: str, parser: str = "lexbor") -> PageImages:
    """Convenience one-shot form of `ImageExtractor(parser).extract(html, page_url)`."""
    return ImageExtractor(parser).extract(html, page_url)
