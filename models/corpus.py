"""Image records from the real pages and archives in ../shared/data (the training corpus).

The extraction job writes the same records from Common Crawl; here we run its page-level step
(`features.page_images.ImageExtractor`) directly over:
  * html-more/ (5,409 pages, 13 collections; `url or canonical_url`, pages without either skipped);
  * html-aeb/ (181 article pages, URL from ground-truth.json);
  * webarchive/*.warc.gz and cc/*.warc*: HTML responses, and the image records of the same WARC,
    decoded with `imagesize`, which give true sizes (`true_width`, `true_height`, `true_format`).
Every record also gets `collection` (where the page came from).
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Iterator

from features.charset import decode_html
from features.page_images import ImageExtractor, PageImages
from jobs.image_sizes import pixel_size

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"


def iter_html_more(data_dir: Path, limit: int | None = None) -> Iterator[tuple[str, str, str]]:
    """(collection, page URL, HTML text) of each html-more page that has a URL."""
    root = Path(data_dir) / "html-more"
    with open(root / "pages.jsonl", encoding="utf-8") as f:
        for n, line in enumerate(f):
            if limit is not None and n >= limit:
                break
            meta = json.loads(line)
            url = meta.get("url") or meta.get("canonical_url")
            if not url:
                continue
            body = gzip.decompress((root / meta["file"]).read_bytes())
            try:
                text = body.decode(meta.get("charset") or "utf-8", errors="replace")
            except LookupError:
                text, _ = decode_html(body)
            yield f"html-more/{meta['source']}", url, text


def iter_html_aeb(data_dir: Path, limit: int | None = None) -> Iterator[tuple[str, str, str]]:
    root = Path(data_dir) / "html-aeb"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    for n, key in enumerate(sorted(truth)):
        if limit is not None and n >= limit:
            break
        url = truth[key].get("url")
        path = root / "html" / f"{key}.html.gz"
        if not url or not path.exists():
            continue
        text, _ = decode_html(gzip.decompress(path.read_bytes()))
        yield "html-aeb", url, text


def _content_type(record) -> str:
    return (record.http_headers.get_header("Content-Type") or "").lower() if record.http_headers else ""


def read_warc(path: Path) -> tuple[list[tuple[str, bytes, str]], dict[str, tuple[int, int, str]]]:
    """(HTML pages as (url, body, content type), true sizes of the images in the same WARC by URL)."""
    from warcio.archiveiterator import ArchiveIterator

    pages, sizes = [], {}
    with open(path, "rb") as f:
        try:
            for record in ArchiveIterator(f):
                if record.rec_type != "response":
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI")
                ctype = _content_type(record)
                body = record.content_stream().read()
                if "html" in ctype:
                    pages.append((url, body, ctype))
                elif body:
                    size = image_size(body)
                    if size is not None:
                        sizes[url] = size
        except Exception:  # a clipped WARC: keep what was read
            pass
    return pages, sizes


def image_size(body: bytes) -> tuple[int, int, str] | None:
    """(width, height, format) decoded from the image's header bytes, None if not a raster image."""
    size = pixel_size(body)
    if size is None:
        return None
    w, h = size
    fmt = body[:4]
    kind = ("JPEG" if fmt[:2] == b"\xff\xd8" else "PNG" if fmt == b"\x89PNG" else "GIF" if fmt[:3] == b"GIF"
            else "other")
    return w, h, kind


class RobustExtractor:
    """lexbor first; the BeautifulSoup backend for the rare page where the lexbor walk fails.

    Why: on a few real pages selectolax hands back a child node whose tag is None and
    `features.html_backends` raises; the reference backend reads those pages fine.  A page that
    fails in the shared rules (e.g. `urlsplit` raising on `<a href="http://[bad]">`) is skipped
    and counted, so one odd page cannot stop a corpus build.
    """

    def __init__(self):
        self.fast = ImageExtractor("lexbor")
        self.slow = None
        self.fallbacks = 0
        self.failed = 0

    def extract(self, html: str, page_url: str) -> PageImages:
        try:
            return self.fast.extract(html, page_url)
        except AttributeError:
            self.fallbacks += 1
        except ValueError:
            pass
        try:
            self.slow = self.slow or ImageExtractor("bs4")
            return self.slow.extract(html, page_url)
        except Exception:
            self.failed += 1
            return PageImages()


def warc_records(path: Path, extractor: ImageExtractor | None = None) -> list[dict]:
    """Image records of a WARC's HTML pages, with true sizes where the image is in the same WARC."""
    extractor = extractor or RobustExtractor()
    pages, sizes = read_warc(Path(path))
    out = []
    for url, body, ctype in pages:
        text, _ = decode_html(body, ctype)
        for rec in extractor.extract(text, url).images:
            rec["collection"] = f"warc/{Path(path).name}"
            size = sizes.get(rec["img_url"])
            if size is not None:
                rec["true_width"], rec["true_height"], rec["true_format"] = size
            out.append(rec)
    return out


def warc_paths(data_dir: Path) -> list[Path]:
    data_dir = Path(data_dir)
    paths = sorted((data_dir / "webarchive").glob("*.warc.gz"))
    paths += sorted(p for p in (data_dir / "cc").glob("*.warc*") if not p.name.endswith((".wat", ".wet", ".wat.gz",
                                                                                          ".wet.gz")))
    return paths


def iter_records(data_dir: Path = DEFAULT_DATA_DIR, limit_pages: int | None = None,
                 include: tuple[str, ...] = ("html-more", "html-aeb", "warc")) -> Iterator[dict]:
    """Every image record of the shared corpus (limit_pages caps the pages read per collection)."""
    extractor = RobustExtractor()
    pages: list[Iterator] = []
    if "html-more" in include:
        pages.append(iter_html_more(data_dir, limit_pages))
    if "html-aeb" in include:
        pages.append(iter_html_aeb(data_dir, limit_pages))
    for it in pages:
        for collection, url, text in it:
            for rec in extractor.extract(text, url).images:
                rec["collection"] = collection
                yield rec
    if "warc" in include:
        for path in warc_paths(data_dir):
            yield from warc_records(path, extractor)


def write_records(records, path: str | Path) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.suffix == ".gz" else open
    n = 0
    with opener(path, "wt", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    return n


def read_records(path: str | Path, limit: int | None = None) -> list[dict]:
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    out = []
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                out.append(json.loads(line))
                if limit is not None and len(out) >= limit:
                    break
    return out
