"""The shared pywb server of the select tests: one per test process, skipped where the data or pywb is missing."""
from __future__ import annotations

import atexit
import sys

import pytest

from benchmarks.pywb_local import BIN, CC_EXCERPTS, Wayback, build_shared_collections, start_wayback
from tests.conftest import shared_path as require_shared

_SERVER: Wayback | None = None


def shared_wayback(tmp_path_factory) -> Wayback:
    """The shared wayback server (one per test process); skips the test where the data or pywb is missing.

    Use it from a session fixture in the test module:
    ``@pytest.fixture(scope="session")`` / ``def pywb(tmp_path_factory): return shared_wayback(tmp_path_factory)``
    """
    global _SERVER
    require_shared("cdx", "pywb_sample_archive", "cdx_iana.cdx")
    for name in CC_EXCERPTS:
        require_shared("cc", name)
    if not (BIN / "wayback").exists():
        pytest.skip(f"pywb's wayback is not installed next to {sys.executable}")
    if _SERVER is None or _SERVER.proc.poll() is not None:
        root = tmp_path_factory.mktemp("pywb")
        archives = build_shared_collections(root)
        _SERVER = start_wayback(root)
        _SERVER.archives = archives
        atexit.register(_SERVER.stop)
    return _SERVER
