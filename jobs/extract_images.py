"""Extract image occurrences from the HTML pages of WARC records.

    python -m jobs.extract_images -r inline|local|emr|spark [options] INPUT...

INPUT files hold lines naming record pointers or whole WARC files (see jobs/input_lines.py);
a WARC file can also be named directly.  Output: one JSON image record per line (fields in
features/image_record.py), or with --aggregate one JSON line per distinct image URL.
"""
from __future__ import annotations

from mrjob.step import MRStep

from features.page.backends import BACKENDS
from features.page.from_record import images_of_record
from features.page.images import ImageExtractor
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
        found = images_of_record(record, self.extractor, source.warc_filename, source.crawl,
                                 self.options.max_payload)
        for (group, name), n in found.counts.items():
            self.count(group, name, n)
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
