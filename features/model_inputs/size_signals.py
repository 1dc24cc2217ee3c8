"""Exact size signals: sizes an image states about itself before it is downloaded.

Each function returns a `SizeSignal` (width and/or height in pixels, and where it came from) or
None.  They are used twice: as the first, exact step of a decision (`models.decision`), and as
features for the model.  Only a signal that states the size the file really has (or nearly
always has) may decide alone (the decision rules themselves live in `models.decision`):
  * declared: both `width` and `height` attributes as plain pixel numbers (135 of 138 equal the
    true size in the 2008 archive of ../shared/data);
  * srcset: a `w` descriptor of the very candidate the image URL is (it states the file's width);
  * url-pattern: a size written into the URL by a CMS, a CDN or a photo host, read by the rules of
    `features.model_inputs.url_rules` (the table: each form, what it states, where it is
    documented): CDN transforms (Cloudflare `/cdn-cgi/image/width=`, imgproxy, thumbor `fit-in`,
    `/resize/WxH!`, Storyblok `/m/`, Gannett), host renditions (YouTube `hqdefault`, twimg,
    Flickr's size codes, Google `=s1600`, Medium, BBC, the Guardian, Shopify, BigCommerce, Amazon,
    eBay, Tumblr, Imgur), avatar services (Gravatar `s=`, GitHub, XenForo, Steam), query sizes
    (`?w=800&h=600`, `resize=`, Scene7 `wid=`, Squarespace `format=750w`) and sizes in the path
    (WordPress `-300x200`, Wikimedia `/220px-`, Cloudinary `w_300`, `/590x/`, `/w600/`, `-scaled`).
    `SizeSignal.pattern` names the rule; a name ending in `-longest` bounds the longest side
    (the number is in `width`), one ending in `-box` gives a box the file fits in.
`url_sizes` finds the URL sizes of a batch (what `url_size` finds for each URL, faster), and
`features.model_inputs.url_hints` the hints of a URL that are not sizes (original, thumbnail, avatar ...).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from urllib.parse import unquote

import numpy as np

from features.model_inputs.url_rules import FLICKR_CODES, URL_PATTERN_NAMES, URL_RULES, first_size  # noqa: F401
from features.page.pixels import BIG_MIN, SMALL_MAX, parse_pixels
from features.page.srcset import candidate_width, parse_srcset, width_descriptors


@dataclass(frozen=True)
class SizeSignal:
    width: int | None
    height: int | None
    reason: str
    pattern: str = ""


def size_class(width: float | None, height: float | None) -> str | None:
    """'BIG', 'SMALL' or None (in between, or unknown) by the paper's rule."""
    if width is None or height is None:
        return None
    if width > BIG_MIN and height > BIG_MIN:
        return "BIG"
    if width < SMALL_MAX and height < SMALL_MAX:
        return "SMALL"
    return None


def declared_size(rec: dict) -> SizeSignal | None:
    """Both width and height attributes, as pixel numbers."""
    w, h = parse_pixels(rec.get("width_attr")), parse_pixels(rec.get("height_attr"))
    if w is None or h is None:
        return None
    return SizeSignal(w, h, "declared")


_STYLE_SIZE = re.compile(r"(?:^|[;\s{])(width|height)\s*:\s*(\d{1,5})(?:\.\d+)?px", re.I)


def style_size(style: str | None) -> tuple[int | None, int | None]:
    """(width, height) in px from an inline style, None where absent."""
    w = h = None
    for name, value in _STYLE_SIZE.findall(style or ""):
        if name.lower() == "width" and w is None:
            w = int(value)
        elif name.lower() == "height" and h is None:
            h = int(value)
    return w, h


def srcset_size(rec: dict) -> SizeSignal | None:
    """The `w` descriptor of the srcset candidate the image URL was taken from (the file's width)."""
    srcset = rec.get("srcset")
    if not srcset:
        return None
    src = rec.get("src") or ""
    img_url = rec.get("img_url") or ""
    for url, desc in parse_srcset(srcset):
        if url == src or url == img_url:
            width = candidate_width(desc)
            if width is not None:
                return SizeSignal(width, None, "srcset")
    return None


def srcset_widths(rec: dict) -> list[int]:
    """All `w` descriptors of the element's srcset (the widths of the other renditions too)."""
    return width_descriptors(rec.get("srcset"))


# URL size rules: features.model_inputs.url_rules (the table, what each form states, where it is
# documented).  Here: a URL's first rule match as a SizeSignal, for one URL and for a batch.

@lru_cache(maxsize=1 << 14)
def _signal(size: tuple | None) -> SizeSignal | None:
    """The SizeSignal of a rule's (width, height, pattern); cached: a batch repeats a few sizes often."""
    return None if size is None else SizeSignal(size[0], size[1], "url-pattern", size[2])


@lru_cache(maxsize=1 << 16)
def url_size(url: str) -> SizeSignal | None:
    """A size written into the URL, or None.  One or both sides may be known.

    Cached: the record model's features and the decisions ask for the same URLs.  A batch of
    URLs goes through `url_sizes` instead.
    """
    if not url:
        return None
    return _decoded_url_size(unquote(url))


def _decoded_url_size(u: str) -> SizeSignal | None:
    """url_size of the URL-decoded URL u: the first rule of URL_RULES that reads a size."""
    return _signal(first_size(u, URL_RULES))


# The batch scan.  Each rule names a trigger: a regex starting with a literal that occurs in every
# URL the rule matches.  One scan of the joined batch per distinct trigger finds the URLs worth
# parsing and, for each, which triggers occur (a bit mask); a URL is parsed with the rules of its
# triggers only, in URL_RULES order, so it gets what url_size gets.  Python's regex engine scans for
# a leading literal quickly, where one alternation of them would be tried at every character;
# `[^\n]*` takes the rest of the line, so that a trigger matches a URL once however often it occurs.
_TRIGGERS = list(dict.fromkeys(rule.trigger for rule in URL_RULES))
_TRIGGER_SCANS = [re.compile(t + r"[^\n]*") for t in _TRIGGERS]
_RULE_BITS = [1 << _TRIGGERS.index(rule.trigger) for rule in URL_RULES]


@lru_cache(maxsize=None)
def _rules_for(mask: int) -> tuple:
    """The rules whose trigger bit is in mask, in URL_RULES order."""
    return tuple(rule for rule, bit in zip(URL_RULES, _RULE_BITS) if mask & bit)


def maybe_size_rows(urls: list[str]) -> tuple[list[int], list[int]]:
    """The only decoded URLs `url_sizes` parses (about two in five real image URLs): their indices,
    and for each the bit mask of the rule triggers found in it."""
    if not urls:
        return [], []
    joined = "\n".join(urls)
    # URL i ends before ends[i], its separator included; no trigger matches a newline, so each
    # match lies inside one URL (even a URL that holds a newline itself).
    ends = np.cumsum(np.fromiter(map(len, urls), dtype=np.int64, count=len(urls)) + 1)
    mask = np.zeros(len(urls), dtype=np.int64)
    for bit, scan in enumerate(_TRIGGER_SCANS):
        starts = [m.start() for m in scan.finditer(joined)]
        if starts:
            mask[np.searchsorted(ends, starts, side="right")] |= 1 << bit
    rows = np.flatnonzero(mask)
    return rows.tolist(), mask[rows].tolist()


def decode_all(urls) -> list[str]:
    """The URL-decoded URLs, what `url_size` and the URL hints read."""
    return [unquote(u) if "%" in u else u for u in urls]


def url_sizes(urls: list[str], decoded: list[str] | None = None) -> list[SizeSignal | None]:
    """`url_size` of every URL of a batch: one scan of the batch picks the URLs worth parsing.
    `decoded`: `decode_all(urls)`, where the caller has it."""
    if decoded is None:
        decoded = decode_all(urls)
    out: list[SizeSignal | None] = [None] * len(urls)
    rows, masks = maybe_size_rows(decoded)
    for i, mask in zip(rows, masks):
        size = first_size(decoded[i], _rules_for(mask))
        if size is not None:
            out[i] = _signal(size)
    return out


class UrlBatch(tuple):
    """Image URLs with their URL size signals (`url_sizes`), found once for the batch.

    Scoring needs the sizes twice: for the exact decisions and as features of the URL model
    (`features.model_inputs.url_shape.UrlShapeFeatures`).  The scorer scans the batch once and passes this
    tuple through the model pipeline, which hands it unchanged to each transformer; a transformer
    given a plain list finds the sizes itself.  A tuple, so that the sizes cannot go stale.
    """

    sizes: list[SizeSignal | None]
    decoded: list[str]  # decode_all of the URLs, for the URL hints too

    def __new__(cls, urls, sizes: list[SizeSignal | None] | None = None, decoded: list[str] | None = None):
        self = super().__new__(cls, urls)
        self.decoded = decode_all(self) if decoded is None else decoded
        self.sizes = url_sizes(self, self.decoded) if sizes is None else sizes
        return self

    def take(self, rows) -> UrlBatch:
        """The URLs at these rows, with their sizes (no new scan)."""
        rows = list(rows)
        if len(rows) < 2:
            return UrlBatch([self[i] for i in rows], [self.sizes[i] for i in rows], [self.decoded[i] for i in rows])
        pick = itemgetter(*rows)  # one C call per list, not a Python loop
        return UrlBatch(pick(self), list(pick(self.sizes)), list(pick(self.decoded)))


def sizes_of(urls) -> list[SizeSignal | None]:
    """The URL size signals of a batch: a UrlBatch's own, else found now."""
    return urls.sizes if isinstance(urls, UrlBatch) else url_sizes(urls)
