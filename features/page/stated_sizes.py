"""Sizes a page states about image files besides `<img width height>`: a label source wider than attributes.

A page says how big some of its image files are in several places, all written by the site (or its
CMS) about the file itself:
  * `srcset` candidates with a `w` descriptor: the candidate file's true width (the height follows
    from the element's declared aspect ratio, or from a WxH in the candidate's URL);
  * `og:image` with `og:image:width` / `og:image:height` (the Open Graph share image);
  * JSON-LD `ImageObject` with `width` / `height` (schema.org, often the article's lead image);
  * `<link rel=icon|apple-touch-icon sizes="WxH">` (favicons and touch icons).
Each statement keeps its source, so a model's figures can be compared with and without each.
Used to build training labels (`models.corpus`); pages are parsed with lexbor.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urljoin

from features.page.srcset import candidate_width, parse_srcset

MAX_JSONLD_BYTES = 200_000  # per script: a page's structured data, not a data dump
_WXH = re.compile(r"[-_/@](\d{2,4})x(\d{2,4})(?:[-_@/.]|$)")
_ICON_SIZES = re.compile(r"^(\d{1,4})x(\d{1,4})$", re.I)
_PIXELS = re.compile(r"^\s*(\d{1,5})(?:\.\d+)?\s*(?:px)?\s*$", re.I)


@dataclass(frozen=True)
class StatedSize:
    url: str  # absolute
    width: int
    height: int | None  # None: only the width is stated
    source: str  # srcset, og:image, json-ld, icon


def _pixels(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if 0 < value < 100_000 else None
    if isinstance(value, dict):  # schema.org QuantitativeValue {"@type": ..., "value": 1200}
        return _pixels(value.get("value"))
    m = _PIXELS.match(str(value)) if value is not None else None
    return int(m.group(1)) if m and int(m.group(1)) > 0 else None


def _absolute(base: str, url) -> str | None:
    if not isinstance(url, str) or not url.strip():
        return None
    try:
        out = urljoin(base, url.strip())
    except ValueError:
        return None
    return out if out.startswith(("http://", "https://")) else None


def _srcset_statements(doc, base: str) -> list[StatedSize]:
    out = []
    for node in doc.css("img, source"):
        attrs = node.attributes
        w_attr, h_attr = _pixels(attrs.get("width")), _pixels(attrs.get("height"))
        for name in ("srcset", "data-srcset", "data-lazy-srcset"):
            for url, desc in parse_srcset(attrs.get(name)):
                width = candidate_width(desc)
                absolute = _absolute(base, url)
                if width is None or absolute is None or width <= 0:
                    continue
                height = None
                m = _WXH.search(url.split("?", 1)[0])
                if m and int(m.group(1)) == width:
                    height = int(m.group(2))
                elif w_attr and h_attr:
                    height = round(width * h_attr / w_attr)
                out.append(StatedSize(absolute, width, height, "srcset"))
    return out


def _meta_statements(doc, base: str) -> list[StatedSize]:
    props: dict[str, list[str]] = {}
    for node in doc.css("meta"):
        key = (node.attributes.get("property") or node.attributes.get("name") or "").strip().lower()
        if key.startswith("og:image"):
            props.setdefault(key, []).append(node.attributes.get("content") or "")
    urls = props.get("og:image:secure_url") or props.get("og:image:url") or props.get("og:image") or []
    widths, heights = props.get("og:image:width") or [], props.get("og:image:height") or []
    out = []
    for url, w, h in zip(urls, widths, heights):  # Open Graph pairs them by order
        absolute, width, height = _absolute(base, url), _pixels(w), _pixels(h)
        if absolute and width and height:
            out.append(StatedSize(absolute, width, height, "og:image"))
    return out


def _image_objects(value, depth: int = 0):
    """Every dict of a JSON-LD tree that looks like an ImageObject with a URL and a size."""
    if depth > 12:
        return
    if isinstance(value, list):
        for item in value[:200]:
            yield from _image_objects(item, depth + 1)
    elif isinstance(value, dict):
        kind = value.get("@type")
        kinds = kind if isinstance(kind, list) else [kind]
        if "ImageObject" in kinds and ("width" in value or "height" in value):
            yield value
        for key, item in list(value.items())[:200]:
            if isinstance(item, (dict, list)):
                yield from _image_objects(item, depth + 1)


def _jsonld_statements(doc, base: str) -> list[StatedSize]:
    out = []
    for node in doc.css('script[type="application/ld+json"]'):
        text = node.text(deep=True) or ""
        if len(text) > MAX_JSONLD_BYTES or "ImageObject" not in text:
            continue
        try:
            data = json.loads(text)
        except ValueError:
            continue
        for obj in _image_objects(data):
            absolute = _absolute(base, obj.get("url") or obj.get("contentUrl"))
            width, height = _pixels(obj.get("width")), _pixels(obj.get("height"))
            if absolute and width and height:
                out.append(StatedSize(absolute, width, height, "json-ld"))
    return out


def _icon_statements(doc, base: str) -> list[StatedSize]:
    out = []
    for node in doc.css("link[sizes]"):
        rel = (node.attributes.get("rel") or "").lower()
        if "icon" not in rel:
            continue
        absolute = _absolute(base, node.attributes.get("href"))
        sizes = (node.attributes.get("sizes") or "").split()
        m = _ICON_SIZES.match(sizes[0]) if len(sizes) == 1 else None  # "any" or several: no one size
        if absolute and m:
            out.append(StatedSize(absolute, int(m.group(1)), int(m.group(2)), "icon"))
    return out


SOURCES = ("srcset", "og:image", "json-ld", "icon")


def stated_sizes(html: str | bytes, page_url: str) -> list[StatedSize]:
    """Every size the page states about an image file, in document order per source."""
    from selectolax.lexbor import LexborHTMLParser

    doc = LexborHTMLParser(html)
    base = page_url
    for node in doc.css("base[href]"):
        base = _absolute(page_url, node.attributes.get("href")) or page_url
        break
    return (_srcset_statements(doc, base) + _meta_statements(doc, base) + _jsonld_statements(doc, base)
            + _icon_statements(doc, base))
