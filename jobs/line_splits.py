"""A bounded number of input lines per map task, on every engine: Hadoop's NLineInputFormat.

Why: a manifest is a small text file, and Hadoop cuts input by bytes (128 MB blocks), so 10,000
lines of WARC paths would be ONE map task on EMR: one core would do the whole crawl.  With
`NLineInputFormat` and `mapreduce.input.lineinputformat.linespermap=N`, every N lines become a map
task.  `stream.map.input.ignoreKey=true` keeps Hadoop Streaming from putting the line's byte offset
(NLineInputFormat's key) in front of each line, so the mapper reads the same lines on every engine.

The engines, as mrjob 0.7.4 runs them:
  * emr / hadoop: the step gets `-inputformat NLineInputFormat` and the two -D settings (jobconf).
  * local: mrjob's own runner ignores input formats and cuts input by bytes into 2 x cores splits;
    `LinesPerMapLocalRunner` cuts each input file into splits of N lines instead, as Hadoop would.
  * spark: mrjob's harness reads a `hadoop_input_format` with `sc.hadoopFile` and keeps each pair's
    KEY as the line (right for KeyValueTextInputFormat, wrong here: NLineInputFormat's key is the
    byte offset).  `LinesPerMapSparkRunner` runs `jobs/spark_harness.py`, mrjob's harness with that
    one read corrected, and the setting reaches Hadoop's configuration as `spark.hadoop.<key>`:
    one partition per N lines.
  * inline: one process, one task; nothing to split.

Defaults (`--lines-per-map`, see `choose_lines_per_map`): 1 line per task for whole WARC files (a
Common Crawl WARC is about 1 GB, 5 GB of HTML: about 70 s of one core, already a good task), 500 for
record pointers (each a ranged GET of some 50 KB, about 0.1-0.2 s from S3 in us-east-1 with latency,
so a task of 500 runs one to two minutes, long against the few seconds a task costs to start), and
0 (byte splits, Hadoop's default) for JSONL records, whose files are big and many lines long.
"""
from __future__ import annotations

import gzip
import logging
import os

from mrjob.local import LocalMRJobRunner
from mrjob.spark.runner import SparkMRJobRunner
from mrjob.util import to_lines

NLINE_INPUT_FORMAT = "org.apache.hadoop.mapred.lib.NLineInputFormat"
LINES_PER_MAP = "mapreduce.input.lineinputformat.linespermap"
IGNORE_KEY = "stream.map.input.ignoreKey"
WHOLE_FILE_LINES = 1
POINTER_LINES = 500
HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spark_harness.py")

log = logging.getLogger("ccimg.jobs")


def _first_content_line(path: str) -> str | None:
    """The first line that is neither blank nor a comment, of a local (optionally gzipped) file."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f):
                if n > 1000:
                    return None
                line = line.strip()
                if line and not line.startswith("#"):
                    return line
    except OSError:
        return None
    return None


def input_kind(paths: list[str]) -> str | None:
    """'records' (JSON lines), 'pointers' (FILENAME<TAB>OFFSET<TAB>LENGTH...), 'files' (WARC locations),
    or None where no input is a readable local file (s3://, https://: not read here)."""
    for path in paths:
        if "://" in path and not path.startswith("file://"):
            continue
        line = _first_content_line(path[7:] if path.startswith("file://") else path)
        if line is None:
            continue
        if line.startswith("{"):
            return "records"
        fields = line.split("\t")
        if len(fields) >= 3 and fields[1].isdigit() and fields[2].isdigit():
            return "pointers"
        return "files"
    return None


def choose_lines_per_map(paths: list[str], given: int | None) -> int:
    """Lines per map task: `given` if set, else by what the first readable local input holds (module docstring)."""
    if given is not None:
        return max(0, given)
    kind = input_kind(paths)
    if kind == "records":
        return 0
    if kind == "pointers":
        return POINTER_LINES
    if kind is None and paths:
        log.warning("could not read the job's input here to choose --lines-per-map: using %d (whole WARC files); "
                    "pass --lines-per-map %d for record pointers", WHOLE_FILE_LINES, POINTER_LINES)
    return WHOLE_FILE_LINES


class LinesPerMapLocalRunner(LocalMRJobRunner):
    """mrjob's local runner, with each input file of step 0 cut into map tasks of N lines (NLineInputFormat)."""

    # the input format is honoured here: no "ignoring hadoop_input_format" warning
    _IGNORED_HADOOP_KWARGS = [k for k in LocalMRJobRunner._IGNORED_HADOOP_KWARGS if k != "hadoop_input_format"]

    def _lines_per_map(self, step_num: int) -> int:
        if step_num != 0 or self._hadoop_input_format != NLINE_INPUT_FORMAT:
            return 0
        return int(self._jobconf_for_step(step_num).get(LINES_PER_MAP) or 1)

    def _split_mapper_input(self, input_paths, step_num):
        n = self._lines_per_map(step_num)
        if not n:
            return super()._split_mapper_input(input_paths, step_num)
        split_fileobj_gen = self._yield_split_fileobjs("mapper", step_num)
        results = []
        for path in input_paths:
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rb") as src:
                start, chunk = 0, []
                for line in to_lines(src):
                    chunk.append(line)
                    if len(chunk) == n:
                        start = self._write_split(next(split_fileobj_gen), chunk, path, start, results)
                        chunk = []
                if chunk:
                    self._write_split(next(split_fileobj_gen), chunk, path, start, results)
        return results

    @staticmethod
    def _write_split(dest, lines, path, start, results) -> int:
        with dest:
            for line in lines:
                dest.write(line)
        length = sum(len(line) for line in lines)
        results.append({"file": path, "start": start, "length": length})
        return start + length


class LinesPerMapSparkRunner(SparkMRJobRunner):
    """mrjob's Spark runner, running jobs/spark_harness.py (NLineInputFormat read as lines)."""

    def _spark_harness_path(self):
        return HARNESS
