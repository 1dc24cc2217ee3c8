"""What one line of job input means.

Two kinds of line, so that one manifest format serves both index selections and bulk runs:
  * a record pointer, as the index gives it: ``FILENAME<TAB>OFFSET<TAB>LENGTH[<TAB>URL]``
    (also accepted: space-separated ``FILENAME OFFSET LENGTH [URL]``);
  * a whole WARC file: a local path, an ``https://``/``http://`` URL, an ``s3://`` URL, or a
    path relative to the source base (``crawl-data/CC-MAIN-.../x.warc.gz``).
Blank lines and lines starting with ``#`` are skipped (and counted).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MAX_RECORD_LENGTH = 64 * 1024 * 1024  # Common Crawl truncates payloads at 1 MiB; 64 MiB is surely a typo


class BadInputLine(ValueError):
    """The line cannot be understood; the message says why."""


@dataclass(frozen=True)
class RecordPointer:
    filename: str
    offset: int
    length: int
    url: str | None = None


@dataclass(frozen=True)
class WarcFile:
    location: str


_INT = re.compile(r"^\d+$")


def parse_input_line(line: str) -> RecordPointer | WarcFile | None:
    """Return what the line names, None for a blank or comment line, or raise BadInputLine."""
    line = line.rstrip("\r\n")
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    if "\x00" in line:
        raise BadInputLine("line contains a NUL byte (is the input a binary file, not a manifest?)")
    fields = line.split("\t") if "\t" in line else line.split()
    fields = [f.strip() for f in fields]
    if len(fields) == 1:
        return WarcFile(fields[0])
    if len(fields) < 3:
        raise BadInputLine(f"expected FILENAME OFFSET LENGTH [URL] or a WARC location, got {len(fields)} fields")
    filename, offset, length = fields[:3]
    if not _INT.match(offset) or not _INT.match(length):
        raise BadInputLine(f"offset and length must be non-negative integers, got {offset!r} and {length!r}")
    off, ln = int(offset), int(length)
    if ln == 0:
        raise BadInputLine("record length is 0")
    if ln > MAX_RECORD_LENGTH:
        raise BadInputLine(f"record length {ln} is over the {MAX_RECORD_LENGTH} byte limit")
    url = fields[3] if len(fields) > 3 and fields[3] else None
    return RecordPointer(filename, off, ln, url)
