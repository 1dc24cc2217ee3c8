"""`CCJob`: the one base class that turns job input lines into WARC records.

A job on it overrides `process_record(record, source)` and yields (key, value) pairs; the
base owns the options, fetching (local, HTTP Range, S3), retries, record iteration, counters
and error handling.  Whatever an input line holds, it ends one of three ways, counted:

    input/lines == input/lines ok + input/lines failed + input/lines skipped (blank or comment)

a failed line with an `errors/<kind>` counter, a log line naming the line, and a failed-line
record that the driver writes to ``--failed-lines`` (jobs.failed_lines).  Records inside a line
likewise:

    records/read == records/ok + records/failed + records/skipped

a failed record with a `record errors/<kind>` counter and a log line naming it (file, offset,
URL), a skipped one (a page over a cap) with its reason.  One bad line or record never fails the
task, and the job never exits non-zero because of its input, with one exception: when no input line
succeeded the driver exits with NO_LINE_OK (3), since then nothing the job was asked to do was done.

Time is bounded per line (--max-line-seconds: every request, retry wait and read of the line) and
per record (--max-record-seconds: the page's parse and extraction); a circuit breaker per task
(jobs.breaker) stops fetching after --breaker-threshold lines in a row failed the same way.
"""
from __future__ import annotations

import atexit
import codecs
import logging
import os
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass

from mrjob.job import MRJob
from mrjob.step import StepFailedException
from mrjob.util import to_lines

from dataio.lines import BadInputLine, RecordPointer, WarcFile, decode_input_line, parse_input_line
from dataio.sources import Fetcher
from jobs.line_splits import (
    IGNORE_KEY, LINES_PER_MAP, NLINE_INPUT_FORMAT, LinesPerMapLocalRunner, LinesPerMapSparkRunner,
    choose_lines_per_map,
)
from dataio.warc import (
    MAX_PAYLOAD,
    Record,
    WarcFormatError,
    crawl_from_name,
    iter_records,
    read_one_record,
    warcinfo_crawl,
)
from jobs.breaker import CircuitBreaker
from jobs.failed_lines import FAILED_FIELD, FailedLines, encode_line, failed_record, split_output
from jobs.protocols import JSONLinesValueProtocol
from network.errors import FetchError
from network.retry import RetryPolicy

log = logging.getLogger("ccimg.jobs")
STATUS_EVERY_RECORDS = 1000
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz", ".wat", ".wat.gz", ".wet", ".wet.gz")
NO_LINE_OK = 3  # the driver's exit status when no input line succeeded (see the module's docstring)


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
    """`text` for a log line: at most `limit` characters, and lone surrogates (a line's bytes that were not
    UTF-8) escaped, so that no log handler fails to encode it."""
    text = text if len(text) <= limit else text[:limit] + "..."
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _where(exc: BaseException) -> str:
    """An unexpected exception as its type and the line of code that raised it, not its message: a
    message may quote the data (a KeyError of a header, a ValueError of a number) and log lines must not."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    last = frames[-1]
    return f"{type(exc).__name__} at {os.path.basename(last.filename)}:{last.lineno}"


class ManifestLineProtocol:
    """mrjob input protocol: a line as text, UTF-8 with undecodable bytes kept as surrogate escapes
    (dataio.lines.decode_input_line).  mrjob's default decodes such a line as latin-1, and a latin-1
    file name then no longer names its file."""

    def read(self, line: bytes):
        return None, decode_input_line(line)

    def write(self, key, value) -> bytes:
        return value.encode("utf-8", "surrogateescape")


class RecordSkipped(Exception):
    """Raised by `process_record` for a record it deliberately does not process (a page over a cap):
    counted as records/skipped and logged with `reason`, not as a failure."""

    def __init__(self, reason: str, message: str = ""):
        super().__init__(message or reason)
        self.reason = reason
        self.message = message or reason


@dataclass(frozen=True)
class RecordSource:
    """Where a record came from, for the output records."""

    warc_filename: str
    crawl: str | None


class CCJob(MRJob):
    INPUT_PROTOCOL = ManifestLineProtocol
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
        self.add_passthru_arg("--timeout", type=float, default=60.0,
                              help="seconds for one ranged GET, and the longest wait on any socket (default 60)")
        self.add_passthru_arg("--allow-private-addresses", action="store_true",
                              help="allow fetching from private, loopback and link-local addresses")
        self.add_passthru_arg("--max-payload", type=int, default=MAX_PAYLOAD,
                              help="read at most this many payload bytes per record")
        self.add_passthru_arg("--lines-per-map", type=int, default=None,
                              help="input lines per map task (Hadoop's NLineInputFormat; 0: split by bytes). "
                                   "Default by the first input line: 1 for WARC files, 500 for record pointers, "
                                   "0 for JSONL records (jobs/line_splits.py)")
        self.add_passthru_arg("--max-line-seconds", type=float, default=3600.0,
                              help="time budget of one input line: every request, retry and read (default 3600; "
                                   "0: none)")
        self.add_passthru_arg("--max-record-seconds", type=float, default=60.0,
                              help="time budget of one record's processing, e.g. a page's parse (default 60; 0: none)")
        self.add_passthru_arg("--max-records-per-line", type=int, default=1_000_000,
                              help="records read from one input line at most; a file with more fails (default "
                                   "1000000)")
        self.add_passthru_arg("--breaker-threshold", type=int, default=10,
                              help="after this many input lines in a row fail with the same fetch error, stop "
                                   "fetching in this task (see jobs/breaker.py; default 10, 0: never)")
        self.arg_parser.add_argument("--failed-lines", default=None, metavar="PATH",
                                     help="write the failed input lines to PATH (a manifest to rerun the job on)")

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
                # "NAME<TAB>": one whole file, even if its name holds spaces or ends in numbers; the bytes of
                # the name as given (surrogate escapes back to the bytes of a latin-1 name).
                with open(manifest, "w", encoding="utf-8", errors="surrogateescape") as f:
                    f.write(location + "\t\n")
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

    # -- the driver ------------------------------------------------------------------------------
    def run_job(self):
        """MRJob.run_job, plus what the user must see at the end: the failed input lines (taken out of
        the output: to --failed-lines, the first few to stderr), a one-line summary, and exit status
        NO_LINE_OK when no input line succeeded."""
        log_stream = codecs.getwriter("utf_8")(self.stderr)
        self.set_up_logging(quiet=self.options.quiet, verbose=self.options.verbose, stream=log_stream)
        with self.make_runner() as runner:
            try:
                runner.run()
            except StepFailedException as exc:
                logging.getLogger("mrjob.job").error(str(exc))
                sys.exit(1)
            failed = self._deliver_output(runner)
            counters = sum_counters(runner.counters())
        status = report(counters, failed, self.options.failed_lines, log_stream)
        if status:
            sys.exit(status)

    def _deliver_output(self, runner) -> FailedLines:
        cat = self._should_cat_output()
        path = self.options.failed_lines
        if not cat and path is None:
            return FailedLines()
        out = open(path, "wb") if path is not None else None
        try:
            return split_output(to_lines(runner.cat_output()), self.stdout.write if cat else None,
                                (lambda record: out.write(encode_line(record[FAILED_FIELD])))
                                if out is not None else None)
        finally:
            if cat:
                self.stdout.flush()
            if out is not None:
                out.close()

    # -- counters and logs ---------------------------------------------------------------------
    def count(self, group: str, name: str, amount: int = 1) -> None:
        if amount:
            self.increment_counter(group, name, amount)

    def failed_line_pair(self, record: dict) -> tuple:
        """The (key, value) under which a failed-line record leaves the mapper; a job whose step has a
        reducer gives it a key the reducer passes through (jobs.failed_lines.FAILED_KEY)."""
        return None, record

    def fail_line(self, kind: str, line: str, message: str):
        """Count and log a failed line; returns the (key, value) of its failed-line record, to be yielded."""
        self.count("input", "lines failed")
        self.count("errors", kind)
        log.error("input line failed (%s): %r: %s", kind, _short(line, 200), _short(message))
        return self.failed_line_pair(failed_record(line, kind, message))

    # -- the map phase -------------------------------------------------------------------------
    def mapper_init(self):
        _ensure_log_handler()
        policy = RetryPolicy(max_attempts=self.options.max_attempts, base_delay=self.options.backoff_base,
                             max_elapsed=self.options.max_retry_seconds)
        self.fetcher = Fetcher(base=self.options.source_base, s3_endpoint_url=self.options.s3_endpoint_url,
                               policy=policy, timeout=self.options.timeout,
                               allow_private=self.options.allow_private_addresses, on_retry=self._on_retry)
        self.breaker = CircuitBreaker(self.options.breaker_threshold)
        self.record_deadline: float | None = None

    def _on_retry(self, kind: str, message: str) -> None:
        self.count("retries", kind)
        log.warning("retry: %s", _short(message))

    def mapper(self, _, line):
        self.count("input", "lines")
        try:
            item = parse_input_line(line)
        except BadInputLine as exc:
            yield self.fail_line("bad_input_line", line, str(exc))
            return
        if item is None:
            self.count("input", "lines skipped")
            return
        if not self.breaker.allow():
            yield self.fail_line("breaker_open", line, self.breaker.reason())
            return
        seconds = self.options.max_line_seconds
        deadline = time.monotonic() + seconds if seconds and seconds > 0 else None
        kind = message = None
        try:
            if isinstance(item, RecordPointer):
                self.count("input", "record pointers")
                yield from self._pointer(item, deadline)
            else:
                self.count("input", "warc files")
                yield from self._warc_file(item, deadline)
        except FetchError as exc:
            kind, message = f"fetch_{exc.kind}", str(exc)
        except WarcFormatError as exc:
            kind, message = f"warc_{exc.kind}", str(exc)
        except Exception as exc:  # noqa: BLE001 - whatever a line holds, it must end as a counted failure
            kind, message = f"internal_{type(exc).__name__}", f"unexpected error: {_where(exc)}"
        if kind is None:
            self.count("input", "lines ok")
            self.breaker.success()
            return
        yield self.fail_line(kind, line, message)
        if self.breaker.failure(kind):
            self.count("breaker", "opened")
            log.error("circuit breaker open: %d input lines in a row failed with %s; the next lines of this task "
                      "fail at once without a fetch (a probe after %d, then twice as many, lines). Check the "
                      "network, the credentials and --source-base", self.breaker.run, kind, self.breaker.threshold)

    def _pointer(self, ptr: RecordPointer, deadline: float | None):
        data = self.fetcher.read_range(ptr.filename, ptr.offset, ptr.length, deadline)
        record = read_one_record(data)
        record.offset = ptr.offset
        if ptr.url and record.url and ptr.url != record.url:
            self.count("records", "url differs from pointer")
            log.warning("record at %r:%d is %r, the pointer said %r", _short(ptr.filename, 200), ptr.offset,
                        _short(record.url, 200), _short(ptr.url, 200))
        yield from self._process(record, RecordSource(ptr.filename, crawl_from_name(ptr.filename)), deadline)

    def _warc_file(self, item: WarcFile, deadline: float | None):
        crawl = crawl_from_name(item.location)
        warnings: list = []
        limit = self.options.max_records_per_line
        with self.fetcher.open_stream(item.location, deadline) as stream:
            for n, record in enumerate(iter_records(stream, warnings), 1):
                if n > limit:
                    raise WarcFormatError("too_many_records", f"more than {limit} records (--max-records-per-line)")
                if deadline is not None and time.monotonic() > deadline:
                    raise FetchError("deadline", f"{item.location}: --max-line-seconds reached after {n - 1} records")
                if record.type == "warcinfo" and crawl is None:
                    crawl = warcinfo_crawl(record)
                yield from self._process(record, RecordSource(item.location, crawl), deadline)
        self.count("records", "not followed by blank lines", len(warnings))

    def _process(self, record: Record, source: RecordSource, line_deadline: float | None):
        self.count("records", "read")
        self._records_read = getattr(self, "_records_read", 0) + 1
        if self._records_read % STATUS_EVERY_RECORDS == 0:  # mrjob's task status: the job tracker shows it
            self.set_status(f"{self._records_read:,} WARC records read")
        self.count("records", f"type {record.type}")
        if record.missing_target_uri:
            self._record_failed(record, source, "no_target_uri", f"a {record.type} record without WARC-Target-URI")
            return
        seconds = self.options.max_record_seconds
        deadline = time.monotonic() + seconds if seconds and seconds > 0 else None
        if line_deadline is not None:
            deadline = line_deadline if deadline is None else min(deadline, line_deadline)
        self.record_deadline = deadline
        try:
            # Materialise first: a record that fails half-way must not emit half its output.
            out = list(self.process_record(record, source))
        except WarcFormatError as exc:
            self._record_failed(record, source, f"warc_{exc.kind}", str(exc))
            raise  # the stream itself is broken: the input line fails, after the records before it
        except RecordSkipped as exc:
            self.count("records", "skipped")
            log.warning("record skipped (%s): %s at %r:%d: %s", exc.reason, _shown_url(record.url),
                        _short(source.warc_filename, 200), record.offset, _short(exc.message))
            return
        except Exception as exc:  # noqa: BLE001 - one bad record must never fail the task
            self._record_failed(record, source, type(exc).__name__, f"unexpected error: {_where(exc)}")
            return
        finally:
            self.record_deadline = None
        self.count("records", "ok")
        yield from out

    def _record_failed(self, record: Record, source: RecordSource, kind: str, message: str) -> None:
        self.count("records", "failed")
        self.count("record errors", kind)
        log.error("record failed (%s): %s at %r:%d: %s", kind, _shown_url(record.url),
                  _short(source.warc_filename, 200), record.offset, _short(message))

    def process_record(self, record: Record, source: RecordSource):
        """Yield (key, value) pairs for one record.  Override in a job; `self.record_deadline`
        (time.monotonic(), or None) is the record's time budget; raise RecordSkipped to skip it."""
        raise NotImplementedError


def _shown_url(url: str | None) -> str:
    return "(no WARC-Target-URI)" if url is None else repr(_short(url, 200))


def sum_counters(steps) -> dict[str, dict[str, int]]:
    """mrjob's counters (one dict per step) summed into one {group: {name: n}}."""
    counters: dict[str, dict[str, int]] = {}
    for step in steps:
        for group, names in step.items():
            for name, n in names.items():
                counters.setdefault(group, {})
                counters[group][name] = counters[group].get(name, 0) + n
    return counters


def report(counters: dict, failed: FailedLines, failed_path: str | None, out) -> int:
    """Tell the user how the input lines ended (to `out`, a text stream); the exit status: NO_LINE_OK when
    no input line succeeded, else 0."""
    inp = counters.get("input", {})
    lines, ok = inp.get("lines", 0), inp.get("lines ok", 0)
    n_failed, skipped = inp.get("lines failed", 0), inp.get("lines skipped", 0)
    say = []
    say.append(f"ccimg: {lines} input lines: {ok} ok, {n_failed} failed, {skipped} skipped (blank or comment)")
    errors = counters.get("errors", {})
    if errors:
        say.append("ccimg: failed lines by error: " + ", ".join(f"{k} {v}" for k, v in sorted(errors.items())))
    for kind, line in failed.shown:
        say.append(f"ccimg: failed ({kind}): {_short(line, 300)!r}")
    if n_failed:
        if failed_path is not None:
            say.append(f"ccimg: the {failed.total} failed lines are in {failed_path} (rerun the job on that file)")
        elif failed.total > len(failed.shown):
            say.append("ccimg: pass --failed-lines PATH to get every failed line (a manifest to rerun)")
    if counters.get("breaker", {}).get("opened"):
        kinds = [k for k in errors if k != "breaker_open"]
        say.append(f"ccimg: stopped early: many lines in a row failed the same way ({', '.join(sorted(kinds))}); "
                   f"{errors.get('breaker_open', 0)} lines were not tried. Check the network, the credentials and "
                   "--source-base, then rerun the failed lines")
    if ok == 0:
        why = "every input line failed" if n_failed else "the input holds no line to process"
        say.append(f"ccimg: no input line succeeded ({why}): exit status {NO_LINE_OK}")
    out.write("\n".join(say) + "\n")
    out.flush()
    return NO_LINE_OK if ok == 0 else 0


def run_job(job_cls, args: list[str], failed: list | None = None) -> tuple[list, dict[str, dict[str, int]]]:
    """Run a job in this process (as `ccimg demo` and the tests do): (output values, counters summed over steps).

    Failed-line records are not among the values: they are appended to `failed` (as dicts), if given."""
    job = job_cls(["--no-conf", *args])
    job.sandbox()
    with job.make_runner() as runner:
        runner.run()
        kept: list[bytes] = []
        split_output(to_lines(runner.cat_output()), kept.append, failed.append if failed is not None else None)
        values = [value for _key, value in job.parse_output(kept)]
        counters = sum_counters(runner.counters())
    return values, counters
