"""`ccimg report`: charts and one static HTML page from the output of jobs.corpus_stats.

examples:
  python -m jobs.corpus_stats -r local --model default images.jsonl > stats.json
  ccimg report stats.json -o report/

output: DIR/index.html (the charts with their numbers), DIR/summary.md (the table, also printed) and
one PNG per chart: size classes, images per page, top hosts, licenses, providers.

exit codes: 0 written, 2 the input is missing or not a statistics file, or matplotlib is missing
(`pip install -e '.[report]'`); the reason is one line on stderr.
"""
from __future__ import annotations

import sys


def add_arguments(parser) -> None:
    parser.add_argument("stats", metavar="STATS.json", help="the output of python -m jobs.corpus_stats")
    parser.add_argument("-o", "--output", default="report", metavar="DIR",
                        help="folder for index.html, summary.md and the PNG charts (default: report)")


def run(args) -> int:
    from ccimg.report import ReportError, load_stats, write_report

    try:
        stats = load_stats(args.stats)
        paths = write_report(stats, args.output, source=args.stats)
    except ReportError as exc:
        print(f"ccimg report: error: {exc}", file=sys.stderr)
        return 2
    print(paths["summary"].read_text(encoding="utf-8"))
    print(f"wrote {paths['index']} and {len(paths) - 2} charts", file=sys.stderr)
    return 0
