"""Exact size signals: URL patterns, srcset, declared sizes, checked against true sizes where known."""
from __future__ import annotations

import csv
import functools
import gzip
import json
import re

import pytest

from features.model_inputs.size_signals import (
    SizeSignal, UrlBatch, declared_size, parse_pixels, size_class, srcset_size, url_size, url_sizes,
)
from features.model_inputs.url_rules import HOST_RULES, RULE_TABLE, URL_PATTERN_NAMES, URL_RULES
from models.decision import ALL_RULES, decide_from_size, record_decisions
from tests.support.size_model_data import aeb_records, more_records, require, warc_records_of


EXAMPLES = [
    ("https://a.com/wp-content/uploads/2024/03/photo-300x200.jpg", 300, 200, "wxh"),
    ("https://upload.wikimedia.org/wikipedia/commons/thumb/2/28/X.jpg/220px-X.jpg", 220, None, "wiki-px"),
    ("https://farm1.staticflickr.com/2/1418878_1e92283336_m.jpg", 240, None, "flickr-longest"),
    ("https://farm1.staticflickr.com/2/1418878_1e92283336_q.jpg", 150, 150, "flickr"),
    ("https://lh3.googleusercontent.com/abc=s1600", 1600, None, "google-longest"),
    ("https://res.cloudinary.com/x/image/upload/c_fill,w_640,h_480/y.jpg", 640, 480, "cdn-path"),
    ("https://cdn.x.com/a-3542x3542.png?fit=min&w=100&h=100", 100, 100, "query"),  # the CDN resize wins
    ("https://i0.wp.com/x.com/a.jpg?fit=1200%2C900&resize=40%2C40", 40, 40, "query"),
    ("https://s.com/a.jpg?q=49&fit=crop&w=360&h=240&dpr=2", 720, 480, "query"),  # device pixel ratio
    ("https://s.com/p&w=300&x/a.jpg?v=1", 300, None, "query"),  # a `&` before the `?` starts a parameter too
    ("https://a.com/images/photo.jpg", None, None, None),
    # a file name with two sizes: the rendition's suffix is the last (real URLs of ../shared/data, labelled SMALL)
    ("http://images.bwbx.io/cms/2015-01-02/0102-piketty-970x647-190x127.jpg", 190, 127, "wxh"),
    ("http://i.i.com.com/cnwk.1d/i/tim/2012/03/14/CBSTM_PromoAd_640x480_152x114.jpg", 152, 114, "wxh"),
    ("https://a.com/300x200/photo-1200x800.jpg", 300, 200, "wxh"),  # a size in a folder first: the first
    # a fetch proxy's transform, not the size in the source URL it embeds (a 52x52 avatar on a Substack page)
    ("https://substackcdn.com/image/fetch/$s_!L8G9!,w_52,h_52,c_fill,f_auto,q_auto:good/https%3A%2F%2F"
     "substack-post-media.s3.amazonaws.com%2Fpublic%2Fimages%2F479930b2-edea-45ac-91c0-88c853e9cb52_800x800.jpeg",
     52, 52, "cdn-path"),
    ("https://res.cloudinary.com/x/image/upload/c_limit,w_2000/photo-300x200.jpg", 300, 200, "wxh"),  # a limit
    ("https://res.cloudinary.com/x/image/upload/w_300/photo-1024x768.jpg", 300, None, "cdn-path"),  # rules BIG out
    # CDN transforms of the file the rest of the URL names
    ("https://x.com/cdn-cgi/image/width=830,quality=60,format=auto/img/a.jpg", 830, None, "cloudflare"),
    ("https://x.com/cdn-cgi/image/width=40,height=40,fit=crop/a.png", 40, 40, "cloudflare"),
    ("https://x.com/cdn-cgi/image/w=600,h=400,dpr=2/a-1024x768.png", 1200, 800, "cloudflare-box"),
    ("https://i.x.dk/fo5ryL6liDzRbvwOGqjTT2s2ozR9/resize:fill:200:0:0/plain/https://x.dk/a.jpg", 200, None, "imgproxy"),
    ("https://i.x.com/unsafe/g:ce/rs:fill:1200:675:1/Z3M6Ly9h.webp", 1200, 675, "imgproxy"),
    ("https://i.x.com/_/rs:fit:600:600/Z3M6Ly9h.webp", 600, 600, "imgproxy-box"),
    ("https://t.x.com/Ab12=/fit-in/792x528/filters:format_auto()/a.jpg", 792, 528, "thumbor-box"),
    ("https://d.x.com/dims4/default/1/2/strip/true/crop/3375x2250+312+0/resize/840x560!/quality/90/?url=a", 840, 560,
     "resize-path"),
    ("https://d.x.com/dims3/default/strip/false/crop/5061x2847+0+264/resize/400/quality/85/?url=a", 400, 225,
     "resize-path"),
    ("https://d.x.com/dims4/default/1/2/resize/665x/quality/90/?url=a", 665, None, "resize-path"),
    ("https://a.storyblok.com/f/39898/3310x2192/e4ec08624e/demo.jpeg/m/500x0", 500, 331, "storyblok"),
    ("https://a.storyblok.com/f/39898/3310x2192/e4ec08624e/demo.jpeg", 3310, 2192, "storyblok"),
    ("https://www.gannett-cdn.com/-mm-/9c59b6/c=0-158-2996-1850&r=x329&c=580x326/local/-/a.jpg", 580, 326, "gannett"),
    # hosts that name their renditions
    ("https://i.ytimg.com/vi/abcDEF123_-/hqdefault.jpg", 480, 360, "youtube"),
    ("https://img.youtube.com/vi/abcDEF123_-/mqdefault.jpg", 320, 180, "youtube"),
    ("https://i.ytimg.com/vi_webp/abcDEF123_-/sddefault.webp", 640, 480, "youtube"),
    ("https://i.ytimg.com/vi/abcDEF123_-/maxresdefault.jpg", 1280, 720, "youtube"),
    ("https://i.ytimg.com/vi/abcDEF123_-/default.jpg", 120, 90, "youtube"),
    ("https://pbs.twimg.com/media/EDyiW-hU8AA8EEJ?format=jpg&name=small", 680, None, "twimg-longest"),
    ("https://pbs.twimg.com/media/EDyiW-hU8AA8EEJ?format=jpg&name=thumb", 150, 150, "twimg"),
    ("https://pbs.twimg.com/media/EDyiW-hU8AA8EEJ.jpg:large", 2048, None, "twimg-longest"),
    ("https://pbs.twimg.com/media/EDyiW-hU8AA8EEJ?format=jpg&name=orig", None, None, None),  # the original
    ("https://pbs.twimg.com/profile_images/2284174872/7df3h38z_bigger.png", 73, 73, "twimg"),
    ("https://live.staticflickr.com/7372/12502775644_acfd415fa7_w.jpg", 400, None, "flickr-longest"),
    ("https://live.staticflickr.com/7372/12502775644_acfd415fa7.jpg", 500, None, "flickr-longest"),
    ("https://live.staticflickr.com/7372/12502775644_acfd415fa7_3k.jpg", 3072, None, "flickr-longest"),
    ("https://live.staticflickr.com/7372/12502775644_acfd415fa7_6k.jpg", 6144, None, "flickr-longest"),
    ("https://farm1.static.flickr.com/2/1418878_1e92283336_s.jpg", 75, 75, "flickr"),
    ("https://live.staticflickr.com/7372/12502775644_9d32d647f1_o_d.jpg", None, None, None),  # the original
    ("https://1.bp.blogspot.com/-a/b/c/d/s72-c/photo.jpg", 72, 72, "google"),
    ("https://lh3.googleusercontent.com/abc=w400", 400, None, "google"),
    ("https://miro.medium.com/max/1400/1*abc.png", 1400, None, "medium"),
    ("https://miro.medium.com/v2/resize:fill:88:88/1*abc.jpeg", 88, 88, "medium"),
    ("https://ichef.bbci.co.uk/news/976/cpsprodpb/1/production/_1_a.jpg", 976, None, "bbc"),
    ("http://ichef.bbci.co.uk/wwfuture/624_351/images/live/p0/a.jpg", 624, 351, "bbc"),
    ("https://media.guim.co.uk/" + "a" * 40 + "/0_0_3000_1800/500.jpg", 500, 300, "guardian"),
    ("https://i.guim.co.uk/img/media/" + "a" * 40 + "/0_0_3000_1800/master/3000.jpg?width=620&dpr=2&crop=5:4",
     1240, 992, "guardian"),
    ("https://cdn.shopify.com/s/files/1/0156/6146/files/a_480x.jpg?v=1", 480, None, "shopify"),
    ("https://cdn.shopify.com/s/files/1/0156/6146/products/a_100x80_crop_center@2x.jpg", 200, 160, "shopify-box"),
    ("https://cdn.shopify.com/s/files/1/0156/6146/products/a_compact.jpg", 160, None, "shopify-longest"),
    ("https://cdn11.bigcommerce.com/s-x/images/stencil/500w/products/1/2/a.jpg?c=1", 500, None, "bigcommerce"),
    ("https://m.media-amazon.com/images/I/41Z7WBDDPjL._SL500_.jpg", 500, None, "amazon-longest"),
    ("https://m.media-amazon.com/images/I/71abc._AC_UL300_SR300,200_.jpg", 300, 200, "amazon-box"),
    ("https://m.media-amazon.com/images/I/71abc._AC_SX679_.jpg", 679, None, "amazon"),
    ("https://i.ebayimg.com/images/g/afgAAeSwR8hpc-Xw/s-l500.jpg", 500, None, "ebay-longest"),
    ("http://25.media.tumblr.com/tumblr_mcoenmU6Up1qzxsmpo1_75sq.jpg", 75, 75, "tumblr"),
    ("http://25.media.tumblr.com/avatar_aebeab061bee_64.png", 64, 64, "tumblr"),
    ("https://i.imgur.com/bwix6uBs.jpg", 90, 90, "imgur"),
    ("https://i.imgur.com/bwix6uB.jpg", None, None, None),  # a 7-character id alone: the upload
    # avatar services
    ("https://secure.gravatar.com/avatar/8fd1995665ac0439aa0a94c6effa0958?s=100&d=mm&r=g", 100, 100, "gravatar"),
    ("https://www.gravatar.com/avatar/205e460b479e2e5b48aec07710c08d50", 80, 80, "gravatar"),  # the default size
    ("https://avatars.githubusercontent.com/u/60828015?s=64&v=4", 64, 64, "avatar"),
    ("https://forum.x.com/data/avatars/l/134/134467.jpg?1656519764", 192, None, "xenforo-avatar-longest"),
    ("https://avatars.fastly.steamstatic.com/" + "0" * 40 + "_medium.jpg", 64, 64, "steam-avatar"),
    # query parameters
    ("https://target.scene7.com/is/image/Target/GUEST_1?wid=800&hei=600&qlt=80", 800, 600, "query"),
    ("https://images.squarespace-cdn.com/content/v1/1/2/a.jpg?format=750w", 750, None, "query"),
    ("https://hips.hearstapps.com/hmg-prod/images/a.jpg?crop=1xw:1xh;center,top&resize=980:*", 980, None, "query"),
    # file name and path
    ("https://cdn.images.express.co.uk/img/dynamic/106/590x/secondary/a.webp", 590, None, "path-width"),
    ("https://x.com/content/images/size/w600/2025/07/a.jpg", 600, None, "path-width"),
    ("https://gdb.x.com/01000000-0aff_w100_r1.jpg", 100, None, "path-width"),
    ("http://x0.x.com/res/2019/AB_size97_w1080_h765.jpeg", 1080, 765, "path-width"),
    ("https://upload.wikimedia.org/wikipedia/commons/thumb/a/ab/A.pdf/page1-220px-A.pdf.jpg", 220, None, "wiki-px"),
    ("https://x.com/wp-content/uploads/2024/11/photo-scaled.jpg", 2560, None, "wp-scaled-longest"),
]


@pytest.mark.parametrize("url,w,h,pattern", EXAMPLES)
def test_url_size_patterns(url, w, h, pattern):
    sig = url_size(url)
    if pattern is None:
        assert sig is None
    else:
        assert (sig.width, sig.height, sig.pattern) == (w, h, pattern)


ODD_URLS = [
    "", "?", "%", "%E2%82", "http://x.org/a-300x200.JPG?W=800&H=600", "http://x.org/A-300X200.jpg",
    "http://x.org/a%2D300x200.jpg", "http://x.org/a.jpg?w%3D800", "http://x.org/p&w=300&x/a.jpg?v=1",
    "http://x.org/a%0A-300x200.jpg", "http://x.org/a-300x200.jpg%0a", "http://x.org/a\n-300x200.jpg",
    "http://x.org/a.jpg?height=144", "http://x.org/a.jpg?maxHeight=900&dpr=2", "http://x.org/a-1x1.jpg?height=144",
    "http://x.org/a.jpg?f\u0131t=300", "http://x.org/a.jpg?re%C5%BFize=300,200", "http://x.org/\u0130-640x480.png",
    "https://farm1.staticflickr.com/2/1_2_z.jpg", "https://lh3.googleusercontent.com/abc=s1600",
    "https://res.cloudinary.com/x/image/upload/c_fill,w_640,h_480/y.jpg", "http://x.org/thumb/220px-A.png",
]


def test_url_sizes_of_a_batch_are_url_size_of_each_url():
    """The batch scan parses only the URLs that may state a size, and finds what url_size finds in each."""
    urls = [r["img_url"] for r in list(more_records()) + list(aeb_records())] + ODD_URLS
    expected = [url_size(u) for u in urls]
    assert url_sizes(urls) == expected
    assert sum(s is not None for s in expected) > 1000
    assert url_sizes([]) == [] and UrlBatch(urls).sizes == expected
    assert UrlBatch(urls).take([3, 1]) == (urls[3], urls[1]) and UrlBatch(urls).take([3, 1]).sizes == expected[3:0:-2]
    for url in ("http://x.org/a.jpg?height=144", "http://x.org/a.jpg?f\u0131t=300"):  # a height alone, case folding
        assert url_sizes([url]) == [url_size(url)] and url_size(url) is not None


def test_decisions_from_sizes():
    assert size_class(401, 401) == "BIG" and size_class(199, 10) == "SMALL" and size_class(300, 300) is None
    assert decide_from_size(SizeSignal(800, 600, "url-pattern")).label == "BIG"
    assert decide_from_size(SizeSignal(300, 900, "url-pattern")).label == "MEDIUM"  # not BIG, not SMALL
    assert decide_from_size(SizeSignal(800, None, "url-pattern")) is None  # one side: undecided
    assert decide_from_size(SizeSignal(320, None, "url-pattern", "flickr-longest")).label == "MEDIUM"
    assert decide_from_size(SizeSignal(1024, None, "url-pattern", "flickr-longest")) is None
    assert [parse_pixels(v) for v in ("300", " 300px", "300.0", "100%", "auto", "", None)] == \
        [300, 300, 300, None, None, None, None]


def test_srcset_descriptor_of_the_image_itself():
    rec = {"img_url": "https://a.com/p-300x200.jpg", "src": "https://a.com/p-300x200.jpg",
           "srcset": "https://a.com/p-300x200.jpg 300w, https://a.com/p-1024x683.jpg 1024w"}
    assert srcset_size(rec).width == 300
    assert record_decisions([rec], ALL_RULES)[0].reason == "srcset"  # off by default: see models.decision.RULES
    assert record_decisions([rec])[0] is None  # by default a small size in the URL is left to the model
    assert srcset_size({**rec, "img_url": "https://a.com/other.jpg", "src": "other.jpg"}) is None


def test_declared_size_decides_first():
    rec = {"img_url": "https://a.com/p-1024x683.jpg", "width_attr": "100", "height_attr": "80"}
    assert declared_size(rec).width == 100
    d = record_decisions([rec])[0]
    assert (d.label, d.reason) == ("SMALL", "declared")


def test_url_patterns_agree_with_true_sizes_in_the_wikipedia_archive():
    """Wikimedia `/NNNpx-` thumbnails: the URL's width is the decoded file's width."""
    rows = list(csv.DictReader(open(require("truth", "ukwa__sopa_img_truth.csv"), encoding="utf-8")))
    checked = 0
    for row in rows:
        sig = url_size(row["img_url_abs"])
        if sig is not None and sig.pattern == "wiki-px" and row["true_width"]:
            assert sig.width == int(row["true_width"])
            checked += 1
    assert checked >= 5


def test_exact_decisions_on_real_pages_mostly_match_declared_sizes():
    """URL patterns against the declared sizes of real pages (declared = CSS px: a noisy check)."""
    agree = total = 0
    for rec in list(more_records()) + list(aeb_records()):
        truth = declared_size(rec)
        cls = size_class(truth.width, truth.height) if truth else None
        sig = url_size(rec["img_url"])
        if cls is None or sig is None:
            continue
        d = decide_from_size(sig)
        if d is not None:
            total += 1
            agree += (d.label == "BIG") == (cls == "BIG")  # MEDIUM and SMALL both say "not BIG"
    assert total >= 300
    assert agree / total >= 0.9


def test_true_sizes_from_the_same_warc_match_the_answer_key():
    """Regenerate truth/aut__example_img_truth.csv: our true sizes for images found in the same WARC."""
    records = warc_records_of("aut__example.warc.gz")
    ours = {(r["page_url"], r["img_url"]): (r.get("true_width"), r.get("true_height")) for r in records}
    rows = list(csv.DictReader(open(require("truth", "aut__example_img_truth.csv"), encoding="utf-8")))
    matched = 0
    for row in rows:
        key = (row["page_url"], row["img_url_abs"])
        if row["in_warc"] == "1" and key in ours:
            assert ours[key] == (int(row["true_width"]), int(row["true_height"])), key
            matched += 1
    assert matched >= 700  # 824 <img src> resolve to an image record in this WARC


def test_every_pattern_name_is_listed():
    names = {rule.name for rule in RULE_TABLE}
    assert set(URL_PATTERN_NAMES) == names and len(HOST_RULES) >= 10
    assert all(not n.endswith(("-longest", "-box")) for n in URL_PATTERN_NAMES)


def test_triggers_occur_wherever_their_rule_matches():
    """url_sizes parses a URL with a rule only where the rule's trigger occurs: the trigger must be found in
    every URL the rule reads (else the batch would miss what url_size finds)."""
    from urllib.parse import unquote
    urls = [u for u, *_ in EXAMPLES] + ODD_URLS + [r["img_url"] for r in rule_page_records()]
    for rule in RULE_TABLE:
        trigger = re.compile(rule.trigger)
        for url in urls:
            u = unquote(url)
            if rule.find(u, u.partition("?")[0]) is not None:
                assert trigger.search(u), (rule.name, url)


# Real pages of ../shared/data with the URL forms of each rule: (pattern name, page in html-more/, at least this many
# of its image URLs read by the rule, a piece of one of them, the size it states).
RULE_PAGES = [
    ("amazon", "wcxb/dev/0655.html.gz", 30, "_AC_SR240,220_", (240, 220, "amazon-box")),
    ("avatar", "wcxb/dev/2909.html.gz", 40, "?s=40&v=4", (40, 40, "avatar")),
    ("bbc", "wcxb/dev/2961.html.gz", 30, "ace/standard/480/", (480, None, "bbc")),
    ("bigcommerce", "wcxb/test/4313.html.gz", 80, "stencil/100x100/", (100, 100, "bigcommerce-box")),
    ("cdn-path", "wcxb/dev/2971.html.gz", 120, "/w_120,c_limit/", (120, None, "cdn-path")),
    ("cloudflare", "wcxb/dev/0325.html.gz", 25, "width=40%2Cheight=40%2Cfit=crop", (40, 40, "cloudflare")),
    ("ebay", "wcxb/dev/2888.html.gz", 15, "/s-l1600.jpg", (1600, None, "ebay-longest")),
    ("flickr", "dragnet/54.html.gz", 20, "7179165271_46f3f978db.jpg", (500, None, "flickr-longest")),
    ("gannett", "msv-chaos/spacex_3_.htm.gz", 40, "&c=60x60/", (60, 60, "gannett")),
    ("google", "dragnet/T135.html.gz", 60, "/s72-c/", (72, 72, "google")),
    ("gravatar", "dragnet/418.html.gz", 200, "?s=64&d=identicon", (64, 64, "gravatar")),
    ("guardian", "wcxb/dev/2966.html.gz", 150, "/468_293_2281_1825/master/2281.jpg?width=620&dpr=2",
     (1240, 992, "guardian")),
    ("imgproxy", "wcxb/dev/4371.html.gz", 30, "/rs:auto:66:0:1/", (66, None, "imgproxy")),
    ("imgur", "wcxb/dev/2381.html.gz", 8, "bwix6uBl.jpg", (640, None, "imgur-longest")),
    ("medium", "mercury/medium.com.html.gz", 40, "/fit/c/152/152/", (152, 152, "medium")),
    ("path-width", "fundus/uk/Express_2024_07_18.html.gz", 60, "/590x/", (590, None, "path-width")),
    ("resize-path", "wcxb/dev/3011.html.gz", 40, "crop/4983x2803+0+0/resize/700/", (700, 394, "resize-path")),
    ("shopify", "wcxb/dev/0213.html.gz", 10, "bookshelf3_grande.jpg", (600, None, "shopify-longest")),
    ("steam-avatar", "wcxb/dev/3071.html.gz", 1, "_full.jpg", (184, 184, "steam-avatar")),
    ("storyblok", "wcxb/dev/4193.html.gz", 10, "/1280x720/71e20148ef/kristina-goes-solar.jpg/m/1620x0",
     (1620, 911, "storyblok")),
    ("thumbor", "wcxb/dev/3016.html.gz", 30, "/fit-in/100x100/", (100, 100, "thumbor-box")),
    ("tumblr", "dragnet/R176.html.gz", 5, "tumblr_mcoenmU6Up1qzxsmpo1_250.jpg", (250, None, "tumblr")),
    ("twimg", "mercury/twitter.com.html.gz", 10, "mhndrVtE_normal.jpg", (48, 48, "twimg")),
    ("wiki-px", "wcxb/dev/2904.html.gz", 8, "/40px-Wiktionary-logo-v2.svg.png", (40, None, "wiki-px")),
    ("wp-scaled", "wcxb/dev/0365.html.gz", 5, "20240625_mrm_0947-scaled.jpg", (2560, None, "wp-scaled-longest")),
    ("xenforo-avatar", "wcxb/test/5024.html.gz", 10, "/data/avatars/s/0/983.jpg", (48, None, "xenforo-avatar-longest")),
    ("youtube", "mercury/www.youtube.com.html.gz", 10, "/srtMWzyqdp8/maxresdefault.jpg", (1280, 720, "youtube")),
]


@functools.lru_cache(maxsize=None)
def page_records(file: str) -> tuple[dict, ...]:
    """The image records of one html-more page, made by the extraction job's own path."""
    from features.page.from_record import images_of_record
    from features.page.images import ImageExtractor
    from models.corpus import html_record
    pages = require("html-more", "pages.jsonl")
    with open(pages, encoding="utf-8") as f:
        meta = next(m for m in map(json.loads, f) if m["file"] == file)
    body = gzip.decompress((pages.parent / file).read_bytes())
    record = html_record(meta.get("url") or meta["canonical_url"], body, meta.get("charset"))
    return tuple(images_of_record(record, ImageExtractor("lexbor"), f"html-more/{file}", None).images)


def rule_page_records() -> list[dict]:
    return [rec for _, file, *_ in RULE_PAGES for rec in page_records(file)]


def _base(pattern: str) -> str:
    return pattern.removesuffix("-longest").removesuffix("-box")


@pytest.mark.parametrize("name,file,at_least,piece,size", RULE_PAGES, ids=[p[0] for p in RULE_PAGES])
def test_rules_on_real_pages(name, file, at_least, piece, size):
    """Each rule reads the URLs of a real page of ../shared/data that uses its URL form."""
    urls = list(dict.fromkeys(r["img_url"] for r in page_records(file)))
    sizes = url_sizes(urls)
    read = [(u, s) for u, s in zip(urls, sizes) if s is not None and _base(s.pattern) == name]
    assert len(read) >= at_least, (name, len(read))
    example = [s for u, s in read if piece in u]
    assert example and (example[0].width, example[0].height, example[0].pattern) == size


def test_every_rule_has_a_real_page():
    names = {name for name, *_ in RULE_PAGES} | {"query", "wxh"}  # query, wxh: the corpus tests above
    assert names == set(URL_PATTERN_NAMES)


def test_real_twimg_media_urls_without_a_size_name_state_no_size():
    """pbs.twimg.com/media/<id>.jpg without `name=` (or `:size`) is served at no documented size."""
    urls = [r["img_url"] for r in page_records("wcxb/dev/2961.html.gz") + page_records("mercury/twitter.com.html.gz")]
    media = [u for u in urls if "pbs.twimg.com/media/" in u]
    assert all(url_size(u) is None or url_size(u).pattern != "twimg" for u in media)


def test_new_rules_on_real_pages_agree_with_declared_sizes():
    """The decisions of every rule on the real pages above, against the declared size of the same <img>."""
    agree = total = 0
    for rec in rule_page_records():
        truth = declared_size(rec)
        cls = size_class(truth.width, truth.height) if truth else None
        sig = url_size(rec["img_url"])
        d = decide_from_size(sig) if sig is not None and cls is not None else None
        if d is not None:
            total += 1
            agree += (d.label == "BIG") == (cls == "BIG")  # the decision: fetch (BIG) or not
    assert total >= 500 and agree / total >= 0.95, (agree, total)


def test_url_sizes_of_a_batch_of_examples_and_variants():
    """The batch scan finds what url_size finds for every example, and for odd versions of them."""
    urls = [u for u, *_ in EXAMPLES]
    variants = [u.upper() for u in urls] + [u.replace("/", "%2F", 4) for u in urls] + \
        [u.replace("x", "%78").replace("=", "%3D") for u in urls] + [u + "\n" + u for u in urls] + \
        ["http://x.com/p?u=https://i.ytimg.com/vi/a/default.jpg", "https://i.ytimg.com/vi/a/x.jpg?u=//pbs.twimg.com/a"]
    batch = urls + variants + [r["img_url"] for r in rule_page_records()]
    assert url_sizes(batch) == [url_size(u) for u in batch]
    assert len(URL_RULES) < len(RULE_TABLE)  # the host rules are tried as one
