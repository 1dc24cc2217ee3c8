"""Image records from the real pages and archives in ../shared/data (the training corpus).

The records are made by the extraction job's own path (`features.page.from_record.images_of_record`
over `dataio.warc` records, `Record.is_html` deciding what is a page), so a model trains on the
records the job emits, counted the same way:
  * webarchive/*.warc.gz and cc/*.warc*: every record of the file; the image records of the same
    WARC, sized by `dataio.image_header`, give true sizes (`true_width`, `true_height`, `true_format`);
  * html-more/ (5,409 pages, 13 collections) and html-aeb/ (181 article pages) are bare HTML files,
    not WARCs: each becomes a `resource` record with the URL and charset its collection states
    (`url or canonical_url`; pages without either are skipped and counted).
Every record also gets `collection` (where the page came from): the unit left out in
leave-one-collection-out evaluation.
"""
from __future__ import annotations

import gzip
import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from dataio.image_header import image_size
from dataio.warc import Record, WarcFormatError, crawl_from_name, iter_records as iter_warc_records
from features.page.from_record import images_of_record
from features.page.images import ImageExtractor

# ../shared/data beside the repository, or where CCIMG_SHARED_DATA says
DEFAULT_DATA_DIR = Path(os.environ.get("CCIMG_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
IMAGE_HEAD_BYTES = 512 * 1024


def html_record(url: str, body: bytes, charset: str | None = None) -> Record:
    """A bare HTML file as the `resource` record a WARC would hold for it (status 200, text/html)."""
    ctype = f"text/html; charset={charset}" if charset else "text/html"
    return Record(type="resource", url=url, date=None, record_id=None, offset=0, http_status=200,
                  http_content_type=ctype, identified_type=None, _payload=body)


class CorpusReader:
    """Reads the shared corpus into image records, keeping the job's counts in `counts`."""

    def __init__(self, data_dir: Path = DEFAULT_DATA_DIR, parser: str = "lexbor"):
        self.data_dir = Path(data_dir)
        self.extractor = ImageExtractor(parser)
        self.counts: Counter = Counter()

    def _images(self, record: Record, filename: str, collection: str) -> list[dict]:
        self.counts["records", "read"] += 1
        try:
            found = images_of_record(record, self.extractor, filename, crawl_from_name(filename))
        except WarcFormatError as exc:
            self.counts["errors", f"warc_{exc.kind}"] += 1
            return []
        except Exception as exc:  # noqa: BLE001 - as in the job: one bad page never stops the corpus
            self.counts["errors", f"process_record_{type(exc).__name__}"] += 1
            return []
        self.counts.update(found.counts)
        for img in found.images:
            img["collection"] = collection
        return found.images

    def html_more(self, limit: int | None = None) -> Iterator[dict]:
        root = self.data_dir / "html-more"
        with open(root / "pages.jsonl", encoding="utf-8") as f:
            for n, line in enumerate(f):
                if limit is not None and n >= limit:
                    break
                meta = json.loads(line)
                url = meta.get("url") or meta.get("canonical_url")
                if not url:
                    self.counts["pages", "without a URL (skipped)"] += 1
                    continue
                body = gzip.decompress((root / meta["file"]).read_bytes())
                record = html_record(url, body, meta.get("charset"))
                yield from self._images(record, f"html-more/{meta['file']}", f"html-more/{meta['source']}")

    def html_aeb(self, limit: int | None = None) -> Iterator[dict]:
        root = self.data_dir / "html-aeb"
        truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
        for n, key in enumerate(sorted(truth)):
            if limit is not None and n >= limit:
                break
            url = truth[key].get("url")
            path = root / "html" / f"{key}.html.gz"
            if not url or not path.exists():
                self.counts["pages", "without a URL (skipped)"] += 1
                continue
            record = html_record(url, gzip.decompress(path.read_bytes()))
            yield from self._images(record, f"html-aeb/{path.name}", "html-aeb")

    def warc(self, path: Path) -> list[dict]:
        """Image records of a WARC's pages, with true sizes where the image is in the same WARC."""
        path = Path(path)
        images, sizes = [], {}
        with open(path, "rb") as f:
            try:
                for record in iter_warc_records(f):
                    if record.type == "response" and record.http_status in (None, 200) and not record.is_html():
                        self.counts["records", "read"] += 1
                        fmt, size = image_size(record.payload(IMAGE_HEAD_BYTES))
                        if size is not None and record.url:
                            sizes[record.url] = (*size, fmt)
                        continue
                    images.extend(self._images(record, path.name, f"warc/{path.name}"))
            except WarcFormatError as exc:  # a clipped WARC: keep the records before the damage
                self.counts["errors", f"warc_{exc.kind}"] += 1
        for rec in images:
            size = sizes.get(rec["img_url"])
            if size is not None:
                rec["true_width"], rec["true_height"], rec["true_format"] = size
        return images

    def warc_paths(self) -> list[Path]:
        paths = sorted((self.data_dir / "webarchive").glob("*.warc.gz"))
        paths += sorted(p for p in (self.data_dir / "cc").glob("*.warc*")
                        if not p.name.endswith((".wat", ".wet", ".wat.gz", ".wet.gz")))
        return paths

    def records(self, limit_pages: int | None = None,
                include: tuple[str, ...] = ("html-more", "html-aeb", "warc")) -> Iterator[dict]:
        """Every image record of the shared corpus (limit_pages caps the pages read per collection)."""
        if "html-more" in include:
            yield from self.html_more(limit_pages)
        if "html-aeb" in include:
            yield from self.html_aeb(limit_pages)
        if "warc" in include:
            for path in self.warc_paths():
                yield from self.warc(path)


def iter_records(data_dir: Path = DEFAULT_DATA_DIR, limit_pages: int | None = None,
                 include: tuple[str, ...] = ("html-more", "html-aeb", "warc")) -> Iterator[dict]:
    """Every image record of the shared corpus (see CorpusReader.records)."""
    yield from CorpusReader(data_dir).records(limit_pages, include)


if __name__ == "__main__":
    # python -m models.corpus -o out/shared_records.jsonl.gz: the shared corpus as the extraction job's
    # JSONL records, e.g. for `python -m jobs.corpus_stats` (README "Corpus statistics").
    import argparse

    from dataio.tables import write_jsonl

    ap = argparse.ArgumentParser(prog="python -m models.corpus", description="write the shared corpus as records")
    ap.add_argument("-o", "--output", required=True, help="JSONL file (.gz allowed)")
    ap.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    a = ap.parse_args()
    reader = CorpusReader(Path(a.data_dir))
    write_jsonl(reader.records(), a.output)
    print(f"wrote {a.output}: {dict(reader.counts)}")
