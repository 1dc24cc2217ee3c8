"""Non-textual features of an image occurrence, computed from the extraction job's records.

`PaperFeatures`: the 23 features of Andreadou et al. 2015, in their order, with the `.jpg` bug
fixed (their code compared the suffix to "jpeg" only).  Sizes 8-11 come from URL patterns, never
from HTML attributes, as in the paper.

`ContextFeatures`: the signals the paper did not use: srcset `w` descriptors, our URL size
patterns, declared sizes where present (hidden upstream when they are the label: see
`models.labels.hide_declared_size`), lazy loading, `sizes`, the element's position and the page's
image count, parent tag, and whether the same URL repeats on the page.  Missing values are -1
(trees split them off).
"""
from __future__ import annotations

import re
from collections import Counter

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from features.size_signals import FLICKR_CODES, parse_pixels, srcset_size, srcset_widths, style_size, url_size
from features.url_features import url_of

# -- paper feature 1-5: suffix flags
_SUFFIX_FLAGS = (("jpeg", ("jpg", "jpeg", "jpe")), ("png", ("png",)), ("bmp", ("bmp",)), ("gif", ("gif",)),
                 ("tiff", ("tif", "tiff")))
# -- paper features 8-11: sizes parsed from the URL (the paper's patterns)
_P_WXH = re.compile(r"(\d+)x(\d+)", re.I)
_P_WHS = re.compile(r"(?:^|[^a-z])([whs])_?(\d+)", re.I)
_P_PX = re.compile(r"(\d+)px", re.I)
_P_PARAM = re.compile(r"(width|height|w|h)=(\d+)", re.I)
_P_UNDERSCORE = re.compile(r"_(\d+)\.")
_ELEMENTS = ("img", "link", "a", "embed", "iframe", "object")


def url_suffix(url: str) -> str:
    path = url.split("?", 1)[0].split("#", 1)[0]
    last = path.rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1].lower() if "." in last else ""


def paper_url_size(url: str) -> tuple[int | None, int | None]:
    """(width, height) from the URL with the paper's patterns (None where not found)."""
    m = _P_WXH.search(url)
    if m:
        return int(m.group(1)), int(m.group(2))
    w = h = None
    for name, value in _P_PARAM.findall(url):
        if name.lower().startswith("w") and w is None:
            w = int(value)
        elif name.lower().startswith("h") and h is None:
            h = int(value)
    if w is not None or h is not None:
        return w, h
    m = _P_PX.search(url)
    if m:
        return int(m.group(1)), None
    for code, value in _P_WHS.findall(url):
        code = code.lower()
        if code == "w" and w is None:
            w = int(value)
        elif code == "h" and h is None:
            h = int(value)
        elif code == "s" and w is None:
            w = h = int(value)
    if w is not None or h is not None:
        return w, h
    m = _P_UNDERSCORE.search(url)
    if m:
        return int(m.group(1)), None
    return None, None


def _text_len(value) -> int:
    return len(value) if value else 0


def paper_features(rec) -> list[float]:
    """The paper's 23 features of one record (a URL string gives the URL-only ones, -1 for the rest)."""
    if isinstance(rec, str):
        rec = {"img_url": rec}
    url = url_of(rec)
    suffix = url_suffix(url)
    w, h = paper_url_size(url)
    element = rec.get("element") or ("img" if "dom_depth" in rec else None)
    alt, parent_text = rec.get("alt"), rec.get("parent_text")
    same = rec.get("same_domain")
    return [
        *(float(suffix in names) for _, names in _SUFFIX_FLAGS),
        _num(rec.get("dom_depth")), _num(rec.get("dom_siblings")),
        float(w is not None), float(w if w is not None else -1),
        float(h is not None), float(h if h is not None else -1),
        -1.0 if same is None else float(bool(same)),
        *(float(element == e) for e in _ELEMENTS),
        float(bool(alt)), float(_text_len(alt)),
        float(bool(parent_text)), float(min(_text_len(parent_text), 500)),
        float(len(url)),
    ]


PAPER_FEATURE_NAMES = (
    [f"suffix_{name}" for name, _ in _SUFFIX_FLAGS]
    + ["dom_depth", "dom_siblings", "url_has_width", "url_width", "url_has_height", "url_height", "same_domain"]
    + [f"element_{e}" for e in _ELEMENTS]
    + ["has_alt", "alt_length", "has_parent_text", "parent_text_length", "url_length"]
)


def _num(value) -> float:
    if value is None or isinstance(value, str):
        return -1.0
    return float(value)


class PaperFeatures(TransformerMixin, BaseEstimator):
    """The paper's 23 non-textual features as a dense float32 matrix."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.array([paper_features(r) for r in X], dtype=np.float32).reshape(len(X), len(PAPER_FEATURE_NAMES))

    def get_feature_names_out(self, input_features=None):
        return np.array(PAPER_FEATURE_NAMES, dtype=object)


_PARENTS = ("a", "figure", "picture", "p", "div", "span", "li", "td", "noscript", "header", "nav", "footer")
_EXTRA_SUFFIXES = ("svg", "webp", "ico", "avif", "php", "")
_LAZY_CLASS = re.compile(r"lazy", re.I)
_SIZES_PX = re.compile(r"(\d{1,4})px")
_SIZES_VW = re.compile(r"(\d{1,3})vw")
_URL_PATTERN_NAMES = ("wxh", "wiki-px", "flickr", "google", "cdn-path", "query")

CONTEXT_FEATURE_NAMES = (
    ["decl_width", "decl_height", "decl_has_width", "decl_has_height", "style_width", "style_height",
     "srcset_self_width", "srcset_n", "srcset_max_w", "srcset_min_w",
     "sizes_px", "sizes_vw", "has_sizes",
     "url_size_w", "url_size_h", "url_size_min", "url_size_max"]
    + [f"url_pattern_{n}" for n in _URL_PATTERN_NAMES]
    + ["lazy", "loading_lazy", "class_lazy", "src_from_srcset", "element_source",
       "position", "page_images", "position_share", "same_url_on_page", "same_dir_on_page",
       "has_title", "has_class", "has_id", "query_length", "path_depth", "img_host_is_page_host_suffix"]
    + [f"parent_{p}" for p in _PARENTS]
    + [f"suffix_{s or 'none'}" for s in _EXTRA_SUFFIXES]
)


def _page_counts(X) -> tuple[Counter, Counter]:
    """How often each (page, image URL) and (page, URL directory) occurs in the batch."""
    urls, dirs = Counter(), Counter()
    for r in X:
        if isinstance(r, str):
            continue
        page, url = r.get("page_url"), url_of(r)
        urls[page, url] += 1
        dirs[page, url.split("?", 1)[0].rsplit("/", 1)[0]] += 1
    return urls, dirs


def context_features(rec, same_url: int = 0, same_dir: int = 0) -> list[float]:
    if isinstance(rec, str):
        rec = {"img_url": rec}
    url = url_of(rec)
    dw, dh = parse_pixels(rec.get("width_attr")), parse_pixels(rec.get("height_attr"))
    sw, sh = style_size(rec.get("style"))
    own = srcset_size(rec)
    widths = srcset_widths(rec)
    sizes = rec.get("sizes") or ""
    m_px, m_vw = _SIZES_PX.search(sizes), _SIZES_VW.search(sizes)
    us = url_size(url)
    uw = us.width if us else None
    uh = us.height if us else None
    known = [v for v in (uw, uh) if v is not None]
    pattern = us.pattern.replace("-longest", "") if us else ""
    position, page_images = rec.get("position"), rec.get("page_images")
    cls = rec.get("class") or ""
    parent = rec.get("parent_tag")
    suffix = url_suffix(url)
    path, _, query = url.partition("?")
    img_host, page_host = rec.get("img_host") or "", rec.get("page_host") or ""
    return [
        _opt(dw), _opt(dh), float(dw is not None), float(dh is not None), _opt(sw), _opt(sh),
        _opt(own.width if own else None), float(len(widths)), _opt(max(widths) if widths else None),
        _opt(min(widths) if widths else None),
        _opt(int(m_px.group(1)) if m_px else None), _opt(int(m_vw.group(1)) if m_vw else None), float(bool(sizes)),
        _opt(uw), _opt(uh), _opt(min(known) if known else None), _opt(max(known) if known else None),
        *(float(pattern == n) for n in _URL_PATTERN_NAMES),
        _flag(rec.get("lazy")), float((rec.get("loading") or "").lower() == "lazy"),
        float(bool(_LAZY_CLASS.search(cls))),
        float("srcset" in (rec.get("src_attr") or "")), float(rec.get("element") == "source"),
        _num(position), _num(page_images),
        float(position / page_images) if position is not None and page_images else -1.0,
        float(same_url), float(same_dir),
        float(bool(rec.get("title"))), float(bool(cls)), float(bool(rec.get("id"))), float(len(query)),
        float(path.count("/")),
        _flag(bool(img_host and page_host and (img_host.endswith(page_host) or page_host.endswith(img_host)))
              if page_host else None),
        *(float(parent == p) for p in _PARENTS),
        *(float(suffix == s) for s in _EXTRA_SUFFIXES),
    ]


def _opt(v) -> float:
    return -1.0 if v is None else float(v)


def _flag(v) -> float:
    return -1.0 if v is None else float(bool(v))


class ContextFeatures(TransformerMixin, BaseEstimator):
    """Our extra non-textual features (see the module docstring) as a dense float32 matrix."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        urls, dirs = _page_counts(X)
        rows = []
        for r in X:
            if isinstance(r, str):
                rows.append(context_features(r))
                continue
            page, url = r.get("page_url"), url_of(r)
            rows.append(context_features(r, urls[page, url], dirs[page, url.split("?", 1)[0].rsplit("/", 1)[0]]))
        return np.array(rows, dtype=np.float32).reshape(len(X), len(CONTEXT_FEATURE_NAMES))

    def get_feature_names_out(self, input_features=None):
        return np.array(CONTEXT_FEATURE_NAMES, dtype=object)


__all__ = ["PaperFeatures", "ContextFeatures", "paper_features", "context_features", "FLICKR_CODES"]
