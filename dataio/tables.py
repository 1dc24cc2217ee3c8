"""Rows in files: the one place that opens text files and reads and writes JSON lines.

Every command and job reads and writes its rows through here, so that `-` means stdin/stdout,
a `.gz` suffix means gzip, and a JSON line means the same thing everywhere.

JSON is written with orjson when it is installed (writing the image records with the standard
library's json costs about a quarter of the extraction time: benchmarks/extract.py); the values
are the same JSON either way, except that orjson writes non-ASCII as UTF-8 instead of \\u escapes.
"""
from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a core dependency, but the stdlib path must work too
    orjson = None


def dumps(value) -> bytes:
    """One JSON value as UTF-8 bytes, without a newline."""
    if orjson is not None:
        try:
            return orjson.dumps(value)
        except (TypeError, orjson.JSONEncodeError):  # e.g. lone surrogates, huge ints: let json decide
            pass
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def loads(line: bytes | str):
    """One JSON value from a line (bytes or text)."""
    if orjson is not None:
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError:
            pass
    if isinstance(line, bytes):
        line = line.decode("utf-8", "surrogatepass")
    return json.loads(line)


def open_text(path: str | Path, mode: str = "rt"):
    """Open a text file, gzip by suffix; '-' is stdin (reading) or stdout (writing)."""
    if str(path) == "-":
        return sys.stdin if "r" in mode else sys.stdout
    if str(path).endswith(".gz"):
        return gzip.open(path, mode, encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def iter_jsonl(path: str | Path, limit: int | None = None) -> Iterator[dict]:
    """The JSON values of a JSONL file (blank lines skipped), at most `limit` of them."""
    n = 0
    with open_text(path, "rt") as f:
        for line in f:
            if limit is not None and n >= limit:
                break
            if line.strip():
                yield loads(line)
                n += 1


def read_jsonl(path: str | Path, limit: int | None = None) -> list[dict]:
    return list(iter_jsonl(path, limit))


def write_jsonl(rows: Iterable, path: str | Path) -> int:
    """Write rows as JSON lines (gzip by suffix, folders created); returns the number of rows."""
    if str(path) != "-":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    n = 0
    f = open_text(path, "wt")
    try:
        for row in rows:
            f.write(dumps(row).decode("utf-8", "surrogatepass") + "\n")
            n += 1
    finally:
        if f is not sys.stdout:
            f.close()
    return n
