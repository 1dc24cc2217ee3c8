"""Each command's reader on generated input (hypothesis, bounded): every row is used or a counted skip, a row the
reader lets through never crashes the model, and nothing but a documented one-line error ever comes out."""
from __future__ import annotations

import json
import math
from collections import Counter

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ccimg.commands.common import UsageError
from ccimg.commands.data_args import BOOL_FIELDS, INT_FIELDS, TEXT_FIELDS, clean_record, read_labels, records_of
from ccimg.commands.probe import _distinct_urls
from ccimg.commands.score import score_rows
from dataio.tables import InputError, RowWriter, Skips, iter_rows

FIELDS = sorted(TEXT_FIELDS | INT_FIELDS | BOOL_FIELDS) + ["img_url", "anything_else"]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                            HealthCheck.too_slow])
_VALUES = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2 ** 70, max_value=2 ** 70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
                    st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                               max_size=2))
_URLS = st.sampled_from(["https://img.example/a-1024x768.jpg", "https://img.example/icon.png", "http://h/x y.gif",
                         "", "https://bücher.example/ä.jpg", "x" * 50])
_RECORD = st.fixed_dictionaries({"img_url": st.one_of(_URLS, _VALUES)},
                                optional={f: _VALUES for f in FIELDS if f != "img_url"})


def _line(value) -> bytes:
    """One input line: JSON where it can be written (NaN and Infinity as Python writes them: not JSON)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value).encode("utf-8", "surrogatepass")


_LINES = st.lists(st.one_of(_RECORD, _URLS, st.binary(max_size=30), st.just(b"[1, 2]"), st.just(b"{\"img_url\": NaN}"),
                            st.just("caf\u00e9.jpg".encode("latin-1")), st.just(b"")),
                  min_size=1, max_size=12)


def _write(tmp_path, values) -> tuple:
    data = b"\n".join(_line(v).replace(b"\n", b" ").replace(b"\x00", b"0") for v in values) + b"\n"
    path = tmp_path / "input.txt"  # mixed URL lines and records: a .jsonl name would refuse the URLs
    path.write_bytes(data)
    return path, data.count(b"\n")


@pytest.fixture(scope="module")
def scorer():
    from models.score import Scorer

    return Scorer()


class _Rows:
    """A RowWriter stand-in that keeps rows in memory (the writer has its own tests)."""

    def __init__(self):
        self.rows = []

    def write(self, row):
        self.rows.append(row)


@SETTINGS
@given(values=_LINES)
def test_score_reader_and_scoring(tmp_path, scorer, values):
    path, lines = _write(tmp_path, values)
    skips, out = Skips(), _Rows()
    scored, written = score_rows(iter_rows(path, text=True, skips=skips), scorer, out, batch=5, skips=skips)
    assert scored == len(out.rows) == sum(written.values())
    assert scored + skips.total + skips.blank == lines
    for row in out.rows:
        assert isinstance(row["img_url"], str) and 0.0 <= row["p_big"] <= 1.0
        assert row["label"] in ("BIG", "MEDIUM", "SMALL")


@SETTINGS
@given(values=_LINES)
@example(values=[b"PAR1"])  # a URL list whose first line starts like a Parquet file is still a URL list
def test_probe_reader(tmp_path, values):
    path, lines = _write(tmp_path, values)
    skips, counts = Skips(), Counter()
    urls = list(_distinct_urls(iter_rows(path, text=True, skips=skips), skips, counts, 8192))
    assert len(urls) == len(set(urls)) and all(isinstance(u, str) and u for u in urls)
    assert len(urls) + counts["duplicate"] + skips.total + skips.blank == lines


@SETTINGS
@given(values=_LINES)
def test_train_and_eval_reader_gives_records_the_model_takes(tmp_path, scorer, values):
    from models.train import prepare

    path, lines = _write(tmp_path, values)
    skips = Skips()
    try:
        records = list(records_of(iter_rows(path, skips=skips), skips))
    except InputError as exc:  # the first row is not JSON at all: the file is refused in one line
        assert "not JSON lines" in str(exc)
        return
    assert len(records) + skips.total + skips.blank == lines
    for rec in records:
        assert clean_record(rec) == (rec, None, "")  # checked records are clean
        for field, value in rec.items():
            if field in TEXT_FIELDS:
                assert value is None or type(value) is str
            elif field in INT_FIELDS:
                assert value is None or type(value) is int
            elif field in BOOL_FIELDS:
                assert value is None or type(value) is bool
    prepare(records)
    if records:
        s = scorer.score(records)
        assert all(math.isfinite(p) for p in s.p_big.tolist())


@SETTINGS
@given(rows=st.lists(st.fixed_dictionaries({"img_url": st.one_of(_URLS, _VALUES)},
                                           optional={"true_width": _VALUES, "true_height": _VALUES,
                                                     "width": _VALUES, "height": _VALUES}), max_size=8),
       as_csv=st.booleans())
@example(rows=[{"img_url": "https://img.example/a.jpg", "true_width": [], "height": False}], as_csv=False)  # found
def test_labels_reader(tmp_path, rows, as_csv):
    import csv

    if as_csv:
        path = tmp_path / "labels.csv"
        with open(path, "w", newline="", encoding="utf-8", errors="surrogatepass") as f:
            w = csv.DictWriter(f, fieldnames=["img_url", "true_width", "true_height", "width", "height"])
            w.writeheader()
            w.writerows(rows)
    else:
        path = tmp_path / "labels.jsonl"
        path.write_bytes(b"".join(_line(r) + b"\n" for r in rows) or b"\n")
    try:
        truth = read_labels([path])
    except UsageError as exc:
        assert "not JSON lines" in str(exc) or "binary" in str(exc)
        return
    for url, (w, h) in truth.items():
        assert isinstance(url, str) and type(w) is int and type(h) is int and w >= 0 and h >= 0


def test_a_writer_round_trips_whatever_the_readers_let_through(tmp_path):
    """Rows from every reader go back out through the one writer (the chain: score -> convert -> train)."""
    rows = [{"img_url": "https://a.example/\u00e9 x.jpg", "alt": "\u00e9t\u00e9", "dom_depth": 3, "lazy": True},
            {"img_url": "https://b.example/y.jpg", "alt": None, "dom_depth": None, "lazy": None}]
    for name in ("r.jsonl", "r.jsonl.gz", "r.parquet"):
        with RowWriter(tmp_path / name) as w:
            w.write_many(rows)
        assert [r.data for r in iter_rows(tmp_path / name)] == rows
