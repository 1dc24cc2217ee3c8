"""`ccimg convert`: copy rows from any input ccimg reads to any output it writes.

Why: the extraction job writes JSON lines into a folder of part-* files (local, HDFS or S3); a data
engineer wants one Parquet file to query with DuckDB, pandas or Spark, or one JSONL.gz to hand on.
Every ccimg command reads all of these directly; this command is for the tools that do not.

INPUT: files (JSONL, .gz, Parquet, CSV), folders of part-* files, globs, s3://bucket/prefix, '-'.
A bad row is skipped, counted and logged with its file and row number.

examples:
  python -m jobs.extract_images -r local sel.tsv -o images/ && ccimg convert images/ -o images.parquet
  ccimg convert s3://my-bucket/images/ -o images.jsonl.gz
  ccimg convert scores.parquet -o - | head

output: the same rows, by -o's extension: Parquet (.parquet: zstd, row groups of --row-group rows; the
schema comes from the first row group, with the image record's types for columns that are still null
there) or JSONL (.gz for gzip).  Parquet keeps the columns of the first rows: a later row with another
column stops the command (write JSONL for rows of varying shape).
"""
from __future__ import annotations

from ccimg.commands.common import (NothingToDo, Progress, add_output_arguments, add_quiet_argument, counted,
                                   positive_int, say)
from dataio.tables import RowWriter, Skips, iter_rows


def add_arguments(parser) -> None:
    parser.add_argument("input", nargs="+", metavar="INPUT",
                        help="rows to copy: files, folders of part-* files, globs, s3://bucket/prefix, '-' for stdin")
    add_output_arguments(parser, default=None, required=True, what="rows")
    parser.add_argument("--row-group", type=positive_int, default=65536, metavar="N",
                        help="rows per Parquet row group (default 65536)")
    parser.add_argument("--limit", type=positive_int, metavar="N", help="copy at most N rows")
    add_quiet_argument(parser)


def run(args) -> int:
    skips = Skips(log=say)
    with RowWriter(args.output, overwrite=args.overwrite, row_group_rows=args.row_group) as out, \
            Progress("converting", quiet=args.quiet) as progress:
        for row in counted(iter_rows(args.input, skips=skips, limit=args.limit), progress):
            out.write(row.data)
    say(f"wrote {out.rows:,} rows to {'stdout' if args.output == '-' else args.output}"
        + (f"; {skips.summary()}" if skips.total else ""))
    if out.rows == 0:
        raise NothingToDo("nothing to convert: the input has no rows")
    return 0
