"""What every `ccimg` command shares: exit codes, one-line errors, output arguments, progress, model loading.

Why here: a data engineer scripts these commands, so they must behave alike.  A mistake in the command
or its files is one line on stderr and exit 2, never a traceback (`--debug` shows one); a run with
nothing to work on says so and exits 3; trouble at run time (network, disk) exits 1; a bad row in an
otherwise good file is skipped, counted and logged with its file and row number, and the run goes on.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

EXIT_OK = 0
EXIT_TROUBLE = 1  # runtime trouble: network, disk, a bug; a rerun may help
EXIT_USAGE = 2  # fix the command or its files: bad argument, missing/unreadable input, bad model file
EXIT_NOTHING = 3  # nothing to do: no usable input rows, no labelled examples
EXIT_INTERRUPTED = 130

EXIT_CODES = ("exit codes: 0 done; 1 runtime trouble (network, disk: rerun); 2 fix the command or its files "
              "(bad argument,\nmissing or unreadable input, refused model file, existing output without "
              "--overwrite); 3 nothing to do\n(no usable input rows); 130 interrupted")

# The command being run, for message prefixes ("ccimg score: ..."); set by ccimg.cli.
PROG = ["ccimg"]


class CommandError(Exception):
    """A failure the user should read in one line; `code` is the exit code."""

    code = EXIT_TROUBLE

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code


class UsageError(CommandError):
    code = EXIT_USAGE


class NothingToDo(CommandError):
    code = EXIT_NOTHING


def say(message: str) -> None:
    """One line on stderr, prefixed with the command's name (stdout may be the output)."""
    print(f"{PROG[0]}: {message}", file=sys.stderr, flush=True)


# -- argument types: a bad value is argparse's one-line usage error (exit 2) --------------------------------
def number_type(convert, ok, rule: str):
    """An argparse type: `convert` (int or float) the text, then check it with `ok`; `rule` says what is wanted."""
    kind = "a whole number" if convert is int else "a number"

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{text} {rule}")
        return value

    return parse


positive_int = number_type(int, lambda v: v >= 1, "must be 1 or more")
non_negative_int = number_type(int, lambda v: v >= 0, "cannot be negative")
positive_float = number_type(float, lambda v: math.isfinite(v) and v > 0, "must be a finite number above 0")
non_negative_float = number_type(float, lambda v: math.isfinite(v) and v >= 0, "must be a finite number, 0 or more")
share = number_type(float, lambda v: 0.0 < v < 1.0, "must be between 0 and 1 (e.g. 0.95)")  # a recall, a test share
probability = number_type(float, lambda v: 0.0 <= v <= 1.0, "must be between 0 and 1")


# -- output -----------------------------------------------------------------------------------------------------
def add_output_arguments(parser, default: str | None = "-", what: str = "output rows",
                         formats: str = "JSONL (.gz for gzip) or Parquet (.parquet)", required: bool = False) -> None:
    kwargs = {"required": True} if required else {"default": default}
    where = "" if required or default is None else f"; default {'stdout' if default == '-' else default}"
    parser.add_argument("-o", "--output", metavar="PATH", **kwargs,
                        help=f"{what}: {formats}, by extension; '-' for stdout, s3://bucket/key for S3{where}")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output (refused otherwise)")


def add_quiet_argument(parser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress, only errors and the summary")


def check_new_file(path: str | Path, overwrite: bool) -> None:
    """UsageError now (not after the work) when `path` exists and may not be replaced, or cannot be written.
    For local files only (models, figures): '-' and s3:// are refused."""
    from dataio.tables import OutputError, check_output

    if str(path) == "-" or str(path).startswith("s3://"):
        raise UsageError(f"{path}: name a local file")
    try:
        check_output(path, overwrite, format="jsonl")
    except OutputError as exc:
        raise UsageError(str(exc)) from None


@contextmanager
def atomic_path(path: str | Path):
    """A temporary path beside `path`, renamed over it when the block ends without an exception.
    Why: a file that is being written (a model, a figure) must never be mistaken for a finished one."""
    from dataio.tables import temporary_name

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(target)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text_atomic(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


# -- progress ---------------------------------------------------------------------------------------------------
STATUS_EVERY = float(os.environ.get("CCIMG_STATUS_SECONDS", "30"))


class Progress:
    """A tqdm bar on a terminal; elsewhere (logs, CI, a pipe) one status line every STATUS_EVERY seconds
    (30; CCIMG_STATUS_SECONDS sets it), so that a long run in a log is never silent.

    Use: `with Progress("scoring", unit="rows") as p: ... p.update(n)`."""

    def __init__(self, desc: str, unit: str = "rows", total: int | None = None, quiet: bool = False,
                 every: float | None = None, clock=time.monotonic, stream=None):
        self.desc, self.unit, self.total = desc, unit, total
        self.n = 0
        self._clock = clock
        self._stream = stream
        self._every = STATUS_EVERY if every is None else every
        self._start = self._last = clock()
        self._bar = None
        self._lines = 0
        self._note = ""
        err = stream or sys.stderr
        self._mode = "off" if quiet else "bar" if getattr(err, "isatty", lambda: False)() else "log"
        if self._mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=f"{PROG[0]}: {desc}", unit=f" {unit}",
                             file=err, dynamic_ncols=True, mininterval=0.5, leave=False)

    def update(self, n: int = 1) -> None:
        self.n += n
        if self._bar is not None:
            self._bar.update(n)
        elif self._mode == "log":
            now = self._clock()
            if now - self._last >= self._every:
                self._last = now
                self._status(now)

    def note(self, text: str) -> None:
        """What else the bar (or the next status line) shows, e.g. `ccimg fetch`'s hosts, MB, ok and failed."""
        self._note = text
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)

    def _status(self, now: float) -> None:
        elapsed = max(now - self._start, 1e-9)
        of = f" of {self.total:,}" if self.total else ""
        line = f"{PROG[0]}: {self.desc}: {self.n:,}{of} {self.unit} in {elapsed:.0f} s ({self.n / elapsed:,.0f}/s)"
        if self._note:
            line += f"; {self._note}"
        print(line, file=self._stream or sys.stderr, flush=True)
        self._lines += 1

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._mode == "log" and self._lines:  # a run long enough for status lines also gets its last one
            self._status(self._clock())

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def counted(iterable, progress: Progress):
    """Yield from `iterable`, one progress step per item."""
    for item in iterable:
        progress.update()
        yield item


@contextmanager
def phase(what: str, quiet: bool = False):
    """'ccimg train: fitting ours on 42,206 examples ...' then '... done in 12 s': a long step without a bar
    (a forest's fit) still says what it is doing and how long it took."""
    if not quiet:
        say(f"{what} ...")
    t0 = time.monotonic()
    yield
    if not quiet:
        say(f"{what}: done in {time.monotonic() - t0:.1f} s")


# -- model files ------------------------------------------------------------------------------------------------
def load_model(path: str | Path | None):
    """The model bundle at `path` (default: the shipped model), or a one-line UsageError saying why not:
    missing, not a ccimg model (truncated, another format), or refused (it names code outside the allow-list)."""
    from models.model_file import UntrustedModelError, load
    from models.score import DEFAULT_MODEL

    path = Path(path) if path else DEFAULT_MODEL
    if not path.exists():
        raise UsageError(f"no model file at {path}" + ("" if path != DEFAULT_MODEL else
                                                        " (run `ccimg build-default-model`)"))
    if path.is_dir():
        raise UsageError(f"{path} is a folder, not a model file")
    try:
        with open(path, "rb") as f:
            head = f.read(2)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        raise UsageError(f"refusing to load {path}: it is a Python pickle, which runs whatever code it holds; "
                         "ccimg loads only skops model files (`ccimg train` writes them)")
    try:
        return load(path)
    except UntrustedModelError as exc:
        names = _untrusted_names(exc)
        raise UsageError(f"refusing to load {path}: it names types outside the allow-list ({names}), and ccimg "
                         "never runs code from a model file") from None
    except Exception as exc:  # noqa: BLE001 - truncated zip, another format, a skops file of something else
        raise UsageError(f"{path} is not a ccimg model file ({_describe(exc)})") from None


def _untrusted_names(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    text = str(cause)
    start, end = text.find("["), text.rfind("]")
    names = text[start + 1:end] if 0 <= start < end else text
    names = names.replace("'", "")
    return names if len(names) <= 160 else names[:160] + "..."


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if len(text) > 120:
        text = text[:120] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def check_recall(bundle, recall: float | None, kinds=("record", "url")) -> None:
    """UsageError unless every estimator that may score can set its threshold for a recall target (checked
    before scoring starts: a paper method's forest has no calibrated recall thresholds, and would silently
    score at 0.5)."""
    if recall is None:
        return
    for kind in kinds:
        if not hasattr(bundle.for_input(kind), "recall_threshold"):
            method = bundle.metadata.get("method", "this model")
            raise UsageError(f"--recall: {method} has no recall thresholds (only ours and ours-url do); "
                             "use --threshold")


def add_model_arguments(parser) -> None:
    """--model, and its operating point: --recall or --threshold (one of them), for the commands that score."""
    parser.add_argument("--model", metavar="FILE", help="model file (default: the shipped model)")
    limits = parser.add_mutually_exclusive_group()
    limits.add_argument("--recall", type=recall_target, metavar="R",
                        help="the threshold that keeps this share of BIG images on the model's held-out data "
                             "(default: the recall target stored in the model; the shipped one: 0.95 for records, "
                             "0.98 for bare URLs)")
    limits.add_argument("--threshold", type=threshold_value, metavar="P",
                        help="an explicit threshold on p_big, or 'f1' for the model's best-F1 threshold")


def threshold_value(text: str):
    """--threshold: a number on p_big in [0, 1], or 'f1' (the model's best-F1 threshold)."""
    if text == "f1":
        return text
    try:
        return probability(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"{text} is neither a number between 0 and 1 nor 'f1'") from None


recall_target = number_type(float, lambda v: 0.0 < v <= 1.0, "must be above 0 and at most 1 (e.g. 0.95)")
