"""Labels, the hiding of declared sizes, and the site-disjoint split."""
from __future__ import annotations

import numpy as np

from features.model_inputs.context import CONTEXT_FEATURE_NAMES, ContextFeatures
from features.model_inputs.paper import PaperFeatures
from features.model_inputs.url_grams import GramVectorizer
from models.labels import hide_declared_size, label_of, labelled, read_truth
from models.split import is_test_site, record_site, site_of
from tests.support.size_model_data import aeb_records, require, warc_records_of


def test_labels_follow_the_rule_and_prefer_true_sizes():
    rec = {"img_url": "u", "width_attr": "500", "height_attr": "450"}
    assert label_of(rec).label == "BIG" and label_of(rec).source == "declared"
    assert label_of({**rec, "true_width": 100, "true_height": 90}).source == "true"
    assert label_of({**rec, "true_width": 100, "true_height": 90}).label == "SMALL"
    assert label_of({**rec, "height_attr": "300"}) is None  # in between: dropped
    assert label_of({"img_url": "u", "width_attr": "100%", "height_attr": "20"}) is None


def test_declared_size_is_hidden_from_every_feature_when_it_is_the_label():
    """Changing the declared size of a declared-labelled example must not change its features."""
    records = [r for r in aeb_records() if label_of(r) is not None and label_of(r).source == "declared"][:300]
    assert len(records) >= 100
    small = [{**r, "width_attr": "50", "height_attr": "40", "style": "width: 50px; height:40px; color: red"}
             for r in records]
    big = [{**r, "width_attr": "900", "height_attr": "700", "style": "width: 900px; height:700px; color: red"}
           for r in records]
    a, b = labelled(small), labelled(big)
    assert a.y.tolist() == [0] * len(records) and b.y.tolist() == [1] * len(records)
    for tf in (ContextFeatures(), PaperFeatures()):
        assert np.array_equal(tf.transform(a.records), tf.transform(b.records))
    words = GramVectorizer("attr-words", "none", min_count=1).fit(a.records + b.records, np.r_[a.y, b.y])
    assert (words.transform(a.records) != words.transform(b.records)).nnz == 0
    assert hide_declared_size(small[0])["style"] == "color: red"
    # while a true-size label leaves the declared size visible as a feature
    true = labelled([{**records[0], "true_width": 50, "true_height": 40}])
    col = list(CONTEXT_FEATURE_NAMES).index("decl_width")
    assert ContextFeatures().transform(true.records)[0, col] == float(records[0]["width_attr"].rstrip("px"))


def test_true_labels_from_the_archive_and_a_labels_file(tmp_path):
    records = warc_records_of("aut__example.warc.gz")
    data = labelled(records)
    assert (data.sources == "true").sum() >= 500
    # the answer key as a --labels file gives the same labels as the sizes we decoded ourselves
    truth = read_truth(require("truth", "aut__example_img_truth.csv"))
    both = 0
    for rec in records:
        if "true_width" in rec and rec["img_url"] in truth:
            bare = {k: v for k, v in rec.items() if not k.startswith("true_")}
            assert label_of(bare, truth) == label_of(rec)
            both += 1
    assert both >= 700


def test_sites_and_a_site_disjoint_split():
    assert site_of("www.bbc.co.uk") == "bbc.co.uk" and site_of("news.bbc.co.uk") == "bbc.co.uk"
    assert site_of("a.b.example.com") == "example.com" and site_of("WWW.Example.com") == "example.com"
    records = list(aeb_records())
    sites = np.array([record_site(r) for r in records])
    test = is_test_site(sites)
    assert 0 < test.sum() < len(sites)
    assert not set(sites[test]) & set(sites[~test])
    assert np.array_equal(test, is_test_site(list(sites)))  # the same on every run and machine
    assert np.array_equal(is_test_site(sites[::-1]), test[::-1])  # order does not matter


def test_stated_sizes_by_source():
    """"stated" takes every stated size; "stated:<where>" only that source's (benchmarks/label_sources.py)."""
    icon = {"img_url": "u", "stated_width": 32, "stated_height": 32, "stated_by": "icon"}
    photo = {"img_url": "v", "stated_width": 1200, "stated_height": 800, "stated_by": "srcset"}
    assert label_of(icon).label == "SMALL" and label_of(icon).source == "stated:icon"
    assert label_of(photo).label == "BIG" and label_of(photo).source == "stated:srcset"
    only_icons = ("true", "declared", "stated:icon")
    assert label_of(icon, sources=only_icons) is not None and label_of(photo, sources=only_icons) is None
    assert label_of(photo, sources=("true", "declared")) is None
    # a declared size still comes first
    assert label_of({**photo, "width_attr": "100", "height_attr": "80"}).source == "declared"
