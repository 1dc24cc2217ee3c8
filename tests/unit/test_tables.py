"""dataio.tables: one reader (files, folders of parts, globs, stdin; JSONL, gzip, Parquet, CSV, URL lists) and one
writer (JSONL, gzip, Parquet, text; atomic; no silent overwrite), and dataio.dedupe.Seen."""
from __future__ import annotations

import gzip
import io
import json
import os
import random
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataio.dedupe import Seen
from dataio.tables import InputError, MissingExtra, OutputError, Row, RowWriter, Skips, iter_rows

pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed (pip install -e '.[parquet]')")

RECORDS = [{"img_url": f"https://img{i % 3}.example/{i}.jpg", "page_url": "https://example.org/", "dom_depth": i,
            "lazy": bool(i % 2), "alt": None if i % 4 else "an alt"} for i in range(10)]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _files_in(folder):
    return sorted(p.name for p in folder.iterdir())


# -- reading -----------------------------------------------------------------------------------------------------
def test_folder_of_job_parts_in_order_with_source_and_row_number(tmp_path):
    out = tmp_path / "images"
    out.mkdir()
    _jsonl(out / "part-00001", RECORDS[5:])
    _jsonl(out / "part-00000", RECORDS[:5])
    (out / "_SUCCESS").write_text("")
    (out / ".part-00000.crc").write_bytes(b"\x00crc")
    rows = list(iter_rows(out))
    assert [r.data for r in rows] == RECORDS
    assert rows[0] == Row(RECORDS[0], str(out / "part-00000"), 1)
    assert (rows[5].source, rows[5].number) == (str(out / "part-00001"), 1)


def test_several_files_a_glob_gzip_by_magic_and_a_limit(tmp_path):
    a = _jsonl(tmp_path / "a.jsonl", RECORDS[:3])
    with gzip.open(tmp_path / "b.data", "wt", encoding="utf-8") as f:  # gzip without a .gz name
        f.write("".join(json.dumps(r) + "\n" for r in RECORDS[3:]))
    assert [r.data for r in iter_rows([a, tmp_path / "b.data"])] == RECORDS
    assert [r.data for r in iter_rows(str(tmp_path / "*.jsonl"))] == RECORDS[:3]
    assert len(list(iter_rows([a, tmp_path / "b.data"], limit=4))) == 4


def test_url_lists_and_records_mixed_in_text_mode(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("# a comment\nhttps://a.example/x.jpg\n\n" + json.dumps(RECORDS[0])
                   + "\n  https://b.example/y.png  \n")
    rows = list(iter_rows(src, text=True))
    assert [r.data for r in rows] == ["https://a.example/x.jpg", RECORDS[0], "https://b.example/y.png"]
    assert [r.number for r in rows] == [2, 4, 5]


def test_a_file_named_as_json_is_never_read_as_a_url_list(tmp_path):
    """In text mode a line that is not JSON is a URL, except in a .jsonl file: there it is a bad row, counted."""
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(RECORDS[0]) + "\nnot json\nhttps://a.example/x.jpg\n" + json.dumps(RECORDS[1]) + "\n")
    skips = Skips()
    rows = list(iter_rows(src, text=True, skips=skips))
    assert [r.data for r in rows] == [RECORDS[0], RECORDS[1]]
    assert skips.total == 2 and dict(skips.counts) == {"bad_json": 2}
    (tmp_path / "urls.jsonl").write_text("https://a.example/x.jpg\n")
    with pytest.raises(InputError, match="not JSON lines"):
        list(iter_rows(tmp_path / "urls.jsonl", text=True))


def test_stdin(monkeypatch):
    data = ("https://a.example/x.jpg\n" + json.dumps(RECORDS[1]) + "\n").encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))
    assert [r.data for r in iter_rows("-", text=True)] == ["https://a.example/x.jpg", RECORDS[1]]


def test_csv_rows(tmp_path):
    src = tmp_path / "truth.csv"
    src.write_text('img_url,true_width,true_height\nhttps://a.example/x.jpg,640,480\n"https://b,c",1\n')
    skips = Skips()
    rows = list(iter_rows(src, skips=skips))
    assert [r.data for r in rows] == [{"img_url": "https://a.example/x.jpg", "true_width": "640", "true_height": "480"}]
    assert dict(skips.counts) == {"bad_csv": 1}


def test_bad_rows_are_skipped_counted_and_logged_with_their_row_number(tmp_path):
    src = tmp_path / "bad.jsonl"
    lines = [json.dumps(RECORDS[0]).encode(), b'{"img_url": NaN}', b'{"width_attr": Infinity}', b"[1, 2]", b"17",
             '{"alt": "caf\u00e9"}'.encode("latin-1"), b'{"img_url": "\\ud800"}', b"{not json", b"",
             json.dumps(RECORDS[1]).encode()]
    src.write_bytes(b"\n".join(lines) + b"\n")
    logged = []
    skips = Skips(log=logged.append)
    rows = list(iter_rows(src, skips=skips))
    assert [r.data for r in rows] == RECORDS[:2] and [r.number for r in rows] == [1, 10]
    assert dict(skips.counts) == {"bad_json": 4, "not_an_object": 2, "not_utf8": 1}
    assert skips.blank == 1 and skips.total == 7
    assert logged[0] == f"{src}:2: row skipped (bad_json: not valid JSON (NaN and Infinity are not JSON))"
    assert any(line.startswith(f"{src}:6: row skipped (not_utf8") for line in logged)
    assert skips.summary() == "7 rows skipped (bad_json 4, not_an_object 2, not_utf8 1)"


def test_logging_stops_after_the_first_rows_of_a_reason(tmp_path):
    src = tmp_path / "x.jsonl"
    src.write_text(json.dumps(RECORDS[0]) + "\n" + "{bad\n" * 50)
    logged = []
    skips = Skips(log=logged.append, log_first=3)
    assert len(list(iter_rows(src, skips=skips))) == 1
    assert skips.counts["bad_json"] == 50 and len(logged) == 4 and "counted, not logged" in logged[-1]


def test_a_huge_line_is_skipped_without_being_held(tmp_path):
    src = tmp_path / "big.txt"
    with open(src, "wb") as f:
        f.write(b"https://a.example/1.jpg\n")
        f.write(b"https://a.example/" + b"x" * 5_000_000 + b".jpg\n")
        f.write(b"https://a.example/2.jpg\n")
    skips = Skips()
    rows = list(iter_rows(src, text=True, skips=skips, max_line_bytes=10_000))
    assert [r.data for r in rows] == ["https://a.example/1.jpg", "https://a.example/2.jpg"]
    assert [r.number for r in rows] == [1, 3] and dict(skips.counts) == {"line_too_long": 1}


def test_text_lines_with_control_characters_are_not_urls(tmp_path):
    src = tmp_path / "u.txt"
    src.write_bytes(b"https://a.example/\x01.jpg\nhttps://a.example/\tb.jpg\n")
    skips = Skips()
    assert [r.data for r in iter_rows(src, text=True, skips=skips)] == ["https://a.example/\tb.jpg"]
    assert dict(skips.counts) == {"control_characters": 1}


def test_a_gzip_file_cut_off_keeps_the_rows_before_and_says_so(tmp_path):
    whole = gzip.compress("".join(json.dumps(r) + "\n" for r in RECORDS * 200).encode())
    src = tmp_path / "cut.jsonl.gz"
    src.write_bytes(whole[: len(whole) // 2])
    skips = Skips()
    rows = list(iter_rows(src, skips=skips))
    assert 0 < len(rows) < 2000 and rows == [Row(RECORDS[i % 10], str(src), i + 1) for i in range(len(rows))]
    assert skips.counts["file_cut_off"] == 1


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is a binary file"),
    (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "is a binary file"),
    (b"\x1f\x8bnot really gzip", "not a readable gzip file"),
])
def test_files_that_are_not_rows_at_all_are_refused_in_one_line(tmp_path, content, message):
    src = tmp_path / "x.jsonl"
    src.write_bytes(content)
    with pytest.raises(InputError, match=message):
        list(iter_rows(src))


def test_names_that_give_no_file(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "_SUCCESS").write_text("")
    for name, message in ((tmp_path / "missing.jsonl", "no such file"), (tmp_path / "empty", "holds no data files"),
                          (str(tmp_path / "*.nothing"), "no file matches")):
        with pytest.raises(InputError, match=message):
            list(iter_rows(name))


def test_records_only_input_refuses_a_url_list(tmp_path):
    src = tmp_path / "urls.txt"
    src.write_text("https://a.example/x.jpg\n")
    with pytest.raises(InputError, match="not JSON lines"):
        list(iter_rows(src))
    assert [r.data for r in iter_rows(src, text=True)] == ["https://a.example/x.jpg"]


# -- writing -------------------------------------------------------------------------------------------------------
def test_parquet_round_trip_in_row_groups_with_a_schema(tmp_path):
    out = tmp_path / "rows.parquet"
    schema = {"img_url": "string", "page_url": "string", "dom_depth": "int64", "lazy": "bool", "alt": "string",
              "p_big": "float64"}
    with RowWriter(out, schema=schema, row_group_rows=4) as w:
        w.write_many(RECORDS)
    meta = pq.ParquetFile(out).metadata
    assert (meta.num_rows, meta.num_row_groups) == (10, 3)
    assert str(pq.read_schema(out).field("dom_depth").type) == "int64"
    assert [r.data for r in iter_rows(out)] == [{**r, "p_big": None} for r in RECORDS]
    assert [r.data for r in iter_rows(out, columns=["img_url", "nope"])] == [{"img_url": r["img_url"]} for r in RECORDS]


def test_parquet_schema_from_the_first_rows_types_all_null_columns(tmp_path):
    out = tmp_path / "inferred.parquet"
    rows = [{"img_url": "https://a.example/x.jpg", "width_attr": None, "true_width": None}] * 3
    rows += [{"img_url": "https://a.example/y.jpg", "width_attr": "640", "true_width": 800}]
    with RowWriter(out, row_group_rows=3) as w:
        w.write_many(rows)
    schema = pq.read_schema(out)
    assert (str(schema.field("width_attr").type), str(schema.field("true_width").type)) == ("string", "int64")
    assert [r.data for r in iter_rows(out)] == rows


def test_parquet_refuses_a_row_the_schema_cannot_hold_and_leaves_nothing(tmp_path):
    out = tmp_path / "x.parquet"
    with pytest.raises(OutputError, match="row 3 has column 'extra'"):
        with RowWriter(out, row_group_rows=2) as w:
            w.write_many([{"a": 1}, {"a": 2}, {"a": 3, "extra": "x"}])
    assert _files_in(tmp_path) == []


def test_an_empty_parquet_output_still_has_its_columns(tmp_path):
    out = tmp_path / "empty.parquet"
    with RowWriter(out, schema={"img_url": "string", "p_big": "float64"}):
        pass
    assert pq.read_schema(out).names == ["img_url", "p_big"] and list(iter_rows(out)) == []


def test_jsonl_gzip_and_text_outputs(tmp_path):
    with RowWriter(tmp_path / "a.jsonl.gz") as w:
        w.write_many(RECORDS)
    with gzip.open(tmp_path / "a.jsonl.gz", "rt") as f:
        assert [json.loads(line) for line in f] == RECORDS
    with RowWriter(tmp_path / "urls.txt", format="text") as w:
        w.write_many(["https://a.example/1.jpg", "https://a.example/2.jpg"])
    assert (tmp_path / "urls.txt").read_text() == "https://a.example/1.jpg\nhttps://a.example/2.jpg\n"


def test_existing_output_is_refused_unless_overwrite_and_replaced_atomically(tmp_path):
    out = _jsonl(tmp_path / "out.jsonl", RECORDS[:1])
    with pytest.raises(OutputError, match="exists: pass --overwrite"):
        RowWriter(out)
    with pytest.raises(RuntimeError):
        with RowWriter(out, overwrite=True) as w:
            w.write_many(RECORDS)
            raise RuntimeError("the run fails half-way")
    assert [r.data for r in iter_rows(out)] == RECORDS[:1]  # the old file, untouched
    assert _files_in(tmp_path) == ["out.jsonl"]  # and no temporary file left behind
    with RowWriter(out, overwrite=True) as w:
        w.write_many(RECORDS)
    assert [r.data for r in iter_rows(out)] == RECORDS and _files_in(tmp_path) == ["out.jsonl"]


def test_output_places_that_cannot_be_written(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        RowWriter(tmp_path / "file" / "out.jsonl")
    with pytest.raises(OutputError, match="is a folder"):
        RowWriter(tmp_path)
    with pytest.raises(OutputError, match="Parquet cannot go to stdout"):
        RowWriter("-", format="parquet")
    with RowWriter(tmp_path / "new" / "deeper" / "out.jsonl") as w:  # missing folders are made
        w.write({"a": 1})
    assert (tmp_path / "new" / "deeper" / "out.jsonl").read_text() == '{"a":1}\n'


def test_parquet_without_pyarrow_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    with pytest.raises(MissingExtra, match=r"pip install 'ccimg\[parquet\]'"):
        RowWriter(tmp_path / "x.parquet")
    (tmp_path / "x.parquet").write_bytes(b"PAR1")
    with pytest.raises(MissingExtra, match=r"ccimg\[parquet\]"):
        list(iter_rows(tmp_path / "x.parquet"))


# -- every line accounted for, whatever the bytes ------------------------------------------------------------------
_PIECES = st.sampled_from([
    json.dumps(RECORDS[0]).encode(), b'{"img_url": 5}', b'{"a": NaN}', b"[1]", b"null", b"https://a.example/x.jpg",
    b"#c", b"", b"   ", "caf\u00e9".encode("latin-1"), b"\xff\xfe", b"{", b'"\\ud800"', b"\x01\x02", b"\r",
    '{"alt": "\u00e9t\u00e9"}'.encode(), b"x" * 300])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(_PIECES, st.binary(max_size=40).filter(lambda b: b"\x00" not in b and b"\n" not in b)),
                      max_size=25),
       text=st.booleans(), gz=st.booleans())
def test_every_line_is_a_row_or_a_counted_skip(tmp_path, lines, text, gz):
    data = b"\n".join(lines) + b"\n"
    path = tmp_path / ("in.gz" if gz else "in.txt")
    path.write_bytes(gzip.compress(data) if gz else data)
    skips = Skips()
    try:
        rows = list(iter_rows(path, text=text, skips=skips, max_line_bytes=200))
    except InputError as exc:  # records only, and the first line is not JSON at all
        assert not text and "not JSON lines" in str(exc)
        return
    assert len(rows) + skips.total + skips.blank == len(data.split(b"\n")) - 1
    for row in rows:
        assert type(row.data) is dict or (text and type(row.data) is str)


# -- Seen ----------------------------------------------------------------------------------------------------------
def test_seen_agrees_with_a_set_across_merges():
    rnd = random.Random(3)
    seen, reference = Seen(pending_limit=50), set()
    for _ in range(3000):
        url = f"https://h{rnd.randrange(40)}.example/{rnd.randrange(800)}.jpg"
        assert seen.add(url) is (url not in reference)
        reference.add(url)
        assert url in seen
    assert len(seen) == len(reference) and "https://nowhere.example/" not in seen
    assert seen.nbytes < 8 * len(reference) + 60 * 50 + 64


def test_no_temporary_files_left_and_the_users_permissions(tmp_path):
    (tmp_path / "plain").write_text("x")  # what any file the user writes gets (the umask's), not 0600
    for name in ("a.parquet", "a.jsonl", "a.jsonl.gz"):
        with RowWriter(tmp_path / name) as w:
            w.write({"a": 1})
        assert os.stat(tmp_path / name).st_mode == os.stat(tmp_path / "plain").st_mode, name
    assert sorted(os.listdir(tmp_path)) == ["a.jsonl", "a.jsonl.gz", "a.parquet", "plain"]
