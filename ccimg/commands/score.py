"""`ccimg score`: predict, before anyone downloads it, whether each image is BIG or SMALL.

INPUT is any mix of URL lists (one URL per line), extraction records (JSONL, .gz, Parquet, CSV) and
folders of the job's part-* files, globs, s3://bucket/prefix or '-' for stdin.  Each row is scored in
input order, in batches of --batch rows (models.score); a bad row (not UTF-8, not JSON, img_url not
text or longer than --max-url-length) is skipped, counted and logged with its file and row number.

examples:
  ccimg score urls.txt.gz -o scores.jsonl
  ccimg score images/ --recall 0.95 -o scores.parquet           # the job's -o folder, Parquet out
  ccimg score images/ --only BIG --unique --format urls -o fetch.txt   # a crawler's fetch list
  python -m jobs.extract_images -r local sel.tsv | ccimg score - --only BIG --format urls

output fields (--format jsonl or parquet; one row per scored input row, in input order):
  img_url   the image URL, as read
  p_big     0..1: the model's calibrated probability of BIG, or for an exact signal the share of BIG
            measured for that signal on the training data
  label     BIG (width and height over 400 px: fetch), SMALL (under 200 px; from the model: not BIG at the
            chosen threshold) or MEDIUM (an exact signal gives a size between the two: not BIG)
  reason    what decided: declared (width/height attributes), srcset (a `w` descriptor),
            url-pattern (a size in the URL), model
  width     the width an exact signal gave, else absent (JSONL) or null (Parquet)
  height    the height an exact signal gave, likewise
  page_url  the page the image is on (record input only)
--format urls writes img_url alone, one per line: what a crawler reads.
"""
from __future__ import annotations

import gc
import time

from ccimg.commands.common import (NothingToDo, Progress, UsageError, add_model_arguments, add_output_arguments,
                                   add_quiet_argument, check_recall, load_model, positive_int, say)
from ccimg.commands.data_args import MAX_URL_LENGTH, check_url, clean_record
from ccimg.commands.filter_args import add_filter_arguments, filter_from_args
from dataio.tables import RowWriter, Skips, iter_rows, output_format

SCHEMA = {"img_url": "string", "p_big": "float64", "label": "string", "reason": "string", "width": "int64",
          "height": "int64", "page_url": "string"}
FORMATS = ("jsonl", "parquet", "urls")


def add_arguments(parser) -> None:
    parser.add_argument("input", nargs="+", metavar="INPUT",
                        help="URL lists or extraction records: files, folders of part-* files, globs, "
                             "s3://bucket/prefix, '-' for stdin")
    add_output_arguments(parser, what="scores")
    parser.add_argument("--format", choices=FORMATS,
                        help="jsonl, parquet or urls (img_url only, one per line); default: by -o's extension "
                             "(.parquet, else jsonl)")
    parser.add_argument("--only", choices=("BIG", "MEDIUM", "SMALL"), help="write only the rows with this label")
    parser.add_argument("--unique", action="store_true",
                        help="write each img_url once, at its first written row (after --only); memory: "
                             "8 bytes per distinct URL")
    add_model_arguments(parser)
    parser.add_argument("--no-exact", action="store_true", help="the model alone, without the exact signals")
    parser.add_argument("--batch", type=positive_int, default=65536, metavar="N",
                        help="rows scored at once (default 65536)")
    parser.add_argument("--max-url-length", type=positive_int, default=MAX_URL_LENGTH, metavar="N",
                        help=f"skip (and count) URLs longer than this (default {MAX_URL_LENGTH})")
    add_filter_arguments(parser)  # with a filter, only the input rows it keeps are scored and written
    add_quiet_argument(parser)


def _format(args) -> str:
    by_name = output_format(args.output)
    fmt = args.format or by_name
    if fmt == "urls" and by_name == "parquet":
        raise UsageError(f"--format urls writes text lines, but {args.output} names a Parquet file")
    if fmt == "parquet" and args.output == "-":
        raise UsageError("--format parquet needs a file: -o scores.parquet")
    return fmt


def _batches(rows, size: int, skips: Skips, max_url_length: int):
    """(is_url_list, items) batches of checked rows; a batch holds URLs or records, never both, because the
    scorer treats a batch of bare URLs (the URL model) differently from one of records."""
    batch: list = []
    urls = None
    for row in rows:
        data = row.data
        if type(data) is str:
            item, reason = check_url(data, max_url_length)
            detail = ""
        else:
            item, reason, detail = clean_record(data, max_url_length)
        if reason:
            skips.add(reason, row.source, row.number, detail)
            continue
        kind = type(item) is str
        if batch and (kind != urls or len(batch) >= size):
            yield urls, batch
            batch = []
        urls = kind
        batch.append(item)
    if batch:
        yield urls, batch


def score_rows(rows, scorer, out: RowWriter, *, batch: int = 65536, only: str | None = None, unique: bool = False,
               urls_only: bool = False, skips: Skips | None = None, max_url_length: int = MAX_URL_LENGTH,
               progress: Progress | None = None, keep=None):
    """Score `rows` (dataio.tables.Row) and write them to `out`; returns (rows scored, Counter of labels written).

    `keep`, a `features.record_filter.ProviderLicenseFilter`, drops rows before scoring (counted as
    `filtered`); a license filter needs records, so it refuses a URL list (UsageError).
    The loop of the command, apart so that tests (and the fuzz test) can drive it with a loaded scorer."""
    from collections import Counter

    from dataio.dedupe import Seen

    skips = skips if skips is not None else Skips()
    seen = Seen() if unique else None
    written: Counter = Counter()
    scored = 0
    for is_urls, items in _batches(rows, batch, skips, max_url_length):
        if keep is not None and keep.active:
            if is_urls and keep.needs_records:
                raise UsageError("--license and --provider NAME/SUB need extraction records, not a URL list")
            kept = list(keep.apply(items))
            skips.counts["filtered"] += len(items) - len(kept)
            items = kept
            if not items:
                continue
        scores = scorer.score(items)
        urls = items if is_urls else [item["img_url"] for item in items]
        pages = None if is_urls else [item.get("page_url") for item in items]
        for i, (url, p, label, reason, w, h) in enumerate(zip(urls, scores.p_big.tolist(), scores.label,
                                                             scores.reason, scores.width, scores.height)):
            if only is not None and label != only:
                continue
            if seen is not None and not seen.add(url):
                continue
            written[label] += 1
            if urls_only:
                out.write(url)
                continue
            row = {"img_url": url, "p_big": round(p, 4), "label": label, "reason": reason}
            if w is not None or h is not None:
                row["width"], row["height"] = w, h
            if pages is not None:
                row["page_url"] = pages[i]
            out.write(row)
        scored += len(items)
        if progress is not None:
            progress.update(len(items))
    return scored, written


def run(args) -> int:
    from models.score import Scorer

    fmt = _format(args)
    try:
        keep = filter_from_args(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    t0 = time.perf_counter()
    bundle = load_model(args.model)
    check_recall(bundle, args.recall)
    scorer = Scorer(bundle, recall=args.recall, threshold=args.threshold, exact=not args.no_exact)
    load_s = time.perf_counter() - t0
    # The libraries and the model live as long as the process: the garbage collector need not walk
    # them on every full collection that the batches' objects trigger (a tenth of the scoring time).
    gc.freeze()
    skips = Skips(log=say)
    writer_format = {"urls": "text"}.get(fmt, fmt)
    with RowWriter(args.output, schema=SCHEMA if fmt == "parquet" else None, overwrite=args.overwrite,
                   format=writer_format) as out, Progress("scoring", quiet=args.quiet) as progress:
        scored, written = score_rows(iter_rows(args.input, text=True, skips=skips), scorer, out, batch=args.batch,
                                     only=args.only, unique=args.unique, urls_only=fmt == "urls", skips=skips,
                                     max_url_length=args.max_url_length, progress=progress, keep=keep)
    dt = time.perf_counter() - t0
    labels = ", ".join(f"{k} {v:,}" for k, v in sorted(written.items())) or "none"
    where = "stdout" if args.output == "-" else args.output
    say(f"scored {scored:,} row{'s' if scored != 1 else ''} in {dt:.2f}s (model load {load_s:.2f}s); "
        f"wrote {out.rows:,} ({labels}) to {where}" + (f"; {skips.summary()}" if skips.total else ""))
    if scored == 0:
        raise NothingToDo("nothing to score: the input has no usable rows")
    return 0
