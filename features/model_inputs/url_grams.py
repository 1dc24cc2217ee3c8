"""Textual features of an image URL, as scikit-learn transformers: the paper's NG and TOKENS methods.

Two ways to compute the same grams:
  * `url_ngrams` / `url_tokens`: one URL at a time, plain Python, the reference (readable, slow);
  * `GramVectorizer`: a whole batch at once.  Its n-gram path joins the batch into one string,
    does the paper's preprocessing with whole-string operations, hashes every n-gram with numpy
    (a polynomial hash over UTF-32 code points) and looks the hashes up in a small slot table of
    the *selected* grams only (`GramTable`).  That is what makes scoring fast: the Python per-URL loop
    of a CountVectorizer (about 200 slices and dict look-ups per URL) is the bottleneck of the
    plain path.  The tests check that both ways give the same matrix.

Selection (fitted on training data only, inside the pipeline): trf ("term relative frequency")
and tsrf, as in Andreadou et al. 2015 -- see `../shared/docs/paper-method.md`.  The output is a
binary presence matrix (CSR, float32) of the selected grams.
"""
from __future__ import annotations

import re
from collections.abc import KeysView
from itertools import repeat
from urllib.parse import unquote

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from features.model_inputs.size_signals import UrlBatch
from features.urls import url_of

_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*://", re.M)
_EXTENSION = re.compile(r"\.[^.\n]{0,4}$", re.M)
_PIECE_SPLIT = re.compile(r"[/.\-]")
_TOKEN = re.compile(r"\w+")
_TOKEN_OR_NEWLINE = re.compile(r"\w+|\n")
_ENCODED_NEWLINE = re.compile(r"%0[aA]")
_LINE_SCHEME = re.compile(r"\n[a-z][a-z0-9+.\-]*://")
_SEPARATOR_CODES = np.array([ord(c) for c in "/.-\n"], dtype=np.uint32)

_P = np.uint64(0x9E3779B97F4A7C15 | 1)  # odd 64-bit multiplier of the polynomial hash
_MIX = np.uint64(0xBF58476D1CE4E5B9)  # multiplicative mixing before taking table bits
_MASK64 = (1 << 64) - 1
CHUNK = 256  # URLs per chunk of the batch n-gram path (its per-character arrays stay in the core's cache)


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


def url_tokens(url: str) -> KeysView[str]:
    """Reference TOKENS analyzer: the URL (decoded, lowercased, no scheme) split on `\\W+`.

    A set in the order the tokens first occur (dict keys, not a Python set, whose order changes with the
    string hash seed: fitting counts tokens in first-seen order, and that order breaks trf ties)."""
    return dict.fromkeys(_TOKEN.findall(normalise_url(url))).keys()


def text_tokens(text: str | None) -> KeysView[str]:
    """Lowercased `\\w+` words of free text (class, id, alt), as a set in the order they first occur."""
    return dict.fromkeys(_TOKEN.findall(text.lower()) if text else ()).keys()


def gram_hash(gram: str) -> int:
    """The 64-bit polynomial hash of one gram, equal to what the batch path computes."""
    h = 0
    p = int(_P)
    for ch in gram:
        h = (h * p + ord(ch)) & _MASK64
    return h


# --------------------------------------------------------------------------- batch n-gram hashing

def _joined_preprocessed(urls: list[str]) -> str:
    """The preprocessed URLs joined by newlines, computed with whole-string operations.

    Equal to `"\\n".join(map(preprocess_url, urls))`: `%0A` becomes `%20` before decoding (the
    reference turns a decoded newline into a space), and the regexes work per line (re.M).
    """
    return _EXTENSION.sub("", _joined_normalised(urls))


def _joined_normalised(urls: list[str]) -> str:
    """`"\\n".join(map(normalise_url, urls))` with whole-string operations (the TOKENS input)."""
    joined = "\n".join(urls)
    if joined.count("\n") != len(urls) - 1:
        joined = "\n".join(u.replace("\n", " ") for u in urls)
    joined = joined.replace("\r", " ")
    if "%" in joined:
        joined = unquote(_ENCODED_NEWLINE.sub("%20", joined))
    return _strip_schemes(joined.lower())


def _strip_schemes(joined: str) -> str:
    """_SCHEME.sub per line, faster: a pattern that starts with a literal newline is scanned quickly."""
    return _LINE_SCHEME.sub("\n", "\n" + joined)[1:]


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4")


def _rolling_hashes(codes: np.ndarray, ngram_range: tuple[int, int]):
    """Yield (n, hashes) where hashes[i] is the hash of codes[i:i+n], for each n in ngram_range.

    Grams that cross a separator are hashed too: no selected gram contains a separator, so they
    can never match one, and skipping the check saves passes over the data.
    """
    lo, hi = ngram_range
    c = codes.astype(np.uint64)
    h = c
    for n in range(1, hi + 1):
        if n > 1:
            h = h[:-1] * _P + c[n - 1:]
        if n >= lo:
            yield n, h


def _mixed_rolling_hashes(codes: np.ndarray, ngram_range: tuple[int, int]):
    """`_rolling_hashes` times _MIX (mod 2^64), what `GramTable.mixed_hits` probes with.

    (h * P + c) * MIX = (h * MIX) * P + c * MIX: rolling the mixed hashes saves the multiplication
    by _MIX of every hash of every n.
    """
    lo, hi = ngram_range
    cm = codes.astype(np.uint64)
    cm *= _MIX
    h = cm
    for n in range(1, hi + 1):
        if n > 1:
            h = h[:-1] * _P
            h += cm[n - 1:]
        if n >= lo:
            yield n, h


def _hash_ngrams(codes: np.ndarray, ngram_range: tuple[int, int]):
    """Yield (n, starts, hashes) of every n-gram that lies inside one piece (used for fitting checks)."""
    is_sep = np.isin(codes, _SEPARATOR_CODES)
    seps = np.concatenate(([0], np.cumsum(is_sep, dtype=np.int64)))
    for n, h in _rolling_hashes(codes, ngram_range):
        m = len(h)
        starts = np.flatnonzero(seps[n:n + m] == seps[:m])
        yield n, starts, h[starts]


class GramTable:
    """Hash set of the selected grams, probed with vectorised numpy operations.

    A 2^bits slot table, indexed by mixed hash bits, holds the column of the one selected gram
    whose hash falls in each slot (-1: none, -2: several).  One gather finds the few candidate
    positions and their columns; the full 64-bit hash of that column then confirms each one, so
    no search is needed (the rare grams that share a slot are found in the sorted hashes).

    Saved: the bit count, the sorted hashes with their columns, and the byte filter of the slots
    that older versions probed (so that files stay readable both ways); the slot table is rebuilt
    when a file is loaded.
    """

    _DERIVED = ("slot_cols", "col_keys", "probe_cols", "mixed_keys", "mixed_sorted", "mixed_sorted_cols")

    def __init__(self, hashes: list[int]):
        keys = np.array(hashes, dtype=np.uint64)
        self.bits = max(12, min(22, (64 * max(1, len(keys)) - 1).bit_length()))
        self.filter = np.zeros(1 << self.bits, dtype=np.bool_)
        self.filter[self._slot(keys)] = True
        order = np.argsort(keys)
        self.sorted_keys = keys[order]
        self.sorted_cols = order.astype(np.int32)
        self._build_slots()

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k not in self._DERIVED}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._build_slots()

    def _build_slots(self) -> None:
        self.col_keys = np.empty(len(self.sorted_keys), dtype=np.uint64)
        self.col_keys[self.sorted_cols] = self.sorted_keys
        slots = self._slot(self.sorted_keys)
        self.slot_cols = np.full(1 << self.bits, -1, dtype=np.int32)
        self.slot_cols[slots] = self.sorted_cols
        shared, count = np.unique(slots, return_counts=True)
        self.slot_cols[shared[count > 1]] = -2
        self._build_probe()

    def _build_probe(self) -> None:
        """The table `mixed_hits` probes: by the top bits of the *mixed* hashes (hash * _MIX, which
        the batch path computes directly), half the slots of `slot_cols` in the narrowest integer
        type (int16 for up to 32k grams: the table stays in the core's cache, 128 KB for 2000 grams).
        `mixed_keys` holds each column's mixed hash, then two zeros, so that the -2 (several) and -1
        slot values index it too; multiplying by the odd _MIX is a bijection, so equal mixed hashes
        are equal hashes."""
        n = len(self.sorted_keys)
        self.probe_shift = np.uint64(64 - (self.bits - 1))
        mixed = self.col_keys * _MIX
        cols = np.full(1 << (self.bits - 1), -1, dtype=np.int16 if n < (1 << 15) - 2 else np.int32)
        slots = (mixed >> self.probe_shift).view(np.int64)
        cols[slots] = np.arange(n)
        shared, count = np.unique(slots, return_counts=True)
        cols[shared[count > 1]] = -2
        self.probe_cols = cols
        self.mixed_keys = np.concatenate((mixed, np.zeros(2, dtype=np.uint64)))
        order = np.argsort(mixed)
        self.mixed_sorted, self.mixed_sorted_cols = mixed[order], order.astype(cols.dtype)

    def mixed_hits(self, mixed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`hits` of hashes given mixed (hash * _MIX): one gather in the small probe table gives the
        few candidates, whose full mixed hash then confirms them (the same hits: a hash is a hit
        exactly when it equals a selected gram's)."""
        col = np.take(self.probe_cols, (mixed >> self.probe_shift).view(np.int64))
        pos = np.flatnonzero(col != -1)
        col, cand = col[pos], mixed[pos]
        ok = self.mixed_keys[col] == cand
        shared = np.flatnonzero(col == -2)
        if len(shared):  # a slot of several grams: binary search among the mixed hashes
            want = cand[shared]
            at = np.minimum(np.searchsorted(self.mixed_sorted, want), len(self.mixed_sorted) - 1)
            col[shared], ok[shared] = self.mixed_sorted_cols[at], self.mixed_sorted[at] == want
        return pos[ok], col[ok]

    def _slot(self, hashes: np.ndarray) -> np.ndarray:
        # as int64, which numpy indexes with directly (uint64 indices are converted first)
        return ((hashes * _MIX) >> np.uint64(64 - self.bits)).view(np.int64)

    def hits(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions, columns) of the hashes that are selected grams."""
        slot_col = np.take(self.slot_cols, self._slot(hashes))
        pos = np.flatnonzero(slot_col != -1)
        col = slot_col[pos]
        shared = np.flatnonzero(col == -2)
        if len(shared):
            col[shared] = self.columns(hashes[pos[shared]])
        ok = (col >= 0) & (self.col_keys[col] == hashes[pos])
        return pos[ok], col[ok]

    def columns(self, hashes: np.ndarray) -> np.ndarray:
        """Exact column of each hash, -1 where the gram was not selected (by binary search)."""
        if len(self.sorted_keys) == 0:
            return np.full(len(hashes), -1, dtype=np.int32)
        pos = np.minimum(np.searchsorted(self.sorted_keys, hashes), len(self.sorted_keys) - 1)
        return np.where(self.sorted_keys[pos] == hashes, self.sorted_cols[pos], -1).astype(np.int32)

    def lookup(self, hashes: np.ndarray) -> np.ndarray:
        """Column of each hash, -1 where the gram was not selected."""
        out = np.full(len(hashes), -1, dtype=np.int32)
        pos, col = self.hits(hashes)
        out[pos] = col
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
    """Binary presence of selected URL grams (or of words of the element's attributes or surroundings).

    analyzer: 'ngram' (the paper's NG, n in ngram_range, per piece), 'token' (TOKENS, `\\W+`),
      'attr-words' (words of the element's class, id and alt), or 'ancestor-words' (words of the
      tags, classes and ids of the elements around the image: the record's `ancestors` field).
    url_part: 'all' (the paper: the whole URL, host included) or 'path' (no scheme and host: grams
      that a site never seen before can share with the training sites).
    selection: 'trf' (top k per class by trf), 'tsrf' (top k per class by tsrf among grams seen at
      least min_count times, grams contained in a longer selected gram dropped when drop_contained),
      or 'none' (every gram seen at least min_count times in training).
    Input: a sequence of image records (dicts with img_url, class, id, alt) or of URL strings.
    """

    def __init__(self, analyzer: str = "ngram", selection: str = "trf", k: int = 500,
                 ngram_range: tuple[int, int] = (3, 5), min_count: int = 2, drop_contained: bool = True,
                 url_part: str = "all"):
        self.analyzer = analyzer
        self.selection = selection
        self.k = k
        self.ngram_range = ngram_range
        self.min_count = min_count
        self.drop_contained = drop_contained
        self.url_part = url_part

    def _urls(self, X) -> list[str]:
        urls = X if isinstance(X, UrlBatch) else [url_of(x) for x in X]  # a UrlBatch holds strings
        if getattr(self, "url_part", "all") == "path":
            return [url_path(u) for u in urls]
        return urls

    # -- gram extraction, as (rows, hashes) for the batch path or sets for the reference path
    def _documents(self, X) -> list:
        if self.analyzer == "ngram":
            return [url_ngrams(u, tuple(self.ngram_range)) for u in self._urls(X)]
        if self.analyzer == "token":
            return [url_tokens(u) for u in self._urls(X)]
        if self.analyzer in _TEXT_OF:
            return [text_tokens(_TEXT_OF[self.analyzer](x)) for x in X]
        raise ValueError(f"unknown analyzer {self.analyzer!r}")

    def fit(self, X, y):
        y = np.asarray(y)
        big = y == 1
        if self.analyzer == "ngram":
            grams, df_small, df_big = _ngram_document_counts(self._urls(X), tuple(self.ngram_range), big)
        else:
            grams, df_small, df_big = _document_counts(self._documents(X), big)
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
        self.__dict__.pop("_vocabulary", None)
        self.__dict__.pop("_token_lookup", None)
        # A numpy string array, not a dict: a model file of thousands of dict entries loads slowly.
        self.grams_ = np.array(sorted(grams[chosen]), dtype=str)
        self.n_train_ = (n_small, n_big)
        self.table_ = GramTable([gram_hash(g) for g in self.grams_.tolist()])
        return self

    @property
    def vocabulary_(self) -> dict[str, int]:
        """gram -> column (built on first use, not saved)."""
        vocab = self.__dict__.get("_vocabulary")
        if vocab is None:
            vocab = self.__dict__["_vocabulary"] = {g: i for i, g in enumerate(self.grams_.tolist())}
        return vocab

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_vocabulary", None)
        state.pop("_token_lookup", None)
        return state

    def get_feature_names_out(self, input_features=None):
        return np.array([f"{self.analyzer}:{g}" for g in self.grams_.tolist()], dtype=object)

    def transform(self, X):
        n_cols = len(self.grams_)
        if self.analyzer == "token":
            return _binary_csr(*self._token_entries(_joined_normalised(self._urls(X))), len(X), n_cols)
        if self.analyzer != "ngram":
            text_of = _TEXT_OF[self.analyzer]
            text = "\n".join((text_of(x) or "").lower().replace("\n", " ") for x in X)
            return _binary_csr(*self._token_entries(text), len(X), n_cols)
        urls = self._urls(X)
        # Chunks keep the per-character arrays in cache; each chunk's entries come out sorted, and
        # become its rows' column indices and counts while they are still in cache.
        shift = max(1, n_cols).bit_length()
        cols, counts = [], []
        for i in range(0, len(urls), CHUNK):
            chunk = urls[i:i + CHUNK]
            keys = self._ngram_keys(chunk, shift)
            cols.append((keys & ((1 << shift) - 1)).astype(np.int32))
            counts.append(np.bincount(keys >> shift, minlength=len(chunk)))
        indptr = np.zeros(len(urls) + 1, dtype=np.int32)
        if counts:
            np.cumsum(np.concatenate(counts), out=indptr[1:])
        indices = np.concatenate(cols) if cols else np.empty(0, dtype=np.int32)
        return sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(len(urls), n_cols))

    def _ngram_keys(self, urls: list[str], shift: int) -> np.ndarray:
        """Sorted unique (row << shift) | col of the selected grams of a chunk of URLs (rows from 0).

        The rolling hashes are computed already mixed (`_mixed_rolling_hashes`) and probed in the
        table's small `probe_cols` (`GramTable.mixed_hits`); the keys are int32 where they fit (a
        sort of half the bytes).  What `_rolling_hashes` and `GramTable.hits` give, with fewer passes.
        """
        codes = _codes(_joined_preprocessed(urls))
        # the row of each character: line i is its characters and its newline
        lines = np.diff(np.concatenate(([-1], np.flatnonzero(codes == 10), [len(codes) - 1])))
        key_type = np.int32 if len(urls) << shift < 1 << 31 else np.int64
        row_of = np.repeat(np.arange(len(lines), dtype=key_type), lines)
        positions, cols = [], []
        for _, mixed in _mixed_rolling_hashes(codes, tuple(self.ngram_range)):
            pos, col = self.table_.mixed_hits(mixed)
            positions.append(pos)
            cols.append(col)
        keys = (row_of[np.concatenate(positions)] << shift) | np.concatenate(cols)
        return _sorted_unique(keys)

    def _token_entries(self, text: str):
        """(rows, cols) of the selected words of newline-separated texts."""
        tokens = _TOKEN_OR_NEWLINE.findall(text)
        lookup = self.__dict__.get("_token_lookup")
        if lookup is None:  # the vocabulary plus the row separator, -2
            lookup = self.__dict__["_token_lookup"] = {**self.vocabulary_, "\n": -2}
        col = np.fromiter(map(lookup.get, tokens, repeat(-1)), dtype=np.int32, count=len(tokens))
        row_of = np.cumsum(col == -2, dtype=np.int32)
        hit = col >= 0
        return row_of[hit], col[hit]


def _document_counts(docs: list, big: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(grams in first-seen order, documents of SMALL holding each, documents of BIG holding each).

    The order breaks ties in `select_top`, so documents must iterate in the same order in every process
    (`url_tokens`, `text_tokens`: first occurrence; a Python set's order changes with the string hash
    seed, and a model then trained differently twice)."""
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
    return np.array(list(vocab), dtype=object), np.array(df[0], dtype=float), np.array(df[1], dtype=float)


FIT_CHUNK = 1024  # URLs per chunk when counting n-grams for fitting (its arrays stay in cache)


def _ngram_document_counts(urls: list[str], ngram_range: tuple[int, int],
                           big: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_document_counts` of the URLs' n-grams (`url_ngrams` of each), counted with numpy.

    Why: the per-URL sets of the reference analyzer cost a minute on 90k URLs and are fitted four
    times per model (three calibration folds and the final fit).  Here every n-gram inside a piece
    is hashed as the transform does (`_hash_ngrams`), each (URL, hash) pair counted once, and only
    the hashes are counted per class; a gram's text is read back from its first occurrence.  The
    same grams and counts as the reference (tested); grams come in first-seen order by chunk and n.
    """
    keys, smalls, bigs, firsts = [], [], [], []
    texts: list[str] = []
    for c, start in enumerate(range(0, len(urls), FIT_CHUNK)):
        chunk = urls[start:start + FIT_CHUNK]
        text = _joined_preprocessed(chunk)
        texts.append(text)
        codes = _codes(text)
        row_of = np.concatenate(([0], np.cumsum(codes == 10, dtype=np.int64)))
        hashes, rows, where = [], [], []
        for n, starts, h in _hash_ngrams(codes, ngram_range):
            hashes.append(h)
            rows.append(row_of[starts])
            where.append((starts.astype(np.int64) << 8) | n)
        if not hashes:
            continue
        h, r, w = np.concatenate(hashes), np.concatenate(rows), np.concatenate(where)
        order = np.lexsort((h, r))  # by row, then hash: one (row, gram) pair per document
        h, r, w = h[order], r[order], w[order]
        first_of_pair = np.concatenate(([True], (h[1:] != h[:-1]) | (r[1:] != r[:-1])))
        h, r, w = h[first_of_pair], r[first_of_pair], w[first_of_pair]
        uniq, index, inverse = np.unique(h, return_index=True, return_inverse=True)
        b = np.bincount(inverse, weights=big[start + r].astype(float), minlength=len(uniq))
        keys.append(uniq)
        bigs.append(b)
        smalls.append(np.bincount(inverse, minlength=len(uniq)) - b)
        firsts.append((np.int64(c) << 48) | w[index])
    if not keys:
        return np.array([], dtype=object), np.zeros(0), np.zeros(0)
    h, first = np.concatenate(keys), np.concatenate(firsts)
    uniq, inverse = np.unique(h, return_inverse=True)
    df_big = np.bincount(inverse, weights=np.concatenate(bigs), minlength=len(uniq))
    df_small = np.bincount(inverse, weights=np.concatenate(smalls), minlength=len(uniq))
    first_seen = np.full(len(uniq), np.iinfo(np.int64).max)
    np.minimum.at(first_seen, inverse, first)
    order = np.argsort(first_seen, kind="stable")
    grams = np.array([texts[f >> 48][(f >> 8) & ((1 << 40) - 1):((f >> 8) & ((1 << 40) - 1)) + (f & 255)]
                      for f in first_seen[order].tolist()], dtype=object)
    return grams, df_small[order], df_big[order]


def _attr_text(x) -> str | None:
    if isinstance(x, str):
        return None
    parts = [x.get("class"), x.get("id"), x.get("alt")]
    return " ".join(p for p in parts if isinstance(p, str) and p) or None


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_NOT_LETTERS = re.compile(r"[^a-z]+")


def _ancestor_text(x) -> str | None:
    """The words of the `ancestors` field: tags, and class and id names split into their words
    (`entry-content` -> entry content, `postThumb` -> post thumb, digits dropped)."""
    if isinstance(x, str):
        return None
    text = x.get("ancestors")
    if not isinstance(text, str) or not text:
        return None
    return _NOT_LETTERS.sub(" ", _CAMEL.sub(" ", text).lower()).strip() or None


_TEXT_OF = {"attr-words": _attr_text, "ancestor-words": _ancestor_text}


def url_path(url: str) -> str:
    """The URL without its scheme and host (path, query and fragment): what n-grams of 'path' read.

    The part after a `://` in the first 16 characters (else after leading `//`, else the URL), from
    its first `/` on; written with `find` from offsets, not with copies (it runs once per URL scored).
    """
    slash = url.find("://", 0, 16)
    if slash >= 0:
        slash = url.find("/", slash + 3)
    else:
        if url.startswith("//"):
            url = url.lstrip("/")
        slash = url.find("/")
    return url[slash:] if slash >= 0 else ""


def _drop_contained(grams: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Drop a selected gram that is a substring of a longer selected gram (the later tsrf version)."""
    selected = [grams[i] for i in chosen]
    longer = sorted(selected, key=len, reverse=True)
    keep = []
    for i, g in zip(chosen, selected):
        if not any(len(o) > len(g) and g in o for o in longer if len(o) > len(g)):
            keep.append(i)
    return np.array(keep, dtype=chosen.dtype)


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    """np.unique for int keys, by sort (numpy 2's hash-based unique is several times slower here)."""
    a = np.sort(a)
    if len(a) > 1:
        a = a[np.concatenate(([True], a[1:] != a[:-1]))]
    return a


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
