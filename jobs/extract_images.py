"""Extract image occurrences from the HTML pages of WARC records (Common Crawl or any web archive).

INPUT: text files of lines, each line one of
  FILENAME<TAB>OFFSET<TAB>LENGTH[<TAB>URL]   one WARC record, fetched by a ranged GET (`ccimg select` writes
                                             these; FILENAME is resolved against --source-base)
  PATH or URL of a whole WARC file            .warc(.gz), .arc(.gz): a local path, https://, s3://, or a path
                                             relative to --source-base (a crawl's warc.paths lists these)
Blank lines and lines starting with # are skipped.  A WARC file can also be named directly as an INPUT.
With no INPUT the job reads lines from stdin ('-'), which must then be a pipe, not a terminal.

examples:
  python -m jobs.extract_images -r local sel.tsv -o images/            # a folder of part-* files
  python -m jobs.extract_images -r inline ccimg-demo/sample.warc.gz > images.jsonl
  python -m jobs.extract_images -r local --source-base /data/warcs/ sel.tsv -o images/   # a local pywb
  python -m jobs.extract_images -r emr -c mrjob.conf --source-base s3://commoncrawl/ sel.tsv -o s3://b/images/

OUTPUT: one JSON image record per line (fields in features/page/record_fields.py: page_url, img_url, src,
element, alt, width_attr, height_attr, parent_text, dom_depth, ...), or with --aggregate one line per
distinct image URL.  Every `ccimg` command reads the -o folder as it is; `ccimg convert images/ -o
images.parquet` makes one Parquet file of it.
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
