"""Exact size signals: sizes an image states about itself before it is downloaded.

Each function returns a `SizeSignal` (width and/or height in pixels, and where it came from) or
None.  They are used twice: as the first, exact step of a decision (`models.decision`), and as
features for the model.  Only a signal that states the size the file really has (or nearly
always has) may decide alone (the decision rules themselves live in `models.decision`):
  * declared: both `width` and `height` attributes as plain pixel numbers (135 of 138 equal the
    true size in the 2008 archive of ../shared/data);
  * srcset: a `w` descriptor of the very candidate the image URL is (it states the file's width);
  * url-pattern: a size written into the URL by a CMS or CDN (WordPress `-300x200.jpg`,
    Wikimedia `/220px-`, Flickr size codes, `?w=800&h=600`, Google `=s1600`, Cloudinary `w_300`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

import numpy as np

from features.page.srcset import candidate_width, parse_srcset, width_descriptors

BIG_MIN = 400  # BIG: true width > 400 and true height > 400
SMALL_MAX = 200  # SMALL: true width < 200 and true height < 200


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


_PIXELS = re.compile(r"^\s*(\d{1,5})(?:\.\d*)?\s*(?:px)?\s*$", re.I)


def parse_pixels(value) -> int | None:
    """A declared HTML size in pixels ('300', '300px', '300.0'), None for '100%', 'auto', ''..."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    m = _PIXELS.match(str(value))
    return int(m.group(1)) if m else None


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


# URL size patterns.  Query parameters come first: a CDN resizes the file the path names
# (`name-3542x3542.png?w=100` is 100 px wide).  Named groups: w, h, s (longest side), code.
_URL_PATTERNS: list[tuple[str, re.Pattern]] = [
    # WordPress / Shopify / many CMS: name-300x200.jpg, name_300x200.jpg, /300x200/
    ("wxh", re.compile(r"[-_/@](?P<w>\d{2,4})x(?P<h>\d{2,4})(?:[-_@/.]|$)")),
    # Wikimedia thumbnails: /thumb/.../220px-Name.jpg
    ("wiki-px", re.compile(r"/(?P<w>\d{2,4})px-[^/]+$")),
    # Flickr static: 123_abc_z.jpg (size code of the longest side)
    ("flickr", re.compile(r"staticflickr\.com/.+_(?P<code>[sqtmnzcbhko]|w)\.(?:jpe?g|png|gif)$")),
    # Google user content / blogger: =s1600, =w400-h300, /s1600/, /w400-h300/
    ("google", re.compile(r"(?:googleusercontent|blogspot|ggpht|bp\.blogspot)\.com/.*[=/](?:s(?P<s>\d{2,4})|"
                          r"w(?P<w>\d{2,4})-h(?P<h>\d{2,4}))(?:[-/]|$)")),
    # Cloudinary and similar path transforms: w_300,h_200 / c_fill,w_640
    ("cdn-path", re.compile(r"[/,](?:w_(?P<w>\d{2,4}))(?:,h_(?P<h>\d{2,4}))?[,/]")),
]
# Query parameters, strongest first: an exact resize beats a width, which beats a bounding box.
_QUERY_WIDTH = [re.compile(r"[?&]resize=(?P<w>\d{2,4})(?:(?:x|,)(?P<h>\d{2,4}))?(?:[&#]|$)", re.I),
                re.compile(r"[?&](?:w|width|imwidth|maxwidth)=(?P<w>\d{2,4})(?:[&#]|$)", re.I),
                re.compile(r"[?&]fit=(?P<w>\d{2,4})(?:(?:x|,)(?P<h>\d{2,4}))?(?:[&#]|$)", re.I)]
_QUERY_HEIGHT = re.compile(r"[?&](?:h|height|maxheight)=(?P<h>\d{2,4})(?:[&#]|$)", re.I)
_QUERY_DPR = re.compile(r"[?&]dpr=(?P<dpr>[1-4](?:\.\d+)?)(?:[&#]|$)", re.I)
# Flickr size codes: longest side in px (https://www.flickr.com/services/api/misc.urls.html)
FLICKR_CODES = {"s": 75, "q": 150, "t": 100, "m": 240, "n": 320, "w": 400, "z": 640, "c": 800, "b": 1024,
                "h": 1600, "k": 2048, "o": 2048}


def _query_size(u: str) -> SizeSignal | None:
    start = u.find("?")
    if start < 0:
        return None
    # Every query pattern starts at a `?` or `&`: search from the first of them (the same matches,
    # without scanning the path, which is most of a URL).
    amp = u.find("&", 0, start)
    if amp >= 0:
        start = amp
    for pat in _QUERY_WIDTH:
        m = pat.search(u, start)
        if m:
            w = int(m.group("w"))
            h = int(m.group("h")) if m.groupdict().get("h") else None
            break
    else:
        w = h = None
    if h is None:
        mh = _QUERY_HEIGHT.search(u, start)
        h = int(mh.group("h")) if mh else None
    if w is None and h is None:
        return None
    md = _QUERY_DPR.search(u, start)
    if md:  # device pixel ratio: the file is dpr times the CSS size
        dpr = float(md.group("dpr"))
        w = round(w * dpr) if w is not None else None
        h = round(h * dpr) if h is not None else None
    return SizeSignal(w, h, "url-pattern", "query")


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
    """url_size of the URL-decoded URL u."""
    sig = _query_size(u)
    if sig is not None:
        return sig
    path = u.split("?", 1)[0]
    for name, pat in _URL_PATTERNS:
        m = pat.search(path)
        if not m:
            continue
        g = m.groupdict()
        if g.get("code"):
            side = FLICKR_CODES[g["code"]]
            # square codes give both sides; the others bound the longest side only
            if g["code"] in ("s", "q"):
                return SizeSignal(side, side, "url-pattern", name)
            return SizeSignal(side, None, "url-pattern", f"{name}-longest")
        if g.get("s"):
            return SizeSignal(int(g["s"]), None, "url-pattern", f"{name}-longest")
        w = int(g["w"]) if g.get("w") else None
        h = int(g["h"]) if g.get("h") else None
        if w is not None or h is not None:
            return SizeSignal(w, h, "url-pattern", name)
    return None


# Cheap supersets of the URL size patterns, searched in the batch of decoded URLs: each path
# pattern needs one of _MAYBE_PATH_SIZE in the URL, each query pattern needs `=` and two digits
# (whatever the key's case).  Each starts with a literal, which Python's regex engine scans for
# quickly, where one alternation of them would be tried at every character; `[^\n]*` takes the
# rest of the line, so that a pattern matches a URL once however often its literal occurs.
_MAYBE_PATH_SIZE = [re.compile(p + r"[^\n]*") for p in (
    r"x\d\d", r"px-", r"staticflickr", r"googleusercontent", r"blogspot", r"ggpht", r"w_\d\d")]
_MAYBE_QUERY_SIZE = re.compile(r"=\d\d[^\n]*")

def maybe_size_rows(urls: list[str]) -> tuple[list[int], list[int]]:
    """The only decoded URLs `url_sizes` parses (two in five real image URLs), as two lists of
    indices: URLs to parse fully, and URLs that can state a size in a query parameter only."""
    if not urls:
        return [], []
    joined = "\n".join(urls)
    # URL i ends before ends[i], its separator included; no pattern matches a newline, so each
    # match lies inside one URL (even a URL that holds a newline itself).
    ends = np.cumsum(np.fromiter(map(len, urls), dtype=np.int64, count=len(urls)) + 1)

    def rows(patterns: list[re.Pattern]) -> np.ndarray:
        starts = [m.start() for p in patterns for m in p.finditer(joined)]
        return np.unique(np.searchsorted(ends, starts, side="right"))

    full = rows(_MAYBE_PATH_SIZE)
    return full.tolist(), np.setdiff1d(rows([_MAYBE_QUERY_SIZE]), full, assume_unique=True).tolist()


def url_sizes(urls: list[str]) -> list[SizeSignal | None]:
    """`url_size` of every URL of a batch: one scan of the batch picks the URLs worth parsing."""
    decoded = [unquote(u) if "%" in u else u for u in urls]  # what url_size parses
    out: list[SizeSignal | None] = [None] * len(urls)
    full, query_only = maybe_size_rows(decoded)
    for i in full:
        out[i] = _decoded_url_size(decoded[i])
    for i in query_only:  # no literal of a path pattern: a query size is all url_size could find
        out[i] = _query_size(decoded[i])
    return out


class UrlBatch(tuple):
    """Image URLs with their URL size signals (`url_sizes`), found once for the batch.

    Scoring needs the sizes twice: for the exact decisions and as features of the URL model
    (`features.model_inputs.url_shape.UrlShapeFeatures`).  The scorer scans the batch once and passes this
    tuple through the model pipeline, which hands it unchanged to each transformer; a transformer
    given a plain list finds the sizes itself.  A tuple, so that the sizes cannot go stale.
    """

    sizes: list[SizeSignal | None]

    def __new__(cls, urls, sizes: list[SizeSignal | None] | None = None):
        self = super().__new__(cls, urls)
        self.sizes = url_sizes(self) if sizes is None else sizes
        return self

    def take(self, rows) -> UrlBatch:
        """The URLs at these rows, with their sizes (no new scan)."""
        return UrlBatch([self[i] for i in rows], [self.sizes[i] for i in rows])


def sizes_of(urls) -> list[SizeSignal | None]:
    """The URL size signals of a batch: a UrlBatch's own, else found now."""
    return urls.sizes if isinstance(urls, UrlBatch) else url_sizes(urls)
