"""What one line of job input means.

Two kinds of line, so that one manifest format serves both index selections and bulk runs:
  * a record pointer, as the index gives it: ``FILENAME<TAB>OFFSET<TAB>LENGTH[<TAB>URL]``
    (also accepted: space-separated ``FILENAME OFFSET LENGTH [URL]``);
  * a whole WARC file: a local path, an ``https://``/``http://`` URL, an ``s3://`` URL, or a
    path relative to the source base (``crawl-data/CC-MAIN-.../x.warc.gz``).  A line without a tab
    that is not ``NAME OFFSET LENGTH [URL]`` is one file name, spaces and all
    (``my warcs/x.warc.gz``).
Blank lines and lines starting with ``#`` are skipped (and counted).  A UTF-8 byte order mark at the
start of a line (the first line of a manifest saved by some editors) is ignored.

How lines arrive as text (`decode_input_line`): UTF-8, with bytes that are not UTF-8 (a latin-1 file
name) kept as surrogate escapes, so that the path opened is byte for byte the one in the manifest.
Numbers are ASCII digits only, at most MAX_DIGITS of them and within MAX_OFFSET / MAX_RECORD_LENGTH:
``1e3``, ``٣``, ``10**30`` and a 5,000-digit number are refused here, not by a seek or int() later.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MAX_RECORD_LENGTH = 64 * 1024 * 1024  # Common Crawl truncates payloads at 1 MiB; 64 MiB is surely a typo
MAX_OFFSET = 2 ** 48  # 256 TiB: beyond any WARC file (S3 objects stop at 5 TiB)
MAX_DIGITS = 15  # 2**48 has 15 digits; longer is refused before int() is called on it
MAX_LINE_LENGTH = 64 * 1024  # a pointer line is a few hundred bytes; longer is not a manifest line
BOM = "\ufeff"


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


_DIGITS = re.compile(r"[0-9]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def decode_input_line(raw: bytes) -> str:
    """A raw input line as text: UTF-8, undecodable bytes kept as surrogate escapes (os.fsencode gives
    them back), so that a latin-1 file name still names the file on disk."""
    return raw.decode("utf-8", "surrogateescape")


def _number(text: str, what: str, limit: int) -> int:
    if not _DIGITS.fullmatch(text) or len(text) > MAX_DIGITS:
        raise BadInputLine(f"offset and length must be non-negative integers, got {text[:40]!r} for the {what}")
    value = int(text)
    if value > limit:
        raise BadInputLine(f"{what} {value} is over the {limit} byte limit")
    return value


def _spaced_pointer(text: str) -> list[str] | None:
    """[name, offset, length(, url)] when `text` is ``NAME OFFSET LENGTH [URL]`` separated by white space
    (the name may hold spaces; the numbers are ASCII digits), None when it is one file name.
    BadInputLine for ``NAME NUMBER``, which is a pointer that lost a field far more often than a file
    name that ends in a number.  (Plain splits, no regular expression: a line of 64 KiB of spaces and
    digits must cost linear time.)"""
    parts = text.split()
    if len(parts) >= 4 and _DIGITS.fullmatch(parts[-3]) and _DIGITS.fullmatch(parts[-2]):
        return text.rsplit(None, 3)
    if len(parts) >= 3 and _DIGITS.fullmatch(parts[-2]) and _DIGITS.fullmatch(parts[-1]):
        return text.rsplit(None, 2)
    if len(parts) == 2 and _DIGITS.fullmatch(parts[1]):
        raise BadInputLine("expected FILENAME OFFSET LENGTH [URL] or a WARC location, got 2 fields")
    return None


def parse_input_line(line: str) -> RecordPointer | WarcFile | None:
    """Return what the line names, None for a blank or comment line, or raise BadInputLine."""
    line = line.rstrip("\r\n")
    if line.startswith(BOM):
        line = line[len(BOM):]
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    if "\x00" in line:
        raise BadInputLine("line contains a NUL byte (is the input a binary file, not a manifest?)")
    if len(line) > MAX_LINE_LENGTH:
        raise BadInputLine(f"line of {len(line)} characters, more than {MAX_LINE_LENGTH}: not a manifest line")
    if _CONTROL.search(line):
        raise BadInputLine("line contains a control character (is the input a binary file, not a manifest?)")
    if "\t" in line:
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) == 1 or (len(fields) == 2 and not fields[1]):
            return WarcFile(fields[0])
    else:
        fields = _spaced_pointer(line.strip())
        if fields is None:
            return WarcFile(line.strip())
    if len(fields) < 3:
        raise BadInputLine(f"expected FILENAME OFFSET LENGTH [URL] or a WARC location, got {len(fields)} fields")
    filename, offset, length = fields[:3]
    if not filename:
        raise BadInputLine("empty file name")
    off = _number(offset, "offset", MAX_OFFSET)
    ln = _number(length, "record length", MAX_RECORD_LENGTH)
    if ln == 0:
        raise BadInputLine("record length is 0")
    url = fields[3] if len(fields) > 3 and fields[3] else None
    return RecordPointer(filename, off, ln, url)
