"""Providers and sub-providers from image hosts, URL patterns and page URLs; the --provider/--license filter."""
from __future__ import annotations

import json

import pytest

from features.providers import Attribution, ProviderMap, default_mapping, provider_of
from features.record_filter import ProviderLicenseFilter, filter_by_provider_and_license, split_values

NASA_PAGE = "https://www.flickr.com/photos/24662369@N07/53012345678/"
FLICKR_IMG = "https://live.staticflickr.com/65535/53012345678_0a1b2c3d4e_b.jpg"


@pytest.mark.parametrize("item, expected", [
    (FLICKR_IMG, Attribution("flickr")),
    ("https://farm66.staticflickr.com/65535/50590523512_489806154b_s.jpg", Attribution("flickr")),
    ("http://farm4.static.flickr.com/3001/2818_abc.jpg", Attribution("flickr")),
    ("https://upload.wikimedia.org/wikipedia/commons/thumb/a/a9/Example.jpg/220px-Example.jpg",
     Attribution("wikimedia")),
    ("HTTPS://UPLOAD.WIKIMEDIA.ORG:443/x.png", Attribution("wikimedia")),
    ("//i0.wp.com/example.org/wp-content/uploads/a.jpg", Attribution("wordpress")),
    ("https://api.europeana.eu/thumbnail/v2/url.json?uri=x", Attribution("europeana")),
    ("https://example.org/staticflickr.com.jpg", Attribution(None)),
    ("https://notstaticflickr.com/a.jpg", Attribution(None)),
    ({"img_url": FLICKR_IMG, "page_url": NASA_PAGE}, Attribution("flickr", "nasa")),
    ({"img_url": FLICKR_IMG, "page_url": "https://flickr.com/photos/130608600@N05/1/"},
     Attribution("flickr", "spacex")),
    ({"img_url": FLICKR_IMG, "page_url": "https://www.flickr.com/photos/someone/1/"}, Attribution("flickr", None)),
    ({"img_url": FLICKR_IMG, "page_url": "https://blog.example.org/?u=flickr.com/photos/24662369@N07/"},
     Attribution("flickr", None)),
    ({"img_url": "https://x.example/a.jpg", "img_host": "live.staticflickr.com"}, Attribution("flickr")),
])
def test_default_mapping(item, expected):
    assert provider_of(item) == expected


def test_most_specific_host_pattern_wins_and_url_rules_come_first():
    mapping = ProviderMap({"providers": [
        {"provider": "cdn", "hosts": ["*.example.net"]},
        {"provider": "photos", "hosts": ["*.photos.example.net", "exact.example.net"]},
        {"provider": "thumbs", "url_regex": r"^https?://[^/]+/thumbs/"},
        {"provider": "globbed", "hosts": ["img?.other.org"]},
    ]})
    assert mapping.attribution("https://a.example.net/x.jpg").provider == "cdn"
    assert mapping.attribution("https://example.net/x.jpg").provider == "cdn"
    assert mapping.attribution("https://b.photos.example.net/x.jpg").provider == "photos"
    assert mapping.attribution("https://exact.example.net/x.jpg").provider == "photos"
    assert mapping.attribution("https://a.example.net/thumbs/x.jpg").provider == "thumbs"
    assert mapping.attribution("https://img7.other.org/x.jpg").provider == "globbed"
    assert mapping.attribution("https://img77.other.org/x.jpg").provider is None


@pytest.mark.parametrize("config, message", [
    ({}, "providers"),
    ({"providers": [{"hosts": ["a.org"]}]}, "provider"),
    ({"providers": [{"provider": "a/b", "hosts": ["a.org"]}]}, "without '/'"),
    ({"providers": [{"provider": "a"}]}, "hosts"),
    ({"providers": [{"provider": "a", "url_regex": "("}]}, "bad regular expression"),
    ({"providers": [{"provider": "a", "hosts": ["a.org"], "sub_providers": {"page_url_regex": "x"}}]}, "user"),
])
def test_bad_mappings_are_clear_errors(config, message):
    with pytest.raises(ValueError, match=message):
        ProviderMap(config)


def test_mapping_files(tmp_path):
    (tmp_path / "m.json").write_text(json.dumps({"providers": [{"provider": "mine", "hosts": ["*.mine.org"]}]}))
    assert ProviderMap.load(tmp_path / "m.json").attribution("https://cdn.mine.org/a.png").provider == "mine"
    (tmp_path / "m.yaml").write_text("providers:\n  - provider: yours\n    hosts: ['*.yours.org']\n")
    pytest.importorskip("yaml", reason="PyYAML is not installed: YAML mappings need it")
    assert ProviderMap.load(tmp_path / "m.yaml").attribution("https://yours.org/a.png").provider == "yours"
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid"):
        ProviderMap.load(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="cannot read"):
        ProviderMap.load(tmp_path / "missing.json")


def test_shipped_mapping_loads_and_names_the_catalog_collections():
    mapping = default_mapping()
    assert {"flickr", "wikimedia"} <= set(mapping.names) and len(set(mapping.names)) == len(mapping.names)
    assert mapping.sub_names["flickr"] == {"nasa", "bio_diversity", "spacex"}


RECORDS = [
    {"img_url": FLICKR_IMG, "page_url": NASA_PAGE, "license": "by", "license_version": "2.0"},
    {"img_url": FLICKR_IMG, "page_url": "https://www.flickr.com/photos/x/1/", "license": "by-sa",
     "license_version": "2.0"},
    {"img_url": "https://upload.wikimedia.org/a.jpg", "page_url": "https://w.org/", "license": "by-sa",
     "license_version": "4.0"},
    {"img_url": "https://example.org/a.jpg", "page_url": "https://example.org/", "license": None,
     "license_version": None},
]


@pytest.mark.parametrize("providers, licenses, kept", [
    (None, None, [0, 1, 2, 3]),
    (["flickr"], None, [0, 1]),
    (["Flickr/NASA"], None, [0]),
    (["wikimedia,flickr/nasa"], None, [0, 2]),
    (["none"], None, [3]),
    (None, ["by-sa"], [1, 2]),
    (None, ["by-sa/4.0"], [2]),
    (None, ["any"], [0, 1, 2]),
    (None, ["none"], [3]),
    (["flickr"], ["by-sa", "cc0"], [1]),
])
def test_filter(providers, licenses, kept):
    assert list(filter_by_provider_and_license(RECORDS, providers, licenses)) == [RECORDS[i] for i in kept]


def test_filter_on_urls_and_bad_values():
    urls = [r["img_url"] for r in RECORDS]
    f = ProviderLicenseFilter(["wikimedia"])
    assert not f.needs_records and list(f.apply(urls)) == [urls[2]]
    assert ProviderLicenseFilter(licenses=["by"]).needs_records
    assert ProviderLicenseFilter(["flickr/nasa"]).needs_records
    assert split_values(["a, B", "", "c"]) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="unknown provider 'flikr'.*flickr"):
        ProviderLicenseFilter(["flikr"])
    with pytest.raises(ValueError, match="unknown sub-provider 'flickr/nasaa'.*nasa"):
        ProviderLicenseFilter(["flickr/nasaa"])
    with pytest.raises(ValueError, match="unknown license 'cc-by'"):
        ProviderLicenseFilter(licenses=["cc-by"])
