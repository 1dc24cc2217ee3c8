"""Sizes written into image URLs by CMSs, CDNs and the big photo hosts: the rule table behind `url_size`.

Each rule reads one URL form and states exactly what the form says, as `(width, height, pattern)`:
  * both sides: the file is `width` x `height` (decides BIG or not BIG, `models.decision`);
  * one side: only `width` or only `height` is known (a side <= 400 px rules BIG out);
  * a longest side (`pattern` ends in `-longest`, the number in `width`): no side is longer;
  * a box (`pattern` ends in `-box`): the file fits in `width` x `height` (a CDN's "fit" resize).
Where the CDN never enlarges, a stated side is at most the file's side, which is all a "not BIG"
decision needs.  Every rule cites where its convention is documented.

Rules are tried in the order of `URL_RULES`, the first that reads a size wins:
  1. transforms a CDN applies to the file the rest of the URL names (Cloudflare `/cdn-cgi/image/`,
     imgproxy, thumbor `fit-in`, ImageMagick-style `/resize/`, Storyblok `/m/`, Gannett `c=WxH`);
  2. the hosts that name their renditions (YouTube, twimg, Flickr, Google, Medium, BBC, the Guardian,
     Shopify, BigCommerce, Amazon, eBay, Tumblr, Imgur, Storyblok), then avatar services (Gravatar,
     GitHub and other `?s=` avatars, XenForo, Steam);
  3. query parameters (`w=`, `width=`, `resize=`, `fit=`, `wid=`/`hei=`, `format=750w`, `h=`, `dpr=`):
     a CDN resizes the file the path names (`name-3542x3542.png?w=100` is 100 px wide);
  4. sizes in the file name and path (WordPress `-300x200`, Wikimedia `220px-`, Cloudinary `w_300`,
     `/590x/`, `/w600/`, `_w100_h55`, WordPress `-scaled`).
Drupal's core image styles (/styles/thumbnail/, 100x100) are not read as sizes: sites redefine them
(14 of 127 decisions disagreed with the declared size); they are a `thumbnail` hint (url_hints.py).

Speed: `url_sizes` (size_signals.py) parses only the URLs where a rule's `trigger` occurs.  A
trigger is a regex that starts with a literal (Python's regex engine scans for a literal fast, where
an alternation is tried at every character) and must occur in every URL its rules match; several
rules share one trigger, and the host rules share one scan of the URLs' `//host` parts.
"""
from __future__ import annotations

# The rules on the real pages of ../shared/data (225,489 image records, 151,922 distinct image URLs, read
# by models.corpus.CorpusReader): distinct URLs each rule reads first, and its decisions against the declared
# width/height of the same <img> (CSS pixels: a noisy check; "-" where no record declares a size).
#   pattern          URLs   agree/decided    pattern          URLs   agree/decided    pattern        URLs  agree/decided
#   wxh             37411   5950/6158        bigcommerce       537      1/1           medium           84    13/14
#   query           25259   2345/2603        gannett           312    175/175         amazon          148    21/21
#   gravatar         4180   6230/6230        guardian          293      2/5 (1)       tumblr           54      -
#   cdn-path         1818    194/194         cloudflare        287     60/60          wiki-px          49    29/29
#   google            795    192/198 (2)     avatar            213    122/122         ebay             46      -
#   path-width        638    151/151         imgproxy          233     70/70          steam-avatar     16      -
#   xenforo-avatar    399    513/513         flickr            200     14/14          imgur             9      -
#   resize-path       364    129/129         wp-scaled         161      -             youtube         110    28/28
#   storyblok         150     53/53          bbc               155     20/24 (1)      twimg            99    83/83
#   thumbor           123     34/34          shopify           196      9/9
# In all 74,363 URLs (63,679 before issue 8), 16,438 of 16,918 decisions agree (97.2%; 95.0% before); against
# the sizes pages state elsewhere (srcset, og:image, JSON-LD, icons; records without a declared size) 23,809 of
# 24,176 (98.5%); against true sizes decoded from the same WARC, 7 of 7.  A decision agrees when both say BIG
# or both say not BIG.
# (1) the page declares the master's size while the URL asks for a smaller rendition (?width=620, /news/320/):
#     the URL states the file.  (2) `s512-c` avatars shown at 35x35.

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

Size = tuple  # (width | None, height | None, pattern)


@dataclass(frozen=True)
class UrlRule:
    name: str  # the pattern name a match reports (plus `-longest` or `-box` where it says so)
    trigger: str  # a regex that starts with a literal and occurs in every URL the rule matches
    find: Callable[[str, str], Size | None]  # (decoded URL, its path before `?`) -> size or None


def _regex_rule(name: str, trigger: str, pattern: str, read: Callable[[re.Match], Size | None],
                part: str = "url") -> UrlRule:
    """A rule that reads the first match of `pattern` in the URL (or in its path: part="path")."""
    search = re.compile(pattern).search
    if part == "path":
        def find(u: str, path: str) -> Size | None:
            m = search(path)
            return read(m) if m else None
    else:
        def find(u: str, path: str) -> Size | None:
            m = search(u)
            return read(m) if m else None
    return UrlRule(name, trigger, find)


def _int(s: str | None) -> int | None:
    return int(s) if s else None


def _positive(s: str | None) -> int | None:
    """A side in a transform, where 0 (or nothing) means "computed from the other side"."""
    v = int(s) if s else 0
    return v if v > 0 else None


def _one_or_both(w: int | None, h: int | None, name: str) -> Size | None:
    if w is None and h is None:
        return None
    return (w, h, name)


# ---------------------------------------------------------------------------------------------------
# Triggers.  T_HOST: one scan for the host labels of HOST_NAMES after a `//` (the URL's host, or the
# host of a URL inside it); the host rules are tried only for the labels found (`_host_rules`).
HOST_NAMES = ("ytimg", "youtube", "twimg", "staticflickr", "flickr", "googleusercontent", "blogspot", "ggpht",
              "medium", "bbci", "guim", "shopify", "bigcommerce", "media-amazon", "images-amazon",
              "ssl-images-amazon", "ebayimg", "tumblr", "imgur", "storyblok")
T_HOST = r"//(?:[\w-]+\.)*(?:" + "|".join(HOST_NAMES) + r")\."


def _host(*names: str) -> str:
    """The regex of a URL's `//host.` part for one of these host labels."""
    return r"//(?:[\w-]+\.)*(?:" + "|".join(names) + r")\."


T_X = r"x(?:\d\d|/)"  # 300x200, /590x/
T_EQ = r"=\d\d"  # key=NN: query sizes, Cloudflare options, Gannett c=WxH
T_W = r"w_?\d\d"  # w_300 (Cloudinary), /w600/, _w100_h55, =w400
T_PX = r"px-"  # Wikimedia 220px-
T_AVATAR = r"avatar"  # /avatar/, /avatars/, avatar_ (Gravatar, GitHub, XenForo, Steam, Tumblr)
T_RESIZE = r"/resize"  # /resize/800x533!/, /resize:fill:88:88/ (imgproxy long form)
T_COLON = r":\d\d"  # imgproxy rs:fill:1200:675
T_SCALED = r"-scaled"  # WordPress big-image copies


# ---------------------------------------------------------------------------------------------------
# 1. CDN transforms of the file the rest of the URL names.

def _cloudflare(m: re.Match) -> Size | None:
    # https://developers.cloudflare.com/images/transform-images/transform-via-url/ : options
    # width/w, height/h, dpr, fit; `cover`, `crop` and `pad` give exactly width x height, `scale-down`
    # and `contain` (and no fit) fit the file inside them, `scale-down` never enlarging.
    opts = dict(kv.split("=", 1) for kv in m.group(1).split(",") if "=" in kv)
    w = _int(_digits(opts.get("width") or opts.get("w")))
    h = _int(_digits(opts.get("height") or opts.get("h")))
    if w is None and h is None:
        return None
    dpr = _float(opts.get("dpr"))
    if dpr:
        w = round(w * dpr) if w is not None else None
        h = round(h * dpr) if h is not None else None
    if w is not None and h is not None and opts.get("fit") not in ("cover", "crop", "pad"):
        return (w, h, "cloudflare-box")
    return (w, h, "cloudflare")


def _digits(s: str | None) -> str | None:
    return s if s and s.isdigit() and len(s) <= 5 else None


def _float(s: str | None) -> float | None:
    try:
        v = float(s) if s else None
    except ValueError:
        return None
    return v if v and 0 < v <= 4 else None


_IMGPROXY_EXACT = ("fill", "force")


def _imgproxy(m: re.Match) -> Size | None:
    # https://docs.imgproxy.net/usage/processing : resize:%type:%width:%height:%enlarge (short `rs`),
    # size/s:%width:%height:%enlarge, width/w, height/h; 0 = computed from the other side.  `fill` and
    # `force` give exactly width x height when enlarging is on (enlarge=1); otherwise a smaller source
    # stays smaller, so the sides are upper bounds (a box).
    kind, w, h, enlarge = m.group("kind") or "fit", _positive(m.group("w")), _positive(m.group("h")), m.group("en")
    if w is None and h is None:
        return None
    if w is not None and h is not None and not (kind in _IMGPROXY_EXACT and enlarge in ("1", "t", "true")):
        return (w, h, "imgproxy-box")
    return (w, h, "imgproxy")


_CROP = re.compile(r"/crop/(\d{1,5})x(\d{1,5})[-+\d]*/")


def _resize_path(m: re.Match) -> Size | None:
    # ImageMagick geometry in a path segment (Brightspot `dims`, Tilda, politico ...):
    # https://imagemagick.org/script/command-line-processing.php#geometry : `W` = width W, height
    # kept in proportion; `WxH` = the largest size that fits in W x H; `WxH!` = exactly W x H.  Where a
    # `/crop/WxH+X+Y/` comes first (Brightspot: https://github.com/perfectsense/brightspot-dims), the
    # proportions are known and both sides follow.
    w, h, bang = _positive(m.group(1)), _positive(m.group(2)), m.group(3)
    if w is not None and h is not None and bang:
        return (w, h, "resize-path")
    crops = _CROP.findall(m.string, 0, m.start() + 1)
    if crops:
        cw, ch = (int(v) for v in crops[-1])
        if cw and ch and (w is not None or h is not None):
            scale = min(w / cw if w is not None else float("inf"), h / ch if h is not None else float("inf"))
            return (round(cw * scale), round(ch * scale), "resize-path")
    if w is not None and h is not None:
        return (w, h, "resize-path-box")
    return _one_or_both(w, h, "resize-path")


def _thumbor_fit(m: re.Match) -> Size | None:
    # https://thumbor.readthedocs.io/en/latest/usage.html : `fit-in/WxH/` fits the image in the box
    # (the other forms crop to exactly WxH and are read by the wxh rule).
    return (int(m.group(1)), int(m.group(2)), "thumbor-box")


def _storyblok(m: re.Match) -> Size | None:
    # https://www.storyblok.com/docs/api/image-service/operations/resize : the asset path holds the
    # original size (/f/<space>/<W>x<H>/...); `/m/WxH` resizes to exactly WxH, `/m/Wx0` (`/m/0xH`)
    # keeps the proportions, so the other side follows from the original size.
    ow, oh = int(m.group("ow")), int(m.group("oh"))
    w, h = _positive(m.group("w")), _positive(m.group("h"))
    if m.group("m") is None or (w is None and h is None):  # no resize: the original size
        return (ow, oh, "storyblok") if ow and oh else None
    if m.group("fitin"):
        return _one_or_both(w, h, "storyblok-box")
    if w is not None and h is None and ow:
        h = round(w * oh / ow)
    elif h is not None and w is None and oh:
        w = round(h * ow / oh)
    return (w, h, "storyblok")


def _gannett(m: re.Match) -> Size | None:
    # Gannett's image service (USA TODAY Network sites): the last `c=WxH` of the operations is the
    # output crop, e.g. `c=0-158-2996-1850&r=x329&c=580x326` (crop, resize to height 329, crop 580x326).
    sizes = re.findall(r"(?:^|&)c=(\d{2,4})x(\d{2,4})(?=&|$)", m.group(1))
    if not sizes:
        return None
    w, h = sizes[-1]
    return (int(w), int(h), "gannett")


# ---------------------------------------------------------------------------------------------------
# 2. Hosts that name their renditions.

# https://developers.google.com/youtube/v3/docs/thumbnails and the public thumbnail table
# (img.youtube.com/vi/<id>/<name>.jpg): default 120x90, mqdefault 320x180, hqdefault 480x360,
# sddefault 640x480, maxresdefault 1280x720 (hq720 too); 0.jpg is hqdefault, 1-3.jpg 120x90 frames.
YOUTUBE_SIZES = {"default": (120, 90), "mqdefault": (320, 180), "hqdefault": (480, 360), "sddefault": (640, 480),
                 "maxresdefault": (1280, 720), "hq720": (1280, 720), "0": (480, 360), "1": (120, 90),
                 "2": (120, 90), "3": (120, 90)}


def _youtube(m: re.Match) -> Size:
    w, h = YOUTUBE_SIZES[m.group(1)]
    return (w, h, "youtube")


# https://developer.x.com/en/docs/x-api/v1/data-dictionary/object-model/entities#photo_format :
# thumb fills 150x150 (cropped), small fits 680x680, medium 1200x1200, large 2048x2048; `orig` is
# the upload; newer names are boxes `900x900`, `4096x4096` ...
TWIMG_MEDIA = {"thumb": (150, 150, "twimg"), "small": (680, None, "twimg-longest"),
               "medium": (1200, None, "twimg-longest"), "large": (2048, None, "twimg-longest")}
# https://developer.x.com/en/docs/x-api/v1/accounts-and-users/user-profile-images-and-banners :
# profile image variants normal 48x48, bigger 73x73, mini 24x24 (no suffix = the original).
TWIMG_PROFILE = {"normal": 48, "bigger": 73, "mini": 24}


def _twimg_media(m: re.Match) -> Size | None:
    name = m.group(1) or m.group(2)
    if name in TWIMG_MEDIA:
        return TWIMG_MEDIA[name]
    box = re.fullmatch(r"(\d{2,4})x(\d{2,4})", name or "")
    if box:
        return (max(int(box.group(1)), int(box.group(2))), None, "twimg-longest")
    return None


def _twimg_profile(m: re.Match) -> Size:
    s = TWIMG_PROFILE[m.group(1)]
    return (s, s, "twimg")


def _gravatar(m: re.Match) -> Size | None:
    # https://docs.gravatar.com/general/images/ : square images, `s=` or `size=` from 1 to 2048 px,
    # 80x80 when no size is given.  The same API serves site icons under /blavatar/.
    s = _query_value(m.group(1) or "", ("s", "size"))
    if s is None:
        return (80, 80, "gravatar") if not m.group(1) or not _has_key(m.group(1), ("s", "size")) else None
    return (s, s, "gravatar")


def _query_value(query: str, keys: tuple[str, ...]) -> int | None:
    for kv in query.split("&"):
        k, _, v = kv.partition("=")
        if k in keys and v.isdigit() and 0 < len(v) <= 4:
            return int(v)
    return None


def _has_key(query: str, keys: tuple[str, ...]) -> bool:
    return any(kv.partition("=")[0] in keys for kv in query.split("&"))


def _avatar_size(m: re.Match) -> Size:
    # Avatar services that take one square size in the query: GitHub
    # (avatars.githubusercontent.com/u/<id>?s=64, https://docs.github.com/en/rest/users), WordPress
    # and Discourse avatar proxies (`?s=`, `?size=`), the same convention as Gravatar's.
    s = int(m.group(1))
    return (s, s, "avatar")


# XenForo avatars /data/avatars/<code>/<group>/<user id>.jpg, each code "no bigger than" its size:
# XenForo 1 XenForo_Model_Avatar::$_sizes (l 192, m 96, s 48), XenForo 2 App::avatarSizeMap
# (o 384, h 384, l 192, m 96, s 48).
XENFORO_AVATARS = {"s": 48, "m": 96, "l": 192, "h": 384, "o": 384}


def _xenforo(m: re.Match) -> Size:
    return (XENFORO_AVATARS[m.group(1)], None, "xenforo-avatar-longest")


# https://developer.valvesoftware.com/wiki/Steam_Web_API#GetPlayerSummaries_.28v0002.29 : avatar
# 32x32, avatarmedium (_medium) 64x64, avatarfull (_full) 184x184.
STEAM_AVATARS = {None: 32, "_medium": 64, "_full": 184}


def _steam(m: re.Match) -> Size:
    s = STEAM_AVATARS[m.group(1)]
    return (s, s, "steam-avatar")


# https://www.flickr.com/services/api/misc.urls.html : the longest side of each size suffix; s and q
# are cropped squares; no suffix is 500; o is the original upload (any size: no size stated).
FLICKR_CODES = {"s": 75, "q": 150, "t": 100, "m": 240, "n": 320, "w": 400, "": 500, "z": 640, "c": 800, "b": 1024,
                "h": 1600, "k": 2048, "3k": 3072, "4k": 4096, "f": 4096, "5k": 5120, "6k": 6144}


def _flickr(m: re.Match) -> Size | None:
    code = m.group(1) or ""
    side = FLICKR_CODES.get(code)
    if side is None:  # _o (the original) or an unknown letter
        return None
    if code in ("s", "q"):
        return (side, side, "flickr")
    return (side, None, "flickr-longest")


def _google(m: re.Match) -> Size | None:
    # Google user content (Blogger, Picasa, Photos, Play): `=sN` / `/sN/` scales the longest side to
    # N, `-c` crops it to an NxN square; `=wN-hM` / `/wN-hM/` sets both sides (the existing rule), `=wN`
    # the width alone.  Public description: https://developers.google.com/people/image-sizing
    g = m.groupdict()
    if g["s"]:
        s = int(g["s"])
        if s == 0:  # =s0: the original
            return None
        return (s, s, "google") if g["crop"] else (s, None, "google-longest")
    return _one_or_both(_int(g["w"]), _int(g["h"] or g["h2"]), "google")


def _medium(m: re.Match) -> Size | None:
    # Medium's image CDN (miro.medium.com, cdn-images-1.medium.com): /max/N/ and /v2/resize:fit:N/
    # give a width of at most N; /fit/c/W/H/ and /v2/resize:fill:W:H/ crop to exactly W x H.
    g = m.groupdict()
    if g["maxw"] or g["maxw2"]:
        return (int(g["maxw"] or g["maxw2"]), None, "medium")
    return (int(g["cw"] or g["cw2"]), int(g["ch"] or g["ch2"]), "medium")


def _bbc(m: re.Match) -> Size | None:
    # BBC's image chef (ichef.bbci.co.uk): /news/976/, /ace/standard/480/, /ace/ws/640/ resize to a
    # width of exactly N; /wwfuture/624_351/ to W x H.  (/images/ic/640x360/ is read by the wxh rule,
    # /images/ic/raw/ is the original.)
    if m.group("w2"):
        return (int(m.group("w2")), int(m.group("h2")), "bbc")
    return (int(m.group("w1")), None, "bbc")


def _guardian(m: re.Match) -> Size | None:
    # The Guardian's images (media.guim.co.uk, i.guim.co.uk/img/media/): /<hash>/<x>_<y>_<w>_<h>/ is
    # the crop rectangle of the master and /<N>.jpg (or master/<N>.jpg) its rendition N px wide;
    # i.guim.co.uk resizes it to `width=` (or `w=`) times `dpr=`, to the aspect ratio of `crop=a:b`
    # where given (fastly image optimizer parameters).  Both sides follow.
    cw, ch, n, query = int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4) or ""
    if not cw or not ch:
        return None
    params = dict(kv.partition("=")[::2] for kv in query.split("&") if "=" in kv)
    w = _int(_digits(params.get("width") or params.get("w"))) or n
    dpr = _float(params.get("dpr"))
    if dpr:
        w = round(w * dpr)
    crop = re.fullmatch(r"(\d{1,3}):(\d{1,3})", params.get("crop", ""))
    rw, rh = (int(crop.group(1)), int(crop.group(2))) if crop and int(crop.group(1)) else (cw, ch)
    return (w, round(w * rh / rw), "guardian")


# https://shopify.dev/docs/api/liquid/filters/img_url : named sizes fit in a square (pico 16, icon 32,
# thumb 50, small 100, compact 160, medium 240, large 480, grande 600), `WxH` fits in W x H, `Wx` and
# `xH` set one side (images are never enlarged); `@2x`/`@3x` scale; master/original is the upload.
SHOPIFY_NAMED = {"pico": 16, "icon": 32, "thumb": 50, "small": 100, "compact": 160, "medium": 240,
                 "large": 480, "grande": 600}


def _shopify(m: re.Match) -> Size | None:
    name, scale = m.group(1), int(m.group(2) or 1)
    if name in SHOPIFY_NAMED:
        return (SHOPIFY_NAMED[name] * scale, None, "shopify-longest")
    w, _, h = name.partition("x")
    w, h = _positive(w), _positive(h)
    w = w * scale if w is not None else None
    h = h * scale if h is not None else None
    if w is not None and h is not None:
        return (w, h, "shopify-box")
    return _one_or_both(w, h, "shopify")


def _amazon(m: re.Match) -> Size | None:
    # Amazon's image server reads size codes from the file name (`<id>._AC_SL1500_.jpg`): SL<N> (and
    # UL<N>) bound the longest side to N (Product Advertising API developer guide, "Image details":
    # "_SLXXX_ ... the number of pixels on the longest side"); SX<N> sets the width, SY<N> the height,
    # SS<N> a square, SR<W>,<H> a box (http://aaugh.com/imageabuse.html).  The last code wins.
    last = None
    for code, a, b in re.findall(r"(SL|UL|SX|UX|SY|UY|SS|SR)(\d{2,4})(?:,(\d{2,4}))?(?=_)", m.group(1)):
        last = (code, int(a), _int(b))
    if last is None:
        return None
    code, a, b = last
    if code in ("SL", "UL"):
        return (a, None, "amazon-longest")
    if code in ("SX", "UX"):
        return (a, None, "amazon")
    if code in ("SY", "UY"):
        return (None, a, "amazon")
    if code == "SS":
        return (a, a, "amazon")
    return (a, b, "amazon-box") if b else (a, None, "amazon-longest")


def _tumblr(m: re.Match) -> Size | None:
    # Tumblr photo sizes tumblr_<id>_<N>.jpg: 1280, 540, 500, 400, 250, 100 px wide at most, 75sq a
    # 75x75 square (the API's alt_sizes, https://www.tumblr.com/docs/en/api/v2#posts); avatars
    # avatar_<id>_<N>.png are N x N squares (16, 24, 30, 40, 48, 64, 96, 128, 512).
    if m.group("av"):
        s = int(m.group("av"))
        return (s, s, "tumblr")
    n = int(m.group("n"))
    if m.group("sq"):
        return (n, n, "tumblr")
    return (n, None, "tumblr")


# Imgur thumbnails: the 7-character image id + a size letter, s 90x90 and b 160x160 squares, t 160,
# m 320, l 640, h 1024 on the longest side (Imgur API documentation, "Image thumbnails").
IMGUR = {"s": (90, 90, "imgur"), "b": (160, 160, "imgur"), "t": (160, None, "imgur-longest"),
         "m": (320, None, "imgur-longest"), "l": (640, None, "imgur-longest"), "h": (1024, None, "imgur-longest")}


def _imgur(m: re.Match) -> Size:
    return IMGUR[m.group(1)]


def _bigcommerce(m: re.Match) -> Size | None:
    # BigCommerce Stencil image sizes in the path /images/stencil/<size>/: `<W>w` a width of W
    # (srcset renditions), `<W>x<H>` a box the image is fitted in, `original` the upload
    # (https://developer.bigcommerce.com/docs/storefront/stencil/themes/images/image-sizes).
    if m.group("w"):
        return (int(m.group("w")), None, "bigcommerce")
    return (int(m.group("bw")), int(m.group("bh")), "bigcommerce-box")


def _ebay(m: re.Match) -> Size:
    # eBay Picture Services renditions s-l<N>.jpg: N px on the longest side (EPS keeps copies up to
    # 1600x1600, https://developer.ebay.com/devzone/guides/features-guide/content/Development/Pictures-InListing.html).
    return (int(m.group(1)), None, "ebay-longest")


# ---------------------------------------------------------------------------------------------------
# 3. Query parameters, strongest first: an exact resize beats a width, which beats a bounding box.
#    resize=W,H (Jetpack Photon, https://developer.wordpress.com/docs/photon/api/), resize=W:* (Hearst);
#    w/width (imgix https://docs.imgix.com/apis/rendering/size/w, Contentful, Sanity, Next.js
#    /_next/image?w=), imwidth (Akamai Image Manager), wid/hei (Adobe Dynamic Media (Scene7):
#    the reply image is exactly wid x hei, https://experienceleague.adobe.com/docs/dynamic-media-developer-resources/image-serving-api/image-serving-api/http-protocol-reference/command-reference/r-is-http-wid.html),
#    format=<N>w (Squarespace's renditions 100w ... 2500w, https://developers.squarespace.com/using-the-imageloader/),
#    fit=W,H (Photon), h/height, dpr (device pixel ratio: the file is dpr times the CSS size).
_QUERY_PARAM = re.compile(
    r"[?&](?:resize=(?P<rw>\d{2,4})(?:(?:x|,|:)(?P<rh>\d{2,4})|:\*)?"
    r"|(?:w|width|imwidth|maxwidth|wid)=(?P<ww>\d{2,4})"
    r"|format=(?P<fw>\d{2,4})w"
    r"|fit=(?P<tw>\d{2,4})(?:(?:x|,)(?P<th>\d{2,4}))?"
    r"|(?:h|height|maxheight|hei)=(?P<hh>\d{2,4})"
    r"|dpr=(?P<dpr>[1-4](?:\.\d+)?)"
    r")(?=[&#]|$)", re.I)


def query_size(u: str, path: str = "") -> Size | None:
    start = u.find("?")
    if start < 0:
        return None
    # Every parameter starts at a `?` or `&`: search from the first of them (the same matches,
    # without scanning the path, which is most of a URL).
    amp = u.find("&", 0, start)
    if amp >= 0:
        start = amp
    resize = width = fmt = fit = height = dpr = None  # the first valid parameter of each kind
    for m in _QUERY_PARAM.finditer(u, start):
        rw, ww, fw, tw, hh, d = m.group("rw", "ww", "fw", "tw", "hh", "dpr")
        if rw:
            resize = resize or m
        elif ww:
            width = width or m
        elif fw:
            fmt = fmt or m
        elif tw:
            fit = fit or m
        elif hh:
            height = height or m
        elif d:
            dpr = dpr or m
    h = None
    if resize:
        w, h = int(resize.group("rw")), _int(resize.group("rh"))
    elif width:
        w = int(width.group("ww"))
    elif fmt:
        w = int(fmt.group("fw"))
    elif fit:
        w, h = int(fit.group("tw")), _int(fit.group("th"))
    else:
        w = None
    if h is None and height:
        h = int(height.group("hh"))
    if w is None and h is None:
        return None
    if dpr:  # device pixel ratio: the file is dpr times the CSS size
        r = float(dpr.group("dpr"))
        w = round(w * r) if w is not None else None
        h = round(h * r) if h is not None else None
    return (w, h, "query")


# ---------------------------------------------------------------------------------------------------
# 4. Sizes in the file name and path.

def _wxh(m: re.Match) -> Size:
    # WordPress names each intermediate size by the size it has (`name-300x200.jpg`, wp_image_editor
    # get_suffix()), as do many CMSs and CDNs (`/300x200/`, `_300x200`, `@300x200`).
    return (int(m.group("w")), int(m.group("h")), "wxh")


_WXH = re.compile(r"[-_/@](?P<w>\d{2,4})x(?P<h>\d{2,4})(?=[-_@/.]|$)")


def _wxh_find(u: str, path: str) -> Size | None:
    """The first `WxH` of the path, or the last where the file name holds two or more: a rendition's
    suffix comes after the size the name already had (`0102-piketty-970x647-190x127.jpg`,
    `PromoAd_640x480_152x114.jpg`: the file is 190x127, 152x114)."""
    m = _WXH.search(path)
    if m is None:
        return None
    last = None
    name_start = path.rfind("/")
    if m.start() >= name_start:
        for last in _WXH.finditer(path, m.end()):
            pass
    return _wxh(last or m)


def _cdn_path(m: re.Match) -> Size | None:
    # Cloudinary transformations (https://cloudinary.com/documentation/transformation_reference#w_width)
    # and the many CDNs that copy them (Substack, imagekit-like `w_300,h_200`).
    return _one_or_both(_int(m.group("w")), _int(m.group("h")), "cdn-path")


_CDN_PATH = r"[/,](?:w_(?P<w>\d{2,4}))(?:,h_(?P<h>\d{2,4}))?[,/]"


def _cdn_path_decisive(m: re.Match) -> Size | None:
    """`_cdn_path` where it gives both sides or a width of at most 400 (not BIG whatever the height), else None."""
    size = _cdn_path(m)
    return size if size is not None and (size[1] is not None or size[0] <= 400) else None


def _path_width(m: re.Match) -> Size | None:
    # A width alone in a path segment or file-name suffix: /590x/ (Express, Pinterest /236x/),
    # /w600/ (Ghost /size/w600/, https://ghost.org/docs/themes/assets/; Globe and Mail ALTERNATES/w220/,
    # FAZ /ppmedia/w1240/), _w100_h55 / -w940-h960- (VOA, Spiegel, Funke).
    g = m.groupdict()
    w = _int(g.get("w1") or g.get("w2") or g.get("w3"))
    return _one_or_both(w, _int(g.get("h3")), "path-width")


def _wiki(m: re.Match) -> Size:
    # Wikimedia thumbnails /thumb/<a>/<ab>/<Name>/<N>px-<Name> are N px wide
    # (https://www.mediawiki.org/wiki/Manual:Thumb.php); page<k>- and lossy-/lossless- prefixes name
    # the page of a PDF/TIFF and the encoding.
    return (int(m.group(1)), None, "wiki-px")


def _wp_scaled(m: re.Match) -> Size:
    # WordPress 5.3+ scales an upload larger than 2560 px (the big_image_size_threshold filter's default)
    # to 2560 px on its longest side and names the copy <name>-scaled.<ext>
    # (https://make.wordpress.org/core/2019/10/09/introducing-handling-of-big-images-in-wordpress-5-3/).
    return (2560, None, "wp-scaled-longest")


_EXT = r"(?:jpe?g|png|gif|webp|avif)"


def _need(literal: str, rule: UrlRule) -> UrlRule:
    """The rule, tried only where this literal occurs in the path (a cheap test before the regex)."""
    find = rule.find

    def found(u: str, path: str) -> Size | None:
        return find(u, path) if literal in path else None
    return UrlRule(rule.name, rule.trigger, found)


# Rules that read one host's renditions, each with the host labels (HOST_NAMES) it needs.  In the
# chain they are one rule (`_host_rules`): the labels found once in the URL pick the rules to try.
HOST_RULES: list[tuple[tuple[str, ...], UrlRule]] = [
    (("storyblok",), _regex_rule(
        "storyblok", T_HOST, _host("storyblok") + r"com/f/\d+/(?P<ow>\d{1,5})x(?P<oh>\d{1,5})/[^/]+/[^/?]+"
        r"(?P<m>/m/(?P<fitin>fit-in/)?(?:(?P<w>\d{1,4})x(?P<h>\d{1,4}))?)?(?:/|$)", _storyblok, part="path")),
    (("ytimg", "youtube"), _regex_rule(
        "youtube", T_HOST, _host("ytimg", "youtube") + r"com/vi(?:_webp)?/[\w-]+/"
        r"(maxresdefault|sddefault|hqdefault|mqdefault|default|hq720|[0-3])(?:_live)?\.(?:jpg|webp)$",
        _youtube, part="path")),
    (("twimg",), _regex_rule(
        "twimg", T_HOST, _host("twimg") + r"com/media/[\w-]+(?:\.\w+)?(?::(\w+)$|\?(?:.*&)?name=(\w+))",
        _twimg_media)),
    (("twimg",), _regex_rule(
        "twimg", T_HOST, _host("twimg") + r"com/profile_images/\d+/[^/]*_(normal|bigger|mini)\.\w+$",
        _twimg_profile, part="path")),
    (("staticflickr", "flickr"), _regex_rule(
        "flickr", T_HOST, _host("staticflickr", "flickr") + r"com/(?:\d+/)+\d+_[0-9a-f]+"
        r"(?:_([a-z]|[3-6]k))?(?:_d)?\." + _EXT + "$", _flickr, part="path")),
    (("googleusercontent", "blogspot", "ggpht"), _regex_rule(
        "google", T_HOST, _host("googleusercontent", "blogspot", "ggpht") +
        r".*[=/](?:s(?P<s>\d{1,4})(?P<crop>-c)?|w(?P<w>\d{2,4})(?:-h(?P<h>\d{2,4}))?|h(?P<h2>\d{2,4}))"
        r"(?=[-/]|$)", _google, part="path")),
    (("medium",), _regex_rule(
        "medium", T_HOST, _host("medium") + r"com/(?:max/(?P<maxw>\d{2,4})/|v2/resize:fit:(?P<maxw2>\d{2,4})/"
        r"|fit/c/(?P<cw>\d{2,4})/(?P<ch>\d{2,4})/|v2/resize:fill:(?P<cw2>\d{2,4}):(?P<ch2>\d{2,4})/)",
        _medium, part="path")),
    (("bbci",), _regex_rule(
        "bbc", T_HOST, _host("bbci") + r"co\.uk/(?:(?:news|ace/standard|ace/ws|ace/branded_\w+|onesport/cps"
        r"|live-experience/cps)/(?P<w1>\d{2,4})/|wwfuture/(?P<w2>\d{2,4})_(?P<h2>\d{2,4})/)", _bbc, part="path")),
    (("shopify",), _regex_rule(
        "shopify", T_HOST, _host("shopify") + r"com/s/files/.*_(pico|icon|thumb|small|compact|medium|large"
        r"|grande|\d{1,4}x\d{0,4}|x\d{1,4})(?:_crop_\w+)?(?:@([23])x)?\." + _EXT + "$", _shopify, part="path")),
    (("bigcommerce",), _regex_rule(
        "bigcommerce", T_HOST, _host("bigcommerce") + r"com/.*/stencil/(?:(?P<w>\d{2,4})w|(?P<bw>\d{2,4})x"
        r"(?P<bh>\d{2,4}))/", _bigcommerce, part="path")),
    (("media-amazon", "images-amazon", "ssl-images-amazon"), _regex_rule(
        "amazon", T_HOST, _host("media-amazon", "images-amazon", "ssl-images-amazon") +
        r"com/images/.*\.(_[A-Z0-9,_]+_)\." + _EXT + "$", _amazon, part="path")),
    (("ebayimg",), _regex_rule(
        "ebay", T_HOST, _host("ebayimg") + r"com/.*/s-l(\d{2,4})\.(?:jpe?g|png|webp)$", _ebay, part="path")),
    (("tumblr",), _regex_rule(
        "tumblr", T_HOST, _host("tumblr") + r"com/(?:.*/)?(?:tumblr_\w+_(?P<n>\d{2,4})(?P<sq>sq)?"
        r"|avatar_[0-9a-f]+_(?P<av>16|24|30|40|48|64|96|128|512))\.(?:jpe?g|png|gif|webp)$", _tumblr, part="path")),
    (("imgur",), _regex_rule(
        "imgur", T_HOST, _host("imgur") + r"com/(?:[A-Za-z0-9]{7}|[A-Za-z0-9]{5})([sbtmlh])\."
        r"(?:jpe?g|png|gif|webp)$", _imgur, part="path")),
    (("guim",), _regex_rule(
        "guardian", T_HOST, _host("guim") + r"co\.uk/(?:img/media/)?[0-9a-f]{40}/\d+_\d+_(\d+)_(\d+)/"
        r"(?:master/)?(\d{2,5})\.(?:jpe?g|png|gif)(?:\?(.*))?$", _guardian)),
]
_HOST_LABEL = re.compile(r"//(?:[\w-]+\.)*(" + "|".join(HOST_NAMES) + r")\.")


@lru_cache(maxsize=None)
def _rules_of_hosts(labels: frozenset) -> tuple[UrlRule, ...]:
    return tuple(rule for hosts, rule in HOST_RULES if labels.intersection(hosts))


def _host_rules(u: str, path: str) -> Size | None:
    labels = _HOST_LABEL.findall(u)
    if not labels:
        return None
    for rule in _rules_of_hosts(frozenset(labels)):
        size = rule.find(u, path)
        if size is not None:
            return size
    return None


URL_RULES: list[UrlRule] = [
    # 1. CDN transforms
    _need("/cdn-cgi/image/", _regex_rule("cloudflare", T_EQ, r"/cdn-cgi/image/([^/]*=\d\d[^/]*)/", _cloudflare,
                                         part="path")),
    _regex_rule("imgproxy", T_COLON,
                r"/(?:[\w=-]{16,}|unsafe|insecure|_)/(?:[a-z_]+:[^/]*/)*?"  # the signature, other options
                r"(?:(?:rs|resize):(?P<kind>fit|fill|fill-down|force|auto)|s|size):(?P<w>\d{1,4}):(?P<h>\d{1,4})"
                r"(?::(?P<en>[01tf]|true|false))?(?::[^/]*)?/", _imgproxy, part="path"),
    _regex_rule("thumbor", T_X, r"fit-in/(\d{2,4})x(\d{2,4})/", _thumbor_fit, part="path"),
    _regex_rule("resize-path", T_RESIZE, r"/resize/(\d{2,4})?(?:x(\d{2,4})?)?(!)?/", _resize_path, part="path"),
    _need("gannett-cdn", _regex_rule("gannett", T_EQ, r"gannett-cdn\.com/-mm-/[0-9a-f]+/([^/]*)/", _gannett,
                                     part="path")),
    # 2. hosts that name their renditions (one rule: HOST_RULES), then avatar services
    UrlRule("hosts", T_HOST, _host_rules),
    _regex_rule("gravatar", T_AVATAR, _host("gravatar") + r"com/(?:avatar|blavatar)/[0-9a-fA-F]{16,64}"
                r"(?:\.\w+)?/?(?:\?(.*))?$", _gravatar),
    _regex_rule("avatar", T_AVATAR, r"avatar[^?]*\?(?:[^&]*&)*?(?:s|size)=(\d{1,4})(?:&|$)", _avatar_size),
    _regex_rule("xenforo-avatar", T_AVATAR, r"/avatars/([smlho])/\d+/\d+\.(?:jpe?g|png|gif|webp)$", _xenforo,
                part="path"),
    _regex_rule("steam-avatar", T_AVATAR, r"//avatars\.(?:[\w-]+\.)*steamstatic\.com/[0-9a-f]{40}(_medium|_full)?"
                r"\.jpg$", _steam, part="path"),
    # 3. query parameters
    UrlRule("query", T_EQ, query_size),
    # 4. file name and path
    # a Cloudinary-style transform that gives both sides, or a width that rules BIG out, states the file
    # served whatever size the file name (or the source URL a fetch proxy embeds: Substack's
    # `/image/fetch/w_52,h_52,.../https%3A%2F%2F...-800x800.jpeg`) gives; a larger width alone does not (it
    # may be a limit, `c_limit,w_2000/photo-300x200.jpg`), and then the name's WxH is read first, as before
    _regex_rule("cdn-path", T_W, _CDN_PATH, _cdn_path_decisive, part="path"),
    UrlRule("wxh", T_X, _wxh_find),
    _regex_rule("wiki-px", T_PX, r"/(?:(?:lossy|lossless)-)?(?:page\d{1,4}-)?(?:qlow-)?(\d{2,5})px-[^/]+$", _wiki,
                part="path"),
    _regex_rule("cdn-path", T_W, _CDN_PATH, _cdn_path, part="path"),
    _regex_rule("path-width", T_W, r"/w(?P<w2>\d{2,4})/|[-_/]w(?P<w3>\d{2,4})"
                r"(?:[-_]h(?P<h3>\d{2,4})(?=[-_./])|(?=[-_]))", _path_width, part="path"),
    _need("x/", _regex_rule("path-width", T_X, r"/(?P<w1>\d{2,4})x/", _path_width, part="path")),
    _regex_rule("wp-scaled", T_SCALED, r"/wp-content/uploads/[^?]*-scaled\." + _EXT + "$", _wp_scaled, part="path"),
]

# Every rule, host rules included (documentation and tests).
RULE_TABLE: list[UrlRule] = [r for r in URL_RULES if r.name != "hosts"] + [r for _, r in HOST_RULES]


def first_size(u: str, rules: tuple[UrlRule, ...] | list[UrlRule] = URL_RULES) -> Size | None:
    """The size the first of these rules reads in the decoded URL u, or None."""
    path = u.partition("?")[0]
    for rule in rules:
        size = rule.find(u, path)
        if size is not None:
            return size
    return None


# Every pattern name a size can carry, without its `-longest`/`-box` suffix (model feature names).
URL_PATTERN_NAMES = tuple(dict.fromkeys(r.name for r in RULE_TABLE))
