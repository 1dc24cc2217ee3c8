"""What a downloaded body is: its true size, format, a verdict, and thumbnails (Pillow).

Why two looks at the size: the header decoder (`dataio.image_header`, the one the probe and the
training corpus use) reads the size from the first bytes without decoding, so a decompression bomb
(a small file that states 50,000 x 50,000 pixels) is refused before Pillow allocates anything, and
before the rest of its body is even downloaded (`early_verdict`).  Pillow then opens the whole
body, and its own size is checked again against the same cap before any pixel is decoded (Pillow's
`MAX_IMAGE_PIXELS` guard, set by `set_pillow_limit`, is a second net for formats the header decoder
does not read).

Sizes are reported as displayed: EXIF orientation applied (a photo stored rotated by 90 degrees
reports its upright width and height, as browsers show it and as fastimage does).  The BIG/SMALL
rule is symmetric in width and height, so this changes no label; it makes the metadata agree
with the thumbnails.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from dataio.image_header import image_size

DEFAULT_MAX_PIXELS = 100_000_000  # 100 megapixels: larger than any photo a web page shows; 400 MB decoded as RGBA
THUMBNAIL_FORMATS = {"webp": ("WEBP", "webp"), "jpeg": ("JPEG", "jpg")}
# File extensions by the format names of dataio.image_header (what the stored original is called).
EXTENSIONS = {"jpeg": "jpg", "png": "png", "gif": "gif", "webp": "webp", "bmp": "bmp", "tiff": "tif",
              "avif": "avif", "heif": "heic", "ico": "ico", "cur": "cur", "svg": "svg"}
# Pillow's format names -> ours, for formats the header decoder did not name.
_PILLOW_FORMATS = {"JPEG": "jpeg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "BMP": "bmp", "TIFF": "tiff",
                   "ICO": "ico", "CUR": "cur", "AVIF": "avif", "MPO": "jpeg"}


class Refused(Exception):
    """The body is not kept: `status` says why (not-an-image, decompression-bomb, broken-image)."""

    def __init__(self, status: str, detail: str = ""):
        super().__init__(detail or status)
        self.status = status
        self.detail = detail or status


@dataclass
class Inspected:
    """What the body turned out to be.  `thumbnails` maps the longest side to encoded bytes."""

    format: str
    width: int | None
    height: int | None
    thumbnails: dict[int, bytes] = field(default_factory=dict)
    thumbnail_error: str | None = None

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.format, "bin")


def set_pillow_limit(max_pixels: int) -> None:
    """Pillow's own bomb guard at our cap: it warns above MAX_IMAGE_PIXELS and refuses above twice that.

    A process-wide setting of Pillow's; our explicit check in `inspect` is what decides."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = max_pixels


def early_verdict(head: bytes, content_type: str | None, max_pixels: int) -> str | None:
    """From the first bytes of a body (e.g. 64 KiB): a status to stop the download at once, or None.

    Stops a decompression bomb (the header states more than `max_pixels`) and a body that is plainly
    not an image (no known image signature, and a Content-Type that is not image/*: a soft-404 page),
    so neither costs more than its first chunk."""
    fmt, size = image_size(head)
    if size is not None and size[0] * size[1] > max_pixels:
        return "decompression-bomb"
    if fmt is None and not (content_type or "").lower().lstrip().startswith("image/"):
        return "not-an-image"
    return None


def inspect(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, thumbnail_sizes: tuple[int, ...] = (),
            thumbnail_format: str = "webp", quality: int = 85) -> Inspected:
    """Size, format and thumbnails of a whole body; Refused when it is not kept.

    Raster formats Pillow reads are decoded once (the thumbnails need the pixels, and a file that
    does not decode to its end is a broken image, not a photograph).  SVG is kept with the size its
    header states, without thumbnails (Pillow does not render vector images)."""
    fmt, size = image_size(data)
    if size is not None and size[0] * size[1] > max_pixels:
        raise Refused("decompression-bomb", f"header states {size[0]}x{size[1]} pixels, more than {max_pixels}")
    if fmt == "svg":
        return Inspected("svg", *(size or (None, None)), thumbnail_error="svg: no thumbnails of vector images")
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise Refused("decompression-bomb", str(exc)) from None
    except UnidentifiedImageError:
        if fmt is None:
            raise Refused("not-an-image", "no image format recognised") from None
        if size is not None:  # e.g. HEIF without a Pillow plugin: the header gave the size
            return Inspected(fmt, *size, thumbnail_error=f"{fmt}: Pillow cannot decode it")
        raise Refused("broken-image", f"{fmt} header without a readable size") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise Refused("broken-image", f"{type(exc).__name__} while opening") from None
    with im:
        width, height = im.size
        if width * height > max_pixels:
            raise Refused("decompression-bomb", f"{width}x{height} pixels, more than {max_pixels}")
        fmt = fmt or _PILLOW_FORMATS.get(im.format or "", (im.format or "unknown").lower())
        try:
            im.load()
            upright = ImageOps.exif_transpose(im)
        except Image.DecompressionBombError as exc:
            raise Refused("decompression-bomb", str(exc)) from None
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise Refused("broken-image", f"{type(exc).__name__} while decoding") from None
        width, height = upright.size
        out = Inspected(fmt, width, height)
        if thumbnail_sizes:
            try:
                out.thumbnails = make_thumbnails(upright, thumbnail_sizes, thumbnail_format, quality)
            except (OSError, ValueError) as exc:  # an odd mode Pillow cannot encode: the original is still kept
                out.thumbnail_error = f"{type(exc).__name__}: {exc}"[:200]
        return out


def make_thumbnails(im, sizes: tuple[int, ...], thumbnail_format: str = "webp", quality: int = 85) -> dict[int, bytes]:
    """{longest side: encoded bytes} for an upright Pillow image; never enlarged (a 150 px icon stays 150 px).

    Animated images give their first frame.  JPEG has no alpha: transparent pixels are put on white
    (converting RGBA straight to RGB would show them black)."""
    from PIL import Image

    pillow_format, _ext = THUMBNAIL_FORMATS[thumbnail_format]
    base = im
    if base.mode not in ("RGB", "RGBA", "L", "LA"):
        base = base.convert("RGBA" if "transparency" in base.info or base.mode in ("PA", "P") else "RGB")
    if pillow_format == "JPEG" and base.mode in ("RGBA", "LA"):
        flat = Image.new("RGB", base.size, "white")
        flat.paste(base.convert("RGBA"), mask=base.convert("RGBA").getchannel("A"))
        base = flat
    out = {}
    current = base
    for side in sorted(set(sizes), reverse=True):  # each from the previous, larger one: one full-size copy
        current = current.copy()
        current.thumbnail((side, side), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        current.save(buf, pillow_format, quality=quality)
        out[side] = buf.getvalue()
    return dict(sorted(out.items()))
