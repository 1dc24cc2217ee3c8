"""A real pywb `wayback` server on 127.0.0.1 holding the real archives of ../shared/data.

Used by the select tests (tests/support/pywb.py wraps it in a session fixture) and by
benchmarks/select_local.py.

Collections (built in a temporary directory, never in the repository):

- ``iana``: the pywb sample archive served from its own shipped CDX (``cdx_iana.cdx``, 11 fields, 171 lines) with
  ``warcs_iana.warc.gz`` linked in as ``iana.warc.gz``, the name that CDX uses;
- ``paged``: the shipped ZipNum sample (``zipcdx_zipnum-sample.idx`` + ``.cdx.gz``: 38 blocks of about 5 lines), the
  sharded format of Common Crawl's own index, so ``showNumPages`` and ``page=`` really page;
- ``cc``: the Common Crawl excerpts in ``cc/``, indexed by pywb itself (``wb-manager add``).

"""
from __future__ import annotations

import gzip
import os
import shutil
import socket
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import requests

from models.corpus import DEFAULT_DATA_DIR as SHARED

SAMPLE = SHARED / "cdx" / "pywb_sample_archive"
CC_EXCERPTS = ("resiliparse__warcfile.warc.gz", "whirlwind__whirlwind.warc.gz", "jwarc__cc.warc.gz")
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A port that was free a moment ago (for servers that cannot be told to pick one themselves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen | None = None, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {proc.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def _wb_manager(root: Path, *args: str) -> None:
    subprocess.run([str(BIN / "wb-manager"), *args], cwd=root, check=True, capture_output=True)


def add_cdx_collection(root: Path, coll: str, cdx: Path, warcs: dict[str, Path]) -> Path:
    """A collection served from an existing CDX/CDXJ file, the WARCs linked under the names the CDX uses."""
    base = root / "collections" / coll
    (base / "indexes").mkdir(parents=True)
    (base / "archive").mkdir()
    os.symlink(cdx, base / "indexes" / cdx.name)
    for name, path in warcs.items():
        os.symlink(path, base / "archive" / name)
    return base


def add_zipnum_collection(root: Path, coll: str, idx: Path, parts: dict[str, Path],
                          warcs: dict[str, Path] | None = None) -> Path:
    """A collection over a ZipNum index: the .idx summary plus a .loc file naming where each part lives."""
    base = root / "collections" / coll
    (base / "indexes").mkdir(parents=True)
    (base / "archive").mkdir()
    shutil.copy(idx, base / "indexes" / "index.idx")
    (base / "indexes" / "index.loc").write_text("".join(f"{k}\t{v}\n" for k, v in parts.items()))
    for name, path in (warcs or {}).items():
        os.symlink(path, base / "archive" / name)
    return base


def add_warc_collection(root: Path, coll: str, warcs: list[Path]) -> Path:
    """A collection pywb indexes itself (`wb-manager add` copies the WARCs in and writes index.cdxj)."""
    _wb_manager(root, "init", coll)
    _wb_manager(root, "add", coll, *map(str, warcs))
    return root / "collections" / coll


def build_zipnum(lines: list[str], out_dir: Path, name: str, lines_per_block: int) -> tuple[Path, Path]:
    """Write sorted CDX `lines` as a ZipNum index: NAME.cdx.gz (one gzip member per block) and NAME.idx."""
    gz, idx = out_dir / f"{name}.cdx.gz", out_dir / f"{name}.idx"
    offset = 0
    with open(gz, "wb") as fgz, open(idx, "w") as fidx:
        for n, i in enumerate(range(0, len(lines), lines_per_block), start=1):
            block = lines[i: i + lines_per_block]
            member = gzip.compress(("\n".join(block) + "\n").encode())
            fgz.write(member)
            key = " ".join(block[0].split(" ", 2)[:2])
            fidx.write(f"{key}\t{name}\t{offset}\t{len(member)}\t{n}\n")
            offset += len(member)
    return gz, idx


def zipnum_lines(idx: Path, gz: Path) -> list[str]:
    """The CDX lines of a ZipNum index, block by block as pywb reads them (the sample's blocks lack a final
    newline, so `zcat` would glue the last line of one block to the first of the next)."""
    data = gz.read_bytes()
    out = []
    for row in idx.read_text().splitlines():
        _, _, off, length, _ = row.split("\t")
        block = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[int(off): int(off) + int(length)])
        out += [ln for ln in block.decode().splitlines() if ln]
    return out


@dataclass
class Wayback:
    root: Path
    port: int
    proc: subprocess.Popen
    log_path: Path
    archives: dict[str, Path] = field(default_factory=dict)  # collection -> its archive directory

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def cdx(self, coll: str) -> str:
        return f"{self.base}{coll}/cdx"

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()

    def cdx_requests(self, coll: str) -> list[str]:
        """The CDX API requests this server logged for `coll` (its own access log: independent evidence)."""
        return [ln for ln in self.log_lines() if f'"GET /{coll}/cdx?' in ln]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def start_wayback(root: Path, timeout: float = 60.0) -> Wayback:
    port = free_port()
    log_path = root / "wayback.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen([str(BIN / "wayback"), "-b", "127.0.0.1", "-p", str(port), "-d", str(root)],
                            cwd=root, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    log.close()
    server = Wayback(root, port, proc, log_path)
    try:
        wait_http(server.base + "collinfo.json", proc, timeout)
    except Exception:
        server.stop()
        raise
    return server


def build_shared_collections(root: Path) -> dict[str, Path]:
    """The iana, paged and cc collections described above; returns collection -> archive directory."""
    root.mkdir(parents=True, exist_ok=True)
    sample_warc = SAMPLE / "warcs_iana.warc.gz"
    add_cdx_collection(root, "iana", SAMPLE / "cdx_iana.cdx", {"iana.warc.gz": sample_warc})
    add_zipnum_collection(root, "paged", SAMPLE / "zipcdx_zipnum-sample.idx",
                          {"zipnum": SAMPLE / "zipcdx_zipnum-sample.cdx.gz"}, {"iana.warc.gz": sample_warc})
    add_warc_collection(root, "cc", [SHARED / "cc" / name for name in CC_EXCERPTS])
    return {c: root / "collections" / c / "archive" for c in ("iana", "paged", "cc")}


