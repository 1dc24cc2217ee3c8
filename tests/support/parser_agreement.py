"""Do the fast parser (lexbor) and the reference (BeautifulSoup on html5lib) give the same records?

Used by tests/corpus/test_parser_agreement.py, and runnable on its own for the full report:

    python -m tests.support.parser_agreement [--stride N] [--jobs 2]

What must agree: on every page, the same records in the same order with the same URLs and
attributes.  What may differ, on a few pages: the fields that depend on the shape of the tree
(TREE_FIELDS), because html5lib 1.1 (2020) and lexbor build different trees from some broken
markup.  Most of those pages are explained by two parts of the WHATWG algorithm that html5lib
predates: a <template> inside <head> (html5lib closes <head> there, moving everything after it
into <body>) and the 2025 "customizable <select>" change; the rest are misnested tables, forms
and <font> tags, where the two implementations repair differently.
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
TREE_FIELDS = ("parent_tag", "parent_text", "dom_depth", "dom_siblings", "in_noscript", "ancestors")


def _without_tree(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if k not in TREE_FIELDS}

_extractors: dict = {}


def _extractor(parser: str):
    from features.page.images import ImageExtractor

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
    from features.page.charset import decode_html

    path, url = item
    raw = gzip.open(path).read()
    html, _ = decode_html(raw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = _extractor("lexbor").extract(html, url)
        ref = _extractor("bs4").extract(html, url)
    same = fast.images == ref.images and fast.skipped == ref.skipped
    out = {"path": path, "images": len(ref.images), "same": same, "same_records": True, "records_differing": 0}
    if not same:
        out["same_records"] = fast.skipped == ref.skipped and len(fast.images) == len(ref.images) and all(
            _without_tree(a) == _without_tree(b) for a, b in zip(fast.images, ref.images))
        out["records_differing"] = sum(a != b for a, b in zip(fast.images, ref.images)) + abs(
            len(fast.images) - len(ref.images))
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
          f"same records but for tree-shape fields: {sum(r['same_records'] for r in diff)}); "
          f"records differing in any field: {sum(r['records_differing'] for r in results)}")
    for r in diff:
        print(f"  {r['path']}: explained={r['explained']} same_records={r['same_records']} {r.get('first_diff')}"[:300])


if __name__ == "__main__":
    main()
