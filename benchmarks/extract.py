"""Throughput and memory of image extraction from a WARC, on real pages, one core.

Usage (from the repository root, with the project's venv):

    .venv/bin/python -m benchmarks.extract                      # 200 MB of HTML, 3 repeats, medians
    .venv/bin/python -m benchmarks.extract --size-mb 50 --repeat 5 --out /tmp/bench.json
    .venv/bin/python -m benchmarks.extract --profile            # + cProfile of the lexbor extraction
    .venv/bin/python -m benchmarks.extract --peak-memory        # RSS of one real mapper over a >= 500 MB WARC

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
  bs4 runs on the first --bs4-mb MB of HTML only (it is ~50x slower); lexbor is run on the same
  slice to compare like with like. Those rows are labelled "slice" and their MB/s are measured on
  the slice, not on the whole file.
Figures are MB/s of uncompressed HTML payload (10^6 bytes) per core; "ratio" is against inflate.

Peak memory (--peak-memory): runs `python -m jobs.extract_images --mapper --step-num=0 --no-conf`
as a subprocess on a one-line manifest naming a >= 500 MB WARC, samples its RSS and its read position
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
WARC_FORMAT_VERSION = 1  # bump when the way the test WARC is written changes (invalidates the cache)
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


def _check_workdir(workdir: Path) -> Path:
    workdir = workdir.resolve()
    if workdir == REPO or REPO in workdir.parents:
        raise SystemExit(f"--workdir {workdir} is inside the repository: the test WARC must not go there")
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir


def build_warc(workdir: Path, data: Path, size_mb: float, seed: int, log=print) -> tuple[Path, dict]:
    """A cached .warc.gz holding at least `size_mb` MB of real HTML payload; returns (path, info)."""
    name = f"ccimg-bench-{size_mb:g}MB-seed{seed}-v{WARC_FORMAT_VERSION}.warc.gz"
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
    log(f"building {path} ({size_mb:g} MB of HTML from {len(pages)} real pages) ...")
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
        while html_bytes < target:
            cycles += 1
            order = list(range(len(pages)))
            rng.shuffle(order)
            for i in order:
                if html_bytes >= target:
                    break
                page = pages[i]
                with gzip.open(page["path"], "rb") as g:
                    body = g.read()
                url = page["url"]
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
            "seed": seed, "size_mb": size_mb, "format_version": WARC_FORMAT_VERSION,
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
    html = pages = images = out_bytes = 0
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
        page = extractor.extract(text, record.url or "")
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
    return {"html_bytes": html, "pages": pages, "images": images, "output_bytes": out_bytes}


def step_job(path: Path, parser: str = "lexbor") -> dict:
    """The real mapper code path in-process: ExtractImagesJob.run_mapper on a one-line manifest."""
    from jobs.extract_images import ExtractImagesJob

    job = ExtractImagesJob(["--mapper", "--step-num=0", "--no-conf", "--html-parser", parser])
    with open(os.devnull, "wb") as out, tempfile.TemporaryFile() as err:
        job.sandbox(stdin=io.BytesIO(f"{path}\n".encode()), stdout=out, stderr=err)
        job.run_mapper(0)
        err.seek(0)
        counters = parse_counters(err)
    return {"html_bytes": counters.get("pages,html bytes", 0), "pages": counters.get("pages,html", 0),
            "images": counters.get("images,emitted", 0)}


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
    for name in order:
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
    print(f"{'step':<22} {'MB/s':>7} {'MB/s cpu':>8} {'ratio':>6} {'pages/s':>8} {'images/s':>9}  what")
    for r in report["rows"]:
        imgs = f"{r['images_s']:9.0f}" if r["images_s"] is not None else f"{'':9}"
        print(f"{r['step']:<22} {r['mb_s']:7.1f} {r['mb_s_cpu']:8.1f} {r['ratio_vs_inflate']:6.3f} "
              f"{r['pages_s']:8.0f} {imgs}  {r['what']}"
              + (f" [{r['html_mb']:.1f} MB slice]" if r["slice"] else ""))
    print("(MB/s of uncompressed HTML, median wall and median cpu time; ratio = MB/s / inflate MB/s, wall)")
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


# -- prototypes (filled in below; not project code) ----------------------------------------------

def PROTOTYPES(path: Path) -> list:  # noqa: N802 - a registry, called like a constant
    return []


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
           "wall_s": wall, "html_mb_s": info["html_bytes"] / MB / wall, "peak_rss_mb": peak / MB,
           "max_sampled_rss_mb": max((s[1] for s in samples), default=0) / MB,
           "rss_at_start_of_file_mb": first[1] / MB if first else None, "rss_at": points,
           "n_samples": len(samples), "counters": dict(counters),
           "curve": [(round(t, 2), round(r / MB, 1), round(p / MB, 1) if p is not None else None)
                     for t, r, p in samples[:: max(1, len(samples) // 60)]]}
    log(f"  {path.name}: rc {proc.returncode}, {wall:.0f} s, peak RSS {peak / MB:.0f} MB, "
        f"pages {counters.get('pages,html', 0)}/{info['pages']}, images {counters.get('images,emitted', 0)}")
    return res


def run_peak_memory(args, workdir: Path, log=print) -> dict:
    big, big_info = build_warc(workdir, args.data, args.peak_size_mb, args.seed, log)
    small, small_info = build_warc(workdir, args.data, args.peak_size_mb / 5, args.seed, log)
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
    print(f"{'WARC':<8} {'gz MB':>6} {'HTML MB':>8} {'MB/s':>6} {'start':>6} {'25%':>6} {'50%':>6} {'75%':>6} "
          f"{'100%':>6} {'peak':>6}  (RSS in MB)")
    for label, r in runs.items():
        pts = [r["rss_at"].get(k, {}).get("rss_mb") for k in ("25%", "50%", "75%", "100%")]
        cells = " ".join(f"{p:6.0f}" if p is not None else f"{'-':>6}" for p in pts)
        start = r["rss_at_start_of_file_mb"]
        print(f"{label:<8} {r['warc_mb']:6.0f} {r['html_mb']:8.0f} {r['html_mb_s']:6.1f} "
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
    ap.add_argument("--profile", action="store_true", help="also cProfile the lexbor extraction")
    ap.add_argument("--profile-mb", type=float, default=40, help="MB of HTML to profile (40)")
    ap.add_argument("--peak-memory", action="store_true",
                    help="instead of throughput: RSS of one real mapper subprocess over a large and a 5x smaller WARC")
    ap.add_argument("--peak-size-mb", type=float, default=600, help="MB of HTML in the large WARC (600; >= 500)")
    ap.add_argument("--parser", default="lexbor", help="HTML parser of the mapper in --peak-memory (lexbor)")
    ap.add_argument("--interval", type=float, default=0.1, help="RSS sampling interval in seconds (0.1)")
    args = ap.parse_args(argv)
    workdir = _check_workdir(args.workdir)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    meta = {"python": sys.version.split()[0], "cpu_count": os.cpu_count(), "argv": sys.argv,
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "load_avg_start": os.getloadavg()}
    if args.peak_memory:
        if args.peak_size_mb < 500:
            log("warning: --peak-size-mb below 500: the brief asks for a WARC of at least 500 MB")
        result = {"meta": meta, "peak_memory": run_peak_memory(args, workdir, log)}
        out = args.out or workdir / "extract-results-peak.json"
    else:
        path, info = build_warc(workdir, args.data, args.size_mb, args.seed, log)
        report = run_throughput(args, path, info, log)
        print_table(report, info)
        result = {"meta": meta, "warc": info, "throughput": report}
        if args.profile:
            result["profile"] = run_profile(path, args.profile_mb)
        out = args.out or workdir / "extract-results.json"
    meta["load_avg_end"] = os.getloadavg()
    Path(out).write_text(json.dumps(result, indent=1, default=str))
    print(f"\nresults: {out}  (load average {meta['load_avg_start'][0]:.2f} -> {meta['load_avg_end'][0]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
