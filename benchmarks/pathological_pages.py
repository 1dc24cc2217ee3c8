"""What pathological pages cost lexbor, and what the page guard (features.page.limits) makes of them.

    python -m benchmarks.pathological_pages            # about a minute

For each kind of page and size: the CPU time of a bare lexbor parse (selectolax, in this process), and the wall
time and outcome of `ImageExtractor.extract_payload` with the job's default limits (records or the reason the
page was skipped).  The sizes stop where a bare parse would take minutes; the guard's column shows the same
pages at 10 MB.  Figures for the README (features.page.limits quotes them too).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from features.page.images import ImageExtractor  # noqa: E402
from features.page.limits import PageSkipped  # noqa: E402

KINDS = {
    "nested <div>": lambda n: b"<div>" * n + b"<img src=a.png>",
    "misnested <a><b><i>x</a>": lambda n: b"<a href=x><b><i>x</a>" * (n // 4) + b"<img src=a.png>",
    "unclosed <font><div>": lambda n: b"<font><div>" * (n // 2) + b"<img src=a.png>",
    "<img> after <img>": lambda n: b"<img src=a.png>" * n,
    "nested parents of images": lambda n: b"<div><span></span><img src=a.png>" * (n // 3),
}


def bare_parse(html: bytes) -> float:
    from selectolax.lexbor import LexborHTMLParser

    started = time.process_time()
    LexborHTMLParser(html).css("img")
    return time.process_time() - started


def guarded(html: bytes) -> tuple[float, str]:
    extractor = ImageExtractor("lexbor")
    started = time.monotonic()
    try:
        outcome = f"{len(extractor.extract_payload(html, None, 'http://a.example/').images)} records"
    except PageSkipped as exc:
        outcome = f"skipped: {exc.reason}"
    return time.monotonic() - started, outcome


def main() -> int:
    print(f"{'page':<28} {'tags':>8} {'bare lexbor parse, cpu s':>25} {'guarded extraction, wall s':>27}  outcome")
    for kind, make in KINDS.items():
        for n in (10_000, 20_000, 40_000):
            html = make(n)
            wall, outcome = guarded(html)
            print(f"{kind:<28} {n:>8} {bare_parse(html):>25.3f} {wall:>27.3f}  {outcome}")
        html = make(10_000_000 // 16)
        wall, outcome = guarded(html)
        print(f"{kind:<28} {'~10 MB':>8} {'(not run)':>25} {wall:>27.3f}  {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
