"""Textual features of an image URL, as scikit-learn transformers: the paper's NG and TOKENS methods.

Two ways to compute the same grams:
  * `url_ngrams` / `url_tokens`: one URL at a time, plain Python, the reference (readable, slow);
  * `GramVectorizer`: a whole batch at once.  Its n-gram path joins the batch into one string,
    does the paper's preprocessing with whole-string operations, hashes every n-gram with numpy
    (a polynomial hash over UTF-32 code points) and looks the hashes up in a small open-addressing
    table of the *selected* grams only.  That is what makes scoring fast: the Python per-URL loop
    of a CountVectorizer (about 200 slices and dict look-ups per URL) is the bottleneck of the
    plain path.  The tests check that both ways give the same matrix.

Selection (fitted on training data only, inside the pipeline): trf ("term relative frequency")
and tsrf, as in Andreadou et al. 2015 -- see `../shared/docs/paper-method.md`.  The output is a
binary presence matrix (CSR, float32) of the selected grams.
"""
from __future__ import annotations

import re
from urllib.parse import unquote

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*://", re.M)
_EXTENSION = re.compile(r"\.[^.\n]{0,4}$", re.M)
_PIECE_SPLIT = re.compile(r"[/.\-]")
_TOKEN = re.compile(r"\w+")
_TOKEN_OR_NEWLINE = re.compile(r"\w+|\n")
_SEPARATOR_CODES = np.array([ord(c) for c in "/.-\n"], dtype=np.uint32)

_P = np.uint64(0x9E3779B97F4A7C15 | 1)  # odd 64-bit multiplier of the polynomial hash
_MIX = np.uint64(0xBF58476D1CE4E5B9)  # multiplicative mixing before taking table bits
_MASK64 = (1 << 64) - 1


def url_of(item) -> str:
    """The image URL of a record dict, or the item itself when it is already a string."""
    if isinstance(item, str):
        return item
    return item.get("img_url") or ""


def _clean(url: str) -> str:
    # A URL list never holds newlines inside a URL; the batch path relies on that.
    return url.replace("\n", " ").replace("\r", " ")


def normalise_url(url: str) -> str:
    """The paper's preprocessing minus the extension rule: URL-decode, lowercase, strip `scheme://`."""
    return _SCHEME.sub("", unquote(_clean(url)).lower().replace("\n", " "))


def preprocess_url(url: str) -> str:
    """The paper's preprocessing: URL-decode, strip scheme, drop a short extension, lowercase."""
    return _EXTENSION.sub("", normalise_url(url))


def url_pieces(url: str) -> list[str]:
    """The preprocessed URL split on `/`, `.` and `-` (the units n-grams are taken from)."""
    return [p for p in _PIECE_SPLIT.split(preprocess_url(url)) if p]


def url_ngrams(url: str, ngram_range: tuple[int, int] = (3, 5)) -> set[str]:
    """Reference NG analyzer: the set of character n-grams of each piece (n in ngram_range)."""
    lo, hi = ngram_range
    grams = set()
    for piece in url_pieces(url):
        for n in range(lo, hi + 1):
            for i in range(len(piece) - n + 1):
                grams.add(piece[i:i + n])
    return grams


def url_tokens(url: str) -> set[str]:
    """Reference TOKENS analyzer: the URL (decoded, lowercased, no scheme) split on `\\W+`."""
    return set(_TOKEN.findall(normalise_url(url)))


def text_tokens(text: str | None) -> set[str]:
    """Lowercased `\\w+` words of free text (class, id, alt)."""
    return set(_TOKEN.findall(text.lower())) if text else set()


def gram_hash(gram: str) -> int:
    """The 64-bit polynomial hash of one gram, equal to what the batch path computes."""
    h = 0
    p = int(_P)
    for ch in gram:
        h = (h * p + ord(ch)) & _MASK64
    return h


# --------------------------------------------------------------------------- batch n-gram hashing

def _joined_preprocessed(urls: list[str]) -> str:
    """The preprocessed URLs joined by newlines, computed with whole-string operations."""
    joined = "\n".join(_clean(u) for u in urls)
    decoded = unquote(joined)
    if decoded.count("\n") != len(urls) - 1:  # an encoded newline (%0A) inside a URL: go one by one
        return "\n".join(preprocess_url(u) for u in urls)
    return _EXTENSION.sub("", _SCHEME.sub("", decoded.lower()))


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4")


def _hash_ngrams(codes: np.ndarray, ngram_range: tuple[int, int]):
    """Yield (n, starts, hashes) of every n-gram that lies inside one piece."""
    lo, hi = ngram_range
    c = codes.astype(np.uint64)
    is_sep = np.isin(codes, _SEPARATOR_CODES)
    seps = np.concatenate(([0], np.cumsum(is_sep, dtype=np.int64)))
    h = None
    for n in range(1, hi + 1):
        h = c.copy() if h is None else h[:-1] * _P + c[n - 1:]
        if n >= lo:
            m = len(h)
            starts = np.flatnonzero(seps[n:n + m] == seps[:m])
            yield n, starts, h[starts]


class GramTable:
    """Open-addressing hash table from gram hash to column, probed with vectorised gathers."""

    def __init__(self, hashes: list[int]):
        size = 1 << max(8, (4 * max(1, len(hashes)) - 1).bit_length())
        self.bits = size.bit_length() - 1
        self.keys = np.zeros(size, dtype=np.uint64)
        self.cols = np.full(size, -1, dtype=np.int32)
        self.max_probe = 0
        for col, h in enumerate(hashes):
            slot = self._slot(np.array([h], dtype=np.uint64))[0]
            probe = 0
            while self.cols[slot] >= 0:
                slot = (slot + 1) & (size - 1)
                probe += 1
            self.keys[slot], self.cols[slot] = h, col
            self.max_probe = max(self.max_probe, probe)

    def _slot(self, hashes: np.ndarray) -> np.ndarray:
        return ((hashes * _MIX) >> np.uint64(64 - self.bits)).astype(np.int64)

    def lookup(self, hashes: np.ndarray) -> np.ndarray:
        """Column of each hash, -1 where the gram was not selected."""
        out = np.full(len(hashes), -1, dtype=np.int32)
        slot = self._slot(hashes)
        mask = len(self.keys) - 1
        for _ in range(self.max_probe + 1):
            hit = (self.keys[slot] == hashes) & (self.cols[slot] >= 0)
            out[hit] = self.cols[slot[hit]]
            slot = (slot + 1) & mask
        return out


# --------------------------------------------------------------------------- selection scores

def balanced_counts(df_big: np.ndarray, df_small: np.ndarray, n_big: int, n_small: int):
    """Document counts scaled so that both classes count as many examples (the paper's balancing)."""
    n = min(n_big, n_small)
    return df_big * (n / max(n_big, 1)), df_small * (n / max(n_small, 1))


def trf_scores(own: np.ndarray, other: np.ndarray) -> np.ndarray:
    """trf score of each gram for one class: own - other if seen in both, own if only here; <= 0 is dropped."""
    return np.where(other > 0, own - other, own)


def tsrf_scores(own: np.ndarray, other: np.ndarray) -> np.ndarray:
    """tsrf score for one class: (own^2 - other^2) / own."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(own > 0, (own ** 2 - other ** 2) / np.maximum(own, 1e-12), 0.0)


def select_top(scores: np.ndarray, k: int, eligible: np.ndarray) -> np.ndarray:
    """Indices of the k best positive scores among eligible grams (ties broken by index, stable)."""
    idx = np.flatnonzero(eligible & (scores > 0))
    order = np.argsort(-scores[idx], kind="stable")
    return idx[order[:k]]


# --------------------------------------------------------------------------- the transformer

class GramVectorizer(TransformerMixin, BaseEstimator):
    """Binary presence of selected URL grams (or of words of the class/id/alt text).

    analyzer: 'ngram' (the paper's NG, n in ngram_range, per piece), 'token' (TOKENS, `\\W+`),
      or 'attr-words' (words of the element's class, id and alt: our context words).
    selection: 'trf' (top k per class by trf), 'tsrf' (top k per class by tsrf among grams seen at
      least min_count times, grams contained in a longer selected gram dropped when drop_contained),
      or 'none' (every gram seen at least min_count times in training).
    Input: a sequence of image records (dicts with img_url, class, id, alt) or of URL strings.
    """

    def __init__(self, analyzer: str = "ngram", selection: str = "trf", k: int = 500,
                 ngram_range: tuple[int, int] = (3, 5), min_count: int = 2, drop_contained: bool = True):
        self.analyzer = analyzer
        self.selection = selection
        self.k = k
        self.ngram_range = ngram_range
        self.min_count = min_count
        self.drop_contained = drop_contained

    # -- gram extraction, as (rows, hashes) for the batch path or sets for the reference path
    def _documents(self, X) -> list[set[str]]:
        if self.analyzer == "ngram":
            return [url_ngrams(url_of(x), tuple(self.ngram_range)) for x in X]
        if self.analyzer == "token":
            return [url_tokens(url_of(x)) for x in X]
        if self.analyzer == "attr-words":
            return [text_tokens(_attr_text(x)) for x in X]
        raise ValueError(f"unknown analyzer {self.analyzer!r}")

    def fit(self, X, y):
        y = np.asarray(y)
        big = y == 1
        docs = self._documents(X)
        vocab: dict[str, int] = {}
        df = [[], []]  # per gram: count in SMALL docs, in BIG docs
        for doc, is_big in zip(docs, big):
            for g in doc:
                j = vocab.get(g)
                if j is None:
                    j = vocab[g] = len(vocab)
                    df[0].append(0)
                    df[1].append(0)
                df[int(is_big)][j] += 1
        grams = np.array(list(vocab), dtype=object)
        df_small, df_big = np.array(df[0], dtype=float), np.array(df[1], dtype=float)
        n_big, n_small = int(big.sum()), int((~big).sum())
        b, s = balanced_counts(df_big, df_small, n_big, n_small)
        total = df_big + df_small
        eligible = total >= self.min_count
        if self.selection == "none":
            chosen = np.flatnonzero(eligible)
        elif self.selection in ("trf", "tsrf"):
            score = trf_scores if self.selection == "trf" else tsrf_scores
            chosen = np.union1d(select_top(score(b, s), self.k, eligible),
                                select_top(score(s, b), self.k, eligible))
            if self.selection == "tsrf" and self.drop_contained:
                chosen = _drop_contained(grams, chosen)
        else:
            raise ValueError(f"unknown selection {self.selection!r}")
        self.vocabulary_ = {g: i for i, g in enumerate(sorted(grams[chosen]))}
        self.n_train_ = (n_small, n_big)
        self._build_table()
        return self

    def _build_table(self):
        names = sorted(self.vocabulary_, key=self.vocabulary_.get)
        self.table_ = GramTable([gram_hash(g) for g in names])

    def get_feature_names_out(self, input_features=None):
        names = sorted(self.vocabulary_, key=self.vocabulary_.get)
        return np.array([f"{self.analyzer}:{g}" for g in names], dtype=object)

    def transform(self, X):
        if self.analyzer == "ngram":
            rows, cols = self._ngram_entries([url_of(x) for x in X])
        elif self.analyzer == "token":
            rows, cols = self._token_entries([normalise_url(url_of(x)) for x in X])
        else:
            rows, cols = self._token_entries([(_attr_text(x) or "").lower().replace("\n", " ") for x in X])
        return _binary_csr(rows, cols, len(X), len(self.vocabulary_))

    def _ngram_entries(self, urls: list[str]):
        if not urls:
            return np.empty(0, np.int64), np.empty(0, np.int32)
        codes = _codes(_joined_preprocessed(urls))
        row_of = np.concatenate(([0], np.cumsum(codes == 10, dtype=np.int32)))
        rows, cols = [], []
        for _, starts, hashes in _hash_ngrams(codes, tuple(self.ngram_range)):
            col = self.table_.lookup(hashes)
            hit = col >= 0
            rows.append(row_of[starts[hit]])
            cols.append(col[hit])
        return np.concatenate(rows), np.concatenate(cols)

    def _token_entries(self, texts: list[str]):
        tokens = _TOKEN_OR_NEWLINE.findall("\n".join(texts))
        get = self.vocabulary_.get
        col = np.fromiter((get(t, -1) if t != "\n" else -2 for t in tokens), dtype=np.int32, count=len(tokens))
        row_of = np.cumsum(col == -2, dtype=np.int32)
        hit = col >= 0
        return row_of[hit], col[hit]


def _attr_text(x) -> str | None:
    if isinstance(x, str):
        return None
    parts = [x.get("class"), x.get("id"), x.get("alt")]
    return " ".join(p for p in parts if p) or None


def _drop_contained(grams: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Drop a selected gram that is a substring of a longer selected gram (the later tsrf version)."""
    selected = [grams[i] for i in chosen]
    longer = sorted(selected, key=len, reverse=True)
    keep = []
    for i, g in zip(chosen, selected):
        if not any(len(o) > len(g) and g in o for o in longer if len(o) > len(g)):
            keep.append(i)
    return np.array(keep, dtype=chosen.dtype)


def _binary_csr(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> sp.csr_matrix:
    """A 0/1 CSR matrix (float32, int32 indices) from (row, col) pairs that may repeat."""
    order = np.argsort(rows, kind="stable")  # rows come as a few sorted runs: a cheap merge
    rows, cols = rows[order], cols[order]
    indptr = np.zeros(n_rows + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    m = sp.csr_matrix((np.ones(len(cols), dtype=np.float32), cols.astype(np.int32), indptr),
                      shape=(n_rows, n_cols))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m
