"""Aggregate image occurrences by `img_url`: how many pages use an image, its alts, its declared sizes.

The merge functions are shared by `ExtractImagesJob --aggregate` (one run from WARC to
aggregates) and by `AggregateImagesJob`, which reads the JSONL records of an earlier
extraction run.  Lists are capped so that a logo used on a million pages stays small: a
capped list keeps its MAX_LIST smallest values, and `example_page` is the smallest page URL,
so the output does not depend on the order in which an engine merges partials.  Page and
site counts stay exact (sets of 64-bit hashes per image).
"""
from __future__ import annotations

import hashlib

from mrjob.job import MRJob
from mrjob.step import MRStep

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


def _union(a: list, b: list, cap: int | None) -> list:
    merged = sorted(set(a) | set(b))
    return merged if cap is None else merged[:cap]


def merge_partials(partials) -> dict:
    out: dict | None = None
    for p in partials:
        if out is None:
            out = {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
                   for k, v in p.items()}
            continue
        out["occurrences"] += p["occurrences"]
        out["pages"] = _union(out["pages"], p["pages"], None)
        out["sites"] = _union(out["sites"], p["sites"], None)
        out["alts"] = _union(out["alts"], p["alts"], MAX_LIST)
        out["declared_sizes"] = _union(out["declared_sizes"], p["declared_sizes"], MAX_LIST)
        out["crawls"] = _union(out["crawls"], p["crawls"], MAX_LIST)
        for k, v in p["elements"].items():
            out["elements"][k] = out["elements"].get(k, 0) + v
        times = [t for t in (out["first_seen"], p["first_seen"]) if t]
        out["first_seen"] = min(times) if times else None
        times = [t for t in (out["last_seen"], p["last_seen"]) if t]
        out["last_seen"] = max(times) if times else None
        pages = [u for u in (out["example_page"], p["example_page"]) if u]
        out["example_page"] = min(pages) if pages else None
    return out or {}


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
        yield img_url, merge_partials(partials)

    def reducer_aggregate(self, img_url, partials):
        self.increment_counter("images", "distinct urls")
        yield None, finalize(img_url, merge_partials(partials))


class AggregateImagesJob(ImageAggregation, MRJob):
    """Input: JSONL image records (the output of `jobs.extract_images`).  Output: one JSON line per image URL."""

    INPUT_PROTOCOL = JSONLinesValueProtocol
    OUTPUT_PROTOCOL = JSONLinesValueProtocol

    def mapper_records(self, _, rec):
        self.increment_counter("input", "records")
        if not isinstance(rec, dict) or not rec.get("img_url"):
            self.increment_counter("errors", "record without img_url")
            return
        yield rec["img_url"], partial_from_record(rec)

    def steps(self):
        return [MRStep(mapper=self.mapper_records, combiner=self.combiner_aggregate, reducer=self.reducer_aggregate)]


if __name__ == "__main__":
    AggregateImagesJob.run()
