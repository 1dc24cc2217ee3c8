"""Exact size signals: URL patterns, srcset, declared sizes, checked against true sizes where known."""
from __future__ import annotations

import csv

import pytest

from features.model_inputs.size_signals import (
    SizeSignal, UrlBatch, declared_size, parse_pixels, size_class, srcset_size, url_size, url_sizes,
)
from models.decision import ALL_RULES, decide_from_size, record_decisions
from tests.support.size_model_data import aeb_records, more_records, require, warc_records_of


@pytest.mark.parametrize("url,w,h,pattern", [
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
])
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
    assert record_decisions([rec])[0].reason == "url-pattern"
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
