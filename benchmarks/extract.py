"""Throughput and memory of image extraction from a WARC, on real pages, one core.

Usage (from the repository root, with the project's venv):

    .venv/bin/python -m benchmarks.extract                      # 200 MB of HTML, 3 repeats, medians
    .venv/bin/python -m benchmarks.extract --size-mb 50 --repeat 5 --out /tmp/bench.json
    .venv/bin/python -m benchmarks.extract --verify --profile   # + prototype check + cProfile of lexbor
    .venv/bin/python -m benchmarks.extract --peak-memory        # RSS of one real mapper over a 500 MB .warc.gz

The test WARC is built once from the real pages in ../shared/data/html-more and html-aeb (one
gzip member per record, warcinfo then request/response/metadata per page, as Common Crawl) and
cached under --workdir (default: $TMPDIR/ccimg-bench, never inside the repository).

Throughput (all on the same WARC, in one process, round-robin over the steps so that the noise
of a shared machine spreads evenly; the medians of --repeat runs are reported):
  inflate      streaming zlib over the gzip members (the floor every reader pays)
  warcio       warcio ArchiveIterator + read of every response payload
  fastwarc     fastwarc ArchiveIterator + read of every response payload (for comparison)
  iter         the project's jobs.warc_records.iter_records + is_html() + payload()
  extract:P    what one mapper does per record: iter_records, is_html, decode_html,
               ImageExtractor(P).extract, the job's extra fields, JSON lines (mrjob's protocol)
  job:P        the real ExtractImagesJob.run_mapper in-process (counters to stderr, output to /dev/null)
  stage:*      cumulative steps of the lexbor extraction (differences = cost of each step)
  floor:*      lexbor alone over the pages pre-decoded in memory: what no Python change can beat
  proto:*      prototypes of faster extraction (cumulative; see FastLexborExtractor), not project code;
               --verify checks that they emit exactly the project's records, page by page
  bs4 runs on the first --bs4-mb MB of HTML only (it is much slower); lexbor is run on the same
  slice to compare like with like. Those rows are labelled "slice" and their MB/s are measured on
  the slice, not on the whole file.
Figures are MB/s of uncompressed HTML payload (10^6 bytes) per core, from the median wall time and
from the median CPU time of the process (on a shared, loaded machine the CPU figures are the steadier);
"ratio" and "ratio cpu" are against inflate measured in the same run.  orjson for the last prototype
is used only if importable (e.g. `pip install --target WORKDIR/pylib orjson`; WORKDIR/pylib is put on
sys.path); nothing is installed into the project's environment.

Peak memory (--peak-memory): runs `python -m jobs.extract_images --mapper --step-num=0 --no-conf`
as a subprocess on a one-line manifest naming a 500 MB .warc.gz (about 2.6 GB of HTML: the real
pages repeated), samples its RSS and its read position
in the WARC (psutil), reports RSS at 25/50/75/100 % of the file and the peak (ru_maxrss from wait4),
then does the same on a WARC 5x smaller: the peak must not grow with the file size.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import gzip
import io
import json
import os
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from features.charset import decode_html  # noqa: E402
from features.page_images import ImageExtractor  # noqa: E402
from jobs.warc_records import MAX_PAYLOAD, iter_records  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data"
WARC_FORMAT_VERSION = 2  # bump when the way the test WARC is written changes (invalidates the cache)
MB = 1_000_000


# -- the test WARC ------------------------------------------------------------------------------

def list_pages(data: Path) -> list[dict]:
    """Every real page available: {'path', 'url', 'charset'}; sorted, so that a seed fixes the sample."""
    pages = []
    more = data / "html-more"
    if (more / "pages.jsonl").exists():
        with open(more / "pages.jsonl", encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                # 306 pages have no known URL: give them one that cannot exist, so relative links resolve.
                url = row.get("url") or f"https://unknown-url.invalid/{row['file']}"
                pages.append({"path": str(more / row["file"]), "url": url, "charset": row.get("charset")})
    aeb = data / "html-aeb"
    if (aeb / "ground-truth.json").exists():
        truth = json.loads((aeb / "ground-truth.json").read_text(encoding="utf-8"))
        for key, item in sorted(truth.items()):
            path = aeb / "html" / f"{key}.html.gz"
            if path.exists():
                pages.append({"path": str(path), "url": item.get("url") or f"https://unknown-url.invalid/{key}",
                              "charset": None})
    if not pages:
        raise SystemExit(f"no pages found under {data} (html-more/pages.jsonl, html-aeb/ground-truth.json)")
    return pages


def _ascii_url(url: str) -> str:
    """WARC and HTTP headers are ASCII: percent-encode the non-ASCII characters (UTF-8), as crawlers do."""
    if url.isascii():
        return url
    from urllib.parse import quote

    return "".join(c if c.isascii() else quote(c) for c in url)


def _check_workdir(workdir: Path) -> Path:
    workdir = workdir.resolve()
    if workdir == REPO or REPO in workdir.parents:
        raise SystemExit(f"--workdir {workdir} is inside the repository: the test WARC must not go there")
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir


def build_warc(workdir: Path, data: Path, size_mb: float, seed: int, log=print, gz: bool = False) -> tuple[Path, dict]:
    """A cached .warc.gz holding at least `size_mb` MB of real HTML payload (with gz: at least `size_mb` MB of
    file, repeating the pages as needed); returns (path, info)."""
    name = f"ccimg-bench-{'gz' if gz else ''}{size_mb:g}MB-seed{seed}-v{WARC_FORMAT_VERSION}.warc.gz"
    path = workdir / name
    info_path = workdir / (name + ".json")
    if path.exists() and info_path.exists():
        info = json.loads(info_path.read_text())
        if info.get("file_bytes") == path.stat().st_size:
            return path, info
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    pages = list_pages(data)
    rng = random.Random(seed)
    target = int(size_mb * MB)
    log(f"building {path} ({size_mb:g} MB of {'file' if gz else 'HTML'} from {len(pages)} real pages) ...")
    t0 = time.perf_counter()
    tmp = path.with_suffix(".tmp")
    html_bytes = n_pages = records = cycles = 0
    date = datetime(2024, 5, 20, tzinfo=timezone.utc)
    by_charset: Counter = Counter()
    with open(tmp, "wb") as f:
        writer = WARCWriter(f, gzip=True)
        writer.write_record(writer.create_warcinfo_record(name, {
            "software": "ccimg benchmarks/extract.py",
            "description": "real pages from shared/data (html-more, html-aeb), not a crawl",
            "format": "WARC File Format 1.1",
        }))
        records += 1
        def done() -> bool:
            return (f.tell() if gz else html_bytes) >= target

        while not done():
            cycles += 1
            order = list(range(len(pages)))
            rng.shuffle(order)
            for i in order:
                if done():
                    break
                page = pages[i]
                with gzip.open(page["path"], "rb") as g:
                    body = g.read()
                url = _ascii_url(page["url"])
                stamp = date.strftime("%Y-%m-%dT%H:%M:%SZ")
                date += timedelta(seconds=1)
                host = url.split("/")[2] if url.count("/") >= 2 else "example.invalid"
                req = (f"GET /{url.split('/', 3)[-1] if url.count('/') >= 3 else ''} HTTP/1.1\r\nHost: {host}\r\n"
                       "User-Agent: CCBot/2.0 (https://commoncrawl.org/faq/)\r\nAccept: text/html\r\n\r\n").encode()
                writer.write_record(writer.create_warc_record(
                    url, "request", payload=io.BytesIO(req), length=len(req),
                    warc_headers_dict={"WARC-Date": stamp}))
                ctype = "text/html" + (f"; charset={page['charset']}" if page["charset"] else "")
                by_charset[page["charset"] or "(none in header)"] += 1
                http = StatusAndHeaders("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body))),
                                                   ("Server", "nginx")], protocol="HTTP/1.1")
                writer.write_record(writer.create_warc_record(
                    url, "response", payload=io.BytesIO(body), length=len(body), http_headers=http,
                    warc_headers_dict={"WARC-Date": stamp, "WARC-Identified-Payload-Type": "text/html"}))
                meta = f"fetchTimeMs: 123\r\ncharset-detected: {page['charset'] or 'UTF-8'}\r\n".encode()
                writer.write_record(writer.create_warc_record(
                    url, "metadata", payload=io.BytesIO(meta), length=len(meta),
                    warc_content_type="application/warc-fields", warc_headers_dict={"WARC-Date": stamp}))
                records += 3
                n_pages += 1
                html_bytes += len(body)
    os.replace(tmp, path)
    info = {"path": str(path), "file_bytes": path.stat().st_size, "html_bytes": html_bytes, "pages": n_pages,
            "records": records, "distinct_pages_available": len(pages), "cycles_over_pages": cycles,
            "seed": seed, "size_mb": size_mb, "size_is": "file" if gz else "html",
            "format_version": WARC_FORMAT_VERSION,
            "header_charsets": dict(by_charset.most_common())}
    info_path.write_text(json.dumps(info, indent=1))
    log(f"  built in {time.perf_counter() - t0:.0f} s: {n_pages} pages, {html_bytes / MB:.0f} MB HTML, "
        f"{info['file_bytes'] / MB:.0f} MB gzipped")
    return path, info


# -- the measured steps --------------------------------------------------------------------------
# Each returns a dict with at least html_bytes and pages (and images where it extracts).

def step_inflate(path: Path, chunk: int = 1 << 16) -> dict:
    """Streaming inflate of every gzip member, the way a WARC reader must (no parsing at all)."""
    out = members = 0
    with open(path, "rb", buffering=0) as f:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        while True:
            data = f.read(chunk)
            if not data:
                break
            while data:
                out += len(d.decompress(data))
                if d.eof:
                    members += 1
                    data = d.unused_data
                    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                else:
                    data = b""
    return {"uncompressed_bytes": out, "members": members}


def step_warcio(path: Path) -> dict:
    from warcio.archiveiterator import ArchiveIterator

    html = pages = 0
    with open(path, "rb", buffering=1 << 20) as f:
        for rec in ArchiveIterator(f):
            if rec.rec_type == "response":
                html += len(rec.content_stream().read())
                pages += 1
    return {"html_bytes": html, "pages": pages}


def step_fastwarc(path: Path) -> dict:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    html = pages = 0
    with open(path, "rb", buffering=1 << 20) as f:
        for rec in ArchiveIterator(f, record_types=WarcRecordType.response, parse_http=True):
            html += len(rec.reader.read())
            pages += 1
    return {"html_bytes": html, "pages": pages}


def step_iter(path: Path) -> dict:
    """The project's record view: iter_records + is_html + payload (what the mapper does before decoding)."""
    html = pages = 0
    with open(path, "rb", buffering=1 << 20) as f:
        for record in iter_records(f):
            if record.type not in ("response", "resource") or not record.is_html():
                continue
            html += len(record.payload(MAX_PAYLOAD))
            pages += 1
    return {"html_bytes": html, "pages": pages}


def _html_records(path: Path, limit: int | None):
    """(record, payload) for the HTML records, as ExtractImagesJob.process_record selects them."""
    html = 0
    with open(path, "rb", buffering=1 << 20) as f:
        for record in iter_records(f):
            if record.type not in ("response", "resource"):
                continue
            if not record.is_html():
                continue
            payload = record.payload(MAX_PAYLOAD)
            yield record, payload
            html += len(payload)
            if limit is not None and html >= limit:
                return


def step_extract(path: Path, parser: str = "lexbor", limit: int | None = None, stage: str = "full") -> dict:
    """One mapper's work per record, without mrjob: see the module docstring.

    `stage` stops early, for the cumulative breakdown: decode, parse, candidates, extract, full.
    """
    from mrjob.protocol import JSONValueProtocol

    extractor = ImageExtractor(parser)
    backend = extractor.backend
    write = JSONValueProtocol().write
    html = pages = images = out_bytes = failed = 0
    filename, crawl = str(path), None
    for record, payload in _html_records(path, limit):
        pages += 1
        html += len(payload)
        text, _enc = decode_html(payload, record.http_content_type)
        if stage == "decode":
            continue
        if stage == "parse":
            backend.parse(text)
            continue
        if stage == "candidates":
            doc = backend.parse(text)
            backend.base_href(doc)
            for _ in backend.candidates(doc):
                pass
            continue
        try:
            page = extractor.extract(text, record.url or "")
        except Exception:  # noqa: BLE001 - as CCJob._process: the record is counted as failed, the task goes on
            failed += 1
            continue
        images += len(page.images)
        if stage == "extract":
            continue
        for img in page.images:
            img["warc_filename"] = filename
            img["warc_offset"] = record.offset
            img["warc_record_id"] = record.record_id
            img["crawl"] = crawl
            img["fetch_time"] = record.date
            out_bytes += len(write(None, img)) + 1
    return {"html_bytes": html, "pages": pages, "images": images, "output_bytes": out_bytes, "pages_failed": failed}


def step_job(path: Path, parser: str = "lexbor") -> dict:
    """The real mapper code path in-process: ExtractImagesJob.run_mapper on a one-line manifest."""
    from jobs.extract_images import ExtractImagesJob

    job = ExtractImagesJob(["--mapper", "--step-num=0", "--no-conf", "--html-parser", parser])
    with open(os.devnull, "wb") as out, tempfile.TemporaryFile() as err:
        job.sandbox(stdin=io.BytesIO(f"{path}\n".encode()), stdout=out, stderr=err)
        job.run_mapper(0)
        err.seek(0)
        counters = parse_counters(err)
    failed = sum(n for k, n in counters.items() if k.startswith("errors,process_record"))
    # The job counts the bytes of the pages it extracted; MB/s use the WARC's HTML total, as for the other steps.
    return {"html_bytes_counted": counters.get("pages,html bytes", 0), "pages": counters.get("pages,html", 0) + failed,
            "images": counters.get("images,emitted", 0), "pages_failed": failed}


def parse_counters(stream) -> Counter:
    """Sum Hadoop streaming counter lines (`reporter:counter:GROUP,NAME,N`)."""
    counters: Counter = Counter()
    for line in stream:
        if line.startswith(b"reporter:counter:"):
            group_name, _, n = line[17:].decode("utf-8", "replace").strip().rpartition(",")
            counters[group_name] += int(n)
    return counters


# -- running and reporting -----------------------------------------------------------------------

def timed(fn) -> tuple[dict, float, float]:
    gc.collect()
    w0, c0 = time.perf_counter(), time.process_time()
    res = fn()
    return res, time.perf_counter() - w0, time.process_time() - c0


def run_throughput(args, path: Path, info: dict, log=print) -> dict:
    bs4_limit = int(args.bs4_mb * MB)
    steps: list[tuple[str, str, object]] = [  # (name, what, fn)
        ("inflate", "zlib streaming inflate, all members", lambda: step_inflate(path)),
        ("warcio", "warcio iterate + read response payloads", lambda: step_warcio(path)),
        ("fastwarc", "fastwarc iterate + read response payloads", lambda: step_fastwarc(path)),
        ("iter", "project iter_records + is_html + payload", lambda: step_iter(path)),
        ("stage:decode", "iter + decode_html", lambda: step_extract(path, stage="decode")),
        ("stage:parse", "+ lexbor parse", lambda: step_extract(path, stage="parse")),
        ("stage:candidates", "+ base_href + css candidates + attribute dicts",
         lambda: step_extract(path, stage="candidates")),
        ("stage:extract", "+ rules, urljoin, context (ImageExtractor.extract)",
         lambda: step_extract(path, stage="extract")),
        ("extract:lexbor", "FULL: + job fields + JSON lines", lambda: step_extract(path, "lexbor")),
        ("job:lexbor", "real ExtractImagesJob.run_mapper in-process", lambda: step_job(path, "lexbor")),
        ("slice extract:lexbor", f"FULL lexbor, first {args.bs4_mb:g} MB of HTML",
         lambda: step_extract(path, "lexbor", limit=bs4_limit)),
        ("slice extract:bs4", f"FULL bs4 (html5lib), first {args.bs4_mb:g} MB of HTML",
         lambda: step_extract(path, "bs4", limit=bs4_limit)),
    ]
    steps += [(name, what, fn) for name, what, fn in PROTOTYPES(path)] if args.prototypes else []
    if args.only:
        keep = set(args.only.split(","))
        steps = [s for s in steps if s[0] in keep or s[0] == "inflate"]
    # Warm the page cache and the imports once, unmeasured.
    step_inflate(path)
    step_extract(path, "lexbor", limit=2 * MB)
    if args.prototypes:
        _texts(path)  # the in-memory pages of the floor rows, loaded before any timing
    samples: dict[str, list] = {name: [] for name, _, _ in steps}
    results: dict[str, dict] = {}
    for rep in range(args.repeat):
        for name, _what, fn in steps:
            res, wall, cpu = timed(fn)
            samples[name].append((wall, cpu))
            results[name] = res
            log(f"  [{rep + 1}/{args.repeat}] {name:<22} {wall:7.2f} s wall {cpu:7.2f} s cpu")
    rows = []
    for name, what, _fn in steps:
        res = results[name]
        html = res.get("html_bytes", info["html_bytes"]) if name != "inflate" else info["html_bytes"]
        pages = res.get("pages", info["pages"])
        walls = [w for w, _ in samples[name]]
        cpus = [c for _, c in samples[name]]
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        row = {"step": name, "what": what, "html_mb": html / MB, "pages": pages, "images": res.get("images"),
               "wall_s": walls, "cpu_s": cpus, "median_wall_s": wall, "median_cpu_s": cpu,
               "mb_s": html / MB / wall, "mb_s_cpu": html / MB / cpu, "pages_s": pages / wall,
               "images_s": (res["images"] / wall) if res.get("images") is not None else None,
               "slice": name.startswith("slice"), "result": res}
        rows.append(row)
    base = next(r for r in rows if r["step"] == "inflate")
    for r in rows:
        r["ratio_vs_inflate"] = r["mb_s"] / base["mb_s"]
        r["ratio_vs_inflate_cpu"] = r["mb_s_cpu"] / base["mb_s_cpu"]
    # Each stage's own cost, in seconds per GB of HTML (differences of cumulative medians).
    order = ["iter", "stage:decode", "stage:parse", "stage:candidates", "stage:extract", "extract:lexbor"]
    by = {r["step"]: r for r in rows}
    breakdown = []
    prev = None
    for name in order if all(n in by for n in order) else []:
        if name not in by:
            prev = None
            continue
        r = by[name]
        per_gb = r["median_cpu_s"] / (r["html_mb"] / 1000)
        own = per_gb - (prev["median_cpu_s"] / (prev["html_mb"] / 1000) if prev else 0.0)
        breakdown.append({"step": name, "what": r["what"], "cumulative_cpu_s_per_gb": per_gb, "own_cpu_s_per_gb": own})
        prev = r
    full = by.get("extract:lexbor")
    if full:
        total = full["median_cpu_s"] / (full["html_mb"] / 1000)
        for b in breakdown:
            b["share"] = b["own_cpu_s_per_gb"] / total
    return {"rows": rows, "breakdown": breakdown}


def print_table(report: dict, info: dict) -> None:
    print()
    print(f"WARC: {info['path']}  {info['file_bytes'] / MB:.0f} MB gzipped, {info['html_bytes'] / MB:.0f} MB HTML, "
          f"{info['pages']} pages, {info['records']} records")
    print(f"{'step':<22} {'MB/s':>7} {'MB/s cpu':>8} {'ratio':>6} {'r. cpu':>6} {'pages/s':>8} {'images/s':>9}  what")
    for r in report["rows"]:
        imgs = f"{r['images_s']:9.0f}" if r["images_s"] is not None else f"{'':9}"
        print(f"{r['step']:<22} {r['mb_s']:7.1f} {r['mb_s_cpu']:8.1f} {r['ratio_vs_inflate']:6.3f} "
              f"{r['ratio_vs_inflate_cpu']:6.3f} {r['pages_s']:8.0f} {imgs}  {r['what']}"
              + (f" [{r['html_mb']:.1f} MB slice]" if r["slice"] else ""))
    print("(MB/s of uncompressed HTML from the median wall and median cpu time; ratio = MB/s / inflate MB/s;"
          " pages/s, images/s: wall)")
    by = {r["step"]: r for r in report["rows"]}
    if "extract:lexbor" in by:
        full = by["extract:lexbor"]
        best = max((r for r in report["rows"] if r["step"].startswith("proto:")), key=lambda r: r["mb_s_cpu"],
                   default=None)
        print(f"target extract:lexbor >= 0.5 x inflate: {full['ratio_vs_inflate_cpu']:.3f} (cpu), "
              f"{full['ratio_vs_inflate']:.3f} (wall): {'MET' if full['ratio_vs_inflate_cpu'] >= 0.5 else 'NOT MET'}"
              + (f"; best prototype {best['step']} {best['ratio_vs_inflate_cpu']:.3f} (cpu), "
                 f"{best['mb_s_cpu'] / full['mb_s_cpu']:.2f}x the project's extraction" if best else ""))
    failed = {r["step"]: r["result"]["pages_failed"] for r in report["rows"] if r["result"].get("pages_failed")}
    if failed:
        print(f"pages whose extraction raised (lost, as the job would count them): {failed}")
    if report["breakdown"]:
        print()
        print(f"{'lexbor stage':<22} {'cpu s/GB':>9} {'own s/GB':>9} {'share':>6}  what")
        for b in report["breakdown"]:
            share = f"{b['share'] * 100:5.1f}%" if "share" in b else ""
            print(f"{b['step']:<22} {b['cumulative_cpu_s_per_gb']:9.2f} {b['own_cpu_s_per_gb']:9.2f} {share:>6}  "
                  f"{b['what']}")


def run_profile(path: Path, mb: float, top: int = 30) -> dict:
    """cProfile of the full lexbor extraction over the first `mb` MB of HTML (deterministic profiler:
    it inflates the cost of many small Python calls; use it for where, the stages above for how much)."""
    prof = cProfile.Profile()
    prof.enable()
    step_extract(path, "lexbor", limit=int(mb * MB))
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt
    rows = []
    for (file, line, func), (cc, nc, tt, ct, _callers) in stats.stats.items():
        rows.append({"function": f"{Path(file).name}:{line}({func})", "ncalls": nc, "tottime": tt, "cumtime": ct})
    rows.sort(key=lambda r: -r["tottime"])
    print()
    print(f"cProfile, full lexbor extraction, first {mb:g} MB of HTML: {total:.2f} s profiled")
    print(f"{'tottime':>8} {'share':>6} {'cumtime':>8} {'ncalls':>9}  function")
    for r in rows[:top]:
        print(f"{r['tottime']:8.3f} {r['tottime'] / total * 100:5.1f}% {r['cumtime']:8.3f} {r['ncalls']:9d}  "
              f"{r['function']}")
    return {"mb": mb, "total_s": total, "top": rows[:top]}


# -- prototypes: faster variants of the extraction, checked against the project's output --------
# Not project code: they show what a change would gain.  `--verify` checks, page by page, that the
# prototype extractor emits exactly the records (and skip counts) of features.page_images.ImageExtractor.

_MAYBE_IMAGE_EXT = None  # compiled on first use: "\.(jpg|jpeg|...)" anywhere in the URL, any case


def _maybe_image_ext():
    global _MAYBE_IMAGE_EXT
    if _MAYBE_IMAGE_EXT is None:
        import re

        from features.page_images import IMAGE_EXTENSIONS

        exts = "|".join(sorted(IMAGE_EXTENSIONS, key=len, reverse=True))
        _MAYBE_IMAGE_EXT = re.compile(rf"\.(?:{exts})", re.I)
    return _MAYBE_IMAGE_EXT


class FastLexborExtractor:
    """Same records as ImageExtractor("lexbor"), less Python per candidate.  Each change can be switched off:

    links  <a>: read only `href` (node.attrs.get), and reject it with one regex search when it cannot
           end in an image extension, before building the attribute dict and before url_extension's
           urlsplit.  Exact: url_extension() can only return an image extension that occurs, after a
           ".", somewhere in the URL.  (~85 % of the candidates are such <a> links.)
    depth  dom_depth from a per-page cache of each ancestor's depth (mem_id -> depth) instead of a walk
           to the root per image; siblings and parent text cached per parent as well.
    text   the same bounded text walk, inlined (no _TextBudget object and method call per text node).
    css    let lexbor drop the ordinary links: `a[href*=".jpg" i], a[href*=".png" i], ...` in the selector
           instead of `a` (document order is kept: one selector list; but lexbor yields an element once per
           selector it matches, so <a href="x.bmp.jpg"> comes twice: deduplicated by mem_id).  Exact for the
           same reason as `links`: url_extension() lowercases, and only ASCII letters lowercase to those
           extensions.
    urls   absolute (`http(s)://host/...`) and scheme-relative (`//host/...`) URLs with a plain host
           skip urljoin + urlsplit: urljoin returns them unchanged (resp. with the base scheme) unless
           they hold ';', tab/CR/LF, an empty query or fragment; such URLs, and all relative ones, take
           the urljoin path as before.  (About 80 % of image URLs on these pages are absolute.)
    """

    def __init__(self, links: bool = True, depth: bool = True, text: bool = True, css: bool = False,
                 urls: bool = False):
        from selectolax.lexbor import LexborHTMLParser

        from features.html_backends import CANDIDATE_TAGS, LexborBackend
        from features.image_record import PARENT_TEXT_MAX

        self._parser_cls = LexborHTMLParser
        self._selector = ", ".join(CANDIDATE_TAGS)
        self._backend = LexborBackend(text_limit=PARENT_TEXT_MAX)  # base_href, and the reference context()
        self.text_limit = PARENT_TEXT_MAX
        self.links, self.depth, self.text, self.urls, self.css = links, depth, text, urls, css
        if css:
            exts = ("jpg", "jpe", "jfif", "pjpeg", "png", "apng", "gif", "bmp", "tif", "webp", "avif", "svg", "ico",
                    "heic", "heif")  # every IMAGE_EXTENSIONS member contains one of these
            self._selector = ", ".join([t for t in CANDIDATE_TAGS if t != "a"]
                                       + [f'a[href*=".{e}" i]' for e in exts])
        self.parser = "lexbor-fast"

    def extract(self, html, page_url: str):
        from urllib.parse import urljoin, urlsplit

        from features import page_images as pi
        _ws = pi._WS
        result = pi.PageImages()
        doc = self._parser_cls(html)
        backend = self._backend
        backend._sibling_cache = {}
        base = page_url
        base_href = backend.base_href(doc)
        if base_href is not None and base_href.strip(_ws):
            try:
                base = urljoin(page_url, base_href.strip(_ws))
            except ValueError:
                result.skipped["bad_base_href"] += 1
        page_host = pi.host_of(page_url)
        images = result.images
        skipped = result.skipped
        maybe_image = _maybe_image_ext().search
        links = self.links
        ctx_cache: dict[int, tuple] = {}
        depth_cache: dict[int, int] = {}
        fast_url = _fast_url if self.urls else None
        css = self.css
        seen: set[int] = set()
        base_scheme = urlsplit(base).scheme if base else ""
        context = self._context if self.depth else backend.context
        for node in doc.css(self._selector):
            tag = node.tag
            lazy = False
            if tag == "a" and links:
                href = node.attrs.get("href")
                if not href or not maybe_image(href):
                    continue  # an ordinary link (exactly what _media_link_source would decide)
                if css:  # lexbor returns an element once per selector of the list it matches: `x.bmp.jpg`
                    key = node.mem_id
                    if key in seen:
                        continue
                    seen.add(key)
            attrs = {k: ("" if v is None else v) for k, v in node.attributes.items()}
            if tag == "img":
                raw, src_attr, lazy = pi._img_source(attrs)
                if raw is None:
                    skipped["no_src"] += 1
                    continue
            elif tag == "source":
                p = node.parent
                if (p.tag if p is not None else None) != "picture":
                    continue
                raw, src_attr, lazy = pi._source_srcset(attrs)
                if raw is None:
                    skipped["no_src"] += 1
                    continue
            else:
                raw, src_attr = pi._media_link_source(tag, attrs)
                if raw is None:
                    continue
            scheme = raw.split(":", 1)[0].lower() if ":" in raw[:12] else ""
            if scheme == "data":
                skipped["data_url"] += 1
                continue
            if scheme == "javascript":
                skipped["javascript_url"] += 1
                continue
            hit = fast_url(base_scheme, raw) if fast_url is not None else None
            if hit is not None:
                img_url, img_host = hit
            else:
                try:
                    img_url = urljoin(base, raw)
                    parts = urlsplit(img_url)
                    img_host = (parts.hostname or "").lower()
                except ValueError:
                    skipped["invalid_url"] += 1
                    continue
                if parts.scheme not in ("http", "https") or not img_host:
                    skipped["other_scheme"] += 1
                    continue
            if self.depth:
                parent_tag, parent_text, depth, siblings, in_noscript = context(node, ctx_cache, depth_cache)
            else:
                parent_tag, parent_text, depth, siblings, in_noscript = context(node)
            srcset = attrs.get("srcset")
            if srcset is None:
                srcset = attrs.get("data-srcset")
            style = attrs.get("style")
            get = attrs.get
            images.append({
                "page_url": page_url, "img_url": img_url, "src": raw, "src_attr": src_attr, "element": tag,
                "alt": get("alt"), "title": get("title"), "width_attr": get("width"),
                "height_attr": get("height"), "srcset": srcset, "sizes": get("sizes"), "class": get("class"),
                "id": get("id"), "style": style[:200] if style is not None else None, "loading": get("loading"),
                "lazy": lazy, "in_noscript": in_noscript, "rel": get("rel"), "parent_tag": parent_tag,
                "parent_text": parent_text,
                "dom_depth": depth, "dom_siblings": siblings, "position": len(images),
                "same_domain": img_host == page_host, "page_host": page_host, "img_host": img_host,
            })
        n = len(images)
        for rec in images:
            rec["page_images"] = n
        return result

    def _context(self, node, ctx_cache: dict, depth_cache: dict):
        parent = node.parent
        if parent is None:
            return None, "", 0, 0, False
        key = parent.mem_id
        hit = ctx_cache.get(key)
        if hit is not None:
            return hit
        # For each ancestor-or-self x below the document node: (number of such nodes from x up,
        # whether one of them is a <noscript>), cached by mem_id for the whole page.
        chain = []
        p = parent
        d, ns = 0, False
        while p is not None:
            pk = p.mem_id
            cached = depth_cache.get(pk)
            if cached is not None:
                d, ns = cached
                break
            tag = p.tag
            if tag == "-document":
                break
            chain.append((pk, tag == "noscript"))
            p = p.parent
        for pk, is_ns in reversed(chain):
            d += 1
            ns = ns or is_ns
            depth_cache[pk] = (d, ns)
        depth, noscript = depth_cache.get(key, (0, False))
        if not chain and depth == 0:  # the parent is the document node
            out = (None, "", 0, 0, False)
        else:
            count = 0
            c = parent.child
            while c is not None:
                tag = c.tag  # None for a bogus comment such as <?php ?>
                if tag and not tag.startswith("-"):
                    count += 1
                c = c.next
            text = self._text(parent) if self.text else self._backend._text(parent)
            out = (parent.tag, text, depth, count - 1, noscript)
        ctx_cache[key] = out
        return out

    def _text(self, node) -> str:
        limit = self.text_limit
        pieces: list[str] = []
        raw_len = 0
        next_check = limit
        stack = []
        c = node.child
        while True:
            while c is None:
                if not stack:
                    return " ".join("".join(pieces).split())[:limit]
                c = stack.pop()
            tag = c.tag
            if tag == "-text":
                piece = c.text(deep=False)
                pieces.append(piece)
                raw_len += len(piece)
                if raw_len > next_check:
                    joined = " ".join("".join(pieces).split())
                    if len(joined) > limit:
                        return joined[:limit]
                    next_check = raw_len * 2
                c = c.next
            elif not tag or tag.startswith("-") or tag in _TEXT_SKIP:
                c = c.next
            else:
                stack.append(c.next)
                c = c.child


_TEXT_SKIP = frozenset({"script", "style", "template"})
_ABS_URL = None


def _fast_url(base_scheme: str, raw: str) -> tuple[str, str] | None:
    """(urljoin(base, raw), its lowercased host) without urllib for plain absolute URLs, else None.

    urljoin(base, "http(s)://host...") is the URL itself (a different scheme: returned as is; the same
    scheme: urlunparse(urlparse(url)), which only differs for ';' params, an empty '?' or '#', tab/CR/LF);
    "//host..." gets the base scheme.  A host of [A-Za-z0-9.-] has no userinfo, port, IPv6 or IDNA
    subtleties, so urlsplit(...).hostname is host.lower().
    """
    global _ABS_URL
    if _ABS_URL is None:
        import re

        _ABS_URL = re.compile(r"(?:(https?):)?//([A-Za-z0-9.\-]+)(?:[/?#]|$)")
    m = _ABS_URL.match(raw)
    if m is None or ";" in raw or "\t" in raw or "\n" in raw or "\r" in raw:
        return None
    n = len(raw)
    h = raw.find("#")
    if h == n - 1:
        return None
    q = raw.find("?")
    if q != -1 and (h == -1 or q < h) and q + 1 == (h if h != -1 else n):
        return None
    scheme = m.group(1)
    if scheme is None:
        if base_scheme not in ("http", "https"):
            return None
        return base_scheme + ":" + raw, m.group(2).lower()
    return raw, m.group(2).lower()


def html_for_lexbor(payload: bytes, content_type: str | None):
    """decode_html's text, or the payload itself where that text is its exact UTF-8 decoding: lexbor parses
    bytes as UTF-8, so it gets the same input bytes without the str -> UTF-8 copy selectolax makes.

    Exact: with codec utf-8 and no U+FFFD in the text, no byte was replaced, so text.encode() == payload.
    """
    text, enc = decode_html(payload, content_type)
    if enc == "utf-8" and (text.isascii() or "\ufffd" not in text):
        return payload
    return text


def _orjson():
    """orjson if importable (install it outside the repo with `pip install --target WORKDIR/pylib orjson`)."""
    try:
        import orjson
    except ImportError:
        return None
    return orjson


def _fastwarc_html_records(path: Path, limit: int | None):
    """Like _html_records, but over fastwarc: the project's Record (and its is_html) filled from fastwarc.

    Equivalent only for WARCs whose payloads are stored without transfer/content encoding (Common Crawl
    stores them decoded); fastwarc neither dechunks nor reads ARC.
    """
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    from jobs import warc_records
    from jobs.warc_records import Record

    norm_date = getattr(warc_records, "normalise_warc_date", lambda v: v)  # as _to_record does
    html = 0
    with open(path, "rb", buffering=1 << 20) as f:
        for rec in ArchiveIterator(f, record_types=WarcRecordType.response | WarcRecordType.resource,
                                   parse_http=True):
            h = rec.headers
            is_response = rec.record_type == WarcRecordType.response
            http = rec.http_headers if is_response else None
            status = None
            if http is not None:
                try:
                    status = int(http.status_code or 0) or None
                except ValueError:
                    status = None
            record = Record(type="response" if is_response else "resource", url=h.get("WARC-Target-URI"),
                            date=norm_date(h.get("WARC-Date")), record_id=h.get("WARC-Record-ID"),
                            offset=rec.stream_pos,
                            http_status=status,
                            http_content_type=(http.get("Content-Type") if http is not None
                                               else h.get("Content-Type")),
                            identified_type=h.get("WARC-Identified-Payload-Type"),
                            _payload=rec.reader.read(MAX_PAYLOAD))
            if not record.is_html():
                continue
            payload = record._payload
            yield record, payload
            html += len(payload)
            if limit is not None and html >= limit:
                return


def step_proto(path: Path, iterate: str = "warcio", extractor: str = "fast", dumps: str = "json",
               limit: int | None = None, raw_bytes: bool = False, **flags) -> dict:
    """The full extraction with prototype parts swapped in; the rest as in step_extract."""
    from mrjob.protocol import JSONValueProtocol

    ex = FastLexborExtractor(**flags) if extractor == "fast" else ImageExtractor("lexbor")
    records = _fastwarc_html_records(path, limit) if iterate == "fastwarc" else _html_records(path, limit)
    if dumps == "orjson":
        write = _orjson().dumps
    else:
        proto_write = JSONValueProtocol().write

        def write(value):
            return proto_write(None, value)
    html = pages = images = out_bytes = failed = 0
    filename, crawl = str(path), None
    for record, payload in records:
        pages += 1
        html += len(payload)
        if raw_bytes:
            text = html_for_lexbor(payload, record.http_content_type)
        else:
            text, _enc = decode_html(payload, record.http_content_type)
        try:
            page = ex.extract(text, record.url or "")
        except Exception:  # noqa: BLE001 - as CCJob._process
            failed += 1
            continue
        images += len(page.images)
        for img in page.images:
            img["warc_filename"] = filename
            img["warc_offset"] = record.offset
            img["warc_record_id"] = record.record_id
            img["crawl"] = crawl
            img["fetch_time"] = record.date
            out_bytes += len(write(img)) + 1
    return {"html_bytes": html, "pages": pages, "images": images, "output_bytes": out_bytes, "pages_failed": failed}


_TEXTS: list = []


def _texts(path: Path) -> list:
    """The decoded pages of the WARC, in memory (once): for the parse-only floors."""
    if not _TEXTS:
        for record, payload in _html_records(path, None):
            _TEXTS.append((len(payload), decode_html(payload, record.http_content_type)[0]))
    return _TEXTS


def step_floor(path: Path, what: str) -> dict:
    """Lower bounds with no I/O, no WARC and no Python rules: lexbor alone over pre-decoded pages."""
    from selectolax.lexbor import LexborHTMLParser

    from features.html_backends import CANDIDATE_TAGS

    sel = ", ".join(CANDIDATE_TAGS)
    html = pages = 0
    for n, text in _texts(path):
        doc = LexborHTMLParser(text)
        if what == "css":
            doc.css(sel)
        pages += 1
        html += n
    return {"html_bytes": html, "pages": pages}


def PROTOTYPES(path: Path) -> list:  # noqa: N802 - a registry, called like a constant
    protos = [
        ("floor:parse", "lexbor parse only, pages pre-decoded in memory (no WARC, no rules)",
         lambda: step_floor(path, "parse")),
        ("floor:parse+css", "+ css select of the candidates, in memory", lambda: step_floor(path, "css")),
        ("proto:links", "FULL, prototype: <a> prefilter only",
         lambda: step_proto(path, depth=False, text=False)),
        ("proto:+ctx", "FULL, prototype: + cached depth/siblings/text, inlined text walk",
         lambda: step_proto(path)),
        ("proto:+urls", "FULL, prototype: + urljoin fast path for plain absolute URLs",
         lambda: step_proto(path, urls=True)),
        ("proto:+bytes", "FULL, prototype: + valid UTF-8 payload parsed as bytes",
         lambda: step_proto(path, raw_bytes=True, urls=True)),
        ("proto:+fastwarc", "FULL, prototype: + fastwarc iteration",
         lambda: step_proto(path, iterate="fastwarc", raw_bytes=True, urls=True)),
    ]
    if _orjson() is not None:
        protos.append(("proto:+orjson", "FULL, prototype: + orjson lines (not ASCII-escaped: other bytes)",
                       lambda: step_proto(path, iterate="fastwarc", dumps="orjson", raw_bytes=True, urls=True)))
    protos.append(("proto:ctx+css", "FULL, prototype: links+ctx, <a> dropped by CSS selectors (a loss)",
                   lambda: step_proto(path, css=True)))
    return protos


def verify_prototype(path: Path, limit: int | None = None) -> dict:
    """Compare the prototype's records with the project's, page by page (the WARC fields aside)."""
    ref = ImageExtractor("lexbor")
    fasts = [FastLexborExtractor(urls=True), FastLexborExtractor(css=True, urls=True)]
    pages = images = bad_pages = 0
    examples: list = []
    ref_failed: list = []
    for record, payload in _html_records(path, limit):
        text, _ = decode_html(payload, record.http_content_type)
        pages += 1
        try:
            a = ref.extract(text, record.url or "")
        except Exception as exc:  # noqa: BLE001 - the project extractor loses the whole page: see the report
            ref_failed.append({"url": record.url, "error": f"{type(exc).__name__}: {exc}"})
            continue
        images += len(a.images)
        html = html_for_lexbor(payload, record.http_content_type)
        for b in (fast.extract(html, record.url or "") for fast in fasts):
            if [list(x.items()) for x in a.images] == [list(x.items()) for x in b.images] and a.skipped == b.skipped:
                continue  # the same records, field order included (it is the order of the JSON output)
            bad_pages += 1
            if len(examples) < 5:
                diff = next((i for i, (x, y) in enumerate(zip(a.images, b.images, strict=False)) if x != y), None)
                examples.append({"url": record.url, "n_ref": len(a.images), "n_proto": len(b.images),
                                 "first_diff": diff,
                                 "ref": a.images[diff] if diff is not None else None,
                                 "proto": b.images[diff] if diff is not None else None})
    return {"pages": pages, "images": images, "pages_differing": bad_pages, "examples": examples,
            "pages_where_project_extractor_raised": ref_failed}


# -- peak memory ---------------------------------------------------------------------------------

def run_mapper_rss(path: Path, info: dict, parser: str, interval: float, workdir: Path, log=print) -> dict:
    import psutil

    manifest = workdir / f"manifest-{path.stem}.txt"
    manifest.write_text(f"{path}\n")
    err_path = workdir / f"mapper-stderr-{path.stem}.txt"
    cmd = [sys.executable, "-m", "jobs.extract_images", "--mapper", "--step-num=0", "--no-conf",
           "--html-parser", parser]
    size = path.stat().st_size
    samples = []  # (t, rss, position in WARC)
    with open(manifest, "rb") as stdin, open(os.devnull, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdin=stdin, stdout=out, stderr=err)
    ps = psutil.Process(proc.pid)
    fd = None
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        try:
            rss = ps.memory_info().rss
            pos = None
            if fd is None:
                for of in ps.open_files():
                    if of.path == str(path):
                        fd, pos = of.fd, of.position
            else:
                with open(f"/proc/{proc.pid}/fdinfo/{fd}") as fi:
                    pos = int(fi.readline().split()[1])
        except (psutil.Error, OSError, ValueError, IndexError):
            rss = pos = None
        if rss is not None:
            samples.append((time.perf_counter() - t0, rss, pos))
        time.sleep(interval)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    with open(err_path, "rb") as f:
        counters = parse_counters(f)
    peak = ru.ru_maxrss * 1024  # Linux: KiB
    points = {}
    started = [s for s in samples if s[2] is not None]
    for frac in (0.25, 0.5, 0.75, 1.0):
        hit = next((s for s in started if s[2] >= frac * size), None)
        if frac == 1.0 and started:
            hit = started[-1]
        if hit:
            points[f"{int(frac * 100)}%"] = {"t_s": hit[0], "rss_mb": hit[1] / MB, "pos_mb": hit[2] / MB}
    first = started[0] if started else None
    res = {"warc": str(path), "warc_mb": size / MB, "html_mb": info["html_bytes"] / MB, "pages": info["pages"],
           "cmd": " ".join(cmd) + f" < {manifest} > /dev/null 2> {err_path}", "returncode": proc.returncode,
           "wall_s": wall, "html_mb_s": info["html_bytes"] / MB / wall, "cpu_s": ru.ru_utime + ru.ru_stime,
           "html_mb_s_cpu": info["html_bytes"] / MB / max(1e-9, ru.ru_utime + ru.ru_stime), "peak_rss_mb": peak / MB,
           "max_sampled_rss_mb": max((s[1] for s in samples), default=0) / MB,
           "rss_at_start_of_file_mb": first[1] / MB if first else None, "rss_at": points,
           "n_samples": len(samples), "counters": dict(counters),
           "curve": [(round(t, 2), round(r / MB, 1), round(p / MB, 1) if p is not None else None)
                     for t, r, p in samples[:: max(1, len(samples) // 60)]]}
    log(f"  {path.name}: rc {proc.returncode}, {wall:.0f} s, peak RSS {peak / MB:.0f} MB, "
        f"pages {counters.get('pages,html', 0)}/{info['pages']}, images {counters.get('images,emitted', 0)}")
    return res


def run_peak_memory(args, workdir: Path, log=print) -> dict:
    big, big_info = build_warc(workdir, args.data, args.peak_size_mb, args.seed, log, gz=True)
    small, small_info = build_warc(workdir, args.data, args.peak_size_mb / 5, args.seed, log, gz=True)
    runs = {}
    for label, path, info in (("large", big, big_info), ("small", small, small_info)):
        log(f"mapper subprocess on the {label} WARC ...")
        runs[label] = run_mapper_rss(path, info, args.parser, args.interval, workdir, log)
    lg, sm = runs["large"], runs["small"]
    at = lg["rss_at"]
    growth = (at["100%"]["rss_mb"] - at["25%"]["rss_mb"]) if "25%" in at and "100%" in at else None
    verdict = {
        "rss_growth_25_to_100_pct_mb": growth,
        "peak_large_over_small": lg["peak_rss_mb"] / sm["peak_rss_mb"],
        "file_size_large_over_small": lg["warc_mb"] / sm["warc_mb"],
        "flat": growth is not None and growth < max(25.0, 0.1 * lg["peak_rss_mb"])
        and lg["peak_rss_mb"] / sm["peak_rss_mb"] < 1.25,
    }
    print()
    print(f"{'WARC':<8} {'gz MB':>6} {'HTML MB':>8} {'MB/s':>6} {'cpu':>6} {'start':>6} {'25%':>6} {'50%':>6} "
          f"{'75%':>6} {'100%':>6} {'peak':>6}  (RSS in MB; MB/s of HTML, wall and cpu)")
    for label, r in runs.items():
        pts = [r["rss_at"].get(k, {}).get("rss_mb") for k in ("25%", "50%", "75%", "100%")]
        cells = " ".join(f"{p:6.0f}" if p is not None else f"{'-':>6}" for p in pts)
        start = r["rss_at_start_of_file_mb"]
        print(f"{label:<8} {r['warc_mb']:6.0f} {r['html_mb']:8.0f} {r['html_mb_s']:6.1f} {r['html_mb_s_cpu']:6.1f} "
              f"{start if start is not None else 0:6.0f} {cells} {r['peak_rss_mb']:6.0f}")
    print(f"RSS growth 25% -> 100% of the large file: {growth:.1f} MB; peak large/small "
          f"{verdict['peak_large_over_small']:.2f} for a file {verdict['file_size_large_over_small']:.1f}x larger: "
          f"{'FLAT' if verdict['flat'] else 'GROWS: a leak or a per-file accumulation, investigate'}")
    return {"runs": runs, "verdict": verdict}


# -- main ----------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=float, default=200, help="MB of uncompressed HTML in the test WARC (200)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each step; the median is reported (3)")
    ap.add_argument("--bs4-mb", type=float, default=4, help="MB of HTML for the bs4 slice (4)")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "ccimg-bench",
                    help="where the test WARCs are cached (never inside the repository)")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder (../shared/data)")
    ap.add_argument("--seed", type=int, default=2024, help="page sampling seed")
    ap.add_argument("--out", type=Path, default=None, help="write the results as JSON here "
                    "(default: WORKDIR/extract-results[-peak].json)")
    ap.add_argument("--only", default=None, help="comma-separated step names to run (inflate always runs)")
    ap.add_argument("--no-prototypes", dest="prototypes", action="store_false",
                    help="skip the prototype rows (faster variants of the extraction, not project code)")
    ap.add_argument("--verify", action="store_true",
                    help="check that the prototype extractor emits exactly the project's records, page by page")
    ap.add_argument("--profile", action="store_true", help="also cProfile the lexbor extraction")
    ap.add_argument("--profile-mb", type=float, default=40, help="MB of HTML to profile (40)")
    ap.add_argument("--peak-memory", action="store_true",
                    help="instead of throughput: RSS of one real mapper subprocess over a large and a 5x smaller WARC")
    ap.add_argument("--peak-size-mb", type=float, default=500,
                    help="MB of gzipped WARC, large file (500: about 2.6 GB of HTML); the small one is 5x smaller")
    ap.add_argument("--parser", default="lexbor", help="HTML parser of the mapper in --peak-memory (lexbor)")
    ap.add_argument("--interval", type=float, default=0.1, help="RSS sampling interval in seconds (0.1)")
    args = ap.parse_args(argv)
    workdir = _check_workdir(args.workdir)
    if (workdir / "pylib").is_dir():  # optional extras for the prototypes (orjson), never the venv's own
        sys.path.append(str(workdir / "pylib"))

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    meta = {"python": sys.version.split()[0], "cpu_count": os.cpu_count(), "argv": sys.argv,
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "load_avg_start": os.getloadavg()}
    if args.peak_memory:
        result = {"meta": meta, "peak_memory": run_peak_memory(args, workdir, log)}
        out = args.out or workdir / "extract-results-peak.json"
    else:
        path, info = build_warc(workdir, args.data, args.size_mb, args.seed, log)
        report = run_throughput(args, path, info, log)
        print_table(report, info)
        result = {"meta": meta, "warc": info, "throughput": report}
        if args.verify:
            log("verifying the prototype extractor against ImageExtractor('lexbor') ...")
            result["verify"] = v = verify_prototype(path)
            print(f"\nprototype check: {v['pages']} pages, {v['images']} images, "
                  f"{v['pages_differing']} pages differ" + (f": {v['examples']}" if v["examples"] else ""))
            for e in v["pages_where_project_extractor_raised"]:
                print(f"  project ImageExtractor raised (page lost): {e['url']}: {e['error']}")
        if args.profile:
            result["profile"] = run_profile(path, args.profile_mb)
        out = args.out or workdir / "extract-results.json"
    meta["load_avg_end"] = os.getloadavg()
    Path(out).write_text(json.dumps(result, indent=1, default=str))
    print(f"\nresults: {out}  (load average {meta['load_avg_start'][0]:.2f} -> {meta['load_avg_end'][0]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
