"""URL hints: named, host-independent hints about an image URL (features for the model)."""
from __future__ import annotations

import numpy as np
import pytest

from features.model_inputs.url_hints import FLAG_NAMES, HINT_NAMES, NUM_CONTEXTS, url_hints, url_hints_matrix
from tests.unit.test_features_size_signals import RULE_PAGES, page_records


@pytest.mark.parametrize("url,hints", [
    ("https://upload.wikimedia.org/wikipedia/commons/c/ca/LinkedIn_logo_initials.png", {"original", "logo"}),
    ("https://upload.wikimedia.org/wikipedia/commons/thumb/c/ca/A.png/220px-A.png", {"thumbnail"}),
    ("https://farm1.staticflickr.com/2/1418878_1e92283336_o.jpg", {"original"}),
    ("https://pbs.twimg.com/media/EDyiW-hU8AA8EEJ?format=jpg&name=orig", {"original"}),
    ("https://x.com/wp-content/uploads/2024/11/photo-scaled.jpg", {"original"}),
    ("https://lh3.googleusercontent.com/abc=s0", {"original"}),
    ("https://x.com/wp-content/uploads/2024/11/photo-150x150.jpg", {"thumbnail"}),
    ("https://x.de/fileadmin/_processed_/b/2/csm_Bild_96511db34a.jpg", {"thumbnail"}),
    ("https://x.com/sites/default/files/styles/thumbnail/public/a.jpg", {"thumbnail"}),
    ("https://secure.gravatar.com/avatar/8fd1995665ac0439aa0a94c6effa0958?s=100", {"avatar", "hash_name"}),
    ("https://pbs.twimg.com/profile_images/1/abc_normal.jpg", {"avatar"}),
    ("https://x.com/favicon.ico", {"icon"}),
    ("https://x.com/img/icons/apple-touch-icon.png", {"icon"}),
    ("https://x.com/assets/site-logo.svg", {"logo"}),
    ("https://x.com/nav-sprite-global.png", {"sprite"}),
    ("https://s.w.org/images/core/emoji/14.0.0/72x72/1f600.png", {"emoji"}),
    ("https://x.com/badges/app-store-badge.svg", {"badge"}),
    ("https://x.com/img/btn_subscribe.gif", {"button"}),
    ("https://x.com/flags/de.png", {"flag"}),
    ("https://www.google-analytics.com/collect?v=1", {"tracking"}),
    ("https://x.com/pixel.gif?id=1", {"tracking"}),
    ("https://x.com/images/spacer.gif", {"tracking"}),
    ("https://x.com/t.gif?w=1&h=1&size=1x1", {"tracking"}),
    ("https://x.com/uploads/IMG_1234.JPG", {"camera_name"}),
    ("https://x.com/uploads/DSC_0012-1024x768.jpg", {"camera_name"}),
    ("https://x.com/uploads/PXL_20230512_123456789.jpg", {"camera_name"}),
    ("https://x.com/uploads/20230512_123456.jpg", {"camera_name"}),
    ("https://www.rei.com/media/6f596857-616c-43ee-aad8-5e35ee55dfd8.jpg", {"hash_name"}),
    ("https://x.com/a/Zk9qT3mB7xLp2Rw8Vc4N.webp", {"hash_name"}),
    ("https://x.com/a/Enterprise-AI-Chatbot-Development.jpg", set()),
    ("https://x.com/siteLogoWhite.svg", set()),  # camelCase is one word
])
def test_flags(url, hints):
    got = {name for name in FLAG_NAMES if url_hints(url)[name]}
    assert got == hints


@pytest.mark.parametrize("url,value,ctx", [
    ("https://x.com/wp-content/uploads/2023/05/photo-1024x768.jpg", 1024, "x_left"),
    ("https://x.com/a.jpg?w=800&h=600", 800, "w"),
    ("https://x.com/a.jpg?h=900&w=300", 900, "h"),
    ("https://res.cloudinary.com/x/image/upload/c_fill,w_640,h_480/y.jpg", 640, "w"),
    ("https://secure.gravatar.com/avatar/abc?s=96", 96, "s"),
    ("https://miro.medium.com/max/1400/1*abc.png", 1400, "max"),
    ("https://x.com/a-60x1200.jpg", 1200, "x_right"),
    ("https://upload.wikimedia.org/wikipedia/commons/thumb/a/ab/A.jpg/220px-A.jpg", 220, "px"),
    ("https://images.squarespace-cdn.com/a.jpg?format=750w", 750, "wdesc"),
    ("https://x.com/a.jpg?quality=85", 85, "query"),
    ("https://x.com/photo_800.jpg", 800, "underscore"),
    ("https://x.com/photo-800.jpg", 800, "dash"),
    ("https://media.timeout.com/images/106113552/750/422/image.jpg", 750, "slash"),
    ("https://x.com/a/photo800b.jpg", 800, "other"),
    ("https://x.com/2023/05/12/photo.jpg", 12, "slash"),  # the year of a date is not a number to read
    ("https://x.com/2023/photo-2023-05-12.jpg", 12, "dash"),
    ("https://x123.com/photo.jpg", 0, None),  # no number after the host
])
def test_largest_number_and_its_context(url, value, ctx):
    h = url_hints(url)
    assert h["num_max"] == value
    on = [c for c in NUM_CONTEXTS if h[f"num_ctx_{c}"]]
    assert on == ([ctx] if ctx else [])


def test_batch_matrix_is_each_url_alone():
    """url_hints_matrix maps each match to its URL: a batch equals the URLs one at a time (odd URLs too)."""
    urls = [r["img_url"] for _, file, *_ in RULE_PAGES[:8] for r in page_records(file)]
    urls += ["", "x", "http://x.com/a\nb/logo.png", "http://x.com/%0Aicon.png", "http://x.com/\u0130MG_1234.jpg",
             "http://x.com/a.jpg?w=800", "/", "12", "http://x.com/é/thumb/ü-1024x768.jpg"]
    m = url_hints_matrix(urls)
    assert m.shape == (len(urls), len(HINT_NAMES)) and m.dtype == np.float32
    for i, url in enumerate(urls):
        assert list(m[i]) == [url_hints(url)[n] for n in HINT_NAMES], url
    assert url_hints_matrix([]).shape == (0, len(HINT_NAMES))


def test_hints_on_real_pages():
    """Hints found in real pages of ../shared/data: avatars on a comment page, originals and thumbnails."""
    def share(file, name):
        urls = list(dict.fromkeys(r["img_url"] for r in page_records(file)))
        return url_hints_matrix(urls)[:, HINT_NAMES.index(name)].mean()
    assert share("dragnet/418.html.gz", "avatar") > 0.9  # Gravatar comment avatars
    assert share("wcxb/test/5024.html.gz", "avatar") > 0.5  # XenForo forum avatars
    assert share("wcxb/dev/2904.html.gz", "thumbnail") > 0.3  # Wikipedia /thumb/ images
    assert share("wcxb/dev/0365.html.gz", "original") > 0.2  # WordPress -scaled copies
    assert share("wcxb/dev/2961.html.gz", "num_ctx_slash") > 0.5  # BBC ichef /ace/standard/480/


def test_hash_names_of_a_batch_are_is_hash_of_each_name():
    """The batch's hash_name (numpy counts over all names at once) is `_is_hash` of each file name."""
    from features.model_inputs.url_hints import _is_hash

    rng = np.random.default_rng(0)
    alphabets = [b"0123456789abcdef", b"0123456789ABCDEF-", b"aB3_-", b"abcXYZ0189", b"abcdefghijklmnopqrstuvwxyz",
                 b"AbC12.%+"]
    names = [b"6f596857-616c-43ee-aad8-5e35ee55dfd8", b"6f596857-616c-43ee-aad8_5e35ee55dfd8"]
    for _ in range(3000):
        alphabet = alphabets[rng.integers(len(alphabets))]
        names.append(rng.choice(list(alphabet), size=int(rng.integers(10, 60))).astype(np.uint8).tobytes())
    urls = [f"http://x.com/a/{name.decode()}.jpg" for name in names]
    got = url_hints_matrix(urls)[:, HINT_NAMES.index("hash_name")] == 1
    want = [len(name) >= 16 and all(c in b"-_" or chr(c).isalnum() for c in name) and _is_hash(name)
            for name in names]
    assert got.tolist() == want and 100 < sum(want) < 2900


def test_numbers_in_long_hex_runs_are_not_read():
    """Digits inside a hex token are no number, however long the token (past numpy's steps)."""
    urls = ["http://x.com/" + "ab12" * 300 + "/99.jpg", "http://x.com/" + "ab12" * 300 + "g/9.jpg",
            "http://x.com/99/" + "12ab" * 40 + "-7", "http://x.com/c0ffee12/88-f1a2"]
    assert url_hints_matrix(urls)[:, HINT_NAMES.index("num_max")].tolist() == [99, 12, 99, 88]
