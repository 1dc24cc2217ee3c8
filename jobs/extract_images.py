"""Extract image occurrences from the HTML pages of WARC records.

    python -m jobs.extract_images -r inline|local|emr|spark [options] INPUT...

INPUT files hold lines naming record pointers or whole WARC files (see jobs/input_lines.py);
a WARC file can also be named directly.  Output: one JSON image record per line (fields in
features/image_record.py), or with --aggregate one JSON line per distinct image URL.
"""
from __future__ import annotations

from mrjob.step import MRStep

from features.html_backends import BACKENDS
from features.page_images import ImageExtractor
from jobs.aggregate_images import ImageAggregation, partial_from_record
from jobs.base import CCJob, Record, RecordSource


class ExtractImagesJob(ImageAggregation, CCJob):
    def configure_args(self):
        super().configure_args()
        self.add_passthru_arg("--html-parser", default="lexbor", choices=sorted(BACKENDS),
                              help="lexbor (fast, default) or bs4 (BeautifulSoup on html5lib, the reference)")
        self.add_passthru_arg("--aggregate", action="store_true",
                              help="output one line per image URL (pages, alts, declared sizes) instead of "
                                   "one line per occurrence")

    def mapper_init(self):
        super().mapper_init()
        self.extractor = ImageExtractor(self.options.html_parser)

    def process_record(self, record: Record, source: RecordSource):
        if record.type not in ("response", "resource"):
            return
        if not record.is_html():
            self.count("records", "not html")
            return
        payload = record.payload(self.options.max_payload)
        page = self.extractor.extract_payload(payload, record.http_content_type, record.url or "")
        self.count("pages", "html")
        if record.date is None:
            self.count("records", "without a valid WARC-Date")
        self.count("pages", "html bytes", len(payload))
        if not page.images:
            self.count("pages", "without images")
        self.count("images", "emitted", len(page.images))
        for reason, n in page.skipped.items():
            self.count("skipped", reason, n)
        for img in page.images:
            img["warc_filename"] = source.warc_filename
            img["warc_offset"] = record.offset
            img["warc_record_id"] = record.record_id
            img["crawl"] = source.crawl
            img["fetch_time"] = record.date
            if self.options.aggregate:
                yield img["img_url"], partial_from_record(img)
            else:
                yield None, img

    def steps(self):
        if self.options.aggregate:
            return [MRStep(mapper_init=self.mapper_init, mapper=self.mapper,
                           combiner=self.combiner_aggregate, reducer=self.reducer_aggregate)]
        return [MRStep(mapper_init=self.mapper_init, mapper=self.mapper)]


if __name__ == "__main__":
    ExtractImagesJob.run()
