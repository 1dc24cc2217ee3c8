"""Our non-textual features of an image occurrence: the signals the paper did not use.

srcset `w` descriptors, our URL size patterns and URL hints (`url_hints`: original or thumbnail forms,
avatar/icon/logo words, camera and hash file names, the context of the URL's largest number),
`fetchpriority` and `decoding`, the sizes the page's other image files declare (on the page and in
the image's folder: how many, the BIG share, the mean longer side), declared sizes where present (hidden upstream when
they are the label: see `models.labels.hide_declared_size`), lazy loading, `sizes`, the element's
position and the page's image count, parent tag, and how often the image's URL and folder occur on
its page.  Missing values are -1 (trees split them off).

Row-wise: each row's features depend on that record alone.  What needs the whole page (position,
page image count, repeats on the page) was computed once during extraction and is read from the
record (`features.page.images.add_page_context`), so a record scores the same alone and in any
batch.  Features are produced by name (`context_features` returns a dict) and laid out in the
order of CONTEXT_FEATURE_NAMES.
"""
from __future__ import annotations

import re

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from features.model_inputs.size_signals import parse_pixels, srcset_size, srcset_widths, style_size, url_size
from features.model_inputs.url_hints import HINT_NAMES, url_hints, url_hints_matrix
from features.model_inputs.url_rules import URL_PATTERN_NAMES
from features.urls import url_extension, url_of

_PARENTS = ("a", "figure", "picture", "p", "div", "span", "li", "td", "noscript", "header", "nav", "footer")
_EXTRA_SUFFIXES = ("svg", "webp", "ico", "avif", "php", "")
_LAZY_CLASS = re.compile(r"lazy", re.I)
_SIZES_PX = re.compile(r"(\d{1,4})px")
_SIZES_VW = re.compile(r"(\d{1,3})vw")
_URL_PATTERN_NAMES = URL_PATTERN_NAMES  # the rules of features/model_inputs/url_rules.py, by name


def _feature_names(pattern_names, page_declared: bool = True) -> list[str]:
    """The columns, in order, for these URL pattern names (the rule order of url_rules.py)."""
    return (
        ["decl_width", "decl_height", "decl_has_width", "decl_has_height", "style_width", "style_height",
         "srcset_self_width", "srcset_n", "srcset_max_w", "srcset_min_w",
         "sizes_px", "sizes_vw", "has_sizes",
         "url_size_w", "url_size_h", "url_size_min", "url_size_max"]
        + [f"url_pattern_{n}" for n in pattern_names]
        + ["lazy", "loading_lazy", "class_lazy", "src_from_srcset", "element_source",
           "position", "page_images", "position_share", "same_url_on_page", "same_folder_on_page",
           "has_title", "has_class", "has_id", "query_length", "path_depth", "img_host_is_page_host_suffix"]
        + [f"parent_{p}" for p in _PARENTS]
        + [f"suffix_{s or 'none'}" for s in _EXTRA_SUFFIXES]
        + [f"url_hint_{h}" for h in HINT_NAMES]
        + ["fetchpriority_high", "decoding_async"]
        + ([f"{scope}_declared_{what}" for scope in ("page", "folder") for what in ("others", "big_share", "longest")]
           if page_declared else [])
    )


CONTEXT_FEATURE_NAMES = _feature_names(_URL_PATTERN_NAMES)


def _opt(v) -> float:
    return -1.0 if v is None else float(v)


def _flag(v) -> float:
    return -1.0 if v is None else float(bool(v))


def _num(value) -> float:
    if value is None or isinstance(value, (str, bool)):
        return -1.0
    return float(value)


def context_features(rec, hints: dict[str, float] | None = None) -> dict[str, float]:
    """The named context features of one record (a bare URL string counts as a record with only `img_url`).
    `hints`: `url_hints` of its URL where the caller has them (ContextFeatures finds them for the batch at
    once: one URL at a time they cost ~80 times more)."""
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
    pattern = us.pattern.removesuffix("-longest").removesuffix("-box") if us else ""
    position, page_images = rec.get("position"), rec.get("page_images")
    cls = rec.get("class") or ""
    parent = rec.get("parent_tag")
    suffix = url_extension(url)
    path, _, query = url.partition("?")
    img_host, page_host = rec.get("img_host") or "", rec.get("page_host") or ""
    out = {
        "decl_width": _opt(dw), "decl_height": _opt(dh),
        "decl_has_width": float(dw is not None), "decl_has_height": float(dh is not None),
        "style_width": _opt(sw), "style_height": _opt(sh),
        "srcset_self_width": _opt(own.width if own else None), "srcset_n": float(len(widths)),
        "srcset_max_w": _opt(max(widths) if widths else None), "srcset_min_w": _opt(min(widths) if widths else None),
        "sizes_px": _opt(int(m_px.group(1)) if m_px else None), "sizes_vw": _opt(int(m_vw.group(1)) if m_vw else None),
        "has_sizes": float(bool(sizes)),
        "url_size_w": _opt(uw), "url_size_h": _opt(uh),
        "url_size_min": _opt(min(known) if known else None), "url_size_max": _opt(max(known) if known else None),
        "lazy": _flag(rec.get("lazy")), "loading_lazy": float((rec.get("loading") or "").lower() == "lazy"),
        "class_lazy": float(bool(_LAZY_CLASS.search(cls))),
        "src_from_srcset": float("srcset" in (rec.get("src_attr") or "")),
        "element_source": float(rec.get("element") == "source"),
        "position": _num(position), "page_images": _num(page_images),
        "position_share": (float(position / page_images) if _num(position) >= 0 and _num(page_images) > 0
                           else -1.0),
        "same_url_on_page": _num(rec.get("page_url_count")),
        "same_folder_on_page": _num(rec.get("page_folder_count")),
        "has_title": float(bool(rec.get("title"))), "has_class": float(bool(cls)), "has_id": float(bool(rec.get("id"))),
        "query_length": float(len(query)), "path_depth": float(path.count("/")),
        "img_host_is_page_host_suffix": _flag(
            bool(img_host and (img_host.endswith(page_host) or page_host.endswith(img_host))) if page_host else None),
    }
    for name in _URL_PATTERN_NAMES:
        out[f"url_pattern_{name}"] = float(pattern == name)
    for p in _PARENTS:
        out[f"parent_{p}"] = float(parent == p)
    for s in _EXTRA_SUFFIXES:
        out[f"suffix_{s or 'none'}"] = float(suffix == s)
    for name, value in (hints if hints is not None else url_hints(url)).items():
        out[f"url_hint_{name}"] = value
    out["fetchpriority_high"] = _flag((rec.get("fetchpriority") or "").lower() == "high"
                                      if "fetchpriority" in rec else None)
    out["decoding_async"] = _flag((rec.get("decoding") or "").lower() == "async" if "decoding" in rec else None)
    for scope in ("page", "folder"):  # the sizes the page's other image files declare (-1: records from before)
        others = rec.get(f"{scope}_declared_others")
        big = rec.get(f"{scope}_declared_big")
        out[f"{scope}_declared_others"] = _num(others)
        out[f"{scope}_declared_big_share"] = (float(big / others) if _num(others) > 0 and _num(big) >= 0
                                              else -1.0)
        out[f"{scope}_declared_longest"] = _num(rec.get(f"{scope}_declared_longest"))
    return out


# The columns of models fitted before `names_` (and the page's declared sizes) came, frozen: the URL pattern
# names in the rule order of that time (commit 953ac61); a rule moved since, which changes their order today.
# Such a model file keeps scoring with the columns it was fitted on.
_PATTERN_ORDER_BEFORE_NAMES = (
    "cloudflare", "imgproxy", "thumbor", "resize-path", "gannett", "gravatar", "avatar", "xenforo-avatar",
    "steam-avatar", "query", "wxh", "wiki-px", "cdn-path", "path-width", "wp-scaled", "storyblok", "youtube", "twimg",
    "flickr", "google", "medium", "bbc", "shopify", "bigcommerce", "amazon", "ebay", "tumblr", "imgur", "guardian")
_NAMES_BEFORE_PAGE_DECLARED = _feature_names(_PATTERN_ORDER_BEFORE_NAMES, page_declared=False)


class ContextFeatures(TransformerMixin, BaseEstimator):
    """Our extra non-textual features (see the module docstring) as a dense float32 matrix, row by row.

    `names_`: the columns, in order, as fitted (all of CONTEXT_FEATURE_NAMES); a model file keeps its
    columns when features are added."""

    def fit(self, X, y=None):
        self.names_ = list(CONTEXT_FEATURE_NAMES)
        return self

    @property
    def columns(self) -> list[str]:
        return getattr(self, "names_", CONTEXT_FEATURE_NAMES)

    def __setstate__(self, state):
        """Loaded from a model file (pickle or skops): one written before `names_` has the older columns."""
        state = dict(state)
        state.setdefault("names_", list(_NAMES_BEFORE_PAGE_DECLARED))
        super().__setstate__(state)

    def transform(self, X):
        # each row's hints depend on its own URL only (url_hints(u) is row 0 of url_hints_matrix([u]))
        records = [{"img_url": r} if isinstance(r, str) else r for r in X]
        matrix = url_hints_matrix([url_of(r) for r in records])
        rows = [context_features(r, dict(zip(HINT_NAMES, map(float, m)))) for r, m in zip(records, matrix.tolist())]
        columns = self.columns
        return np.array([[row[name] for name in columns] for row in rows],
                        dtype=np.float32).reshape(len(X), len(columns))

    def get_feature_names_out(self, input_features=None):
        return np.array(self.columns, dtype=object)
