"""Site-disjoint splits: one site's templates must never be on both sides of an evaluation.

A site is the registered domain of the page host, approximated without a public-suffix list
(the last two labels, or three under a two-letter country code with a generic second level such
as `co.uk`, `com.au`, `ne.jp`).  The train/test side of a site is a hash of its name, so the
split is the same on every machine and for any subset or order of the data.
"""
from __future__ import annotations

import hashlib

import numpy as np

_SECOND_LEVEL = frozenset("co com net org gov edu ac ne or go gob nic mil".split())


def site_of(host: str | None) -> str:
    host = (host or "").lower().strip(".")
    if host.startswith("www."):
        host = host[4:]
    parts = host.split(".")
    if len(parts) >= 3 and len(parts[-1]) == 2 and parts[-2] in _SECOND_LEVEL:
        return ".".join(parts[-3:])
    return ".".join(parts[-2:])


def record_site(rec) -> str:
    if isinstance(rec, str):
        from features.urls import host_of
        return site_of(host_of(rec))
    return site_of(rec.get("page_host") or rec.get("img_host"))


def site_fraction(site: str, salt: str = "ccimg-split-v1") -> float:
    """A number in [0, 1) fixed by the site name: the site's place in every split."""
    digest = hashlib.sha1(f"{salt}:{site}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def is_test_site(sites, test_share: float = 0.25, salt: str = "ccimg-split-v1") -> np.ndarray:
    return np.array([site_fraction(s, salt) < test_share for s in sites], dtype=bool)


def group_folds(sites, n_folds: int, salt: str = "ccimg-folds-v1") -> np.ndarray:
    """Fold number of each example by its site (for cross-validation inside the training side)."""
    return np.array([int(site_fraction(s, salt) * n_folds) for s in sites], dtype=np.int16)
