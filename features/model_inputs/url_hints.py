"""Named URL hints that are not sizes but transfer across hosts, as model inputs.

`url_hints(url)` returns every name of `HINT_NAMES` with a float; `url_hints_matrix(urls)` the same
for a batch as one float32 matrix (a few scans of the joined batch, not a loop of regexes per URL;
`url_hints(u)` is row 0 of `url_hints_matrix([u])`, so the two always agree).  All hints read the
URL-decoded URL (`unquote`), as `url_size` does.

Flags (1.0 or 0.0).  A "word" is a whole word of letters: the URL is cut at every character that is
not a letter and lower-cased (`site-logo.png` and `LOGO_white` hold the word logo; `siteLogo` does not).
  * original: the URL names an original upload or a full-size copy (the file may still be resized by
    a size elsewhere in the URL, which the exact rules read first): a Wikimedia original
    (upload.wikimedia.org/wikipedia/<project>/<a>/<ab>/<name>, not /thumb/), Flickr `_o`, Google
    `=s0` or `/s0/`, the words original(s), orig, full, fullsize, raw, master, scaled (twimg
    `name=orig`, BBC /images/ic/raw/, Shopify `_master`, Squarespace `format=original`, BigCommerce
    stencil/original, IIIF /full/, the Guardian's /master/, WordPress big-image copies `-scaled.jpg`);
  * thumbnail: the words thumb(s), thumbnail(s) (Wikimedia /thumb/, `_thumb`, Drupal
    /styles/thumbnail/) and csm (TYPO3 processed copies `csm_`), WordPress's thumbnail size `-150x150.`;
  * avatar: the words avatar(s), gravatar, blavatar, customavatars, useravatar, userpic(s);
    profile_images (twimg), profile pic;
  * icon (the words icon(s), favicon(s), ico: a `.ico` file), logo (logo(s)), sprite (sprite(s)),
    emoji (emoji(s), emoticon(s), smiley(s), smilies), badge (badge(s)), button (button(s), btn(s)),
    flag (flag(s));
  * tracking: a tracking or spacer pixel: the words pixel, beacon, spacer, analytics, doubleclick,
    scorecardresearch, quantserve, chartbeat, imrworldwide, omtrdc, adlog, utm (google-analytics.com,
    pixel.wp.com, `__utm.gif`); `1x1` as a number pair; a `.gif` named spacer, blank, clear, trans or
    transparent;
  * camera_name: the file name a camera or phone gave the photo: IMG_1234, DSC_0012, DSCN/DSCF1234,
    _MG_1234, PXL_20230512_..., MVIMG_, GOPR0001, DJI_0001, PANO_, VID_, P1010001, 20230512_123456;
  * hash_name: a file name (without extension) that is a hash: 16+ hex digits, a UUID, or 16+
    base64-like characters mixing digits, upper and lower case often (at least one case or digit
    change every 4 characters).

The largest number: `num_max` is the largest number of 2 to 4 digits in the URL after its host
(0 if none), skipping the years of dates (/2023/05/, 2023-05-12, /2023/) and the digits of hex hashes
(a token of 4+ letters and digits whose letters are all a-f, `f50b4ac0`, or a UUID); `num_ctx_<c>` (one of
NUM_CONTEXTS) says what surrounds it: w (after w, width, wid, imwidth: `w=800`, `w_800`, `/w800`),
h (after h, height, hei), s (after s, size, sz), max (after max), x_left (`800x`), x_right (`x600`),
px (`220px`), wdesc (`750w`), query (another `key=N`), underscore (`_800`), dash (`-800`), slash
(`/800/`), other; all 0 when there is no number.
"""
from __future__ import annotations

# The hints on the real pages of ../shared/data (225,489 image records, 151,922 distinct image URLs, read by
# models.corpus.CorpusReader; labels from models.labels.label_of: true, declared or stated sizes, 97,018 labelled
# records of which 34.2% are BIG):
#   hint          URLs  labelled  BIG share      hint             URLs  labelled  BIG share
#   original      3493      1584     64.2%       num_ctx_w       17122      9517     74.3%
#   thumbnail     5997      3367     15.6%       num_ctx_h         569       240     36.7%
#   avatar        5837      8973      0.3%       num_ctx_s        6943      7068      2.3%
#   icon         14454     14069      3.2%       num_ctx_max       116        27     92.6%
#   logo          6972      3289     11.6%       num_ctx_x_left  33614     21529     44.4%
#   sprite          22         4      0.0%       num_ctx_x_right  4161      2611     78.1%
#   emoji          209        51      0.0%       num_ctx_px        516       219     31.1%
#   badge          387       129     11.6%       num_ctx_wdesc    2284      1663     84.5%
#   button         724       713      0.6%       num_ctx_query    5946      3492     55.7%
#   flag           382       239      4.2%       num_ctx_underscore 6086    2378     41.5%
#   tracking      2764      4255      4.7%       num_ctx_dash    10312      6149     25.5%
#   camera_name   2201      1660     38.1%       num_ctx_slash   16562      9750     48.1%
#   hash_name    22022     16139     42.1%       num_ctx_other   13171      9651     21.1%

import re
from functools import lru_cache
from urllib.parse import unquote

import numpy as np

FLAG_NAMES = ("original", "thumbnail", "avatar", "icon", "logo", "sprite", "emoji", "badge", "button", "flag",
              "tracking", "camera_name", "hash_name")
NUM_CONTEXTS = ("w", "h", "s", "max", "x_left", "x_right", "px", "wdesc", "query", "underscore", "dash", "slash",
                "other")
HINT_NAMES = FLAG_NAMES + ("num_max",) + tuple(f"num_ctx_{c}" for c in NUM_CONTEXTS)
_COL = {name: i for i, name in enumerate(HINT_NAMES)}

# Words: whole words of letters (the URL is cut at every character that is not a letter, and
# lower-cased; `LogoWhite` is one word, `logo-white` two).  Each word names its hint.
_WORDS = {
    "original": ("originals", "original", "orig", "fullsize", "full", "raw", "master", "scaled"),
    "thumbnail": ("thumbnails", "thumbnail", "thumbs", "thumb", "csm"),
    "icon": ("favicons", "favicon", "icons", "icon", "ico"),
    "logo": ("logos", "logo"),
    "sprite": ("sprites", "sprite"),
    "emoji": ("emojis", "emoji", "emoticons", "emoticon", "smileys", "smiley", "smilies"),
    "badge": ("badges", "badge"),
    "button": ("buttons", "button", "btns", "btn"),
    "flag": ("flags", "flag"),
    "avatar": ("avatars", "avatar", "gravatar", "blavatar", "customavatars", "useravatar", "userpic", "userpics"),
    "tracking": ("pixel", "beacon", "spacer", "analytics", "doubleclick", "scorecardresearch", "quantserve",
                 "chartbeat", "imrworldwide", "omtrdc", "adlog", "utm"),
}
_WORD_HINT = {w.encode(): hint for hint, words in _WORDS.items() for w in words}
_WORD_SET = frozenset(_WORD_HINT)
_LETTERS = bytes(c if 97 <= c <= 122 else 10 if c == 10 else 32 for c in range(256))  # after lower()

# Other flags: regexes searched in the joined batch of lower-cased UTF-8 bytes; each starts with a
# literal (a fast scan: an alternation or a character class first is tried at every character).
_FLAG_RES = {
    "original": [re.compile(rb"upload\.wikimedia\.org/wikipedia/[\w-]+/(?!thumb/)[0-9a-f]/[0-9a-f]{2}/"),
                 re.compile(rb"staticflickr\.com/[^\n]*_o(?:_d)?\.\w+(?=[?#\n]|$)")],
    "thumbnail": [re.compile(rb"-150x150\.")],
    "avatar": [re.compile(rb"profile(?:_images|[-_]?pic)")],
    "camera_name": [re.compile(rb"/(?:img|dsc[nf]?|pxl|mvimg|gopr|dji|pano|vid|_mg)[_-]?\d{3,}[^/\n]*(?=\n|$)"
                               rb"|/p\d{7}[^/\n]*(?=\n|$)"),
                    re.compile(rb"20\d{6}[_-]\d{6}[^/\n]*(?=\n|$)")],
}
_S0 = re.compile(rb"s0(?=[-/?#\n]|$)")  # Google's =s0 and /s0/: the original (checked: after = or /)
_ONE_BY_ONE = re.compile(rb"1x1(?![0-9])")  # and no digit before (checked per match)
_GIF = re.compile(rb"\.gif(?=[?#\n]|$)")  # a spacer or tracking pixel by its file name:
_SPACER = re.compile(rb"(?:^|[/_-])(?:spacer|blank|clear|trans|transparent|pixel|__utm)$")
_HEX = re.compile(rb"[0-9a-fA-F]{16,}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HASH_CHARS = re.compile(rb"[A-Za-z0-9_-]{16,}")
_KINDS = bytes(48 if 48 <= c <= 57 else 65 if 65 <= c <= 90 else 97 for c in range(256))  # digit, upper, lower
_RUNS = re.compile(rb"0+|A+|a+")
# The words before a number that name its context (then an optional separator `=`, `_`, `:`, `-`),
# in order of priority; w, h and s as whole words (`w_800`, not `new_800`), max anywhere (`/max/800`).
_KEYWORDS = [("w", (b"w", b"width", b"wid", b"imwidth", b"maxwidth")), ("h", (b"h", b"height", b"hei", b"maxheight")),
             ("s", (b"s", b"size", b"sz")), ("max", (b"max",))]


@lru_cache(maxsize=1 << 14)
def url_hints(url: str) -> dict[str, float]:
    """Every hint of HINT_NAMES for one URL (see the module docstring)."""
    row = url_hints_matrix([url])[0]
    return {name: float(v) for name, v in zip(HINT_NAMES, row)}


def url_hints_matrix(urls: list[str], decoded: list[str] | None = None) -> np.ndarray:
    """HINT_NAMES for a batch of URLs: an (n, len(HINT_NAMES)) float32 matrix.

    `decoded`, where the caller has it: the URL-decoded URLs (`unquote(u) if "%" in u else u`).
    """
    n = len(urls)
    out = np.zeros((n, len(HINT_NAMES)), dtype=np.float32)
    if not n:
        return out
    if decoded is None:
        decoded = [unquote(u) if "%" in u else u for u in urls]
    # One line per URL (a newline inside a URL becomes a space), as lower-cased UTF-8 bytes:
    # bytes.lower() and translate() are fast, and make the patterns below case-insensitive.
    joined = "\n".join(decoded)
    if joined.count("\n") != n - 1:
        joined = "\n".join(u.replace("\n", " ") for u in decoded)
    low = joined.encode("utf-8", "surrogatepass").lower()
    arr = np.frombuffer(low, dtype=np.uint8)
    ends = np.append(np.flatnonzero(arr == 10), len(arr)) + 1  # line i ends before ends[i]

    def row(pos: int) -> int:
        return int(np.searchsorted(ends, pos, side="right"))

    for r, line in enumerate(low.translate(_LETTERS).split(b"\n")):
        words = line.split()
        if not _WORD_SET.isdisjoint(words):
            for w in _WORD_SET.intersection(words):
                out[r, _COL[_WORD_HINT[w]]] = 1.0
    for name, patterns in _FLAG_RES.items():
        col = _COL[name]
        for pattern in patterns:
            starts = [m.start() for m in pattern.finditer(low)]
            if starts:
                out[np.searchsorted(ends, starts, side="right"), col] = 1.0
    tracking = _COL["tracking"]
    for m in _S0.finditer(low):
        if low[m.start() - 1:m.start()] in (b"=", b"/"):
            out[row(m.start()), _COL["original"]] = 1.0
    for m in _ONE_BY_ONE.finditer(low):
        if not low[m.start() - 1:m.start()].isdigit():
            out[row(m.start()), tracking] = 1.0
    for m in _GIF.finditer(low):
        if _SPACER.search(low, low.rfind(b"/", 0, m.start()), m.start()):
            out[row(m.start()), tracking] = 1.0
    _hash_names(joined.encode("utf-8", "surrogatepass"), arr, ends, out)
    _largest_numbers(low, arr, ends, out)
    return out


def _next(positions: np.ndarray, at: np.ndarray, none: int) -> np.ndarray:
    """For each of `at`, the first of the sorted `positions` at or after it (`none` where there is none)."""
    return np.append(positions, none)[np.searchsorted(positions, at)]


def _previous(positions: np.ndarray, at: np.ndarray) -> np.ndarray:
    """For each of `at`, the last of the sorted `positions` before it (-1 where there is none)."""
    return np.concatenate(([-1], positions))[np.searchsorted(positions, at)]


def _last_segments(arr: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[start, stop) of the last path segment of every line (before its first `?` or `#`)."""
    line_start = np.concatenate(([0], ends[:-1]))
    stop = ends - 1
    for mark in (63, 35):  # ?, #
        pos = np.flatnonzero(arr == mark)
        if len(pos):
            first = _next(pos, line_start, len(arr))
            stop = np.where(first < stop, first, stop)
    last = _previous(np.flatnonzero(arr == 47), stop)
    start = np.where(last >= line_start, last + 1, line_start)
    return start, stop


_NAME_CHAR = np.zeros(256, dtype=bool)
_NAME_CHAR[np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", dtype=np.uint8)] = True


def _hash_names(raw: bytes, arr: np.ndarray, ends: np.ndarray, out: np.ndarray) -> None:
    """hash_name: the file name, without its extension, is 16+ hex digits, a UUID or base64-like."""
    if not len(arr):
        return
    start, stop = _last_segments(arr, ends)
    dots = np.flatnonzero(arr == 46)
    if len(dots):  # drop an extension of 1 to 5 characters
        dot = _previous(dots, stop)
        stop = np.where((dot >= start) & (stop - dot <= 6), dot, stop)
    bad = np.flatnonzero(~_NAME_CHAR[arr])  # positions of characters a hash does not have
    next_bad = _next(bad, start, len(arr))
    col = _COL["hash_name"]
    for r in np.flatnonzero((stop - start >= 16) & (next_bad >= stop)).tolist():
        if _is_hash(raw[start[r]:stop[r]]):
            out[r, col] = 1.0


def _is_hash(name: bytes) -> bool:
    if _HEX.fullmatch(name):
        return True
    core = name.replace(b"-", b"").replace(b"_", b"")
    if len(core) < 16:
        return False
    kinds = core.translate(_KINDS)
    if kinds.count(b"0") < 2 or kinds.count(b"A") < 2 or kinds.count(b"a") < 2:
        return False
    return (len(_RUNS.findall(kinds)) - 1) * 4 >= len(core)  # a change of kind every 4 characters


def _largest_numbers(low: bytes, arr: np.ndarray, ends: np.ndarray, out: np.ndarray) -> None:
    """num_max and num_ctx_* of every line: runs of 2-4 digits after the host, without dates' years
    and the digits of hex hashes."""
    n = len(arr)
    if not n:
        return

    def at(index: np.ndarray) -> np.ndarray:  # the bytes at these positions, 0 outside the batch
        inside = (index >= 0) & (index < n)
        return np.where(inside, arr[np.clip(index, 0, n - 1)], 0)

    digit = (arr - 48) < 10  # uint8 arithmetic: only the digits fall below 10
    change = np.flatnonzero(digit[1:] != digit[:-1]) + 1
    if digit[0]:
        change = np.concatenate(([0], change))
    if digit[-1]:
        change = np.concatenate((change, [n]))
    starts, stops = change[0::2], change[1::2]  # runs of digits [start, stop)
    length = stops - starts
    keep = (length >= 2) & (length <= 4)
    starts, stops, length = starts[keep], stops[keep], length[keep]
    if not len(starts):
        return
    values = np.zeros(len(starts), dtype=np.int64)
    for k in range(4):
        more = k < length
        values[more] = values[more] * 10 + (arr[starts[more] + k].astype(np.int64) - 48)
    rows = np.searchsorted(ends, starts, side="right")
    line_start = np.concatenate(([0], ends[:-1]))
    # after the host: past the third slash of its line (scheme://host/)
    slash = np.append(np.flatnonzero(arr == 47), [n] * 3)
    third_pos = slash[np.searchsorted(slash, line_start) + 2]
    in_path = starts > np.minimum(third_pos, ends)[rows]
    # a year of a date: followed by a month (2023/05, 2023-05, 2023_05) or a folder of its own (/2023/)
    nxt, nxt1, nxt2, nxt3 = (at(stops + k) for k in range(4))
    prev = at(starts - 1)
    sep = (nxt == 45) | (nxt == 95) | (nxt == 47) | (nxt == 46)
    month = sep & ((nxt1 == 48) | (nxt1 == 49)) & ((nxt2 - 48) < 10) & ~((nxt3 - 48) < 10)
    year = (length == 4) & (values >= 1980) & (values <= 2039) & (month | ((prev == 47) & (nxt == 47)))
    ok = in_path & ~year & ~_in_uuid(low, starts)
    starts, stops, values, rows = starts[ok], stops[ok], values[ok], rows[ok]
    ok = ~_in_hex_token(arr, starts, stops)
    starts, stops, values, rows = starts[ok], stops[ok], values[ok], rows[ok]
    if not len(starts):
        return
    # per line (runs are in line order): the largest number, the first of equals
    first = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
    is_max = values == np.repeat(np.maximum.reduceat(values, first), np.diff(np.append(first, len(rows))))
    best = np.flatnonzero(is_max)
    best = best[np.concatenate(([True], rows[best][1:] != rows[best][:-1]))]
    out[rows[best], _COL["num_max"]] = values[best]
    # contexts, from the characters around each number (in order of priority: later ones win)
    starts, stops = starts[best], stops[best]

    def before(k: int) -> np.ndarray:  # the character k places before each number
        return at(starts - k)

    def letter(a: np.ndarray) -> np.ndarray:
        return (a - 97) < 26

    n1, n2 = at(stops), at(stops + 1)
    p1, p2 = before(1), before(2)
    ctx = np.full(len(best), NUM_CONTEXTS.index("other"), dtype=np.int64)
    conds = [("slash", (p1 == 47) & np.isin(n1, np.frombuffer(b"/?#.\n\0", dtype=np.uint8))),
             ("dash", p1 == 45), ("underscore", p1 == 95), ("query", p1 == 61),
             ("wdesc", (n1 == 119) & ~letter(n2)), ("px", (n1 == 112) & (n2 == 120)),
             ("x_right", (p1 == 120) & ~letter(p2)),
             ("x_left", (n1 == 120) & (((n2 - 48) < 10) | np.isin(n2, np.frombuffer(b"/_-.\n?\0", dtype=np.uint8))))]
    # the keyword contexts need a letter just before the number, or before a separator
    sep = np.isin(p1, np.frombuffer(b"=_:-/", dtype=np.uint8))
    near = np.flatnonzero(letter(p1) | (sep & letter(p2)))
    starts, p1, sep = starts[near], p1[near], sep[near] & (p1[near] != 47)
    longest = max(len(w) for _, words in _KEYWORDS for w in words) + 2
    preceding = at(starts[:, None] - np.arange(1, longest + 1))  # column k - 1: the character k places before
    for name, words in reversed(_KEYWORDS):
        hit = np.zeros(len(best), dtype=bool)
        for word in words:
            for gap in (0, 1):  # the word right before the number, or before a separator
                ok = (sep | ((p1 == 47) & (name == "max"))) if gap else np.ones(len(near), dtype=bool)
                for j, c in enumerate(reversed(word)):
                    ok &= preceding[:, gap + j] == c
                if name != "max":  # the word starts the URL's word: no letter before it
                    ok &= ~letter(preceding[:, gap + len(word)])
                hit[near] |= ok
        conds.append((name, hit))
    for name, cond in conds:
        ctx[cond] = NUM_CONTEXTS.index(name)
    out[rows[best], len(FLAG_NAMES) + 1 + ctx] = 1.0


_UUID = re.compile(rb"-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-")  # the middle of a UUID (8-4-4-4-12)


def _in_uuid(low: bytes, starts: np.ndarray) -> np.ndarray:
    """Whether each number starts inside a UUID."""
    spans = [m.start() - 8 for m in _UUID.finditer(low)]
    if not spans:
        return np.zeros(len(starts), dtype=bool)
    span_start = np.asarray(spans)
    k = np.searchsorted(span_start, starts, side="right") - 1
    return (k >= 0) & (starts < span_start[np.maximum(k, 0)] + 36)


def _in_hex_token(arr: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Whether each run of digits [start, stop) lies in a hex token: letters and digits, 4 or more, with
    letters, all of them a-f (`f50b4ac0`; not `w600`, `1024x768`, `300px`)."""
    n = len(arr)
    not_alnum = np.flatnonzero(~(((arr - 97) < 26) | ((arr - 48) < 10)))
    token_start = _previous(not_alnum, starts) + 1
    token_stop = _next(not_alnum, starts, n)
    length = token_stop - token_start
    # the candidates: 4+ characters, not only the digits; then whether a candidate has a letter a hex
    # token does not have (g-z), one character position at a time over the candidates still long enough
    # (tokens are short: a few passes over a few arrays, not a pass over the whole batch)
    candidate = np.flatnonzero((length >= 4) & (length > stops - starts))
    hexlike = np.zeros(len(starts), dtype=bool)
    first, size = token_start[candidate], length[candidate]
    has_g_to_z = np.zeros(len(candidate), dtype=bool)
    active = np.arange(len(candidate))
    j = 0
    while len(active):
        has_g_to_z[active] |= (arr[first[active] + j] - 103) < 20
        j += 1
        active = active[size[active] > j]
    hexlike[candidate] = ~has_g_to_z
    return hexlike
