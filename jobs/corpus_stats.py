"""The crawl's image statistics: one job over extraction records, or straight over WARCs.

    python -m jobs.corpus_stats -r local|emr|spark [--model FILE|default] INPUT... > stats.json
    ccimg report stats.json -o report/

INPUT: the JSONL image records of `jobs.extract_images` (.gz allowed), or the extraction job's own
input (manifests of WARC files or record pointers, WARC files): each line is read as a record when it
starts with "{", else as an input line of the extraction (`features.page.from_record.images_of_record`,
the extraction path itself).  Output: ONE JSON line, read by `ccimg report`.

What it counts (the paper's statistics, for any input): pages with images (and all HTML pages when it
reads WARCs), image occurrences, unique image URLs and page URLs, unique image hosts and page domains
(registered domain, public suffix list bundled with tldextract), declared sizes (both/one/none; BIG,
SMALL, between), elements, file types, same-site and lazy-loading shares, images per page (the whole
distribution), licenses (per image, per page, where found) and providers (features/providers.py);
with --model (a file, or `default` for the shipped model) the predicted BIG share and the fetches it would save.

How it scales (two steps, combiners, bounded memory):
  * every map task keeps exact counters and ONE mergeable partial (`Partial`); unique URLs are
    `jobs.sketches.Distinct` (exact hash sets up to 200,000, then HyperLogLog, 0.8 %);
  * image hosts and page domains go through the shuffle, one key each, summed by combiners: their
    number is exact, and so are the counts (image occurrences) of the top hosts and domains;
  * a page's records are consecutive in extraction output, but a byte split may cut a page in two:
    each task sends its first and last page to the reducer by page key, where the halves meet, and
    counts the pages between itself (exact images-per-page at the cost of two keys per task);
  * step 2 merges everything under one key, a combiner keeping only the top hosts per node.
"""
from __future__ import annotations

import heapq
import logging
from collections import Counter
from functools import lru_cache

from mrjob.step import MRStep

from jobs.failed_lines import FAILED_KEY

from dataio.tables import loads
from features.model_inputs.size_signals import declared_size, parse_pixels, size_class
from features.page.backends import BACKENDS
from features.page.from_record import images_of_record
from features.page.images import ImageExtractor
from features.providers import ProviderMap, default_mapping
from features.urls import host_of, url_extension
from jobs.base import CCJob, Record, RecordSource
from jobs.sketches import Distinct

log = logging.getLogger("ccimg.jobs")
PER_PAGE_CAP = 10_000  # pages with more images count in the bucket "10000+"
SCORE_BATCH = 4096
TOP = 50
_DISTINCT = ("img_urls", "page_urls", "big_img_urls")


@lru_cache(maxsize=1)
def _tld():
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)  # the bundled list: no network


@lru_cache(maxsize=65536)
def page_domain(host: str) -> str:
    """The registered domain of a host (news.bbc.co.uk -> bbc.co.uk); the host itself for IPs and unknown suffixes."""
    if not host:
        return ""
    found = _tld()(host)
    domain = getattr(found, "top_domain_under_public_suffix", None) or getattr(found, "registered_domain", "")
    return domain or host


def file_type(url: str) -> str:
    ext = url_extension(url)
    ext = {"jpeg": "jpg", "jpe": "jpg", "jfif": "jpg", "tiff": "tif"}.get(ext, ext)
    if not ext:
        return "(none)"
    return ext if len(ext) <= 5 and ext.isalnum() else "(other)"


def license_key(rec: dict) -> str:
    code = rec.get("license")
    if not code:
        return "none"
    return f"{code} {rec['license_version']}" if rec.get("license_version") else code


def _add(a: dict, b: dict) -> dict:
    for k, v in b.items():
        a[k] = a.get(k, 0) + v
    return a


class Partial:
    """Everything a task adds up, mergeable in any order; JSON in and out (the job's protocol)."""

    COUNTERS = ("images", "pages_with_images", "html_pages", "html_bytes", "declared_both", "declared_one",
                "declared_none", "declared_BIG", "declared_SMALL", "declared_between", "same_site", "lazy_attr",
                "loading_lazy", "lazy_any", "in_noscript", "scored", "predicted_BIG")
    TABLES = ("elements", "file_types", "licenses", "license_places", "page_licenses", "providers",
              "sub_providers", "images_per_page", "model_reasons")

    def __init__(self):
        self.n = dict.fromkeys(self.COUNTERS, 0)
        self.t: dict[str, dict] = {name: {} for name in self.TABLES}
        self.d: dict[str, Distinct] = {name: Distinct() for name in _DISTINCT}

    def add_page(self, summary: dict) -> None:
        """A whole page: {"images": n, "license": key or None, "url": page_url}."""
        n = summary["images"]
        self.n["pages_with_images"] += 1
        bucket = str(n) if n < PER_PAGE_CAP else f"{PER_PAGE_CAP}+"
        self.t["images_per_page"][bucket] = self.t["images_per_page"].get(bucket, 0) + 1
        lic = summary.get("license") or "none"
        self.t["page_licenses"][lic] = self.t["page_licenses"].get(lic, 0) + 1
        if summary.get("url"):
            self.d["page_urls"].add(summary["url"])

    def to_json(self) -> dict:
        return {"n": self.n, "t": self.t, "d": {k: v.to_json() for k, v in self.d.items()}}

    @classmethod
    def from_json(cls, data: dict) -> Partial:
        p = cls()
        p.n.update(data["n"])
        for k, v in data["t"].items():
            p.t[k] = dict(v)
        p.d = {k: Distinct.from_json(v) for k, v in data["d"].items()}
        return p

    def merge(self, other: Partial) -> Partial:
        _add(self.n, other.n)
        for k, v in other.t.items():
            _add(self.t.setdefault(k, {}), v)
        for k, v in other.d.items():
            self.d[k].merge(v)
        return self


def merge_page_summaries(summaries) -> dict:
    """The two halves of a page cut by a split (or one whole page)."""
    out = {"images": 0, "license": None, "url": None}
    for s in summaries:
        out["images"] += s["images"]
        out["license"] = out["license"] or s.get("license")
        out["url"] = out["url"] or s.get("url")
    return out


FAILED_KIND = "f"  # step 1 key of a failed input line's record


class CorpusStatsJob(CCJob):
    def configure_args(self):
        super().configure_args()
        self.add_passthru_arg("--model", default=None, metavar="FILE|default",
                              help="also score every image with this model file ('default': the shipped model)")
        self.add_passthru_arg("--recall", type=float, default=None,
                              help="with --model: threshold for this recall of BIG (0.90, 0.95 or 0.99)")
        self.add_passthru_arg("--providers", default=None,
                              help="provider mapping (JSON/YAML; default: features/providers.json)")
        self.add_passthru_arg("--top", type=int, default=TOP, help=f"how many top hosts and domains (default {TOP})")
        self.add_passthru_arg("--html-parser", default="lexbor", choices=sorted(BACKENDS),
                              help="parser for WARC input: lexbor (default) or bs4")

    # -- map: records or extraction input lines ------------------------------------------------------
    def mapper_init(self):
        super().mapper_init()
        self.extractor = ImageExtractor(self.options.html_parser)
        self.providers: ProviderMap = (ProviderMap.load(self.options.providers) if self.options.providers
                                       else default_mapping())
        self.partial = Partial()
        self.img_hosts: Counter = Counter()
        self.page_domains: Counter = Counter()
        self.scorer = None
        if self.options.model:
            from models.score import Scorer

            self.scorer = Scorer(None if self.options.model == "default" else self.options.model,
                                 recall=self.options.recall)
        self.to_score: list[dict] = []
        self.page_key = None  # the page whose records are being read (record input)
        self.page = None
        self.edges: list[tuple[str, dict]] = []  # the first page of the task, then the last

    def mapper(self, key, line):
        if line.lstrip()[:1] != "{":
            yield from super().mapper(key, line)  # an extraction input line: CCJob -> process_record
            return
        self.count("input", "lines")
        try:
            rec = loads(line)
        except ValueError as exc:
            yield self.fail_line("bad_record_json", line, str(exc))
            return
        if not isinstance(rec, dict) or not rec.get("img_url"):
            yield self.fail_line("bad_record", line, "not an image record (no img_url)")
            return
        self.count("input", "lines ok")
        self.count("input", "records")
        page_key = f"{rec.get('warc_filename')}\x00{rec.get('warc_offset')}\x00{rec.get('page_url')}"
        if page_key != self.page_key:
            self._close_page()
            self.page_key, self.page = page_key, {"images": 0, "license": None, "url": rec.get("page_url")}
        self._image(rec, self.page)

    def process_record(self, record: Record, source: RecordSource):
        """A WARC record: its images, counted as one whole page (never cut by a split)."""
        found = images_of_record(record, self.extractor, source.warc_filename, source.crawl,
                                 self.options.max_payload)
        for (group, name), n in found.counts.items():
            self.count(group, name, n)
        self.partial.n["html_pages"] += found.counts.get(("pages", "html"), 0)
        self.partial.n["html_bytes"] += found.counts.get(("pages", "html bytes"), 0)
        if found.images:
            page = {"images": 0, "license": None, "url": record.url}
            for rec in found.images:
                self._image(rec, page)
            self.partial.add_page(page)
        return iter(())

    def _close_page(self) -> None:
        if self.page is None:
            return
        if not self.edges:
            self.edges.append((self.page_key, self.page))  # the first page: may have begun in the split before
        else:
            if len(self.edges) == 2:
                self.partial.add_page(self.edges.pop()[1])  # no longer the last page: it was whole
            self.edges.append((self.page_key, self.page))
        self.page = self.page_key = None

    def _image(self, rec: dict, page: dict) -> None:
        p, n, t = self.partial, self.partial.n, self.partial.t
        n["images"] += 1
        page["images"] += 1
        img_url = rec["img_url"]
        p.d["img_urls"].add(img_url)
        self.img_hosts[(rec.get("img_host") or host_of(img_url))] += 1
        self.page_domains[page_domain(rec.get("page_host") or host_of(rec.get("page_url") or ""))] += 1
        size = declared_size(rec)
        if size is not None:
            n["declared_both"] += 1
            n[f"declared_{size_class(size.width, size.height) or 'between'}"] += 1
        elif parse_pixels(rec.get("width_attr")) is not None or parse_pixels(rec.get("height_attr")) is not None:
            n["declared_one"] += 1
        else:
            n["declared_none"] += 1
        for table, key in (("elements", rec.get("element") or "?"), ("file_types", file_type(img_url)),
                           ("licenses", license_key(rec)), ("license_places", rec.get("license_place") or "none")):
            t[table][key] = t[table].get(key, 0) + 1
        if rec.get("license") and rec.get("license_place") != "figure" and page["license"] is None:
            page["license"] = license_key(rec)
        n["same_site"] += bool(rec.get("same_domain"))
        lazy_attr, loading = bool(rec.get("lazy")), (rec.get("loading") or "").strip().lower() == "lazy"
        n["lazy_attr"] += lazy_attr
        n["loading_lazy"] += loading
        n["lazy_any"] += lazy_attr or loading
        n["in_noscript"] += bool(rec.get("in_noscript"))
        who = self.providers.attribution(rec)
        name = who.provider or "none"
        t["providers"][name] = t["providers"].get(name, 0) + 1
        if who.sub_provider:
            sub = f"{who.provider}/{who.sub_provider}"
            t["sub_providers"][sub] = t["sub_providers"].get(sub, 0) + 1
        if self.scorer is not None:
            self.to_score.append(rec)
            if len(self.to_score) >= SCORE_BATCH:
                self._score()

    def _score(self) -> None:
        batch, self.to_score = self.to_score, []
        if not batch:
            return
        scores = self.scorer.score(batch)
        n, t = self.partial.n, self.partial.t
        for rec, label, reason in zip(batch, scores.label, scores.reason):
            n["scored"] += 1
            key = f"{reason}:{label}"
            t["model_reasons"][key] = t["model_reasons"].get(key, 0) + 1
            if label == "BIG":
                n["predicted_BIG"] += 1
                self.partial.d["big_img_urls"].add(rec["img_url"])

    def mapper_final(self):
        if self.scorer is not None:
            self._score()
        self._close_page()
        for page_key, summary in self.edges:
            yield ["p", page_key], summary
        yield ["t"], self.partial.to_json()
        for host, n in self.img_hosts.items():
            yield ["h", host], n
        for domain, n in self.page_domains.items():
            yield ["d", domain], n

    def failed_line_pair(self, record: dict) -> tuple:
        """Failed input lines travel under their own key through both steps (jobs.failed_lines)."""
        return [FAILED_KIND], record

    # -- step 1: combine and reduce by key ------------------------------------------------------------
    def combiner(self, key, values):
        kind = key[0]
        if kind == FAILED_KIND:
            for record in values:
                yield key, record
        elif kind == "t":
            yield key, _merge_partials(values).to_json()
        elif kind == "p":
            yield key, merge_page_summaries(values)
        else:
            yield key, sum(values)

    def reducer(self, key, values):
        kind = key[0]
        if kind == FAILED_KIND:
            for record in values:
                yield FAILED_KEY, record
        elif kind == "t":
            yield "all", ["t", _merge_partials(values).to_json()]
        elif kind == "p":
            halves = list(values)
            if len(halves) > 1:
                self.increment_counter("stats", "pages joined across splits")
            page = Partial()
            page.add_page(merge_page_summaries(halves))
            yield "all", ["t", page.to_json()]
        else:
            yield "all", [kind, key[1], sum(values)]

    # -- step 2: everything under one key ------------------------------------------------------------
    def combiner_all(self, key, values):
        if key == FAILED_KEY:
            for record in values:
                yield key, record
            return
        yield key, ["agg", self._aggregate(values)]

    def reducer_all(self, key, values):
        if key == FAILED_KEY:
            for record in values:
                yield None, record
            return
        yield None, finalize(self._aggregate(values), self.options)

    def _aggregate(self, values) -> dict:
        """Values of step 2 ("t" partials, "h"/"d" host counts, or earlier "agg"s) -> one "agg"."""
        top = self.options.top
        partial = None
        tops = {"h": [], "d": []}
        distinct = {"h": 0, "d": 0}
        totals = {"h": 0, "d": 0}

        def offer(kind, name, n):
            heap = tops[kind]
            item = (n, name)
            if len(heap) < top:
                heapq.heappush(heap, item)
            elif item > heap[0]:
                heapq.heapreplace(heap, item)

        for value in values:
            kind = value[0]
            if kind == "t":
                p = Partial.from_json(value[1])
                partial = p if partial is None else partial.merge(p)
            elif kind in ("h", "d"):
                distinct[kind] += 1
                totals[kind] += value[2]
                offer(kind, value[1], value[2])
            else:  # "agg": a combiner's output
                agg = value[1]
                p = Partial.from_json(agg["partial"])
                partial = p if partial is None else partial.merge(p)
                for k in ("h", "d"):
                    distinct[k] += agg["distinct"][k]
                    totals[k] += agg["totals"][k]
                    for name, n in agg["top"][k]:
                        offer(k, name, n)
        return {"partial": (partial or Partial()).to_json(), "distinct": distinct, "totals": totals,
                "top": {k: [[name, n] for n, name in sorted(v, reverse=True)] for k, v in tops.items()}}

    def steps(self):
        return [MRStep(mapper_init=self.mapper_init, mapper=self.mapper, mapper_final=self.mapper_final,
                       combiner=self.combiner, reducer=self.reducer),
                MRStep(combiner=self.combiner_all, reducer=self.reducer_all)]


def _merge_partials(values) -> Partial:
    out = Partial()
    for v in values:
        out.merge(Partial.from_json(v))
    return out


def _quantile(hist: dict[int, int], q: float) -> int | None:
    total = sum(hist.values())
    if not total:
        return None
    need, seen = q * total, 0
    for k in sorted(hist):
        seen += hist[k]
        if seen >= need:
            return k
    return max(hist)


def finalize(agg: dict, options=None) -> dict:
    """The statistics JSON (what `ccimg report` reads) from the merged aggregate."""
    p = Partial.from_json(agg["partial"])
    n, t = p.n, p.t
    images, pages = n["images"], n["pages_with_images"]
    hist = {int(k.rstrip("+")): v for k, v in t["images_per_page"].items()}

    def by_count(table: dict) -> dict:
        return dict(sorted(table.items(), key=lambda kv: (-kv[1], kv[0])))

    stats = {
        "pages": {"with_images": pages, "html": n["html_pages"] or None, "html_bytes": n["html_bytes"] or None},
        "images": images,
        "unique": {
            "image_urls": p.d["img_urls"].summary(),
            "page_urls": p.d["page_urls"].summary(),
            "image_hosts": {"value": agg["distinct"]["h"], "exact": True, "method": "exact (one key per host)"},
            "page_domains": {"value": agg["distinct"]["d"], "exact": True,
                             "method": "exact (one key per registered domain)"},
        },
        "declared": {k: n[f"declared_{k}"] for k in ("both", "one", "none", "BIG", "SMALL", "between")},
        "elements": by_count(t["elements"]),
        "file_types": by_count(t["file_types"]),
        "same_site": n["same_site"],
        "lazy": {"attribute": n["lazy_attr"], "loading_lazy": n["loading_lazy"], "either": n["lazy_any"]},
        "in_noscript": n["in_noscript"],
        "images_per_page": {
            "histogram": {str(k) + ("+" if k >= PER_PAGE_CAP else ""): v for k, v in sorted(hist.items())},
            "mean": images / pages if pages else None, "median": _quantile(hist, 0.5), "p90": _quantile(hist, 0.9),
            "max": max(hist) if hist else None},
        "licenses": {"images": by_count(t["licenses"]), "pages": by_count(t["page_licenses"]),
                     "places": by_count(t["license_places"])},
        "providers": {"images": by_count(t["providers"]), "sub_providers": by_count(t["sub_providers"])},
        "top_image_hosts": agg["top"]["h"],
        "top_page_domains": agg["top"]["d"],
        "model": None,
        "meta": {"job": "jobs.corpus_stats", "top": getattr(options, "top", TOP),
                 "page_domain": "registered domain (tldextract's bundled public suffix list)"},
    }
    if n["scored"]:
        unique = p.d["img_urls"].estimate()
        big_unique = p.d["big_img_urls"].estimate()
        stats["model"] = {
            "model": getattr(options, "model", None), "recall": getattr(options, "recall", None),
            "scored": n["scored"], "predicted_big": n["predicted_BIG"],
            "reasons": by_count(t["model_reasons"]),
            "unique_big_urls": p.d["big_img_urls"].summary(),
            "fetches_saved": {"occurrences": n["scored"] - n["predicted_BIG"],
                              "unique_urls": max(0, unique - big_unique)},
        }
    return stats


if __name__ == "__main__":
    CorpusStatsJob.run()
