"""True image sizes from the image records of WARC files: a label source that needs no download.

    python -m jobs.image_sizes -r local|emr|spark [options] INPUT... > sizes.jsonl

Common Crawl stores some images beside the pages that show them (and web archives store
most).  This job reads every image response (by HTTP Content-Type `image/*`, or by sniffing
where the type is missing or generic), decodes the pixel size from the header bytes, and
writes one JSON line per record: `img_url`, `true_width`, `true_height`, `format`, and where
the record came from.  `ccimg train --labels sizes.jsonl` reads it (models/labels.read_truth).
It is the second small job on `CCJob`, beside `jobs.extract_images`.
"""
from __future__ import annotations

from dataio.image_header import image_size
from jobs.base import CCJob, Record, RecordSource

HEADER_BYTES = 512 * 1024  # enough for any header imagesize reads, JPEG SOF markers after big EXIF included


class ImageSizesJob(CCJob):
    def process_record(self, record: Record, source: RecordSource):
        if record.type not in ("response", "resource") or (record.http_status not in (None, 200)):
            return
        mime = record.mime
        if mime and not mime.startswith("image/") and mime not in ("application/octet-stream", "binary/octet-stream"):
            return
        head = record.payload(HEADER_BYTES)
        fmt, size = image_size(head)
        if fmt is None and not mime.startswith("image/"):
            return  # an octet-stream that is not an image
        self.count("images", "records")
        if size is None:
            self.count("images", f"undecodable {fmt or mime or 'unknown'}")
            return
        self.count("images", "sized")
        self.count("formats", fmt or mime)
        yield None, {
            "img_url": record.url,
            "true_width": size[0],
            "true_height": size[1],
            "format": fmt or mime,
            "content_type": record.http_content_type,
            "bytes": len(head),
            "warc_filename": source.warc_filename,
            "warc_offset": record.offset,
            "crawl": source.crawl,
            "fetch_time": record.date,
        }


if __name__ == "__main__":
    ImageSizesJob.run()
