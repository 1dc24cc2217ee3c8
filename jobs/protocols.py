"""mrjob protocols of the jobs: output lines are JSON objects, written by `dataio.tables.dumps`."""
from __future__ import annotations

from dataio.tables import dumps, loads


class JSONLinesValueProtocol:
    """mrjob protocol: the value as one JSON line, no key (like mrjob's JSONValueProtocol)."""

    def read(self, line: bytes):
        return None, loads(line)

    def write(self, key, value) -> bytes:
        return dumps(value)
