"""features.page.stated_sizes: what pages state about their image files, on crafted and real pages."""
from __future__ import annotations

import gzip
import json
from collections import Counter

from features.page.stated_sizes import stated_sizes
from tests.conftest import shared_path

PAGE = """<html><head><base href="https://cdn.example.org/">
<meta property="og:image" content="/share/lead.jpg"><meta property="og:image:width" content="1200">
<meta property="og:image:height" content="630">
<link rel="apple-touch-icon" sizes="180x180" href="/touch.png"><link rel="icon" sizes="any" href="/i.svg">
<script type="application/ld+json">{"@type": "NewsArticle", "image": {"@type": "ImageObject",
 "url": "https://cdn.example.org/lead-1600.jpg", "width": {"@type": "QuantitativeValue", "value": 1600},
 "height": 900}}</script>
<script type="application/ld+json">{not json</script></head><body>
<img src="a-300x200.jpg" width="300" height="200" srcset="a-300x200.jpg 300w, a-1024x683.jpg 1024w, a.jpg 2048w">
<img src="b.jpg" srcset="b-480.jpg 480w, b-960.jpg 960w">
</body></html>"""


def test_every_source_on_a_crafted_page():
    got = {(s.url.rsplit("/", 1)[-1], s.width, s.height, s.source) for s in stated_sizes(PAGE, "https://x.org/a/")}
    assert got == {
        ("a-300x200.jpg", 300, 200, "srcset"), ("a-1024x683.jpg", 1024, 683, "srcset"),  # WxH in the URL
        ("a.jpg", 2048, 1365, "srcset"),  # the element's aspect ratio
        ("b-480.jpg", 480, None, "srcset"), ("b-960.jpg", 960, None, "srcset"),  # a width alone
        ("lead.jpg", 1200, 630, "og:image"), ("lead-1600.jpg", 1600, 900, "json-ld"),
        ("touch.png", 180, 180, "icon"),  # sizes="any" states no size
    }
    assert all(s.url.startswith("https://cdn.example.org/") for s in stated_sizes(PAGE, "https://x.org/a/"))


def test_real_pages_state_sizes_in_every_way():
    """The first 400 html-more pages: every source occurs, and srcset candidates are the most common."""
    root = shared_path("html-more")
    counts = Counter()
    with open(root / "pages.jsonl", encoding="utf-8") as f:
        for n, line in enumerate(f):
            if n >= 400:
                break
            meta = json.loads(line)
            body = gzip.decompress((root / meta["file"]).read_bytes())
            for s in stated_sizes(body, meta.get("url") or meta["canonical_url"]):
                counts[s.source] += 1
                assert s.width > 0 and (s.height is None or s.height > 0)
    assert set(counts) == {"srcset", "og:image", "json-ld", "icon"}, counts
    assert counts["srcset"] > max(counts["og:image"], counts["json-ld"], counts["icon"])
