"""The format and pixel size of an image from its first bytes: the one image-header decoder.

Used wherever a true size is read without decoding the image: the image records of a WARC
(`jobs.image_sizes`, the training corpus) and the header-only probe (`ccimg probe`), so that the
same file gets the same size everywhere.

`imagesize` reads most formats (JPEG SOF markers, WebP, TIFF, AVIF/HEIF boxes, SVG width/height).
Read here instead, where it is wrong or silent:
  * GIF and PNG: plain unsigned fields (imagesize reads a GIF's width as a signed 16-bit number,
    so a GIF wider than 32767 px came back as undecodable);
  * ICO/CUR: the largest entry of the directory (imagesize does not read these);
  * BMP: the DIB header, including the old OS/2 BITMAPCOREHEADER (16-bit sizes) that imagesize
    misreads; a negative height means a top-down bitmap.
EXIF orientation: imagesize applies it where it finds the tag in the bytes it parses, not in every
file; the BIG/SMALL rule is symmetric in width and height, so a transposed size keeps its label.
"""
from __future__ import annotations

import io
import struct

import imagesize


def sniff_format(data: bytes) -> str | None:
    """The image format named by the magic bytes at the start of `data`, or None.

    Why our own: imagesize reports sizes but not the format, and a clear "not an image" (an
    HTML error page served with status 200, a soft 404) is worth telling apart from a header
    that was cut short.
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:2] == b"BM":
        return "bmp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data[4:8] == b"ftyp":
        brands = data[8:40]
        return "avif" if (b"avif" in brands or b"avis" in brands) else "heif"
    if data[:4] == b"\x00\x00\x01\x00":
        return "ico"
    if data[:4] == b"\x00\x00\x02\x00":
        return "cur"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype svg")) and b"<svg" in data[:65536].lower():
        return "svg"
    return None


def _png_size(data: bytes) -> tuple[int, int] | None:
    """PNG: width and height are the first fields of the IHDR chunk, unsigned 32-bit big-endian."""
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    return struct.unpack_from(">II", data, 16)


def _gif_size(data: bytes) -> tuple[int, int] | None:
    """GIF: the logical screen size, unsigned 16-bit little-endian."""
    if len(data) < 10:
        return None
    return struct.unpack_from("<HH", data, 6)


def _ico_size(data: bytes) -> tuple[int, int] | None:
    """ICO/CUR: the largest entry of the directory.  Each entry holds width and height in one
    byte each, 0 meaning 256."""
    if len(data) < 6:
        return None
    count = struct.unpack_from("<H", data, 4)[0]
    best = None
    for i in range(count):
        off = 6 + 16 * i
        if off + 2 > len(data):
            break
        w, h = data[off] or 256, data[off + 1] or 256
        if best is None or w * h > best[0] * best[1]:
            best = (w, h)
    return best


def _bmp_size(data: bytes) -> tuple[int, int] | None:
    """BMP: the DIB header; 12 bytes (OS/2 BITMAPCOREHEADER) holds 16-bit sizes."""
    if len(data) < 26:
        return None
    header = struct.unpack_from("<I", data, 14)[0]
    if header == 12:
        return struct.unpack_from("<HH", data, 18)
    w, h = struct.unpack_from("<ii", data, 18)
    return abs(w), abs(h)


_OWN_READERS = {"png": _png_size, "gif": _gif_size, "ico": _ico_size, "cur": _ico_size, "bmp": _bmp_size}


def image_size(data: bytes) -> tuple[str | None, tuple[int, int] | None]:
    """(format, (width, height)) from the first bytes of a file; (None, None) when the bytes are no
    image this module knows, (format, None) when the header does not state a size (cut short, an
    SVG sized by its viewBox alone, a broken file)."""
    fmt = sniff_format(data)
    if fmt is None:
        return None, None
    reader = _OWN_READERS.get(fmt)
    if reader is not None:
        size = reader(data)
    else:
        try:
            w, h = imagesize.get(io.BytesIO(data))
        except Exception:  # noqa: BLE001 - a broken header is an undecodable image, not a failure of ours
            return fmt, None
        size = (round(w), round(h))  # SVG sizes can be fractional
    if size is None or size[0] <= 0 or size[1] <= 0:
        return fmt, None
    return fmt, (int(size[0]), int(size[1]))


def pixel_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from an image's first bytes, or None where they do not say."""
    return image_size(data)[1]
