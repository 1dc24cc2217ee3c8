"""What `ccimg fetch` saves: fetch everything vs the model's decision vs the model plus a probe of the uncertain.

    python -m benchmarks.fetch_savings                 # both replays, the README's table (a few minutes)
    python -m benchmarks.fetch_savings --declared 500  # a smaller second replay

Two replays against a real HTTP server on 127.0.0.1 (benchmarks.image_site) that answers for every host
name, reached through a Resolver that maps the names to 127.0.0.1 (the address guard still runs):

  * archived: the image URLs of the pages in ../shared/data/webarchive (the extraction job's records),
    served with the bytes the same WARCs hold for them (a URL the archive does not hold answers 404, as a
    dead link does).  Real bytes and real sizes, but these 2008/2012 pages show no BIG image at all.
  * declared: pages of ../shared/data (html-more, html-aeb) from sites on the test side of the standard
    split (the shipped model never trained on them), their images that declare both width and height.
    The archive does not hold these images, so each is served as a real photograph
    (../shared/data/images/test4.jpg) resized to the declared size and encoded in the format its URL
    names: the true size is the declared one by construction, the bytes are those of a photo of that size.
    The model does not see the declared sizes (they are hidden, as in the README's quality table).

Strategies: everything (`--all`); the model's decision at its recall target (the default, 95% of BIG
images kept, measured on held-out sites when it was trained); the model at its best-F1 threshold (fewer
downloads, more BIG lost); and the recall-target decision with the uncertain band between the two
thresholds probed first (`--probe-uncertain`): what scores above the best-F1 threshold is downloaded at
once, what scores in the band is downloaded only if its header says BIG.

Each strategy runs `ccimg fetch`'s Fetcher on `ccimg score`-style rows (the model scored the original
URLs; only the port differs in what is requested).  The server adds `--latency` per request and sends at
`--bandwidth` bytes/s per connection, and the fetcher waits `--delay` s between requests to one host, so
that wall times reflect a network rather than the loopback.  Counted on the server: requests (robots.txt
included) and bytes sent.  BIG lost: BIG images (true size) not stored.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.image_site import ImageSite, host_map_resolver, warc_images
from ccimg.fetch.run import Fetcher, FetchOptions
from dataio.image_header import image_size
from features.model_inputs.size_signals import declared_size, size_class
from models.corpus import DEFAULT_DATA_DIR, CorpusReader
from models.labels import hide_declared_size
from models.split import is_test_site, record_site

WEBARCHIVE = ("aut__example.warc.gz", "ukwa__sopa-wikipedia-homepage.warc.gz")
PHOTO = "images/test4.jpg"
_FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP"}
_CTYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


def archived_replay(data: Path):
    """(records, {url: (body, content type)}, {url: (w, h)}) for the webarchive pages."""
    reader = CorpusReader(data)
    records, bodies = [], {}
    for name in WEBARCHIVE:
        records += reader.warc(data / "webarchive" / name)
        bodies.update(warc_images(data / "webarchive" / name))
    for rec in records:
        for key in ("true_width", "true_height", "true_format"):
            rec.pop(key, None)
    sizes = {url: image_size(body)[1] for url, (body, _) in bodies.items()}
    return records, bodies, {u: s for u, s in sizes.items() if s}


def declared_replay(data: Path, limit: int):
    """(records with declared sizes hidden, {url: (w, h)}) for `limit` distinct image URLs of test-side pages."""
    reader = CorpusReader(data)
    chosen: dict[str, tuple[int, int]] = {}
    records = []
    candidates = []
    for rec in reader.records(include=("html-more", "html-aeb")):
        size = declared_size(rec)
        if size is None or not rec.get("img_url", "").startswith(("http://", "https://")):
            continue
        if not 16 <= size.width <= 4000 or not 16 <= size.height <= 4000:
            continue
        candidates.append((rec, (size.width, size.height)))
    test = is_test_site([record_site(rec) for rec, _ in candidates])
    # a deterministic sample: URLs ordered by a hash of their text, the first `limit` distinct ones kept
    by_url: dict[str, list] = {}
    for (rec, size), on_test in zip(candidates, test):
        if on_test:
            by_url.setdefault(rec["img_url"], []).append((rec, size))
    for url in sorted(by_url, key=lambda u: hashlib.sha1(u.encode()).hexdigest())[:limit]:
        chosen[url] = by_url[url][0][1]
        records.extend(hide_declared_size(rec) for rec, _ in by_url[url])
    return records, chosen


class PhotoBodies:
    """A real photograph resized to each asked size, encoded as the URL's extension says (cached by size)."""

    def __init__(self, path: Path):
        from PIL import Image

        self.photo = Image.open(path).convert("RGB")
        self._cache: dict[tuple, bytes] = {}

    def body(self, url: str, size: tuple[int, int]) -> tuple[bytes, str]:
        from PIL import Image

        ext = url.split("?", 1)[0].rsplit(".", 1)[-1].lower()
        fmt = _FORMATS.get(ext, "JPEG")
        key = (size, fmt)
        if key not in self._cache:
            im = self.photo.resize(size, Image.Resampling.BILINEAR)
            buf = io.BytesIO()
            im.save(buf, fmt, **({"quality": 85} if fmt in ("JPEG", "WEBP") else {}))
            self._cache[key] = buf.getvalue()
        return self._cache[key], _CTYPES[fmt]


def score_rows(records: list[dict], site: ImageSite, scorer) -> list[dict]:
    """`ccimg score` output for the records (original URLs scored), with the URLs the server answers."""
    scores = scorer.score(records)
    return [{"img_url": site.with_port(rec["img_url"]), "page_url": rec.get("page_url"), "alt": rec.get("alt"),
             "p_big": round(p, 4), "label": label, "reason": reason}
            for rec, p, label, reason in zip(records, scores.p_big.tolist(), scores.label, scores.reason)]


def run_strategy(name: str, rows: list[dict], site: ImageSite, work: Path, args, **options) -> dict:
    run_dir = work / name
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    src = run_dir / "scores.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with site.lock:
        site.hits.clear()
    opts = FetchOptions(inputs=[str(src)], dest=str(run_dir / "out"), delay=args.delay, workers=args.workers,
                        timeout=30.0, **options)
    started = time.monotonic()
    summary = Fetcher(opts, resolver=host_map_resolver(), log=lambda message: None).run()
    seconds = time.monotonic() - started
    with site.lock:
        hits = list(site.hits)
    meta = [json.loads(line) for line in (run_dir / "out" / "metadata.jsonl").read_text().splitlines()]
    return {"strategy": name, "requests": len(hits), "mbytes": sum(h.sent for h in hits) / 1e6,
            "seconds": seconds, "statuses": dict(summary.statuses), "meta": meta}


def big_lost(result: dict, truth: dict[str, tuple[int, int]], site: ImageSite) -> tuple[int, int, int, float]:
    """(BIG stored, BIG in all, downloads that were not BIG, MB not spent on a stored BIG image) over distinct
    URLs: the last is everything sent but the bodies of the BIG images kept (robots.txt, errors, probes,
    images that were not BIG)."""
    served = {site.with_port(u): s for u, s in truth.items()}
    big = {u for u, s in served.items() if size_class(*s) == "BIG"}
    stored = {m["img_url"]: m["bytes"] for m in result["meta"] if m["status"] == "ok"}
    wasted = {m["img_url"] for m in result["meta"] if m["status"] == "not-big"}
    kept = sum(stored[u] for u in big & set(stored))
    return len(big & set(stored)), len(big & {m["img_url"] for m in result["meta"]}), len(wasted), \
        result["mbytes"] - kept / 1e6


def table(results: list[dict]) -> str:
    lines = ["| replay | strategy | requests | MB transferred | of which not for a BIG image | wall time (s) | "
             "BIG stored / BIG | downloads not BIG |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['replay']} | {r['strategy']} | {r['requests']:,} | {r['mbytes']:.1f} | "
                     f"{r['waste_mb']:.1f} | {r['seconds']:.0f} | {r['big_stored']} / {r['big']} | {r['wasted']:,} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--declared", type=int, default=2000, help="distinct image URLs in the declared replay")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the server waits before answering")
    parser.add_argument("--bandwidth", type=float, default=2e6, help="bytes/s per connection")
    parser.add_argument("--delay", type=float, default=0.25, help="seconds between requests to one host")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--model", help="model file (default: the shipped model)")
    parser.add_argument("--recall", type=float,
                        help="the decision's recall target (default: the one stored in the model)")
    parser.add_argument("--out", type=Path, default=Path("out/fetch_savings.json"))
    args = parser.parse_args(argv)
    if not (args.data / "webarchive").is_dir():
        print(f"shared data not found: {args.data}", file=sys.stderr)
        return 2
    from models.score import Scorer

    default = Scorer(args.model, recall=args.recall)
    best_f1 = Scorer(default.bundle, threshold="f1")
    estimator = default.bundle.for_input("record")
    low, high = default.threshold_for(estimator), best_f1.threshold_for(estimator)
    target = args.recall or default.default_recall
    results = []
    work = Path(tempfile.mkdtemp(prefix="ccimg-fetch-savings-"))
    try:
        with ImageSite(latency=args.latency, bandwidth=args.bandwidth) as site:
            t0 = time.monotonic()
            records, bodies, truth = archived_replay(args.data)
            for url, (body, ctype) in bodies.items():
                site.add(url, body, ctype)
            replays = [("archived", records, truth)]
            if args.declared:
                photos = PhotoBodies(args.data / PHOTO)
                records, sizes = declared_replay(args.data, args.declared)
                for url, size in sizes.items():
                    site.add(url, *photos.body(url, size))
                replays.append(("declared", records, sizes))
            print(f"replays ready in {time.monotonic() - t0:.0f}s; probe band [{low:.3f}, {high:.3f})", file=sys.stderr)
            for replay, records, truth in replays:
                rows = score_rows(records, site, default)
                runs = [run_strategy("fetch all", rows, site, work, args, fetch_all=True),
                        run_strategy(f"model at recall {target:.2f} (p_big >= {low:.4f})", rows, site, work, args),
                        run_strategy(f"model at best F1 (p_big >= {high:.3f})", score_rows(records, site, best_f1),
                                     site, work, args)]
                if low < high:
                    for probe_bytes in (64 * 1024, 16 * 1024, 4096):
                        runs.append(run_strategy(f"model + probe [{low:.4f}, {high:.3f}) of {probe_bytes >> 10} KiB",
                                                 rows, site, work, args, probe_band=(low, high),
                                                 probe_bytes=probe_bytes))
                for r in runs:
                    r["big_stored"], r["big"], r["wasted"], r["waste_mb"] = big_lost(r, truth, site)
                    r["replay"] = f"{replay} ({len({x['img_url'] for x in rows}):,} URLs, {len(rows):,} rows)"
                    print(f"{r['replay']}: {r['strategy']}: {r['requests']} requests, {r['mbytes']:.1f} MB, "
                          f"{r['seconds']:.0f}s, BIG {r['big_stored']}/{r['big']}, statuses {r['statuses']}",
                          file=sys.stderr)
                    del r["meta"]
                    results.append(r)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    settings = {k: v for k, v in vars(args).items() if k not in ("data", "out")}
    settings["probe_band"] = [low, high]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"settings": settings, "results": results}, indent=1), encoding="utf-8")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
