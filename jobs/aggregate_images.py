"""Aggregate image occurrences by `img_url`: how many pages use an image, its alts, its declared sizes.

The merge functions are shared by `ExtractImagesJob --aggregate` (one run from WARC to
aggregates) and by `AggregateImagesJob`, which reads the JSONL records of an earlier
extraction run.  Lists are capped so that a logo used on a million pages stays small: a
capped list keeps its MAX_LIST smallest values, and `example_page` is the smallest page URL,
so the output does not depend on the order in which an engine merges partials.  Page and
site counts stay exact (sets of 64-bit hashes per image).

Linear in the number of partials: they are merged into sets and counters and sorted once at the
end (merging two sorted lists per partial made an image on n pages cost n^2: a logo on 100,000 pages
took minutes in one reducer).  Failed-line records (jobs.failed_lines) travel under FAILED_KEY and
are passed through unchanged.
"""
from __future__ import annotations

import hashlib

from mrjob.job import MRJob
from mrjob.step import MRStep

from jobs.failed_lines import FAILED_FIELD, FAILED_KEY
from jobs.protocols import JSONLinesValueProtocol

MAX_LIST = 20


def _page_hash(url: str) -> str:
    return hashlib.blake2b(url.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def partial_from_record(rec: dict) -> dict:
    """The per-occurrence contribution to an image's aggregate."""
    w, h = rec.get("width_attr"), rec.get("height_attr")
    return {
        "occurrences": 1,
        "pages": [_page_hash(rec.get("page_url") or "")],
        "sites": [rec.get("page_host") or ""],
        "alts": [rec["alt"]] if rec.get("alt") else [],
        "declared_sizes": [declared_size(w, h)] if w is not None or h is not None else [],
        "elements": {rec.get("element") or "?": 1},
        "crawls": [rec["crawl"]] if rec.get("crawl") else [],
        "first_seen": rec.get("fetch_time"),
        "last_seen": rec.get("fetch_time"),
        "example_page": rec.get("page_url"),
    }


def declared_size(width: str | None, height: str | None) -> str:
    """`640x480` from the raw attributes; a missing side stays empty (`640x`)."""
    return f"{(width or '').strip()}x{(height or '').strip()}"


_TRIM_AT = 50 * MAX_LIST  # a capped set is cut back to its MAX_LIST smallest members when it grows past this


def _smallest(values: set) -> set:
    """The MAX_LIST smallest members: all that a capped list can keep, whatever is merged in later."""
    return values if len(values) <= MAX_LIST else set(sorted(values)[:MAX_LIST])


def merge_partials(partials) -> dict:
    """One partial from many, in one pass: sets and counters while merging, sorted (and capped) once."""
    occurrences = 0
    pages: set = set()
    sites: set = set()
    alts: set = set()
    sizes: set = set()
    crawls: set = set()
    elements: dict = {}
    first = last = example = None
    any_partial = False
    for p in partials:
        any_partial = True
        occurrences += p["occurrences"]
        pages.update(p["pages"])
        sites.update(p["sites"])
        alts.update(p["alts"])
        sizes.update(p["declared_sizes"])
        crawls.update(p["crawls"])
        if len(alts) > _TRIM_AT or len(sizes) > _TRIM_AT or len(crawls) > _TRIM_AT:
            alts, sizes, crawls = _smallest(alts), _smallest(sizes), _smallest(crawls)
        for k, v in p["elements"].items():
            elements[k] = elements.get(k, 0) + v
        if p["first_seen"] and (first is None or p["first_seen"] < first):
            first = p["first_seen"]
        if p["last_seen"] and (last is None or p["last_seen"] > last):
            last = p["last_seen"]
        if p["example_page"] and (example is None or p["example_page"] < example):
            example = p["example_page"]
    if not any_partial:
        return {}
    return {
        "occurrences": occurrences,
        "pages": sorted(pages),
        "sites": sorted(sites),
        "alts": sorted(alts)[:MAX_LIST],
        "declared_sizes": sorted(sizes)[:MAX_LIST],
        "elements": elements,
        "crawls": sorted(crawls)[:MAX_LIST],
        "first_seen": first,
        "last_seen": last,
        "example_page": example,
    }


def finalize(img_url: str, merged: dict) -> dict:
    return {
        "img_url": img_url,
        "occurrences": merged["occurrences"],
        "pages": len(merged["pages"]),
        "sites": len(merged["sites"]),
        "alts": merged["alts"],
        "declared_sizes": merged["declared_sizes"],
        "elements": merged["elements"],
        "crawls": merged["crawls"],
        "first_seen": merged["first_seen"],
        "last_seen": merged["last_seen"],
        "example_page": merged["example_page"],
    }


class ImageAggregation:
    """Combiner and reducer over (img_url, partial) pairs; mixed into jobs."""

    def combiner_aggregate(self, img_url, partials):
        if img_url == FAILED_KEY:
            for record in partials:
                yield img_url, record
            return
        yield img_url, merge_partials(partials)

    def reducer_aggregate(self, img_url, partials):
        if img_url == FAILED_KEY:
            for record in partials:
                yield None, record
            return
        self.increment_counter("images", "distinct urls")
        yield None, finalize(img_url, merge_partials(partials))


class AggregateImagesJob(ImageAggregation, MRJob):
    """Input: JSONL image records (the output of `jobs.extract_images`).  Output: one JSON line per image URL."""

    INPUT_PROTOCOL = JSONLinesValueProtocol
    OUTPUT_PROTOCOL = JSONLinesValueProtocol

    def mapper_records(self, _, rec):
        self.increment_counter("input", "records")
        if isinstance(rec, dict) and FAILED_FIELD in rec:
            # an extraction run's failed input line (its --output-dir files keep them): passed through as it is
            self.increment_counter("input", "failed-line records")
            yield FAILED_KEY, rec
            return
        if not isinstance(rec, dict) or not rec.get("img_url"):
            self.increment_counter("errors", "record without img_url")
            return
        yield rec["img_url"], partial_from_record(rec)

    def steps(self):
        return [MRStep(mapper=self.mapper_records, combiner=self.combiner_aggregate, reducer=self.reducer_aggregate)]


if __name__ == "__main__":
    AggregateImagesJob.run()
