"""ccimg.fetch.image on real image files (../shared/data/images) and on crafted decompression bombs."""
from __future__ import annotations

import io
import json
import struct
import time
import zlib

import pytest

from ccimg.fetch.image import Refused, early_verdict, inspect
from tests.conftest import shared_path

# fastimage reads these from the header alone; their bodies are cut short (test2.bmp: 1024 bytes of a 1920x1080
# bitmap), or hold no raster size (SVG with a viewBox only): a fetcher must not call them good images.
TRUNCATED = {"test2.bmp"}


def _png(width: int, height: int, idat: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_sizes_of_real_images_match_fastimage_upright():
    images = shared_path("images")
    expected = json.loads((images / "expected_from_fastimage_test_rb.json").read_text())["good"]
    checked = 0
    for name, want in expected.items():
        data = (images / name).read_bytes()
        if name in TRUNCATED:
            with pytest.raises(Refused) as info:
                inspect(data)
            assert info.value.status == "broken-image"
            continue
        got = inspect(data, thumbnail_sizes=(64,))
        assert got.format == want["type"], name
        if got.format == "svg":
            assert got.thumbnails == {} and got.thumbnail_error
            if got.width is None:
                continue  # sized by a viewBox or percentages: no raster size to report
        assert (got.width, got.height) == (want["width"], want["height"]), name  # EXIF orientation applied
        if got.format != "svg":
            from PIL import Image

            thumb = Image.open(io.BytesIO(got.thumbnails[64]))
            assert max(thumb.size) == min(64, max(want["width"], want["height"])), name
            # the thumbnail is upright too: same orientation as the reported size
            assert (thumb.size[0] >= thumb.size[1]) == (want["width"] >= want["height"]), name
        checked += 1
    assert checked >= 25


def test_thumbnails_sizes_and_formats():
    data = shared_path("images", "orient_6.jpg").read_bytes()  # stored 2500x1250, displayed 1250x2500
    from PIL import Image

    got = inspect(data, thumbnail_sizes=(640, 200), thumbnail_format="jpeg")
    assert sorted(got.thumbnails) == [200, 640]
    sizes = {side: Image.open(io.BytesIO(b)).size for side, b in got.thumbnails.items()}
    assert sizes == {200: (100, 200), 640: (320, 640)}
    assert all(Image.open(io.BytesIO(b)).format == "JPEG" for b in got.thumbnails.values())
    png = inspect(shared_path("images", "animated.png").read_bytes(), thumbnail_sizes=(50,), thumbnail_format="webp")
    assert Image.open(io.BytesIO(png.thumbnails[50])).format == "WEBP"


def test_decompression_bomb_refused_before_decoding():
    # 30,000 x 30,000 grey pixels (900 MB decoded) in under 1 MB of zlib: a real bomb, refused by its header.
    rows = zlib.compress(b"\0" * (30_001 * 2000), 9)  # enough IDAT to look real; never inflated by us
    bomb = _png(30_000, 30_000, rows)
    assert len(bomb) < 1_000_000
    started = time.monotonic()
    with pytest.raises(Refused) as info:
        inspect(bomb, max_pixels=100_000_000)
    assert info.value.status == "decompression-bomb"
    assert time.monotonic() - started < 5  # nothing was decoded
    assert early_verdict(bomb[:65536], "image/png", 100_000_000) == "decompression-bomb"
    # the same cap applies to a real photograph when set low
    with pytest.raises(Refused) as info:
        inspect(shared_path("images", "test.jpg").read_bytes(), max_pixels=882 * 470 - 1)
    assert info.value.status == "decompression-bomb"


def test_not_an_image_and_early_verdicts():
    html = b"<!doctype html><html><body>Not found</body></html>"
    with pytest.raises(Refused) as info:
        inspect(html)
    assert info.value.status == "not-an-image"
    assert early_verdict(html, "text/html; charset=utf-8", 10**8) == "not-an-image"
    assert early_verdict(html, "image/jpeg", 10**8) is None  # a server may lie; Pillow has the last word
    head = shared_path("images", "test.jpg").read_bytes()[:65536]
    assert early_verdict(head, None, 10**8) is None
    with pytest.raises(Refused) as info:
        inspect(shared_path("images", "faulty.jpg").read_bytes())
    assert info.value.status == "broken-image"
