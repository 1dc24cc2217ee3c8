"""Shared real data for the size-model tests: loaded once per test session, skipped where absent.

Reads ../shared/data beside the repository (tests/conftest.py), never a copy in the repository.
"""
from __future__ import annotations

import functools
from pathlib import Path

from tests.conftest import SHARED_DATA as DATA
from tests.conftest import shared_path


def require(*parts: str) -> Path:
    return shared_path(*parts)


@functools.lru_cache(maxsize=None)
def aeb_records() -> tuple[dict, ...]:
    """Image records of the 181 html-aeb article pages."""
    require("html-aeb", "ground-truth.json")
    from models.corpus import iter_records
    return tuple(r for r in iter_records(DATA, include=("html-aeb",)) if r.get("origin") != "stated")


@functools.lru_cache(maxsize=None)
def more_records(pages: int = 300) -> tuple[dict, ...]:
    """Image records of the first `pages` html-more pages (wcxb: many sites, many declared sizes)."""
    require("html-more", "pages.jsonl")
    from models.corpus import iter_records
    records = iter_records(DATA, limit_pages=pages, include=("html-more",))
    return tuple(r for r in records if r.get("origin") != "stated")


@functools.lru_cache(maxsize=None)
def warc_records_of(name: str) -> tuple[dict, ...]:
    path = require("webarchive", name)
    from models.corpus import CorpusReader
    return tuple(CorpusReader(DATA).warc(path))
