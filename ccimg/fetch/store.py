"""Where fetched images go: a local folder or s3://bucket/prefix, in img2dataset's layouts.

Why img2dataset's layouts: the tools that read web image datasets (img2dataset's own readers,
webdataset loaders, the LAION/DataComp tooling) already read them, so a fetched folder drops into
them unchanged:
  * ``files``: shard folders ``00000/``, ``00001/``, ... holding ``000000000.jpg`` (the original
    bytes, extension by the decoded format), ``000000000.json`` (the image's metadata),
    ``000000000.txt`` (the alt text as caption), and the thumbnails ``000000000.thumb200.webp``;
  * ``webdataset``: the same members in tar shards ``00000.tar``, ``00001.tar``, ...
Keys are nine digits, shard number times the shard size plus the index inside it (img2dataset's
5 + 4 digits for 10,000 per shard).

Durability, for resuming: every object is written atomically (a temporary name, then a rename; an
S3 PUT is atomic by itself), and a key is reported durable (`on_durable`) only once its bytes are
where a reader will find them: at once for ``files``, when the shard's tar is closed and in place
for ``webdataset``.  The caller journals a URL as done only then.  A run starts a new shard (see
`first_key`), so a rerun never rewrites a tar that an earlier run finished.
"""
from __future__ import annotations

import io
import os
import shutil
import tarfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from network.errors import FetchError, TransientError
from network.retry import RetryPolicy

LAYOUTS = ("files", "webdataset")
DEFAULT_SHARD_SIZE = 10_000
DEFAULT_SHARD_BYTES = 1 << 30  # a webdataset tar is closed at 10,000 images or 1 GiB, whichever comes first
KEY_DIGITS = 9
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
                 "json": "application/json", "txt": "text/plain; charset=utf-8", "tar": "application/x-tar",
                 "jsonl": "application/x-ndjson", "parquet": "application/vnd.apache.parquet",
                 "svg": "image/svg+xml", "avif": "image/avif", "bmp": "image/bmp", "tif": "image/tiff"}


class StoreError(Exception):
    """The destination refused or failed (after retries): nothing more can be stored, the run stops."""


def content_type(name: str) -> str:
    return CONTENT_TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


def is_s3(dest: str) -> bool:
    return str(dest).startswith("s3://")


class LocalSink:
    """Objects as files under a folder; each written to a temporary name and renamed into place."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def __str__(self) -> str:
        return str(self.root)

    def put(self, name: str, data: bytes) -> None:
        path = self.root / name
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from None

    def put_file(self, name: str, source: str | os.PathLike) -> None:
        """Move a finished local file into place (copied first when it lives on another file system)."""
        path = self.root / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(source, path)
            except OSError:
                tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                shutil.copyfile(source, tmp)
                os.replace(tmp, path)
                os.unlink(source)
        except OSError as exc:
            raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from None


class S3Sink:
    """Objects under s3://bucket/prefix through network.s3.S3Reader, each PUT retried by our policy."""

    def __init__(self, dest: str, endpoint_url: str | None = None, policy: RetryPolicy | None = None,
                 reader=None):
        from network.s3 import S3Reader

        rest = dest[len("s3://"):]
        self.bucket, _, prefix = rest.partition("/")
        if not self.bucket:
            raise FetchError("bad_url", f"not an s3://bucket[/prefix] destination: {dest[:200]!r}")
        self.prefix = prefix.strip("/")
        self.reader = reader or S3Reader(endpoint_url=endpoint_url)
        self.policy = policy or RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=10.0, max_elapsed=120.0)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def _run(self, fn, key: str) -> None:
        try:
            self.policy.run(fn, f"s3 put s3://{self.bucket}/{key}")
        except (FetchError, TransientError) as exc:
            raise StoreError(str(exc)) from None

    def put(self, name: str, data: bytes) -> None:
        key = self._key(name)
        self._run(lambda: self.reader.put_bytes(self.bucket, key, data, content_type(name)), key)

    def put_file(self, name: str, source: str | os.PathLike) -> None:
        key = self._key(name)
        self._run(lambda: self.reader.put_file(self.bucket, key, str(source)), key)
        os.unlink(source)


def open_sink(dest: str, endpoint_url: str | None = None):
    return S3Sink(dest, endpoint_url) if is_s3(dest) else LocalSink(dest)


def key_name(key: int) -> str:
    return f"{key:0{KEY_DIGITS}d}"


# A layout's `add(build, on_durable)`: `build(key) -> {suffix: bytes}` makes the members for a key (the
# per-image JSON names its key, so the key comes first); `on_durable(key)` is called once they are stored.
Build = Callable[[str], dict[str, bytes]]


class FilesLayout:
    """img2dataset's ``files`` output: ``{shard:05d}/{key}.{suffix}``.  Writes run in the callers' threads."""

    def __init__(self, sink, shard_size: int = DEFAULT_SHARD_SIZE, first_key: int = 0):
        self.sink = sink
        self.shard_size = shard_size
        self._next = first_key
        self._lock = threading.Lock()

    def add(self, build: Build, on_durable: Callable[[str], None]) -> str:
        with self._lock:
            key = self._next
            self._next += 1
        name = key_name(key)
        folder = f"{key // self.shard_size:05d}"
        members = build(name)
        # The JSON last: a reader that finds it finds the image and its thumbnails too.
        for suffix in sorted(members, key=lambda s: s == "json"):
            self.sink.put(f"{folder}/{name}.{suffix}", members[suffix])
        on_durable(name)
        return name

    def close(self) -> None:
        pass


class WebDatasetLayout:
    """webdataset tar shards ``{shard:05d}.tar``, each written to a local temporary file, put in place when closed.

    A shard is closed at `shard_size` images or `shard_bytes` bytes, and at `close()` (also on an
    interrupted run): its keys are reported durable then.  A crash loses only the open shard, whose
    URLs the journal does not hold yet, so a rerun fetches them again."""

    def __init__(self, sink, tmp_dir: str | os.PathLike, shard_size: int = DEFAULT_SHARD_SIZE,
                 shard_bytes: int = DEFAULT_SHARD_BYTES, first_key: int = 0):
        self.sink = sink
        self.tmp_dir = Path(tmp_dir)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.shard_size = shard_size
        self.shard_bytes = shard_bytes
        self._next = first_key
        self._lock = threading.Lock()
        self._shard: int | None = None
        self._tar: tarfile.TarFile | None = None
        self._tmp: Path | None = None
        self._pending: list[tuple[str, Callable[[str], None]]] = []
        self._size = 0

    def add(self, build: Build, on_durable: Callable[[str], None]) -> str:
        with self._lock:
            key = self._next
            if self._tar is not None and (key // self.shard_size != self._shard or self._size >= self.shard_bytes):
                closed = self._shard
                self._close_shard()
                key = max(key, (closed + 1) * self.shard_size)  # a shard closed by bytes: the next one begins
            shard = key // self.shard_size
            self._next = key + 1
            name = key_name(key)
            members = build(name)
            if self._tar is None:
                self._open_shard(shard)
            now = time.time()
            for suffix, data in members.items():
                info = tarfile.TarInfo(f"{name}.{suffix}")
                info.size = len(data)
                info.mtime = now
                info.mode = 0o644
                self._tar.addfile(info, io.BytesIO(data))
                self._size += len(data) + 1024
            self._pending.append((name, on_durable))
            return name

    def _open_shard(self, shard: int) -> None:
        self._shard = shard
        self._tmp = self.tmp_dir / f"{shard:05d}.tar.partial"
        self._tar = tarfile.open(self._tmp, "w", format=tarfile.PAX_FORMAT)
        self._size = 0

    def _close_shard(self) -> None:
        self._tar.close()
        with open(self._tmp, "rb+") as f:
            os.fsync(f.fileno())
        self.sink.put_file(f"{self._shard:05d}.tar", self._tmp)
        pending, self._pending = self._pending, []
        self._tar = self._tmp = None
        for name, on_durable in pending:
            on_durable(name)

    def close(self) -> None:
        with self._lock:
            if self._tar is not None:
                self._close_shard()


def open_layout(layout: str, sink, tmp_dir: str | os.PathLike, shard_size: int = DEFAULT_SHARD_SIZE,
                first_key: int = 0):
    if layout == "files":
        return FilesLayout(sink, shard_size, first_key)
    if layout == "webdataset":
        return WebDatasetLayout(sink, tmp_dir, shard_size, first_key=first_key)
    raise ValueError(f"unknown layout {layout!r}; choose from {LAYOUTS}")
