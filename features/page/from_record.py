"""Where a WARC record becomes image occurrences: the one path from a record to image records.

The extraction job (`jobs.extract_images`) and the training corpus (`models.corpus`) both call
`images_of_record`, so the records a model trains on are the records the job emits, counted the
same way.  Counts come back as (group, name) -> n, which the job turns into its counters.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from dataio.warc import MAX_PAYLOAD, Record
from features.page.images import ImageExtractor
from features.page.limits import PageSkipped


@dataclass
class RecordImages:
    """The image records of one WARC record, and what happened to it, as (group, name) -> n.

    `skipped` is set (to the reason, a counter name) when the page was not extracted because it is
    over one of the page caps (features.page.limits); `skipped_why` then says what was over it."""

    images: list[dict] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    skipped: str | None = None
    skipped_why: str = ""


def images_of_record(record: Record, extractor: ImageExtractor, warc_filename: str, crawl: str | None,
                     max_payload: int = MAX_PAYLOAD, deadline: float | None = None) -> RecordImages:
    """The image occurrences of an HTML page record (none for any other record), with where they came from.

    A page is a response or resource record with HTTP status 200 (or none) that `Record.is_html`
    accepts.  A page over a cap is counted (``pages/skipped: <reason>``) and comes back with `skipped`
    set.  May raise `dataio.warc.WarcFormatError` (the record is cut off) or whatever the page's
    markup makes the extractor raise: the caller decides whether that fails a line or a record.
    `deadline` (time.monotonic()) bounds the page's time.
    """
    out = RecordImages()
    counts = out.counts
    if record.type not in ("response", "resource"):
        return out
    if not record.is_html():
        counts["records", "not html"] += 1
        return out
    payload = record.payload(max_payload)
    if len(payload) >= max_payload:
        counts["pages", "payload cut at --max-payload"] += 1
    try:
        page = extractor.extract_payload(payload, record.http_content_type, record.url or "", deadline)
    except PageSkipped as exc:
        counts["pages", f"skipped: {exc.reason}"] += 1
        out.skipped, out.skipped_why = exc.reason, exc.message
        return out
    counts["pages", "html"] += 1
    if record.date is None:
        counts["records", "without a valid WARC-Date"] += 1
    counts["pages", "html bytes"] += len(payload)
    if not page.images:
        counts["pages", "without images"] += 1
    counts["images", "emitted"] += len(page.images)
    for reason, n in page.skipped.items():
        counts["skipped", reason] += n
    for what, n in page.capped.items():
        counts["capped", what] += n
    for img in page.images:
        img["warc_filename"] = warc_filename
        img["warc_offset"] = record.offset
        img["warc_record_id"] = record.record_id
        img["crawl"] = crawl
        img["fetch_time"] = record.date
    out.images = page.images
    return out
