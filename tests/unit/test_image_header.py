"""dataio.image_header: one decoder for every image size the project reads, checked on real files."""
from __future__ import annotations

import json
import struct

import pytest

from dataio.image_header import image_size, pixel_size, sniff_format
from tests.conftest import shared_path

# SVGs sized only by a viewBox or percentages: no size from the header (fastimage derives one from the viewBox).
SVG_WITHOUT_SIZE = {"test_partial_viewport.svg", "test3.svg", "test4.svg", "test5.svg", "test7.svg", "test6.svg"}
# Stored rotated (EXIF orientation 6) where imagesize does not find the tag: the size as stored.
ROTATED_AS_STORED = {"orient_6.jpg"}


def test_real_fixtures_have_fastimages_sizes_and_formats():
    images = shared_path("images")
    expected = json.loads((images / "expected_from_fastimage_test_rb.json").read_text())
    checked = 0
    for name, want in expected["good"].items():
        fmt, size = image_size((images / name).read_bytes())
        assert fmt == want["type"], name
        if name in SVG_WITHOUT_SIZE:
            assert size is None, name
            continue
        if name in ROTATED_AS_STORED:
            size = size[::-1]
        assert size == (want["width"], want["height"]), name
        checked += 1
    assert checked >= 25
    for name in expected["bad"]:  # broken files: no crash, at most a format
        path = images / name
        if path.exists():
            image_size(path.read_bytes())


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00" + b"\x3b"


@pytest.mark.parametrize("data,want", [
    (gif(40000, 20), ("gif", (40000, 20))),  # wider than 32767: imagesize read it as a signed number
    (gif(0, 20), ("gif", None)),
    (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + struct.pack(">II", 70000, 3), ("png", (70000, 3))),
    (b"\x89PNG\r\n\x1a\n", ("png", None)),  # cut short
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", ("webp", None)),
    (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg' width='30' height='20'/>", ("svg", (30, 20))),
    (b"<html><body>", (None, None)),
    (b"", (None, None)),
])
def test_crafted_headers(data, want):
    assert image_size(data) == want
    assert sniff_format(data) == want[0]
    assert pixel_size(data) == want[1]
