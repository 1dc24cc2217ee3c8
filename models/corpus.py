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

With `stated=True`, the sizes pages state about image files besides `<img>` attributes
(`features.page.stated_sizes`: srcset `w` candidates, og:image, JSON-LD ImageObject, icon sizes)
become labels too (`stated_width`, `stated_height`, `stated_by`): on the occurrence of that URL
where the page has one, else on a new record: a copy of the element's record with the candidate's
URL for a srcset candidate (its srcset, sizes and declared size hidden: they state the label), a
record with the URL alone for the others (element `meta` or `link`); new records carry
`origin: "stated"`.
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
from features.page.stated_sizes import stated_sizes
from features.urls import host_of
from models.labels import hide_declared_size

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

    def __init__(self, data_dir: Path = DEFAULT_DATA_DIR, parser: str = "lexbor", stated: bool = True):
        self.data_dir = Path(data_dir)
        self.extractor = ImageExtractor(parser)
        self.stated = stated
        self.counts: Counter = Counter()

    def _images(self, record: Record, filename: str, collection: str) -> list[dict]:
        self.counts["records", "read"] += 1
        try:
            found = images_of_record(record, self.extractor, filename, crawl_from_name(filename))
        except WarcFormatError as exc:
            self.counts["errors", f"warc_{exc.kind}"] += 1
            return []
        except Exception as exc:  # noqa: BLE001 - as in the job: one bad page never stops the corpus
            self.counts["record errors", type(exc).__name__] += 1
            return []
        self.counts.update(found.counts)
        images = found.images
        if self.stated and found.counts.get(("pages", "html")):
            images = images + self._stated_records(record, images)
        for img in images:
            img["collection"] = collection
        return images

    def _stated_records(self, record: Record, images: list[dict]) -> list[dict]:
        """Attach the page's stated sizes to its occurrences, and return the new records (see the module doc)."""
        try:
            statements = stated_sizes(record.payload(), record.url or "")
        except Exception:  # noqa: BLE001 - a label source must never cost the page's records
            self.counts["errors", "stated_sizes"] += 1
            return []
        by_url: dict[str, list[dict]] = {}
        for img in images:
            by_url.setdefault(img["img_url"], []).append(img)
        new: dict[str, dict] = {}
        for st in statements:
            self.counts["stated", st.source + (" (width only)" if st.height is None else "")] += 1
            if st.height is None:
                continue  # a width alone decides no class of the paper's
            label = {"stated_width": st.width, "stated_height": st.height, "stated_by": st.source}
            if st.url in by_url:
                for img in by_url[st.url]:
                    if "stated_by" not in img:
                        img.update(label)
                continue
            if st.url in new:
                continue
            rec = self._record_for(st, images, record.url or "")
            rec.update(label)
            rec["origin"] = "stated"  # not an occurrence on the page: a label source
            new[st.url] = rec
        return list(new.values())

    @staticmethod
    def _record_for(st, images: list[dict], page_url: str) -> dict:
        if st.source == "srcset":
            element = next((img for img in images if img.get("srcset") and st.url.rsplit("/", 1)[-1] in img["srcset"]),
                           None)
            if element is not None:
                rec = hide_declared_size(element)
                rec.update({"img_url": st.url, "src": st.url, "srcset": None, "sizes": None, "src_attr": "srcset"})
                rec["img_host"] = host_of(st.url)
                rec["same_domain"] = rec["img_host"] == rec.get("page_host")
                return rec
        page_host = host_of(page_url)
        return {"page_url": page_url, "img_url": st.url, "element": "link" if st.source == "icon" else "meta",
                "page_host": page_host, "img_host": host_of(st.url), "same_domain": host_of(st.url) == page_host}

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
    reader = CorpusReader(Path(a.data_dir), stated=False)  # the records the extraction job emits, nothing added
    write_jsonl(reader.records(), a.output)
    print(f"wrote {a.output}: {dict(reader.counts)}")
