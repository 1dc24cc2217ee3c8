"""Failed input lines: how a mapper reports them, and how the job's driver hands them to the user.

Why through the job's output: it is the one channel that every runner (inline, local, Spark, EMR)
brings back from the mappers to the machine that launched the job.  A mapper writes one record per
failed line, ``{"failed_line": LINE, "error": KIND, "message": WHY}``, among its image records; a step
with a reducer carries them under FAILED_KEY, which no image URL can be, and the reducer passes them
through.  The driver (`CCJob.run_job`) takes them out of the output it prints: they go to
``--failed-lines PATH`` (the raw lines, one per line: a manifest to rerun the job on) and the first
few to stderr.  With ``--output-dir`` (output not printed) they stay in the output files, where
``grep '^{"failed_line"'`` finds them; ``--failed-lines`` then reads the output once to collect them.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from dataio.tables import loads

FAILED_FIELD = "failed_line"
FAILED_KEY = "ccimg:failed-line"  # not an absolute http(s) URL, so never an image URL
SHOWN = 10  # failed lines echoed to stderr by the driver
MESSAGE_MAX = 300
_PREFIX = b'{"' + FAILED_FIELD.encode() + b'"'


def failed_record(line: str, kind: str, message: str) -> dict:
    """The output record of one failed input line (`line` as the mapper read it, surrogate escapes and all)."""
    return {FAILED_FIELD: line, "error": kind, "message": message[:MESSAGE_MAX]}


def is_failed_output(line: bytes) -> bool:
    """True for an output line that is a failed-line record (the field comes first: see failed_record)."""
    return line.startswith(_PREFIX)


@dataclass
class FailedLines:
    """The failed lines a driver found in the output: counted by kind, the first SHOWN kept to show."""

    by_kind: Counter = field(default_factory=Counter)
    shown: list[tuple[str, str]] = field(default_factory=list)  # (kind, line)

    def add(self, record: dict) -> None:
        kind = str(record.get("error"))
        self.by_kind[kind] += 1
        if len(self.shown) < SHOWN:
            self.shown.append((kind, str(record.get(FAILED_FIELD))))

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


def encode_line(line: str) -> bytes:
    """A failed line as the bytes it had in the input (undecodable bytes were kept as surrogate escapes)."""
    return line.encode("utf-8", "surrogateescape") + b"\n"


def split_output(lines: Iterable[bytes], write_output, on_failed=None) -> FailedLines:
    """Send each output line to `write_output` (if given), except failed-line records: those are parsed,
    counted, and handed to `on_failed(record)` (if given)."""
    failed = FailedLines()
    for line in lines:
        if is_failed_output(line):
            record = loads(line)
            failed.add(record)
            if on_failed is not None:
                on_failed(record)
        elif write_output is not None:
            write_output(line)
    return failed
