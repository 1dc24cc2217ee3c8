"""Extract image occurrences from the HTML pages of WARC records.

    python -m jobs.extract_images -r inline|local|emr|spark [options] INPUT...

INPUT files hold lines naming record pointers or whole WARC files (see dataio/lines.py);
a WARC file can also be named directly.  Output: one JSON image record per line (fields in
features/image_record.py), or with --aggregate one JSON line per distinct image URL.
"""
from __future__ import annotations

from mrjob.step import MRStep

from features.page.backends import BACKENDS
from features.page.from_record import images_of_record
from features.page.images import ImageExtractor
from features.page.limits import PageLimits
from jobs.aggregate_images import ImageAggregation, partial_from_record
from jobs.base import CCJob, Record, RecordSkipped, RecordSource
from jobs.failed_lines import FAILED_KEY


class ExtractImagesJob(ImageAggregation, CCJob):
    def configure_args(self):
        super().configure_args()
        self.add_passthru_arg("--html-parser", default="lexbor", choices=sorted(BACKENDS),
                              help="lexbor (fast, default) or bs4 (BeautifulSoup on html5lib, the reference)")
        self.add_passthru_arg("--aggregate", action="store_true",
                              help="output one line per image URL (pages, alts, declared sizes) instead of "
                                   "one line per occurrence")
        defaults = PageLimits()
        self.add_passthru_arg("--max-page-elements", type=int, default=defaults.max_tags,
                              help="pages with more '<' than this are skipped unparsed (default %(default)s)")
        self.add_passthru_arg("--max-images-per-page", type=int, default=defaults.max_images,
                              help="image records emitted per page at most; the rest are counted (default "
                                   "%(default)s)")

    def mapper_init(self):
        super().mapper_init()
        limits = PageLimits(max_tags=self.options.max_page_elements, max_images=self.options.max_images_per_page)
        self.extractor = ImageExtractor(self.options.html_parser, limits=limits)

    def failed_line_pair(self, record: dict) -> tuple:
        return (FAILED_KEY, record) if self.options.aggregate else (None, record)

    def process_record(self, record: Record, source: RecordSource):
        found = images_of_record(record, self.extractor, source.warc_filename, source.crawl,
                                 self.options.max_payload, self.record_deadline)
        for (group, name), n in found.counts.items():
            self.count(group, name, n)
        if found.skipped is not None:
            raise RecordSkipped(f"page {found.skipped}", found.skipped_why)
        for img in found.images:
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
