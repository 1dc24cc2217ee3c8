"""Do the fast parser (lexbor) and the reference (BeautifulSoup on html5lib) give the same records?

Used by tests/test_parser_agreement.py, and runnable on its own for the full report:

    python -m tests.parser_agreement [--stride N] [--jobs 2]

Known, explained differences: html5lib 1.1 (2020) predates two parts of the WHATWG parsing
algorithm that lexbor implements: a <template> inside <head> (html5lib closes <head> there,
moving everything after it into <body>), and the 2025 "customizable <select>" change (elements
such as <a> or <img> inside <select>/<option> are kept; html5lib drops them).  A page whose
records differ must contain one of those constructs, or the test fails.
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import warnings
from multiprocessing import Pool
from pathlib import Path

_EXPLAINED = re.compile(rb"<template[\s>]|<select[\s>]", re.I)

_extractors: dict = {}


def _extractor(parser: str):
    from features.page_images import ImageExtractor

    if parser not in _extractors:
        _extractors[parser] = ImageExtractor(parser)
    return _extractors[parser]


def real_pages(data: Path) -> list[tuple[str, str]]:
    """(gzipped page path, page URL) for every real page in ../shared/data (html-aeb and html-more)."""
    pages = []
    truth = json.loads((data / "html-aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    for key, meta in sorted(truth.items()):
        pages.append((str(data / "html-aeb" / "html" / f"{key}.html.gz"), meta["url"]))
    with open(data / "html-more" / "pages.jsonl", encoding="utf-8") as f:
        for line in f:
            p = json.loads(line)
            pages.append((str(data / "html-more" / p["file"]), p["url"] or p["canonical_url"] or "http://unknown.invalid/"))
    return pages


def compare_page(item: tuple[str, str]) -> dict:
    """Extract one page with both parsers; return a summary of the comparison."""
    from features.charset import decode_html

    path, url = item
    raw = gzip.open(path).read()
    html, _ = decode_html(raw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = _extractor("lexbor").extract(html, url)
        ref = _extractor("bs4").extract(html, url)
    same = fast.images == ref.images and fast.skipped == ref.skipped
    out = {"path": path, "images": len(ref.images), "same": same}
    if not same:
        out["explained"] = bool(_EXPLAINED.search(raw))
        out["same_urls"] = [i["img_url"] for i in fast.images] == [i["img_url"] for i in ref.images]
        first = next(((a, b) for a, b in zip(fast.images, ref.images) if a != b), None)
        if first:
            out["first_diff"] = {k: (first[0][k], first[1].get(k)) for k in first[0] if first[0][k] != first[1].get(k)}
        out["lexbor_images"] = len(fast.images)
    return out


def compare_all(data: Path, stride: int = 1, jobs: int = 2) -> list[dict]:
    pages = real_pages(data)[::stride]
    with Pool(jobs) as pool:
        return pool.map(compare_page, pages, chunksize=8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--stride", type=int, default=1, help="compare every Nth page (default: all)")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    results = compare_all(Path(args.data), args.stride, args.jobs)
    diff = [r for r in results if not r["same"]]
    print(f"pages {len(results)}, image records {sum(r['images'] for r in results)}, "
          f"identical {len(results) - len(diff)}, different {len(diff)} "
          f"(explained by <template>/<select>: {sum(r['explained'] for r in diff)}, "
          f"same img_url sequence: {sum(r['same_urls'] for r in diff)})")
    for r in diff:
        print(f"  {r['path']}: explained={r['explained']} same_urls={r['same_urls']} {r.get('first_diff')}"[:300])


if __name__ == "__main__":
    main()
