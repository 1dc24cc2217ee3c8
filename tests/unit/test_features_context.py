"""The paper's 23 features (with the .jpg fix) and our context features, from real records."""
from __future__ import annotations

import numpy as np

from features.model_inputs.context import CONTEXT_FEATURE_NAMES, ContextFeatures, context_features
from features.model_inputs.paper import PAPER_FEATURE_NAMES, PaperFeatures, paper_features, paper_url_size
from tests.support.size_model_data import aeb_records


def test_there_are_23_paper_features_and_jpg_sets_the_jpeg_flag():
    assert len(PAPER_FEATURE_NAMES) == 23
    f = dict(zip(PAPER_FEATURE_NAMES, paper_features({"img_url": "http://a.org/x/photo.JPG", "element": "img",
                                                      "alt": "a cat", "dom_depth": 5, "dom_siblings": 2,
                                                      "same_domain": True, "parent_text": "hello"})))
    assert f["suffix_jpeg"] == 1.0 and f["suffix_png"] == 0.0  # the original code missed .jpg
    assert f["element_img"] == 1.0 and f["alt_length"] == 5 and f["dom_depth"] == 5 and f["same_domain"] == 1.0
    assert f["url_length"] == len("http://a.org/x/photo.JPG")


def test_paper_url_size_patterns():
    assert paper_url_size("http://a.org/img-640x480.jpg") == (640, 480)
    assert paper_url_size("http://a.org/img.jpg?width=300&height=200") == (300, 200)
    assert paper_url_size("http://a.org/120px-a.png") == (120, None)
    assert paper_url_size("http://a.org/img.jpg") == (None, None)


def test_features_of_real_records_are_finite_and_vary():
    records = list(aeb_records())
    P = PaperFeatures().transform(records)
    C = ContextFeatures().transform(records)
    assert P.shape == (len(records), 23) and C.shape == (len(records), len(CONTEXT_FEATURE_NAMES))
    assert np.isfinite(P).all() and np.isfinite(C).all()
    col = list(CONTEXT_FEATURE_NAMES).index
    # real pages: some images are lazy, some have srcset, positions run over the page
    assert C[:, col("lazy")].sum() > 0 and C[:, col("srcset_n")].max() >= 2
    assert C[:, col("position")].max() > 10
    assert (C[:, col("same_url_on_page")] >= 1).all()
    # every column but a few rare flags takes more than one value on 181 real pages
    varying = (P.max(axis=0) > P.min(axis=0)).sum() + (C.max(axis=0) > C.min(axis=0)).sum()
    assert varying >= 0.7 * (P.shape[1] + C.shape[1])


def test_url_strings_give_url_only_features():
    C = ContextFeatures().transform(["http://a.org/p-1024x683.jpg"])
    col = list(CONTEXT_FEATURE_NAMES).index
    assert C[0, col("url_size_w")] == 1024 and C[0, col("position")] == -1


def test_context_features_are_row_wise_a_record_scores_the_same_alone_and_in_any_batch():
    """The scikit-learn contract: a row's output depends on that row alone (page context is in the record)."""
    records = list(aeb_records())
    together = ContextFeatures().transform(records)
    for i in (0, 7, len(records) // 2, len(records) - 1):
        alone = ContextFeatures().transform([records[i]])
        assert np.array_equal(alone[0], together[i])
    shuffled = ContextFeatures().transform(records[::-1])
    assert np.array_equal(shuffled[::-1], together)
    assert set(context_features(records[0])) == set(CONTEXT_FEATURE_NAMES)  # by name, every one


def test_the_sizes_other_files_declare_are_features_and_older_model_files_keep_their_columns():
    rec = {"img_url": "http://a.org/up/x.jpg", "page_declared_others": 4, "page_declared_big": 1,
           "page_declared_longest": 300, "folder_declared_others": 2, "folder_declared_big": 2,
           "folder_declared_longest": 800}
    f = context_features(rec)
    assert (f["page_declared_others"], f["page_declared_big_share"], f["page_declared_longest"]) == (4, 0.25, 300)
    assert (f["folder_declared_others"], f["folder_declared_big_share"], f["folder_declared_longest"]) == (2, 1.0, 800)
    bare = context_features({"img_url": "http://a.org/up/x.jpg"})  # a record extracted before: unknown
    assert bare["folder_declared_big_share"] == -1.0 and bare["page_declared_others"] == -1.0
    fitted = ContextFeatures().fit([rec])
    assert fitted.transform([rec]).shape == (1, len(CONTEXT_FEATURE_NAMES))
    state = fitted.__getstate__()
    state.pop("names_")  # as in a model file written before these features
    older = ContextFeatures.__new__(ContextFeatures)
    older.__setstate__(state)
    assert older.transform([rec]).shape == (1, len(CONTEXT_FEATURE_NAMES) - 6)
    assert "page_declared_others" not in older.get_feature_names_out()
    # the columns as they were (commit 953ac61): the URL pattern names in the rule order of that time
    assert list(older.get_feature_names_out()[26:30]) == ["url_pattern_query", "url_pattern_wxh", "url_pattern_wiki-px",
                                                          "url_pattern_cdn-path"]
