"""Output lines: one JSON object per line, written with orjson when it is installed.

Why: writing the image records costs about a quarter of the extraction time with the
standard library's json (benchmarks/extract.py, prototype `+orjson`: x1.31).  The values are
the same JSON either way; orjson writes non-ASCII as UTF-8 instead of \\u escapes.
"""
from __future__ import annotations

import json

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a core dependency, but the stdlib path must work too
    orjson = None


def dumps(value) -> bytes:
    if orjson is not None:
        try:
            return orjson.dumps(value)
        except (TypeError, orjson.JSONEncodeError):  # e.g. lone surrogates, huge ints: let json decide
            pass
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def loads(line: bytes):
    if orjson is not None:
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError:
            pass
    return json.loads(line.decode("utf-8", "surrogatepass"))


class JSONLinesValueProtocol:
    """mrjob protocol: the value as one JSON line, no key (like mrjob's JSONValueProtocol)."""

    def read(self, line: bytes):
        return None, loads(line)

    def write(self, key, value) -> bytes:
        return dumps(value)
