"""`Seen`: which strings were met before, at 8 bytes each, for deduplicating streams of URLs.

Why not a Python set of the URLs: a million URLs held as str objects in a set take about 200 MB
(`ccimg probe` held 1M refused URLs in 410 MB); their 64-bit hashes in a sorted numpy array take
8 MB.  Exact up to hash collisions: with blake2b's 64 bits, two of n distinct URLs collide with
probability about n**2 / 2**65 (one in 37 million for a million URLs), and a collision would
drop one URL as a duplicate.

New hashes go to a small set first and are merged into the sorted array in bulk (every
`pending_limit` additions), so an addition costs a set insertion plus a binary search.
"""
from __future__ import annotations

from hashlib import blake2b

import numpy as np


def _hash(text: str) -> int:
    return int.from_bytes(blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


class Seen:
    def __init__(self, pending_limit: int = 65536):
        self._sorted = np.empty(0, dtype=np.uint64)
        self._pending: set[int] = set()
        self._pending_limit = pending_limit

    def __len__(self) -> int:
        return len(self._sorted) + len(self._pending)

    def __contains__(self, text: str) -> bool:
        return self._known(_hash(text))

    def _known(self, h: int) -> bool:
        if h in self._pending:
            return True
        arr = self._sorted
        if not len(arr):
            return False
        i = int(np.searchsorted(arr, np.uint64(h)))
        return i < len(arr) and int(arr[i]) == h

    def add(self, text: str) -> bool:
        """True if `text` is new (and now remembered), False if it was seen before."""
        h = _hash(text)
        if self._known(h):
            return False
        self._pending.add(h)
        if len(self._pending) >= self._pending_limit:
            merged = np.fromiter(self._pending, dtype=np.uint64, count=len(self._pending))
            self._sorted = np.union1d(self._sorted, merged)
            self._pending = set()
        return True

    @property
    def nbytes(self) -> int:
        """Memory held, roughly: 8 bytes per merged hash, about 60 per pending one."""
        return int(self._sorted.nbytes) + 60 * len(self._pending)
