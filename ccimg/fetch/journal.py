"""The fetch's memory between runs: what is done, so that a rerun does only the rest.

Why an append-only JSONL journal: a finished URL is one line, written (and flushed to the operating
system) the moment its image is stored, so a killed process loses nothing it had finished; lines
are fsynced in batches (every `sync_every` lines or `sync_seconds`), so that a power cut loses at
most the last batch, which the rerun fetches again.  A line cut short by a crash is ignored when
the journal is read back; a later line for a URL replaces an earlier one (a probe, then the
download it led to).

The state folder (``DEST/_state`` for a local destination) also holds the options that shape
what is stored (layout, thumbnails, shard size): resuming with other ones would mix two datasets,
so `check_options` refuses, and ``--restart`` starts afresh.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

from dataio.tables import dumps, loads

JOURNAL = "journal.jsonl"
OPTIONS = "options.json"


class OptionsChanged(Exception):
    """The state was made with other storage options."""


class Journal:
    """Append-only record of finished URLs (one JSON object per line, each with `img_url`)."""

    def __init__(self, path: str | os.PathLike, sync_every: int = 64, sync_seconds: float = 2.0):
        self.path = Path(path)
        self.sync_every = sync_every
        self.sync_seconds = sync_seconds
        self._lock = threading.Lock()
        self._file = None
        self._unsynced = 0
        self._last_sync = time.monotonic()

    def load(self) -> dict[str, dict]:
        """url -> its last entry; lines that do not parse (a crash mid-line) are skipped."""
        done: dict[str, dict] = {}
        if not self.path.exists():
            return done
        with open(self.path, "rb") as f:
            for line in f:
                try:
                    entry = loads(line)
                except ValueError:
                    continue
                if isinstance(entry, dict) and isinstance(entry.get("img_url"), str):
                    done[entry["img_url"]] = entry
        return done

    def append(self, entry: dict) -> None:
        line = dumps(entry) + b"\n"
        with self._lock:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = open(self.path, "ab")
                self._repair_torn_end()
            self._file.write(line)
            self._file.flush()
            self._unsynced += 1
            if self._unsynced >= self.sync_every or time.monotonic() - self._last_sync >= self.sync_seconds:
                self._sync()

    def _repair_torn_end(self) -> None:
        """After a crash mid-line, start on a new line, so the torn line cannot swallow the next entry."""
        if self._file.tell() == 0:
            return
        with open(self.path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                self._file.write(b"\n")

    def _sync(self) -> None:
        os.fsync(self._file.fileno())
        self._unsynced = 0
        self._last_sync = time.monotonic()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.flush()
                self._sync()
                self._file.close()
                self._file = None


def forget(state_dir: Path) -> None:
    """--restart: remove the journal, the plan and the options (what is already stored stays)."""
    if state_dir.exists():
        shutil.rmtree(state_dir)


def check_options(state_dir: Path, options: dict) -> None:
    """Remember the storage options in the state folder, or refuse if a previous run used other ones."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / OPTIONS
    if path.exists():
        before = json.loads(path.read_text(encoding="utf-8"))
        changed = {k: (before.get(k), v) for k, v in options.items() if before.get(k) != v}
        if changed:
            said = ", ".join(f"{k}: {old!r} then, {new!r} now" for k, (old, new) in sorted(changed.items()))
            raise OptionsChanged(f"{state_dir} holds a run with other storage options ({said}); "
                                 "rerun with the same options, or pass --restart to start afresh")
        return
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(options, sort_keys=True, indent=1), encoding="utf-8")
    os.replace(tmp, path)
