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
from itertools import compress, repeat
from operator import contains
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
_LETTERS = bytes(c if 97 <= c <= 122 else 10 if c == 10 else 32 for c in range(256))  # after lower()
# Word look-up with numpy: (length, first, second and last but one letter) name at most one word (checked here),
# its index in _WORD_LIST plus 1 in _WORD_KEYS; the letters of that word then confirm a run of letters.
_WORD_LIST = list(_WORD_HINT)
_MIN_WORD, _MAX_WORD = min(map(len, _WORD_LIST)), max(map(len, _WORD_LIST))
_WORD_KEYS = np.zeros((_MAX_WORD + 1, 26, 26, 26), dtype=np.int16)
for _i, _w in enumerate(_WORD_LIST):
    assert not _WORD_KEYS[len(_w), _w[0] - 97, _w[1] - 97, _w[-2] - 97], _w
    _WORD_KEYS[len(_w), _w[0] - 97, _w[1] - 97, _w[-2] - 97] = _i + 1
_WORD_LETTERS = np.zeros((len(_WORD_LIST) + 1, _MAX_WORD), dtype=np.uint8)  # row 0: no word
for _i, _w in enumerate(_WORD_LIST):
    _WORD_LETTERS[_i + 1, :len(_w)] = np.frombuffer(_w, dtype=np.uint8)
_WORD_COL = np.array([-1] + [_COL[_WORD_HINT[w]] for w in _WORD_LIST])

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
    if joined.count("\n") != n - 1:  # a few URLs hold a newline (%0A): only those are copied
        lines = list(decoded)
        # found by `map` and `compress` in C: a Python test of every URL cost 0.2 us a URL
        for i in compress(range(n), map(contains, decoded, repeat("\n"))):
            lines[i] = lines[i].replace("\n", " ")
        joined = "\n".join(lines)
    raw = joined.encode("utf-8", "surrogatepass")
    low = raw.lower()
    arr = np.frombuffer(low, dtype=np.uint8)
    ends = np.append(np.flatnonzero(arr == 10), len(arr)) + 1  # line i ends before ends[i]

    def row(pos: int) -> int:
        return int(np.searchsorted(ends, pos, side="right"))

    _word_hints(low, ends, out)
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
    slashes = np.flatnonzero(arr == 47)
    _hash_names(raw, arr, ends, slashes, out)
    _largest_numbers(low, arr, ends, slashes, out)
    return out


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[starts, stops) of the runs of True in a boolean array."""
    change = np.flatnonzero(mask[1:] != mask[:-1]) + 1
    if mask[0]:
        change = np.concatenate(([0], change))
    if mask[-1]:
        change = np.concatenate((change, [len(mask)]))
    return change[0::2], change[1::2]


def _word_hints(low: bytes, ends: np.ndarray, out: np.ndarray) -> None:
    """The flags of the words of _WORDS, for every line of the lower-cased batch.

    Whole-batch numpy, not a split of each line into words: that Python loop per URL cost more than all
    the other flags together.  The runs of letters whose length, first, second and last but one letter are
    those of a word (`_WORD_KEYS`: about one run in twenty) are compared with that word's letters.
    """
    t = np.frombuffer(low.translate(_LETTERS), dtype=np.uint8)
    if not len(t):
        return
    starts, stops = _runs(t > 96)
    length = stops - starts
    keep = np.flatnonzero((length >= _MIN_WORD) & (length <= _MAX_WORD))
    starts, stops, length = starts[keep], stops[keep], length[keep]
    word = _WORD_KEYS[length, t[starts] - 97, t[starts + 1] - 97, t[stops - 2] - 97]
    maybe = np.flatnonzero(word)
    starts, length, word = starts[maybe], length[maybe], word[maybe]
    # the letters of each run, 0 past its end (as the word's letters are): all equal for a word
    at = starts[:, None] + np.arange(_MAX_WORD)
    letters = np.where(at < (starts + length)[:, None], t[np.minimum(at, len(t) - 1)], 0)
    same = (letters == _WORD_LETTERS[word]).all(axis=1)
    out[np.searchsorted(ends, starts[same], side="right"), _WORD_COL[word[same]]] = 1.0


def _next(positions: np.ndarray, at: np.ndarray, none: int) -> np.ndarray:
    """For each of `at`, the first of the sorted `positions` at or after it (`none` where there is none)."""
    return np.append(positions, none)[np.searchsorted(positions, at)]


def _previous(positions: np.ndarray, at: np.ndarray) -> np.ndarray:
    """For each of `at`, the last of the sorted `positions` before it (-1 where there is none)."""
    return np.concatenate(([-1], positions))[np.searchsorted(positions, at)]


def _last_segments(arr: np.ndarray, ends: np.ndarray, slashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[start, stop) of the last path segment of every line (before its first `?` or `#`); `slashes`: the
    positions of `/` in arr."""
    line_start = np.concatenate(([0], ends[:-1]))
    stop = ends - 1
    for mark in (63, 35):  # ?, #
        pos = np.flatnonzero(arr == mark)
        if len(pos):
            first = _next(pos, line_start, len(arr))
            stop = np.where(first < stop, first, stop)
    last = _previous(slashes, stop)
    start = np.where(last >= line_start, last + 1, line_start)
    return start, stop


# Per byte, its kind in a hash name (_DIGIT, _UPPER, _LOWER, _SEP: `-` or `_`, _OTHER: not in a hash name)
# times 2, plus 1 for a hex digit: one code, so that one bincount counts every kind of every name.
_DIGIT, _UPPER, _LOWER, _SEP, _OTHER = range(5)
_NAME_KIND = np.full(256, _OTHER, dtype=np.int8)
_NAME_KIND[48:58], _NAME_KIND[65:91], _NAME_KIND[97:123], _NAME_KIND[[45, 95]] = _DIGIT, _UPPER, _LOWER, _SEP
_NAME_CODE = _NAME_KIND.astype(np.int64) * 2
_NAME_CODE[np.frombuffer(b"0123456789abcdefABCDEF", dtype=np.uint8)] += 1


def _gather(raw: np.ndarray, start: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bytes of the spans [start, start + length) one after the other, and the span of each."""
    span = np.repeat(np.arange(len(start)), length)
    first = np.cumsum(length) - length  # where each span starts in the output
    return raw[np.arange(len(span)) + (start - first)[span]], span


def _hash_names(raw: bytes, arr: np.ndarray, ends: np.ndarray, slashes: np.ndarray, out: np.ndarray) -> None:
    """hash_name: the file name, without its extension, is 16+ hex digits, a UUID or base64-like.

    `_is_hash` of every file name of 16+ characters at once, with numpy (a Python call per name cost 1 us
    a URL): one bincount of the names' characters counts each kind per name; the changes of kind are
    counted only in the names that can still be base64-like.
    """
    if not len(arr):
        return
    start, stop = _last_segments(arr, ends, slashes)
    # drop an extension of 1 to 5 characters: the last `.` of the name, among its last 6 characters
    dot = stop.copy()
    for k in range(6, 0, -1):  # the nearest dot wins
        at = stop - k
        is_dot = (at >= start) & (arr[np.maximum(at, 0)] == 46)
        dot[is_dot] = at[is_dot]
    stop = dot
    names = np.flatnonzero(stop - start >= 16)
    if not len(names):
        return
    start, length = start[names], (stop - start)[names]
    raw_arr = np.frombuffer(raw, dtype=np.uint8)
    chars, name = _gather(raw_arr, start, length)
    counts = np.bincount(name * 10 + _NAME_CODE[chars], minlength=10 * len(names)).reshape(len(names), 5, 2)
    kinds, hexes = counts.sum(axis=2), counts[:, :, 1].sum(axis=1)
    ok = kinds[:, _OTHER] == 0
    uuid = (length == 36) & (hexes == 32)
    for dash in (8, 13, 18, 23):
        uuid &= raw_arr[np.minimum(start + dash, len(raw_arr) - 1)] == 45
    is_hash = ok & ((hexes == length) | uuid)
    # base64-like: without `-` and `_`, 16+ characters with 2+ digits, 2+ upper and 2+ lower case letters,
    # and a change of kind every 4 characters
    core = length - kinds[:, _SEP]
    maybe = np.flatnonzero(ok & ~is_hash & (core >= 16) & (kinds[:, :_SEP] >= 2).all(axis=1))
    if len(maybe):
        chars, name = _gather(raw_arr, start[maybe], length[maybe])
        kind = _NAME_KIND[chars]
        in_core = kind != _SEP
        kind, name = kind[in_core], name[in_core]
        change = (kind[1:] != kind[:-1]) & (name[1:] == name[:-1])
        changes = np.bincount(name[1:][change], minlength=len(maybe))
        is_hash[maybe] = changes * 4 >= core[maybe]
    out[names[is_hash], _COL["hash_name"]] = 1.0


def _is_hash(name: bytes) -> bool:
    """Whether one file name is a hash: the reference `_hash_names` computes for all names at once (tests)."""
    if _HEX.fullmatch(name):
        return True
    core = name.replace(b"-", b"").replace(b"_", b"")
    if len(core) < 16:
        return False
    kinds = core.translate(_KINDS)
    if kinds.count(b"0") < 2 or kinds.count(b"A") < 2 or kinds.count(b"a") < 2:
        return False
    return (len(_RUNS.findall(kinds)) - 1) * 4 >= len(core)  # a change of kind every 4 characters


def _largest_numbers(low: bytes, arr: np.ndarray, ends: np.ndarray, slashes: np.ndarray, out: np.ndarray) -> None:
    """num_max and num_ctx_* of every line: runs of 2-4 digits after the host, without dates' years
    and the digits of hex hashes."""
    n = len(arr)
    if not n:
        return

    starts, stops = _runs((arr - 48) < 10)  # runs of digits (uint8 arithmetic: only the digits fall below 10)
    length = stops - starts
    keep = (length >= 2) & (length <= 4)
    starts, stops, length = starts[keep], stops[keep], length[keep]
    if not len(starts):
        return
    # the batch with 16 zero bytes on each side: the characters around a number (up to 12 before it and
    # 4 after it, the blocks of `_hex_end`) are read without a bounds check
    padded = np.concatenate((np.zeros(16, dtype=np.uint8), arr, np.zeros(16, dtype=np.uint8)))

    def at(index: np.ndarray) -> np.ndarray:  # the bytes at these positions, 0 outside the batch
        return padded[index + 16]

    values = at(starts).astype(np.int64) - 48
    for k in range(1, 4):
        values = np.where(k < length, values * 10 + (at(starts + k).astype(np.int64) - 48), values)
    rows = np.searchsorted(ends, starts, side="right")
    line_start = np.concatenate(([0], ends[:-1]))
    # after the host: past the third slash of its line (scheme://host/)
    slash = np.append(slashes, [n] * 3)
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
    ok = ~_in_hex_token(low, padded, starts, stops)
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


_HEX_LOW = np.zeros(256, dtype=bool)  # 0-9, a-f (the batch is lower-cased)
_HEX_LOW[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = True
_ALNUM_LOW = _HEX_LOW.copy()  # 0-9, a-z
_ALNUM_LOW[97:123] = True
_HEX_RUN = re.compile(rb"[0-9a-f]*")
_BLOCK, _BLOCKS = 16, 4  # numpy steps 16 bytes at a time over a hex run, 4 times; the regex engine does the rest


def _in_hex_token(low: bytes, padded: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Whether each run of digits [start, stop) lies in a hex token: letters and digits, 4 or more, with
    letters, all of them a-f (`f50b4ac0`; not `w600`, `1024x768`, `300px`).  `padded`: the batch's bytes
    with 16 zero bytes before and after.

    That is: a letter a-f next to the number, no letter g-z next to it, and the run of hex digits around it
    (found by stepping out of it, `_hex_end`) bounded on each side by what is not a letter or digit, 4+
    long and longer than the number.  Stepping from the few such numbers is cheap where a search of every
    token boundary of the batch was not (hex runs are short).
    """
    out = np.zeros(len(starts), dtype=bool)
    before, after = padded[starts + 15], padded[stops + 16]
    g_to_z = ((before - 103) < 20) | ((after - 103) < 20)
    maybe = np.flatnonzero(~g_to_z & (((before - 97) < 6) | ((after - 97) < 6)))
    if not len(maybe):
        return out
    starts, stops = starts[maybe], stops[maybe]
    left, right = _hex_end(low, padded, starts - 1, -1), _hex_end(low, padded, stops, 1)
    bounded = ~_ALNUM_LOW[padded[left + 16]] & ~_ALNUM_LOW[padded[right + 16]]
    size = right - left - 1
    out[maybe] = bounded & (size >= 4) & (size > stops - starts)
    return out


def _hex_end(low: bytes, padded: np.ndarray, pos: np.ndarray, step: int) -> np.ndarray:
    """From each position (-1 to n, n the batch's length), stepping by `step` (1 or -1), the first whose
    byte is not a hex digit (-1 or n past the batch); `padded` as in `_in_hex_token`."""
    n = len(padded) - 32
    pos = pos.copy()
    offsets = np.arange(_BLOCK) * step + 16
    active = np.arange(len(pos))
    for _ in range(_BLOCKS):
        hexes = _HEX_LOW[padded[pos[active, None] + offsets]]
        ends = ~hexes.all(axis=1)  # a byte that is not a hex digit, within the block: the first of them
        pos[active[ends]] += hexes[ends].argmin(axis=1) * step
        active = active[~ends]
        if not len(active):
            return pos
        pos[active] += _BLOCK * step
    text = low if step > 0 else low[::-1]  # the rest, in a hex run of more than _BLOCK * _BLOCKS bytes
    for i in active.tolist():
        end = _HEX_RUN.match(text, pos[i] if step > 0 else n - 1 - pos[i]).end()
        pos[i] = end if step > 0 else n - 1 - end
    return pos
