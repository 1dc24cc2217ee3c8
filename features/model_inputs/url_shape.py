"""Numeric features of an image URL alone (lengths, extension, a size written in it), per batch.

The paper's URL features (length, suffix flags, sizes from URL patterns) without a per-URL regex
loop, for the fast URL model; binned into indicator columns for a linear model.
"""
from __future__ import annotations

import codecs

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from features.model_inputs.size_signals import UrlBatch, sizes_of
from features.urls import url_of

_SUFFIXES = ("jpg", "jpeg", "png", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff", "avif", "php", "")
_SUFFIX_CODE = {s: i for i, s in enumerate(_SUFFIXES)}
URL_SHAPE_NAMES = (["url_length", "path_depth", "query_length", "size_w", "size_h", "size_min", "size_max"]
                   + [f"suffix_{s or 'none'}" for s in _SUFFIXES])


class UrlShapeFeatures(TransformerMixin, BaseEstimator):
    """Numeric features of the URL alone, computed per batch: lengths, suffix, a size in the URL.

    The paper's URL features (length, suffix flags, sizes from URL patterns) without the per-URL
    regex loop, for the fast URL model; a size is -1 where the URL states none.  With bins > 0 each
    number becomes indicator columns of its training quantile bins (for a linear model).
    """

    _N_NUMERIC = 7

    def __init__(self, bins: int = 0):
        self.bins = bins

    def fit(self, X, y=None):
        if self.bins:
            numeric, _ = self._numbers(X)
            qs = np.linspace(0, 1, self.bins + 1)[1:-1]
            self.edges_ = [np.unique(np.quantile(numeric[:, j], qs)) for j in range(self._N_NUMERIC)]
        return self

    def transform(self, X):
        if not self.bins:
            return self._raw(X)
        numeric, suffix = self._numbers(X)
        # Straight to CSR (sparse, so that a FeatureUnion with the gram matrices stacks CSR blocks,
        # scipy's fast path): per row, the one bin of each number, then the suffix flag if any.
        widths = [len(edges) + 1 for edges in self.edges_] + [len(_SUFFIXES)]
        offsets = np.cumsum([0] + widths[:-1])
        cols = np.empty((len(numeric), len(widths)), dtype=np.int32)
        for j, edges in enumerate(self.edges_):
            cols[:, j] = offsets[j] + np.searchsorted(edges, numeric[:, j], side="right")
        cols[:, -1] = offsets[-1] + suffix
        present = np.ones(cols.shape, dtype=bool)
        present[:, -1] = suffix >= 0
        indptr = np.zeros(len(cols) + 1, dtype=np.int32)
        np.cumsum(present.sum(axis=1), out=indptr[1:])
        indices = cols[present]  # row by row, columns ascending
        return sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr),
                             shape=(len(cols), sum(widths)))

    def get_feature_names_out(self, input_features=None):
        if not self.bins:
            return np.array(URL_SHAPE_NAMES, dtype=object)
        names = [f"{URL_SHAPE_NAMES[j]}_bin{b}" for j, e in enumerate(self.edges_) for b in range(len(e) + 1)]
        return np.array(names + list(URL_SHAPE_NAMES[self._N_NUMERIC:]), dtype=object)

    def _raw(self, X):
        """The numbers, then one flag column per suffix."""
        numeric, suffix = self._numbers(X)
        flags = np.zeros((len(numeric), len(_SUFFIXES)), dtype=np.float32)
        known = np.flatnonzero(suffix >= 0)
        flags[known, suffix[known]] = 1.0
        return np.hstack([numeric, flags])

    def _numbers(self, X) -> tuple[np.ndarray, np.ndarray]:
        """(the numbers, the suffix code or -1); the URL sizes are a UrlBatch's own when X is one."""
        urls = X if isinstance(X, UrlBatch) else [url_of(x) for x in X]
        n = len(urls)
        out = np.full((n, self._N_NUMERIC), -1.0, dtype=np.float32)
        lengths = np.fromiter(map(len, urls), dtype=np.int64, count=n)
        out[:, 0] = lengths
        depth, query, suffix = _url_parts(urls, lengths)
        out[:, 1], out[:, 2] = depth, query
        sizes = sizes_of(urls)
        rows = [i for i, sig in enumerate(sizes) if sig is not None]
        if rows:  # width, height (-1: not stated), and the least and the largest stated side
            signals = [sizes[i] for i in rows]
            w = np.array([-1 if sig.width is None else sig.width for sig in signals], dtype=np.float32)
            h = np.array([-1 if sig.height is None else sig.height for sig in signals], dtype=np.float32)
            w_or_h, h_or_w = np.where(w >= 0, w, h), np.where(h >= 0, h, w)  # a signal states one side or both
            out[rows, 3], out[rows, 4] = w, h
            out[rows, 5], out[rows, 6] = np.minimum(w_or_h, h_or_w), np.maximum(w_or_h, h_or_w)
        return out, suffix


# The suffix codes by the suffix's (at most 4) characters packed into an integer, 8 bits each.
_SUFFIX_KEYS = np.array([sum(ord(c) << (8 * k) for k, c in enumerate(s)) for s in _SUFFIXES[:-1]], dtype=np.int64)
_SUFFIX_ORDER = np.argsort(_SUFFIX_KEYS)
_SUFFIX_SORTED = _SUFFIX_KEYS[_SUFFIX_ORDER]
_TO_LOWER = np.arange(256, dtype=np.int64)
_TO_LOWER[65:91] += 32


def _one_byte_each(err: UnicodeEncodeError) -> tuple[bytes, int]:
    return b"\x80" * (err.end - err.start), err.end


_NON_ASCII = "url_shape.one_byte_each"  # an encoding error handler: 0x80 for each non-ASCII character
codecs.register_error(_NON_ASCII, _one_byte_each)


def _url_parts(urls, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per URL: the `/` before the first `?` (path depth), the length after it (query), and the suffix
    code of `url_extension` of the part before it (-1 for a suffix not in _SUFFIXES).

    What `u.partition("?")`, `count("/")` and `url_extension` give, found for the whole batch with numpy
    on its characters joined without separators (a URL starts where the one before it ends, whatever it
    holds): Python string calls per URL cost more than the rest of these features.
    """
    ends = np.cumsum(lengths)
    starts = ends - lengths
    # one byte per character: a non-ASCII one becomes 0x80 (`_NON_ASCII`), which is none of the marks
    chars = np.frombuffer("".join(urls).encode("ascii", _NON_ASCII), dtype=np.uint8)

    def first(mark: int, stop: np.ndarray) -> np.ndarray:  # the first `mark` from each start, else stop
        pos = np.flatnonzero(chars == mark)
        found = np.append(pos, len(chars))[np.searchsorted(pos, starts)]
        return np.minimum(found, stop)

    def last(positions: np.ndarray, stop: np.ndarray) -> np.ndarray:  # the last position before stop, else -1
        return np.concatenate(([-1], positions))[np.searchsorted(positions, stop)]

    head = first(63, ends)  # the `?`, or the end
    query = np.where(head < ends, ends - head - 1, 0)
    slashes = np.flatnonzero(chars == 47)
    depth = np.searchsorted(slashes, head) - np.searchsorted(slashes, starts)
    # url_extension: the path ends at the first `#` of the head; its last segment, and the characters after
    # its last `.` (none: the suffix ""), lower-cased
    path_end = first(35, head)
    segment = np.maximum(last(slashes, path_end) + 1, starts)
    dot = last(np.flatnonzero(chars == 46), path_end)
    size = np.where(dot >= segment, path_end - dot - 1, 0)
    suffix = np.full(len(urls), _SUFFIX_CODE[""], dtype=np.int64)
    known = size > 0
    suffix[known] = -1
    rows = np.flatnonzero(known & (size <= 4))
    key = np.zeros(len(rows), dtype=np.int64)
    ascii_only = np.ones(len(rows), dtype=bool)
    for k in range(4):
        inside = k < size[rows]
        c = chars[np.minimum(dot[rows] + 1 + k, len(chars) - 1)]
        ascii_only &= ~inside | (c < 128)  # a non-ASCII character lower-cases to no suffix's characters
        key |= np.where(inside, _TO_LOWER[c], 0) << (8 * k)
    at = np.minimum(np.searchsorted(_SUFFIX_SORTED, key), len(_SUFFIX_SORTED) - 1)
    match = ascii_only & (_SUFFIX_SORTED[at] == key)
    suffix[rows[match]] = _SUFFIX_ORDER[at[match]]
    return depth, query, suffix



class UrlHintFeatures(TransformerMixin, BaseEstimator):
    """The URL hints of `features.model_inputs.url_hints` as sparse indicator columns (for a linear model).

    The flags (original, thumbnail, avatar, icon, ..., camera_name, hash_name) and the context of the
    URL's largest number are 0/1 columns as they are; that number itself is binned by its training
    quantiles.  Why: they say what kind of file a URL names on any host, where n-grams only know
    the hosts of the training data.
    """

    def __init__(self, bins: int = 8):
        self.bins = bins

    def _hints(self, X) -> np.ndarray:
        from features.model_inputs.url_hints import url_hints_matrix

        if isinstance(X, UrlBatch):
            return url_hints_matrix(list(X), X.decoded)
        return url_hints_matrix([url_of(x) for x in X])

    def fit(self, X, y=None):
        from features.model_inputs.url_hints import HINT_NAMES

        hints = self._hints(X)
        self.names_ = list(HINT_NAMES)
        self.num_col_ = self.names_.index("num_max")
        values = hints[:, self.num_col_]
        qs = np.linspace(0, 1, self.bins + 1)[1:-1]
        self.edges_ = np.unique(np.quantile(values[values > 0], qs)) if (values > 0).any() else np.array([])
        return self

    def transform(self, X):
        hints = self._hints(X)
        flags = np.delete(hints, self.num_col_, axis=1)
        number_bin = np.searchsorted(self.edges_, hints[:, self.num_col_], side="right")
        bins = np.zeros((len(hints), len(self.edges_) + 1), dtype=np.float32)
        bins[np.arange(len(hints)), number_bin] = 1.0
        bins[hints[:, self.num_col_] <= 0] = 0.0  # no number in the URL: no bin
        return sp.csr_matrix(np.hstack([flags, bins]).astype(np.float32))

    def get_feature_names_out(self, input_features=None):
        flags = [n for n in self.names_ if n != "num_max"]
        return np.array(flags + [f"num_max_bin{b}" for b in range(len(self.edges_) + 1)], dtype=object)
