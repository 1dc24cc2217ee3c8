"""Throughput and memory of image extraction from a WARC, on real pages, one core.

Usage (from the repository root, with the project's venv):

    .venv/bin/python -m benchmarks.extract                      # 200 MB of HTML, 3 repeats, medians
    .venv/bin/python -m benchmarks.extract --size-mb 50 --repeat 5 --out /tmp/bench.json
    .venv/bin/python -m benchmarks.extract --verify --profile   # + check against the reference + cProfile
    .venv/bin/python -m benchmarks.extract --size-mb 800 --repeat 1 --only inflate --no-prototypes --verify
                                                                # the check on every real page (5,590)
    .venv/bin/python -m benchmarks.extract --peak-memory        # RSS of one real mapper over a 500 MB .warc.gz

The test WARC is built once from the real pages in ../shared/data/html-more and html-aeb (one
gzip member per record, warcinfo then request/response/metadata per page, as Common Crawl) and
cached under --workdir (default: $TMPDIR/ccimg-bench, never inside the repository).

Throughput (all on the same WARC, in one process, round-robin over the steps so that the noise
of a shared machine spreads evenly; the medians of --repeat runs are reported):
  inflate      streaming zlib over the gzip members (the floor every reader pays)
  warcio       warcio ArchiveIterator + read of every response payload
  fastwarc     fastwarc ArchiveIterator + read of every response payload (for comparison)
  iter         the project's dataio.warc.iter_records + is_html() + payload()
  extract:P    what one mapper does per record: iter_records, is_html,
               ImageExtractor(P).extract_payload (decode_html, parse, rules), the job's extra fields,
               JSON lines (mrjob's protocol)
  ref:lexbor   the same with the extraction as it was before its speed-ups (ReferenceLexborExtractor:
               a frozen copy, decoded text to lexbor); --verify checks that the project's records are
               exactly the reference's, page by page
  job:P        the real ExtractImagesJob.run_mapper in-process (counters to stderr, output to /dev/null)
  stage:*      cumulative steps of the lexbor extraction (differences = cost of each step)
  guard:off    extract:lexbor without the page guard of features.page.limits (no '<' count, no child)
  guard:fork-all  extract:lexbor with every page parsed in a forked child under RLIMIT_AS and a time limit
               (the alternative guard; CPU time includes the children's)
  floor:*      lexbor alone over the pages held in memory: what no Python change can beat
  proto:*      prototypes of what is left outside the extractor (fastwarc iteration, orjson lines), around
               the project's extractor; not project code
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
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from features.page.charset import decode_html, utf8_payload  # noqa: E402
from features.page.backends import CANDIDATE_TAGS  # noqa: E402
from features.page.record_fields import PARENT_TEXT_MAX  # noqa: E402
from features.page.images import ImageExtractor, PageImages, could_be_image_link  # noqa: E402
from features.page.licenses import LICENSE_FIELDS  # noqa: E402
from dataio.warc import MAX_PAYLOAD, iter_records  # noqa: E402

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


def step_extract(path: Path, parser: str = "lexbor", limit: int | None = None, stage: str = "full",
                 reference: bool = False, licenses: bool = True, guard: str = "default") -> dict:
    """One mapper's work per record, without mrjob: see the module docstring.

    `stage` stops early, for the cumulative breakdown: decode, parse, candidates, extract, full.
    `reference`: the frozen pre-speed-up extraction (ReferenceLexborExtractor on the decoded text) instead
    of the project's ImageExtractor(parser).extract_payload, as the job calls it.
    `licenses=False`: the same without the license detection (features/page/licenses.py), to measure its cost.
    `guard` (features.page.limits): "default" as the job runs (count the '<', parse big pages in a child),
    "off" (no count, every page in the mapper), "fork-all" (every page parsed in a forked child).
    """
    if not licenses:
        import features.page.images as page_images

        saved = page_images.attach_licenses
        page_images.attach_licenses = lambda *args, **kwargs: None
        try:
            return step_extract(path, parser, limit, stage, reference, guard=guard)
        finally:
            page_images.attach_licenses = saved
    from mrjob.protocol import JSONValueProtocol

    from features.page.limits import PageLimits

    extractor = ImageExtractor(parser, limits=PageLimits(inline_tags=-1) if guard == "fork-all" else None)
    backend = extractor.backend
    if guard == "off":
        def extract(payload: bytes, content_type: str | None, url: str):
            return extractor._extract_payload(payload, content_type, url, None, False)
    elif reference:
        ref = ReferenceLexborExtractor()

        def extract(payload: bytes, content_type: str | None, url: str):
            return ref.extract(decode_html(payload, content_type)[0], url)
    else:
        extract = extractor.extract_payload
    write = partial(JSONValueProtocol().write, None)
    html = pages = images = out_bytes = failed = 0
    filename = str(path)
    for record, payload in _html_records(path, limit):
        pages += 1
        html += len(payload)
        if stage in ("decode", "parse", "candidates"):
            text, enc = decode_html(payload, record.http_content_type)
            if stage == "decode":
                continue
            doc = backend.parse(text, utf8_payload(payload, text, enc))
            if stage == "parse":
                continue
            backend.base_href(doc)
            for tag, node in backend.candidates(doc):
                if tag != "a" or could_be_image_link(backend.attribute(node, "href")):
                    backend.attributes(node)
            continue
        try:
            page = extract(payload, record.http_content_type, record.url or "")
        except Exception:  # noqa: BLE001 - as CCJob._process: the record is counted as failed, the task goes on
            failed += 1
            continue
        images += len(page.images)
        if stage == "extract":
            continue
        out_bytes += _job_lines(page.images, record, filename, write)
    return {"html_bytes": html, "pages": pages, "images": images, "output_bytes": out_bytes, "pages_failed": failed}


def _job_lines(images: list[dict], record, filename: str, write) -> int:
    """Add the job's WARC fields to each record and serialise it as one line: the bytes written."""
    out = 0
    for img in images:
        img["warc_filename"] = filename
        img["warc_offset"] = record.offset
        img["warc_record_id"] = record.record_id
        img["crawl"] = None
        img["fetch_time"] = record.date
        out += len(write(img)) + 1
    return out


def step_job(path: Path, parser: str = "lexbor") -> dict:
    """The real mapper code path in-process: ExtractImagesJob.run_mapper on a one-line manifest."""
    from jobs.extract_images import ExtractImagesJob

    job = ExtractImagesJob(["--mapper", "--step-num=0", "--no-conf", "--html-parser", parser])
    with open(os.devnull, "wb") as out, tempfile.TemporaryFile() as err:
        job.sandbox(stdin=io.BytesIO(f"{path}\n".encode()), stdout=out, stderr=err)
        job.run_mapper(0)
        err.seek(0)
        counters = parse_counters(err)
    failed = counters.get("records,failed", 0) + counters.get("records,skipped", 0)
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

def _cpu() -> float:
    """CPU time of this process and of its waited-for children (the guard's forked parses)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(fn) -> tuple[dict, float, float]:
    gc.collect()
    w0, c0 = time.perf_counter(), _cpu()
    res = fn()
    return res, time.perf_counter() - w0, _cpu() - c0


def run_throughput(args, path: Path, info: dict, log=print) -> dict:
    bs4_limit = int(args.bs4_mb * MB)
    steps: list[tuple[str, str, object]] = [  # (name, what, fn)
        ("inflate", "zlib streaming inflate, all members", lambda: step_inflate(path)),
        ("warcio", "warcio iterate + read response payloads", lambda: step_warcio(path)),
        ("fastwarc", "fastwarc iterate + read response payloads", lambda: step_fastwarc(path)),
        ("iter", "project iter_records + is_html + payload", lambda: step_iter(path)),
        ("stage:decode", "iter + decode_html", lambda: step_extract(path, stage="decode")),
        ("stage:parse", "+ lexbor parse (payload bytes if UTF-8)", lambda: step_extract(path, stage="parse")),
        ("stage:candidates", "+ base_href + css candidates + <a> href test + attribute dicts",
         lambda: step_extract(path, stage="candidates")),
        ("stage:extract", "+ rules, URLs, context (ImageExtractor.extract_payload)",
         lambda: step_extract(path, stage="extract")),
        ("extract:lexbor", "FULL: + job fields + JSON lines", lambda: step_extract(path, "lexbor")),
        ("extract:no-licenses", "FULL without the license detection (its cost)",
         lambda: step_extract(path, "lexbor", licenses=False)),
        ("guard:off", "FULL without the page guard ('<' not counted, no page in a child)",
         lambda: step_extract(path, "lexbor", guard="off")),
        ("guard:fork-all", "FULL with every page parsed in a forked child (RLIMIT_AS, time limit)",
         lambda: step_extract(path, "lexbor", guard="fork-all")),
        ("ref:lexbor", "FULL, the extraction before its speed-ups (ReferenceLexborExtractor)",
         lambda: step_extract(path, reference=True)),
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
        _parser_inputs(path)  # the in-memory pages of the floor rows, loaded before any timing
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
    if "extract:lexbor" in by and "ref:lexbor" in by:
        full, ref = by["extract:lexbor"], by["ref:lexbor"]
        print(f"extract:lexbor / ref:lexbor (the extraction before its speed-ups): "
              f"{full['mb_s_cpu'] / ref['mb_s_cpu']:.2f}x (cpu), {full['mb_s'] / ref['mb_s']:.2f}x (wall)")
    if "extract:lexbor" in by and "extract:no-licenses" in by:
        full, bare = by["extract:lexbor"], by["extract:no-licenses"]
        print(f"license detection: extract:lexbor / extract:no-licenses = {full['mb_s_cpu'] / bare['mb_s_cpu']:.3f} "
              f"(cpu), {full['mb_s'] / bare['mb_s']:.3f} (wall)")
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


# -- the reference: the extraction before its speed-ups -------------------------------------------

class ReferenceLexborExtractor:
    """ImageExtractor("lexbor") as it was before its speed-ups (commit 4cd0a23), frozen: the baseline.

    Why a copy is kept here rather than something simpler:
      * the "before" of the before/after figure (`ref:lexbor` against `extract:lexbor`) must run on the same
        WARC, in the same process and interpreter, round-robin with the other steps; a figure recorded once
        cannot be compared with a run on another (shared, loaded) machine;
      * `--verify` needs records equal field by field: bs4 (html5lib) builds other trees than lexbor on real
        pages, so it is no oracle for the lexbor path, and recorded output would have to be stored for every
        page of the test WARC and rebuilt whenever a rule changes.
    Frozen: the tree walk (attribute dict of every candidate, a walk to the root per image, sibling count and
    text per image, no cache), URL resolution (urljoin + urlsplit for every URL) and the parser input (the
    decoded text).  Taken from the project, as the speed-ups left them, so that a change of rule is not
    reported as a difference: the rules (_img_source, _source_srcset, _media_link_source, host_of, the browser's
    form of URLs: features.urls.browser_url) and the
    text walk (LexborBackend._text).  The record dict mirrors ImageExtractor.extract's: a field added there
    shows up as a difference in --verify; add it here too.
    Delete this class, the `ref:lexbor` row and --verify together once the baseline is no longer wanted.
    """

    def __init__(self, text_limit: int = PARENT_TEXT_MAX):
        from selectolax.lexbor import LexborHTMLParser

        from features.page.backends import LexborBackend

        self._parser_cls = LexborHTMLParser
        self._text = LexborBackend(text_limit)._text  # unchanged by the speed-ups; called once per image here
        self._sibling_cache: dict[int, int] = {}

    def extract(self, html: str, page_url: str) -> PageImages:
        from urllib.parse import urljoin, urlsplit

        from features.page.images import _WS, _img_source, _media_link_source, _source_srcset, add_page_context, host_of
        from features.urls import ascii_host, browser_url

        result = PageImages()
        self._sibling_cache = {}
        doc = self._parser_cls(html)
        base = page_url
        base_href = self.base_href(doc)
        if base_href is not None and base_href.strip(_WS):
            try:
                base = urljoin(page_url, base_href.strip(_WS))
            except ValueError:
                result.skipped["bad_base_href"] += 1
        page_host = host_of(page_url)
        images = result.images
        for tag, attrs, node in self.candidates(doc):
            lazy = False
            if tag == "img":
                raw, src_attr, lazy = _img_source(attrs)
                if raw is None:
                    result.skipped["no_src"] += 1
                    continue
            elif tag == "source":
                p = node.parent
                if (p.tag if p is not None else None) != "picture":
                    continue
                raw, src_attr, lazy = _source_srcset(attrs)
                if raw is None:
                    result.skipped["no_src"] += 1
                    continue
            else:
                raw, src_attr = _media_link_source(tag, attrs)
                if raw is None:
                    continue
            scheme = raw.split(":", 1)[0].lower() if ":" in raw[:12] else ""
            if scheme == "data":
                result.skipped["data_url"] += 1
                continue
            if scheme == "javascript":
                result.skipped["javascript_url"] += 1
                continue
            try:
                joinable = raw
                if "\\" in raw:  # the browser's reading of '\\' (a rule, taken from _resolve)
                    end = min((i for i in (raw.find("?"), raw.find("#")) if i >= 0), default=len(raw))
                    joinable = raw[:end].replace("\\", "/") + raw[end:]
                img_url = urljoin(base, joinable)
                parts = urlsplit(img_url)
                img_host = (parts.hostname or "").lower()
                if parts.scheme in ("http", "https"):  # the browser's form (a rule, features.urls)
                    img_url = browser_url(img_url)
                    img_host = img_host if img_host.isascii() else ascii_host(img_host)
            except ValueError:
                result.skipped["invalid_url"] += 1
                continue
            if parts.scheme not in ("http", "https") or not img_host:
                result.skipped["other_scheme"] += 1
                continue
            parent_tag, parent_text, depth, siblings, in_noscript = self.context(node)
            srcset = attrs.get("srcset")
            if srcset is None:
                srcset = attrs.get("data-srcset")
            style = attrs.get("style")
            images.append({
                "page_url": page_url,
                "img_url": img_url,
                "src": raw,
                "src_attr": src_attr,
                "element": tag,
                "alt": attrs.get("alt"),
                "title": attrs.get("title"),
                "width_attr": attrs.get("width"),
                "height_attr": attrs.get("height"),
                "srcset": srcset,
                "sizes": attrs.get("sizes"),
                "class": attrs.get("class"),
                "id": attrs.get("id"),
                "style": style[:200] if style is not None else None,
                "loading": attrs.get("loading"),
                "lazy": lazy,
                "in_noscript": in_noscript,
                "rel": attrs.get("rel"),
                "parent_tag": parent_tag,
                "parent_text": parent_text,
                "dom_depth": depth,
                "dom_siblings": siblings,
                "position": len(images),
                "same_domain": img_host == page_host,
                "page_host": page_host,
                "img_host": img_host,
            })
        add_page_context(images)  # page_images, page_url_count, page_folder_count (a rule, taken from the project)
        return result

    def base_href(self, doc) -> str | None:
        for node in doc.css("base"):
            href = node.attributes.get("href")
            if href is not None:
                return href
        return None

    def candidates(self, doc):
        for node in doc.css(", ".join(CANDIDATE_TAGS)):
            attrs = {k: ("" if v is None else v) for k, v in node.attributes.items()}
            yield node.tag, attrs, node

    def context(self, node) -> tuple[str | None, str, int, int, bool]:
        parent = node.parent
        depth = 0
        noscript = False
        p = parent
        while p is not None and p.tag != "-document":
            depth += 1
            if p.tag == "noscript":
                noscript = True
            p = p.parent
        if parent is None or parent.tag == "-document":
            return None, "", depth, 0, noscript
        key = parent.mem_id
        siblings = self._sibling_cache.get(key)
        if siblings is None:
            count = 0
            c = parent.child
            while c is not None:
                tag = c.tag  # None for a bogus comment such as <?php ?>
                if tag and not tag.startswith("-"):
                    count += 1
                c = c.next
            siblings = self._sibling_cache[key] = count - 1
        return parent.tag, self._text(parent), depth, siblings, noscript


def verify_against_reference(path: Path, limit: int | None = None) -> dict:
    """The project's lexbor records against ReferenceLexborExtractor's, page by page (the WARC fields aside):
    through extract_payload (the job's path: payload bytes to lexbor when valid UTF-8) and through
    extract(text) (the str API the tests and the classifier use)."""
    project = ImageExtractor("lexbor")
    ref = ReferenceLexborExtractor()
    pages = images = utf8_pages = 0
    differing = {"extract_payload": 0, "extract": 0}
    examples: list = []
    ref_failed: list = []
    for record, payload in _html_records(path, limit):
        url, ctype = record.url or "", record.http_content_type
        text, enc = decode_html(payload, ctype)
        pages += 1
        utf8_pages += utf8_payload(payload, text, enc) is not None
        try:
            a = ref.extract(text, url)
        except Exception as exc:  # noqa: BLE001 - the extractor loses the whole page: see the report
            ref_failed.append({"url": record.url, "error": f"{type(exc).__name__}: {exc}"})
            continue
        images += len(a.images)
        for how, b in (("extract_payload", project.extract_payload(payload, ctype, url)),
                       ("extract", project.extract(text, url))):
            for rec in b.images:  # fields added after the reference was frozen
                for name in LICENSE_FIELDS:
                    rec.pop(name, None)
            if [list(x.items()) for x in a.images] == [list(x.items()) for x in b.images] and a.skipped == b.skipped:
                continue  # the same records, field order included (it is the order of the JSON output)
            differing[how] += 1
            if len(examples) < 5:
                diff = next((i for i, (x, y) in enumerate(zip(a.images, b.images, strict=False))
                             if list(x.items()) != list(y.items())), None)
                examples.append({"url": record.url, "via": how, "n_ref": len(a.images), "n_project": len(b.images),
                                 "skipped_ref": dict(a.skipped), "skipped_project": dict(b.skipped),
                                 "first_diff": diff,
                                 "ref": a.images[diff] if diff is not None else None,
                                 "project": b.images[diff] if diff is not None else None})
    return {"pages": pages, "pages_parsed_as_payload_bytes": utf8_pages, "images": images,
            "pages_differing": differing, "examples": examples, "pages_where_reference_raised": ref_failed}


# -- prototypes: what is left to gain outside the extractor -----------------------------------------
# Not project code.  The first four speed-ups measured here as prototypes (cheap <a> links, cached
# context, URLs without urllib, UTF-8 payload to lexbor) are now in features/page_images.py and
# features/html_backends.py; a fifth (<a> filtered by lexbor CSS attribute selectors) was a loss.

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

    from dataio.warc import Record, normalise_warc_date
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
                            date=normalise_warc_date(h.get("WARC-Date")), record_id=h.get("WARC-Record-ID"),
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


def step_proto(path: Path, iterate: str = "warcio", dumps: str = "json", limit: int | None = None) -> dict:
    """The full extraction (the project's extractor) with prototype parts swapped in around it."""
    from mrjob.protocol import JSONValueProtocol

    ex = ImageExtractor("lexbor")
    records = _fastwarc_html_records(path, limit) if iterate == "fastwarc" else _html_records(path, limit)
    write = _orjson().dumps if dumps == "orjson" else partial(JSONValueProtocol().write, None)
    html = pages = images = out_bytes = failed = 0
    filename = str(path)
    for record, payload in records:
        pages += 1
        html += len(payload)
        try:
            page = ex.extract_payload(payload, record.http_content_type, record.url or "")
        except Exception:  # noqa: BLE001 - as CCJob._process
            failed += 1
            continue
        images += len(page.images)
        out_bytes += _job_lines(page.images, record, filename, write)
    return {"html_bytes": html, "pages": pages, "images": images, "output_bytes": out_bytes, "pages_failed": failed}


_PARSER_INPUTS: list = []


def _parser_inputs(path: Path) -> list:
    """(payload size, what extract_payload hands lexbor: the payload if valid UTF-8, else the decoded text)
    for every page of the WARC, in memory (once): for the parse-only floors."""
    if not _PARSER_INPUTS:
        for record, payload in _html_records(path, None):
            text, enc = decode_html(payload, record.http_content_type)
            utf8 = utf8_payload(payload, text, enc)
            _PARSER_INPUTS.append((len(payload), utf8 if utf8 is not None else text))
    return _PARSER_INPUTS


def step_floor(path: Path, what: str) -> dict:
    """Lower bounds with no I/O, no WARC and no Python rules: lexbor alone over the pages held in memory."""
    from selectolax.lexbor import LexborHTMLParser

    sel = ", ".join(CANDIDATE_TAGS)
    html = pages = 0
    for n, parser_input in _parser_inputs(path):
        doc = LexborHTMLParser(parser_input)
        if what == "css":
            doc.css(sel)
        pages += 1
        html += n
    return {"html_bytes": html, "pages": pages}


def PROTOTYPES(path: Path) -> list:  # noqa: N802 - a registry, called like a constant
    protos = [
        ("floor:parse", "lexbor parse only, parser input in memory (no WARC, no rules)",
         lambda: step_floor(path, "parse")),
        ("floor:parse+css", "+ css select of the candidates, in memory", lambda: step_floor(path, "css")),
        ("proto:+fastwarc", "FULL, prototype: project extraction over fastwarc iteration",
         lambda: step_proto(path, iterate="fastwarc")),
    ]
    if _orjson() is None:
        print("proto:+orjson skipped: orjson is not importable (not a project dependency; "
              "`pip install --target WORKDIR/pylib orjson` to add it outside the venv)", file=sys.stderr)
    else:
        protos.append(("proto:+orjson", "FULL, prototype: + orjson lines (not ASCII-escaped: other bytes)",
                       lambda: step_proto(path, iterate="fastwarc", dumps="orjson")))
    return protos


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
                    help="skip the floor and prototype rows (not project code)")
    ap.add_argument("--verify", action="store_true",
                    help="check that the project's extractor emits exactly the records of the extraction before "
                         "its speed-ups (ReferenceLexborExtractor), page by page; --size-mb 800 covers every page")
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
            log("verifying ImageExtractor('lexbor') against the reference (the extraction before its speed-ups) ...")
            result["verify"] = v = verify_against_reference(path)
            d = v["pages_differing"]
            print(f"\nreference check: {v['pages']} pages ({v['pages_parsed_as_payload_bytes']} parsed as payload "
                  f"bytes), {v['images']} images; pages differing from the reference: {d['extract_payload']} "
                  f"via extract_payload, {d['extract']} via extract(text)"
                  + (f": {v['examples']}" if v["examples"] else ""))
            for e in v["pages_where_reference_raised"]:
                print(f"  the reference raised (page lost): {e['url']}: {e['error']}")
        if args.profile:
            result["profile"] = run_profile(path, args.profile_mb)
        out = args.out or workdir / "extract-results.json"
    meta["load_avg_end"] = os.getloadavg()
    Path(out).write_text(json.dumps(result, indent=1, default=str))
    print(f"\nresults: {out}  (load average {meta['load_avg_start'][0]:.2f} -> {meta['load_avg_end'][0]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
