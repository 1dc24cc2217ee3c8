"""How long `ccimg select` takes for N captures against a local pywb server, and where the time goes.

Usage (from the repository root, with the project's venv):

    .venv/bin/python -m benchmarks.select_local                  # N = 100, 1000, 10000; 3 repeats; medians
    .venv/bin/python -m benchmarks.select_local --n 100 1000 --repeat 5 --polite 1000
    .venv/bin/python -m benchmarks.select_local --out /tmp/select.json

The index is built from real CDX lines: the 48 captures of the pywb sample CDX (``cdx_iana.cdx``) that are not
revisits, repeated with the copy number added to the year of their timestamp, so that every capture stays a
distinct, sorted line (``org,iana)/about 2014...``, ``org,iana)/about 2015...``, ...).  Every copy points at a real
record of the sample WARC.  Two layouts are served by one `wayback` (pywb 2.10, 4 threads) on 127.0.0.1:

  flat    a plain CDX file: pywb cannot page it, so one request answers everything (``limit=`` bounds it);
  zipnum  a ZipNum index like Common Crawl's: blocks of 3000 lines, pages of --page-size blocks (Common
          Crawl serves 5 blocks per page, so at most 15,000 captures per request).

Each run is ``ccimg select --url '*.iana.org' --no-filter --no-dedupe --limit N`` in-process, timed from the
call to the written manifest.  For each run the server's own access log gives the requests made and the time
pywb spent on each; "server" is their sum, "client" the rest (HTTP, JSON decoding, manifest).  With --polite N,
one more run uses the 1 s between requests that Common Crawl asks for, on pages of one 3000-line block.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ccimg.cli import main as ccimg_main  # noqa: E402
from benchmarks.pywb_local import SAMPLE, add_cdx_collection, add_zipnum_collection, build_zipnum, start_wayback  # noqa: E402

CC_BLOCK_LINES = 3000  # lines per ZipNum block in Common Crawl's index
_LOG = re.compile(r'"GET /(\S+?)/cdx\?(\S*) HTTP/1\.1" (\d+) (\d+) ([\d.]+)')


def base_lines() -> list[list[str]]:
    rows = [ln.split(" ") for ln in (SAMPLE / "cdx_iana.cdx").read_text().splitlines()[1:]]
    return [r for r in rows if r[3] != "warc/revisit"]


def synthetic_lines(n: int) -> list[str]:
    """n distinct, sorted CDX lines made of the sample's real captures (the copy number shifts the year)."""
    base = base_lines()
    copies = -(-n // len(base))
    out = []
    for r in base:
        for k in range(copies):
            out.append(" ".join([r[0], f"{int(r[1][:4]) + k:04d}{r[1][4:]}", *r[2:]]))
    out.sort()
    return out[:n]


def build(root: Path, sizes: list[int]) -> None:
    warc = SAMPLE / "warcs_iana.warc.gz"
    for n in sizes:
        lines = synthetic_lines(2 * n)  # twice N, so that --limit N is what stops the selection
        cdx = root / f"flat-{n}.cdx"
        cdx.write_text(" CDX N b a m s k r M S V g\n" + "\n".join(lines) + "\n")
        add_cdx_collection(root, f"flat-{n}", cdx, {"iana.warc.gz": warc})
        gz, idx = build_zipnum(lines, root, f"zip-{n}", CC_BLOCK_LINES)
        add_zipnum_collection(root, f"zip-{n}", idx, {f"zip-{n}": gz}, {"iana.warc.gz": warc})


def run_select(server, coll: str, n: int, out: Path, extra: list[str]) -> dict:
    before = len(server.log_lines())
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the manifest's path
        rc = ccimg_main(["select", "--cdx-api", server.cdx(coll), "--url", "*.iana.org", "--no-filter",
                         "--no-dedupe", "--limit", str(n), "--quiet", "-o", str(out), *extra])
    elapsed = time.perf_counter() - started
    assert rc == 0, f"select exited {rc}"
    got = len(out.read_text().splitlines())
    assert got == n, (got, n)
    time.sleep(0.05)  # let the server flush its access log
    reqs = [m for ln in server.log_lines()[before:] if (m := _LOG.search(ln)) and m.group(1) == coll]
    server_s = sum(float(m.group(5)) for m in reqs)
    per_request = [{"kind": "count" if "showNumPages" in m.group(2) else "captures",
                    "limit": (re.search(r"limit=(\d+)", m.group(2)) or [None, None])[1],
                    "bytes": int(m.group(4)), "server_s": float(m.group(5))} for m in reqs]
    return {"seconds": elapsed, "requests": len(reqs), "server_s": server_s,
            "bytes": sum(int(m.group(4)) for m in reqs), "per_request": per_request}


def fixed_cost(server, coll: str, params: dict, times: int = 30) -> float:
    """Median wall time (ms) of one small CDX request: what every request costs before any capture."""
    import requests

    session = requests.Session()
    session.get(server.cdx(coll), params=params)
    spent = []
    for _ in range(times):
        t = time.perf_counter()
        session.get(server.cdx(coll), params=params).raise_for_status()
        spent.append(time.perf_counter() - t)
    return 1000 * statistics.median(spent)


def median_run(server, coll, n, out, extra, repeat) -> dict:
    runs = [run_select(server, coll, n, out, extra) for _ in range(repeat)]
    best = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    return {**best, "seconds": statistics.median(r["seconds"] for r in runs)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--page-size", type=int, default=5, help="blocks per page for the zipnum layout (CC: 5)")
    ap.add_argument("--polite", type=int, default=0, metavar="N",
                    help="also time N captures with 1 s between requests, pages of one block")
    ap.add_argument("--out", type=Path, help="write the results as JSON here")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ccimg-select-bench-") as tmp:
        root = Path(tmp)
        build(root, sorted(set(args.n + ([args.polite] if args.polite else []))))
        server = start_wayback(root)
        try:
            out = root / "sel.tsv"
            results = []
            run_select(server, f"flat-{args.n[0]}", args.n[0], out, [])  # warm-up: imports, first connection
            small = args.n[0]
            one = {"url": "iana.org/", "output": "json", "limit": 1}
            fixed = {"flat, limit=1": fixed_cost(server, f"flat-{small}", one),
                     "zipnum, page=0&limit=1": fixed_cost(server, f"zip-{small}", {**one, "page": 0}),
                     "zipnum, showNumPages": fixed_cost(server, f"zip-{small}", {"url": "iana.org/",
                                                                                  "showNumPages": "true"})}
            for what, ms in fixed.items():
                print(f"one request ({what}): {ms:.1f} ms")
            results.append({"fixed_ms": fixed})
            print(f"{'layout':8} {'N':>6} {'seconds':>8} {'requests':>8} {'server s':>8} {'client s':>8} "
                  f"{'KB':>7} {'us/capture':>10}   (requests: CDX API only; +1 collinfo.json check)")
            for n in args.n:
                for layout, extra in (("flat", []), ("zipnum", ["--page-size", str(args.page_size)])):
                    coll = f"{'flat' if layout == 'flat' else 'zip'}-{n}"
                    r = median_run(server, coll, n, out, extra, args.repeat)
                    r.update(layout=layout, n=n, page_size=None if layout == "flat" else args.page_size)
                    results.append(r)
                    print(f"{layout:8} {n:>6} {r['seconds']:>8.3f} {r['requests']:>8} {r['server_s']:>8.3f} "
                          f"{r['seconds'] - r['server_s']:>8.3f} {r['bytes'] / 1024:>7.0f} "
                          f"{1e6 * r['seconds'] / n:>10.0f}   "
                          + ", ".join(f"{q['kind']} {q['server_s']:.3f} s" for q in r["per_request"]))
            if args.polite:
                n = args.polite
                r = run_select(server, f"zip-{n}", n, out, ["--page-size", "1", "--min-interval", "1.0"])
                r.update(layout="zipnum, 1 s between requests", n=n, page_size=1)
                results.append(r)
                print(f"{'polite':8} {n:>6} {r['seconds']:>8.3f} {r['requests']:>8} {r['server_s']:>8.3f} "
                      f"{r['seconds'] - r['server_s']:>8.3f} {r['bytes'] / 1024:>7.0f} "
                      f"{1e6 * r['seconds'] / n:>10.0f}")
        finally:
            server.stop()
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
