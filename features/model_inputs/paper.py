"""The paper's 23 non-textual features of an image occurrence (Andreadou et al. 2015), in their order.

The `.jpg` bug of the original code is fixed (it compared the suffix to "jpeg" only).  Sizes 8-11
come from URL patterns, never from HTML attributes, as in the paper.  Each row's features depend
on that row alone.
"""
from __future__ import annotations

import re

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from features.urls import url_extension, url_of

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
    suffix = url_extension(url)
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


