"""`CCJob`: the one base class that turns job input lines into WARC records.

A job on it overrides `process_record(record, source)` and yields (key, value) pairs; the
base owns the options, fetching (local, HTTP Range, S3), retries, record iteration, counters
and error handling.  One bad line or record never fails the task: it ends as a counter and
a log line that names it.  Counter invariant, checked by the tests:

    input/lines == input/lines ok + input/lines failed + input/lines skipped (blank or comment)
"""
from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass

from mrjob.job import MRJob
from mrjob.protocol import RawValueProtocol

from dataio.sources import Fetcher, FetchError, RetryPolicy
from jobs.line_splits import (
    IGNORE_KEY, LINES_PER_MAP, NLINE_INPUT_FORMAT, LinesPerMapLocalRunner, LinesPerMapSparkRunner,
    choose_lines_per_map,
)
from jobs.protocols import JSONLinesValueProtocol
from dataio.lines import BadInputLine, RecordPointer, WarcFile, parse_input_line
from dataio.warc import (
    MAX_PAYLOAD,
    Record,
    WarcFormatError,
    crawl_from_name,
    iter_records,
    read_one_record,
    warcinfo_crawl,
)

log = logging.getLogger("ccimg.jobs")
STATUS_EVERY_RECORDS = 1000
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz", ".wat", ".wat.gz", ".wet", ".wet.gz")


class _BinaryStderr:
    """Lets text be written to a binary stream.

    Why: mrjob's inline runner sets `sys.stderr` to a binary file while a task runs, and
    libraries (warcio's warnings, logging's own error path) write `str` to it and crash.
    """

    def __init__(self, raw):
        self.raw = raw

    def write(self, text) -> int:
        self.raw.write(text.encode("utf-8", "replace") if isinstance(text, str) else text)
        return len(text)

    def flush(self) -> None:
        self.raw.flush()

    def __getattr__(self, name):
        return getattr(self.raw, name)


def _text_stderr() -> None:
    if not hasattr(sys.stderr, "encoding") and not isinstance(sys.stderr, _BinaryStderr):
        sys.stderr = _BinaryStderr(sys.stderr)


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to the process's own stderr: the task log under Hadoop/EMR/local, the terminal inline.

    Why not `sys.stderr`: the inline runner swaps it for a per-task file that nobody reads.
    """

    @property
    def stream(self):
        return sys.__stderr__ or sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def _ensure_log_handler() -> None:
    """Task processes get no logging setup from mrjob: send our lines to stderr (the task log)."""
    _text_stderr()
    root = logging.getLogger()
    if not log.handlers and not root.handlers:
        handler = _CurrentStderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


@dataclass(frozen=True)
class RecordSource:
    """Where a record came from, for the output records."""

    warc_filename: str
    crawl: str | None


class CCJob(MRJob):
    INPUT_PROTOCOL = RawValueProtocol
    OUTPUT_PROTOCOL = JSONLinesValueProtocol

    def configure_args(self):
        super().configure_args()
        self.add_passthru_arg("--source-base", default="https://data.commoncrawl.org/",
                              help="where relative WARC file names live: https://data.commoncrawl.org/ (default), "
                                   "s3://commoncrawl/ (needs AWS credentials), another http(s)/s3 prefix, "
                                   "or a local folder")
        self.add_passthru_arg("--s3-endpoint-url", default=None,
                              help="S3 endpoint for s3:// inputs other than AWS (e.g. a MinIO or moto server)")
        self.add_passthru_arg("--max-attempts", type=int, default=6,
                              help="attempts per fetch before giving up (default 6)")
        self.add_passthru_arg("--max-retry-seconds", type=float, default=300.0,
                              help="time budget for the retries of one fetch (default 300)")
        self.add_passthru_arg("--backoff-base", type=float, default=0.5,
                              help="first retry delay in seconds, doubled each retry, with full jitter (default 0.5)")
        self.add_passthru_arg("--timeout", type=float, default=60.0, help="connect/read timeout in seconds")
        self.add_passthru_arg("--allow-private-addresses", action="store_true",
                              help="allow fetching from private, loopback and link-local addresses")
        self.add_passthru_arg("--max-payload", type=int, default=MAX_PAYLOAD,
                              help="read at most this many payload bytes per record")
        self.add_passthru_arg("--lines-per-map", type=int, default=None,
                              help="input lines per map task (Hadoop's NLineInputFormat; 0: split by bytes). "
                                   "Default by the first input line: 1 for WARC files, 500 for record pointers, "
                                   "0 for JSONL records (jobs/line_splits.py)")

    # -- input paths ---------------------------------------------------------------------------
    def __init__(self, args=None):
        super().__init__(args)
        if not (self.options.run_mapper or self.options.run_combiner or self.options.run_reducer
                or self.options.run_spark):
            if args is None and not self.options.args and sys.stdin.isatty():
                # mrjob would read input lines from the terminal and seem to hang
                print(f"{sys.argv[0]}: no input: name manifest or WARC files (or '-' to read lines from a pipe); "
                      "--help describes the input", file=sys.stderr)
                sys.exit(2)
            self.options.args = self._wrap_warc_inputs(list(self.options.args))

    def _usage(self):
        """The top of --help: the job module's own docstring (what goes in, what comes out), not mrjob's
        generic 'input files'."""
        doc = (sys.modules[type(self).__module__].__doc__ or "").strip()
        return "%(prog)s -r inline|local|emr|spark [options] INPUT...\n\n" + doc.replace("%", "%%") + "\n"

    def _wrap_warc_inputs(self, paths: list[str]) -> list[str]:
        """Let a user name WARC files directly as job input: each becomes a one-line manifest.

        Why: the engines split input into lines, and a .warc.gz is not a manifest (Hadoop
        would even gunzip it).  Manifests (`ccimg select` output) pass through unchanged.
        """
        warcs = [p for p in paths if p.lower().endswith(WARC_SUFFIXES)]
        if not warcs:
            return paths
        folder = tempfile.mkdtemp(prefix="ccimg-inputs-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        out = []
        for i, p in enumerate(paths):
            if p in warcs:
                location = p if "://" in p else os.path.abspath(p)
                manifest = os.path.join(folder, f"warc-{i:05d}.txt")
                with open(manifest, "w", encoding="utf-8") as f:
                    f.write(location + "\n")
                out.append(manifest)
            else:
                out.append(p)
        return out

    def _runner_kwargs(self):
        kwargs = super()._runner_kwargs()
        extra = kwargs.get("extra_args") or []
        if len(extra) == 1 and extra[0].startswith("-"):
            # mrjob 0.7.4's Spark runner passes job options as `--job-args '<options>'`, and its harness
            # refuses a value that is one lone flag ("--aggregate"): give it a second, harmless option.
            kwargs["extra_args"] = [*extra, "--max-payload", str(self.options.max_payload)]
        runner = self.options.runner or "inline"
        master = kwargs.get("spark_master") or "local"
        if runner == "spark" and not kwargs.get("python_bin") and master.startswith("local"):
            # In local mode the executors are this machine: use this interpreter (the venv), not
            # whatever `python3` is first on PATH, which may not have the project installed.
            kwargs["python_bin"] = [sys.executable]
        return kwargs

    # -- map tasks of a bounded number of input lines (jobs/line_splits.py) -------------------------
    def lines_per_map(self) -> int:
        """Input lines per map task (0: byte splits); inline runs one task, so nothing to choose there."""
        if (self.options.runner or "inline") == "inline":
            return 0
        if not hasattr(self, "_lines_per_map"):
            self._lines_per_map = choose_lines_per_map(list(self.options.args), self.options.lines_per_map)
        return self._lines_per_map

    def hadoop_input_format(self):
        return NLINE_INPUT_FORMAT if self.lines_per_map() else super().hadoop_input_format()

    def jobconf(self):
        conf = super().jobconf()
        n = self.lines_per_map()
        if not n:
            return conf
        ours = {LINES_PER_MAP: str(n), IGNORE_KEY: "true"}
        if self.options.runner == "spark":
            ours["spark.hadoop." + LINES_PER_MAP] = str(n)  # Spark copies spark.hadoop.* into the Hadoop conf
        return {**ours, **conf}  # the user's --jobconf wins

    def _runner_class(self):
        runner = self.options.runner or "inline"
        if runner == "local":
            return LinesPerMapLocalRunner
        if runner == "spark":
            return LinesPerMapSparkRunner
        return super()._runner_class()

    # -- counters and logs ---------------------------------------------------------------------
    def count(self, group: str, name: str, amount: int = 1) -> None:
        if amount:
            self.increment_counter(group, name, amount)

    def fail_line(self, kind: str, line: str, message: str) -> None:
        self.count("input", "lines failed")
        self.count("errors", kind)
        log.error("input line failed (%s): %r: %s", kind, _short(line, 200), _short(message))

    # -- the map phase -------------------------------------------------------------------------
    def mapper_init(self):
        _ensure_log_handler()
        policy = RetryPolicy(max_attempts=self.options.max_attempts, base_delay=self.options.backoff_base,
                             max_elapsed=self.options.max_retry_seconds)
        self.fetcher = Fetcher(base=self.options.source_base, s3_endpoint_url=self.options.s3_endpoint_url,
                               policy=policy, timeout=self.options.timeout,
                               allow_private=self.options.allow_private_addresses, on_retry=self._on_retry)

    def _on_retry(self, kind: str, message: str) -> None:
        self.count("retries", kind)
        log.warning("retry: %s", message)

    def mapper(self, _, line):
        self.count("input", "lines")
        try:
            item = parse_input_line(line)
        except BadInputLine as exc:
            self.fail_line("bad_input_line", line, str(exc))
            return
        if item is None:
            self.count("input", "lines skipped")
            return
        try:
            if isinstance(item, RecordPointer):
                self.count("input", "record pointers")
                yield from self._pointer(item)
            else:
                self.count("input", "warc files")
                yield from self._warc_file(item)
        except FetchError as exc:
            self.fail_line(f"fetch_{exc.kind}", line, str(exc))
        except WarcFormatError as exc:
            self.fail_line(f"warc_{exc.kind}", line, str(exc))
        else:
            self.count("input", "lines ok")

    def _pointer(self, ptr: RecordPointer):
        data = self.fetcher.read_range(ptr.filename, ptr.offset, ptr.length)
        record = read_one_record(data)
        record.offset = ptr.offset
        if ptr.url and record.url and ptr.url != record.url:
            self.count("records", "url differs from pointer")
            log.warning("record at %s:%d is %s, pointer said %s", ptr.filename, ptr.offset, record.url, ptr.url)
        yield from self._process(record, RecordSource(ptr.filename, crawl_from_name(ptr.filename)))

    def _warc_file(self, item: WarcFile):
        crawl = crawl_from_name(item.location)
        with self.fetcher.open_stream(item.location) as stream:
            for record in iter_records(stream):
                if record.type == "warcinfo" and crawl is None:
                    crawl = warcinfo_crawl(record)
                yield from self._process(record, RecordSource(item.location, crawl))

    def _process(self, record: Record, source: RecordSource):
        self.count("records", "read")
        self._records_read = getattr(self, "_records_read", 0) + 1
        if self._records_read % STATUS_EVERY_RECORDS == 0:  # mrjob's task status: the job tracker shows it
            self.set_status(f"{self._records_read:,} WARC records read")
        self.count("records", f"type {record.type}")
        try:
            # Materialise first: a record that fails half-way must not emit half its output.
            out = list(self.process_record(record, source))
        except WarcFormatError:
            raise  # the stream itself is broken: the input line fails, after the records before it
        except Exception as exc:  # noqa: BLE001 - one bad record must never fail the task
            self.count("errors", f"process_record_{type(exc).__name__}")
            log.exception("record %s at %s:%d failed: %s", record.url, source.warc_filename, record.offset, exc)
            return
        yield from out

    def process_record(self, record: Record, source: RecordSource):
        """Yield (key, value) pairs for one record.  Override in a job."""
        raise NotImplementedError


def run_job(job_cls, args: list[str]) -> tuple[list, dict[str, dict[str, int]]]:
    """Run a job in this process (as `ccimg demo` and the tests do): (output values, counters summed over steps)."""
    job = job_cls(["--no-conf", *args])
    job.sandbox()
    with job.make_runner() as runner:
        runner.run()
        values = [value for _key, value in job.parse_output(runner.cat_output())]
        counters: dict[str, dict[str, int]] = {}
        for step in runner.counters():
            for group, names in step.items():
                for name, n in names.items():
                    counters.setdefault(group, {})
                    counters[group][name] = counters[group].get(name, 0) + n
    return values, counters
