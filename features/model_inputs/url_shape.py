"""Numeric features of an image URL alone (lengths, extension, a size written in it), per batch.

The paper's URL features (length, suffix flags, sizes from URL patterns) without a per-URL regex
loop, for the fast URL model; binned into indicator columns for a linear model.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from features.model_inputs.size_signals import UrlBatch, sizes_of
from features.urls import url_extension, url_of

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
        out[:, 0] = np.fromiter(map(len, urls), dtype=np.float32, count=n)
        heads = [u.partition("?") for u in urls]
        out[:, 1] = np.fromiter((h[0].count("/") for h in heads), dtype=np.float32, count=n)
        out[:, 2] = np.fromiter((len(h[2]) for h in heads), dtype=np.float32, count=n)
        for i, sig in enumerate(sizes_of(urls)):
            if sig is not None:
                known = [v for v in (sig.width, sig.height) if v is not None]
                out[i, 3] = -1 if sig.width is None else sig.width
                out[i, 4] = -1 if sig.height is None else sig.height
                out[i, 5], out[i, 6] = min(known), max(known)
        suffix = np.fromiter((_SUFFIX_CODE.get(url_extension(h[0]), -1) for h in heads), dtype=np.int64, count=n)
        return out, suffix



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
