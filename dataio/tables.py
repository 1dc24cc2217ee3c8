"""Rows in files: the one reader and the one writer of every command's tables.

Why one place: the job writes a folder of `part-*` files, commands write one file, users keep
their data on S3 or in Parquet, and each command used to read "one JSONL file" its own way.
Here a command names its inputs and gets rows; it names its output and gets a writer:

    skips = Skips(log=warn)
    for row in iter_rows(["out/", "more.jsonl.gz", "s3://bucket/prefix/"], text=True, skips=skips):
        row.data, row.source, row.number      # a dict (or a str for a plain text line), where it came from
    with RowWriter("scores.parquet", schema=SCHEMA, overwrite=False) as out:
        out.write({"img_url": ..., "p_big": ...})

Inputs (`iter_rows`): a file, a folder (its `part-*` files, or every visible file where there are none),
a glob, several of those, `-` (stdin), or `s3://bucket/key` / `s3://bucket/prefix/` (network.s3.S3Reader;
the endpoint comes from boto3's own settings, e.g. AWS_ENDPOINT_URL_S3).  Each file is read by what it
holds, not only by its name: gzip by its magic bytes, Parquet by `.parquet` or its magic, CSV by `.csv`,
otherwise lines: a line that starts with `{` is a JSON object, any other line is text (where the caller
accepts text, e.g. a URL list), except in a file named `.jsonl`, `.ndjson` or `.json`, where it is a bad
row.  Reading is streamed: a line longer than `max_line_bytes` is skipped without being held in memory.

Bad rows never stop a run and are never lost silently: each is counted in `Skips` by reason (not UTF-8,
not JSON, not an object, line too long, a file cut off) and the first few of each reason are logged with
their file and row number.  What cannot be read at all (a missing file, an empty folder, a binary file)
raises InputError with a one-line message.

Output (`RowWriter`): JSONL (`.gz` for gzip) or Parquet (`.parquet`, pyarrow, a schema, row groups of
`row_group_rows`), or plain text lines (`format="text"`).  Written atomically: to a temporary file beside
the target, renamed over it at close (for `s3://`, uploaded at close), and removed if the run fails, so a
reader never sees half a file.  An existing output is refused unless `overwrite=True`.

JSON is written with orjson (writing the image records with the standard library's json costs about a
quarter of the extraction time: benchmarks/extract.py).  Reading is strict: NaN, Infinity, invalid UTF-8
and lone surrogates are not JSON, and a row holding them is skipped rather than passed on.
"""
from __future__ import annotations

import csv
import glob as globlib
import gzip
import io
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a core dependency, but the stdlib path must work too
    orjson = None

MAX_LINE_BYTES = 16 << 20  # a longer line is skipped (an image record is a few KB; a bound on memory)
PARQUET_EXTRA = "pip install 'ccimg[parquet]'"
_GLOB_CHARS = re.compile(r"[*?\[]")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # C0 controls but tab, and DEL: not in a URL list line
_PARQUET_SUFFIXES = (".parquet", ".pq")
_JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")  # named as JSON: every line must be a JSON object


class InputError(Exception):
    """An input that cannot be read at all (missing, empty, binary, unreadable): one line for the user."""


class OutputError(Exception):
    """An output that cannot be written as asked (exists, not a file, Parquet to stdout, a row the schema
    cannot hold): one line for the user."""


class MissingExtra(InputError):
    """An optional dependency (pyarrow for Parquet) is not installed."""


# -- JSON values ----------------------------------------------------------------------------------
def dumps(value) -> bytes:
    """One JSON value as UTF-8 bytes, without a newline."""
    if orjson is not None:
        try:
            return orjson.dumps(value)
        except (TypeError, orjson.JSONEncodeError):  # e.g. lone surrogates, huge ints: let json decide
            pass
    return json.dumps(value, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass")


def loads(line: bytes | str):
    """One JSON value from a line (bytes or text); lenient (the stdlib accepts NaN), for trusted files."""
    if orjson is not None:
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError:
            pass
    if isinstance(line, bytes):
        line = line.decode("utf-8", "surrogatepass")
    return json.loads(line)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def strict_loads(line: bytes):
    """One JSON value, strictly: ValueError for NaN/Infinity, invalid UTF-8 or lone surrogates."""
    if orjson is not None:
        return orjson.loads(line)
    value = json.loads(line.decode("utf-8"), parse_constant=_reject_constant)  # pragma: no cover
    json.dumps(value).encode("utf-8")  # pragma: no cover - lone surrogates raise here
    return value  # pragma: no cover


# -- the old small API (kept: jobs, labels and benchmarks use it) --------------------------------------
def open_text(path: str | Path, mode: str = "rt"):
    """Open a text file, gzip by suffix; '-' is stdin (reading) or stdout (writing)."""
    if str(path) == "-":
        return sys.stdin if "r" in mode else sys.stdout
    if str(path).endswith(".gz"):
        return gzip.open(path, mode, encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def iter_jsonl(path: str | Path, limit: int | None = None) -> Iterator[dict]:
    """The JSON values of one trusted JSONL file (blank lines skipped), at most `limit` of them.
    For a user's input, use iter_rows: it takes folders, globs, S3 and Parquet, and skips bad rows."""
    n = 0
    with open_text(path, "rt") as f:
        for line in f:
            if limit is not None and n >= limit:
                break
            if line.strip():
                yield loads(line)
                n += 1


def read_jsonl(path: str | Path, limit: int | None = None) -> list[dict]:
    return list(iter_jsonl(path, limit))


def write_jsonl(rows: Iterable, path: str | Path) -> int:
    """Write rows as JSON lines (gzip by suffix, folders created, replacing the file, atomically);
    returns the number of rows.  Commands use RowWriter, which refuses to replace a file unasked."""
    with RowWriter(path, overwrite=True, format="jsonl") as out:
        for row in rows:
            out.write(row)
    return out.rows


# -- bad rows ---------------------------------------------------------------------------------------
class Skips:
    """Rows skipped, counted by reason; the first `log_first` of each reason logged with file and row number.

    Blank lines (and `#` comments in text input) are counted apart: they are not mistakes.
    Messages name the file, the row and the reason, never the row's content (it may hold anything)."""

    def __init__(self, log: Callable[[str], None] | None = None, log_first: int = 10):
        self.log = log
        self.log_first = log_first
        self.counts: Counter = Counter()
        self.blank = 0

    def add(self, reason: str, source: str, number: int, detail: str = "") -> None:
        self.counts[reason] += 1
        if self.log is None:
            return
        n = self.counts[reason]
        if n <= self.log_first:
            self.log(f"{source}:{number}: row skipped ({reason}{': ' + detail if detail else ''})")
        elif n == self.log_first + 1:
            self.log(f"more rows skipped for {reason}: counted, not logged")

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """'' when nothing was skipped, else '3 rows skipped (bad_json 2, not_utf8 1)'."""
        if not self.counts:
            return ""
        parts = ", ".join(f"{k} {v:,}" for k, v in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0])))
        return f"{self.total:,} row{'s' if self.total != 1 else ''} skipped ({parts})"


class Row(NamedTuple):
    """One input row: a dict (a JSON object, a Parquet or CSV row) or a str (a plain text line), with the
    file it came from and its 1-based row number there (the line number for line-based files)."""

    data: dict | str
    source: str
    number: int


# -- where the rows are ---------------------------------------------------------------------------------
class Source:
    """One file to read: a local path, stdin, or an S3 object."""

    def __init__(self, name: str, path: str | None = None, s3: tuple | None = None):
        self.name = name  # as shown to the user
        self.path = path
        self.s3 = s3  # (reader, bucket, key)

    def open(self):
        if self.name == "-":
            return getattr(sys.stdin, "buffer", sys.stdin)
        if self.s3 is not None:
            reader, bucket, key = self.s3
            return _s3_call(lambda: reader.open_body(bucket, key), self.name)
        try:
            return open(self.path, "rb")
        except IsADirectoryError:
            raise InputError(f"{self.name} is a folder") from None
        except OSError as exc:
            raise InputError(f"cannot read {self.name}: {exc.strerror or exc}") from None


def _s3_call(fn, name: str):
    """An S3 call whose failures become InputError (not there, not allowed, no credentials) or OSError
    (the network failed: runtime trouble, worth a rerun)."""
    from network.errors import FetchError, TransientError

    try:
        return fn()
    except FetchError as exc:
        if exc.kind.startswith(("gave_up_", "s3_5")):
            raise OSError(f"{name}: {exc}") from None
        raise InputError(f"cannot read {name}: {exc}") from None
    except TransientError as exc:
        raise OSError(f"{name}: {exc}") from None


def _is_data_name(name: str) -> bool:
    """A file in a job's output folder that holds rows (not _SUCCESS, .crc files, hidden files)."""
    return bool(name) and not name.startswith(("_", ".")) and not name.endswith((".crc", "/"))


def _folder_files(names: list[str]) -> list[str]:
    """The part-* files of a folder listing, in name order, or every data file where there is no part."""
    data = sorted(n for n in names if _is_data_name(n))
    parts = [n for n in data if n.startswith("part-")]
    return parts or data


def _s3_reader(s3):
    if s3 is not None:
        return s3
    from network.s3 import S3Reader

    return S3Reader()


def expand_inputs(inputs: Iterable[str | Path], s3=None) -> list[Source]:
    """The files named by `inputs` (files, folders, globs, '-', s3:// keys and prefixes), in order.
    InputError for a name that gives no file."""
    out: list[Source] = []
    reader = None
    for item in inputs:
        text = str(item)
        if text == "-":
            out.append(Source("-"))
        elif text.startswith("s3://"):
            from network.s3 import split_s3_url

            reader = reader or _s3_reader(s3)
            bucket, _, key = text[len("s3://"):].partition("/")
            if not bucket:
                raise InputError(f"not an s3://bucket/key URL: {text}")
            if key and not key.endswith("/"):
                split_s3_url(text)
                keys = _s3_call(lambda b=bucket, k=key: reader.list_keys(b, k), text)
                if key in keys:
                    out.append(Source(text, s3=(reader, bucket, key)))
                    continue
                key += "/"
            keys = _s3_call(lambda b=bucket, k=key: reader.list_keys(b, k), text)
            names = [k[len(key):] for k in keys if "/" not in k[len(key):]]
            files = _folder_files(names)
            if not files:
                raise InputError(f"no such S3 object or folder with data files: {text}")
            out.extend(Source(f"s3://{bucket}/{key}{n}", s3=(reader, bucket, key + n)) for n in files)
        elif _GLOB_CHARS.search(text) and not os.path.exists(text):
            matches = sorted(p for p in globlib.glob(text) if os.path.isfile(p))
            if not matches:
                raise InputError(f"no file matches {text}")
            out.extend(Source(p, path=p) for p in matches)
        elif os.path.isdir(text):
            files = _folder_files([e.name for e in os.scandir(text) if e.is_file()])
            if not files:
                raise InputError(f"folder {text} holds no data files")
            out.extend(Source(os.path.join(text, n), path=os.path.join(text, n)) for n in files)
        elif os.path.exists(text):
            out.append(Source(text, path=text))
        else:
            raise InputError(f"no such file: {text}")
    return out


# -- reading ----------------------------------------------------------------------------------------------
def _peek(stream, n: int = 8192) -> bytes:
    """Up to n bytes ahead, not consumed (`stream` is buffered: see _buffered)."""
    return stream.peek(n)[:n]


def _buffered(stream):
    return stream if hasattr(stream, "peek") else io.BufferedReader(stream, buffer_size=1 << 16)


def iter_rows(inputs: Iterable[str | Path] | str | Path, *, text: bool = False, skips: Skips | None = None,
              limit: int | None = None, columns: list[str] | None = None, s3=None,
              max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[Row]:
    """The rows of every input, in order (see the module's docstring for what an input can be).

    text=True: a line that does not start with '{' is a text row (a str: a URL list); blank lines and
    '#' comments are skipped.  text=False: every line must be a JSON object, and a file whose first line
    is not JSON at all is refused (InputError) instead of skipped line by line.
    columns: read only these columns of Parquet files (the others are not decoded).
    limit: stop after this many rows in all.  Bad rows go to `skips`."""
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    skips = skips if skips is not None else Skips()
    n = 0
    for source in expand_inputs(inputs, s3):
        for row in _rows_of(source, text, skips, columns, max_line_bytes):
            if limit is not None and n >= limit:
                return
            yield row
            n += 1


def _rows_of(source: Source, text: bool, skips: Skips, columns, max_line_bytes: int) -> Iterator[Row]:
    raw = source.open()
    try:
        stream = _buffered(raw)
        head = _peek(stream, 4)
        if head[:2] == b"\x1f\x8b":
            stream = _buffered(gzip.GzipFile(fileobj=stream, mode="rb"))
        name = source.name[:-3] if source.name.endswith(".gz") else source.name
        try:
            head = _peek(stream)
        except (OSError, EOFError, zlib.error):
            raise InputError(f"{source.name}: not a readable gzip file") from None
        # Parquet by name, or by its magic followed by binary metadata (a text line may start with PAR1 too)
        if name.lower().endswith(_PARQUET_SUFFIXES) or (head[:4] == b"PAR1" and _binary(head[4:64])):
            yield from _parquet_rows(source, stream, stream is raw and source.path is not None, skips, columns)
            return
        if b"\x00" in head:
            raise InputError(f"{source.name} is a binary file, not JSON lines, CSV, Parquet or a URL list")
        if name.lower().endswith(".csv"):
            yield from _csv_rows(source, stream, skips)
            return
        # a file named as JSON is never read as a URL list: a line that is not JSON there is a bad row
        yield from _line_rows(source, stream, text and not name.lower().endswith(_JSON_SUFFIXES), skips,
                              max_line_bytes)
    finally:
        if source.name != "-":
            raw.close()


def _line_rows(source: Source, stream, text: bool, skips: Skips, max_line_bytes: int) -> Iterator[Row]:
    name = source.name
    number = 0
    checked = text  # records only: is the first row JSON at all?
    readline = stream.readline
    while True:
        try:
            line = readline(max_line_bytes + 1)
        except (EOFError, OSError, zlib.error) as exc:  # a gzip stream cut off or damaged
            skips.add("file_cut_off", name, number + 1, f"{type(exc).__name__}; the rest of the file is lost")
            return
        if not line:
            return
        number += 1
        if len(line) > max_line_bytes:
            try:
                while not line.endswith(b"\n"):  # drop the rest of the line, a chunk at a time
                    line = readline(1 << 20)
                    if not line:
                        break
            except (EOFError, OSError, zlib.error):
                pass
            skips.add("line_too_long", name, number, f"over {max_line_bytes:,} bytes")
            continue
        stripped = line.strip()
        if not stripped or (text and stripped[:1] == b"#"):
            skips.blank += 1
            continue
        first = stripped[:1]
        if first in (b"{", b"[") or not text:
            if not checked:
                checked = True
                if first not in (b"{", b"["):
                    raise InputError(f"{name}:{number}: not JSON lines (this command reads the extraction "
                                     "job's records: JSONL, CSV or Parquet)")
            try:
                value = strict_loads(stripped)
            except ValueError:
                try:
                    stripped.decode("utf-8")
                except UnicodeDecodeError:
                    skips.add("not_utf8", name, number)
                else:
                    skips.add("bad_json", name, number, "not valid JSON (NaN and Infinity are not JSON)")
                continue
            if type(value) is not dict:
                skips.add("not_an_object", name, number, f"a JSON {type(value).__name__}, not an object")
                continue
            yield Row(value, name, number)
            continue
        try:
            value = stripped.decode("utf-8")
        except UnicodeDecodeError:
            skips.add("not_utf8", name, number)
            continue
        if _CONTROL.search(value):
            skips.add("control_characters", name, number)
            continue
        yield Row(value, name, number)


def _csv_rows(source: Source, stream, skips: Skips) -> Iterator[Row]:
    """CSV with a header line; a row with an undecodable byte or a broken quote is skipped."""
    f = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
    reader = csv.DictReader(f)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except (csv.Error, EOFError, OSError, zlib.error) as exc:
            skips.add("bad_csv", source.name, reader.line_num, type(exc).__name__)
            if isinstance(exc, (EOFError, OSError, zlib.error)):
                return
            continue
        if None in row or any(v is None for v in row.values()):
            skips.add("bad_csv", source.name, reader.line_num, "not as many fields as the header")
            continue
        if any("\ufffd" in v for v in row.values()):
            skips.add("not_utf8", source.name, reader.line_num)
            continue
        yield Row(row, source.name, reader.line_num)


def _pyarrow(what: str):
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise MissingExtra(f"{what} needs pyarrow, which is not installed: {PARQUET_EXTRA}") from None
    return pyarrow


def _parquet_rows(source: Source, stream, local: bool, skips: Skips, columns) -> Iterator[Row]:
    pa = _pyarrow(f"reading {source.name} (Parquet)")
    spool = None
    try:
        if local:  # a plain local file: read in place
            f = stream
        else:  # stdin, S3, gzip: Parquet needs random access, so the file goes to a temporary file first
            spool = tempfile.TemporaryFile(prefix="ccimg-parquet-")
            shutil.copyfileobj(stream, spool, 1 << 20)
            spool.seek(0)
            f = spool
        try:
            pf = pa.parquet.ParquetFile(f)
            if columns is not None:
                columns = [c for c in columns if c in pf.schema_arrow.names]
            batches = pf.iter_batches(batch_size=8192, columns=columns)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InputError(f"{source.name}: not a readable Parquet file ({_short(exc)})") from None
        number = 0
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except (pa.ArrowException, OSError, ValueError) as exc:
                skips.add("file_cut_off", source.name, number + 1, f"Parquet: {_short(exc)}")
                return
            for data in batch.to_pylist():
                number += 1
                yield Row(data, source.name, number)
    finally:
        if spool is not None:
            spool.close()


def _binary(data: bytes) -> bool:
    """Whether bytes hold a control character other than tab, newline and carriage return (text has none)."""
    return any(b < 32 and b not in (9, 10, 13) for b in data)


def _short(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + "..."


# -- writing ----------------------------------------------------------------------------------------------
# Types of the columns this project writes, for Parquet: used where no schema is given and a column has
# only nulls in the first row group (which then says nothing about its type).
KNOWN_TYPES: dict[str, str] = {
    **{name: "int64" for name in ("dom_depth", "dom_siblings", "position", "page_images", "page_url_count",
                                  "page_folder_count", "page_declared_others", "page_declared_big",
                                  "page_declared_longest", "folder_declared_others", "folder_declared_big",
                                  "folder_declared_longest", "warc_offset", "true_width", "true_height", "width",
                                  "height", "bytes_read")},
    **{name: "bool" for name in ("lazy", "in_noscript", "same_domain")},
    "p_big": "float64",
}
_TYPE_NAMES = ("string", "int64", "float64", "bool", "list<string>", "list<int64>", "timestamp")


def arrow_schema(spec):
    """A pyarrow schema from {name: type name} (string, int64, float64, bool, list<string>, list<int64>),
    or the schema itself.  Type names keep pyarrow out of the modules that declare their columns."""
    pa = _pyarrow("writing Parquet")
    if spec is None or isinstance(spec, pa.Schema):
        return spec
    types = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_(),
             "list<string>": pa.list_(pa.string()), "list<int64>": pa.list_(pa.int64()),
             "timestamp": pa.timestamp("us", tz="UTC")}
    try:
        return pa.schema([(name, types[t]) for name, t in spec.items()])
    except KeyError as exc:
        raise ValueError(f"unknown column type {exc}; known: {', '.join(_TYPE_NAMES)}") from None


def output_format(path: str | Path, format: str | None = None) -> str:
    """'parquet' for .parquet/.pq, else 'jsonl' (gzip by .gz), unless `format` says otherwise."""
    if format:
        return format
    return "parquet" if str(path).lower().endswith(_PARQUET_SUFFIXES) else "jsonl"


def check_output(path: str | Path, overwrite: bool = False, format: str | None = None, s3=None) -> None:
    """Raise OutputError now if `path` cannot be written as asked (exists, is a folder, its folder is a
    file, Parquet to stdout, pyarrow missing): before the work, not after an hour of it."""
    text = str(path)
    fmt = output_format(text, format)
    if fmt == "parquet":
        if text == "-":
            raise OutputError("Parquet cannot go to stdout: name a .parquet file")
        _pyarrow(f"writing {text} (Parquet)")
    if text == "-":
        return
    if text.startswith("s3://"):
        from network.s3 import split_s3_url

        try:
            bucket, key = split_s3_url(text)
        except Exception as exc:  # FetchError("bad_url")
            raise OutputError(str(exc)) from None
        if key.endswith("/"):
            raise OutputError(f"{text} names a folder: name the object to write")
        if not overwrite:
            reader = _s3_reader(s3)
            try:
                exists = key in _s3_call(lambda: reader.list_keys(bucket, key), text)
            except InputError as exc:
                raise OutputError(str(exc)) from None
            if exists:
                raise OutputError(f"{text} exists: pass --overwrite to replace it")
        return
    p = Path(text)
    if p.is_dir():
        raise OutputError(f"{text} is a folder: name a file to write")
    if p.exists() and not overwrite:
        raise OutputError(f"{text} exists: pass --overwrite to replace it")
    for parent in p.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"cannot write {text}: {parent} is a file, not a folder")
            if not os.access(parent, os.W_OK):
                raise OutputError(f"cannot write {text}: {parent} is not writable")
            break


class RowWriter:
    """Writes rows to JSONL (.gz), Parquet or text lines, atomically; see the module's docstring.

        with RowWriter(path, schema=None, overwrite=False) as out:
            out.write(row)             # a dict (a str with format="text")
        out.rows                       # how many were written

    `schema`: {column: type name} or a pyarrow schema, for Parquet; without one, the columns and types
    are taken from the first row group (all-null columns from KNOWN_TYPES, else string), and a later row
    with another column is an OutputError.  Leaving the `with` block by an exception removes the
    temporary file and leaves any existing output untouched."""

    def __init__(self, path: str | Path, schema=None, *, overwrite: bool = False, format: str | None = None,
                 row_group_rows: int = 65536, s3=None):
        self.path = str(path)
        self.format = output_format(self.path, format)
        if self.format not in ("jsonl", "parquet", "text"):
            raise ValueError(f"unknown output format {self.format!r}")
        check_output(self.path, overwrite, self.format, s3)
        self._s3 = s3
        self.rows = 0
        self._schema_spec = schema
        self._schema = None
        self._pq_writer = None
        self._buffer: list = []
        self._bytes = bytearray()
        self._row_group_rows = max(1, row_group_rows)
        self._done = False
        self._stdout = self.path == "-"
        if self._stdout:
            self._tmp = None
            self._file = getattr(sys.stdout, "buffer", None)
            if self._file is None:  # pragma: no cover - a text-only stdout (some notebook kernels)
                self._file = _TextToBytes(sys.stdout)
            return
        if self.path.startswith("s3://"):
            self._tmp = temporary_name(Path(tempfile.gettempdir()) / "ccimg-upload")
        else:
            target = Path(self.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            self._tmp = temporary_name(target)
        self._file = None
        if self.format != "parquet":
            gz = self.path.endswith(".gz")
            self._file = gzip.open(self._tmp, "xb", compresslevel=6) if gz else open(self._tmp, "xb")

    # -- writing --------------------------------------------------------------------------------------
    def write(self, row) -> None:
        if self.format == "parquet":
            self._buffer.append(row)
            if len(self._buffer) >= self._row_group_rows:
                self._flush_row_group()
        else:
            if self.format == "text":
                self._bytes += str(row).encode("utf-8", "surrogatepass")
            else:
                self._bytes += dumps(row)
            self._bytes += b"\n"
            if len(self._bytes) >= 1 << 20:
                self._flush_bytes()
        self.rows += 1

    def write_many(self, rows: Iterable) -> int:
        n = 0
        for row in rows:
            self.write(row)
            n += 1
        return n

    def _flush_bytes(self) -> None:
        if self._bytes:
            self._file.write(self._bytes)
            self._bytes = bytearray()

    def _flush_row_group(self) -> None:
        if not self._buffer:
            return
        pa = _pyarrow("writing Parquet")
        rows, self._buffer = self._buffer, []
        if self._pq_writer is None:
            self._open_parquet(arrow_schema(self._schema_spec) if self._schema_spec is not None else _infer(rows))
        names = set(self._schema.names)
        first = self.rows - len(rows) + 1
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise OutputError(f"row {first + i}: a Parquet row is an object, not a {type(row).__name__}")
            extra = row.keys() - names
            if extra:
                raise OutputError(f"row {first + i} has column {sorted(extra)[0]!r}, which the Parquet schema "
                                  f"(from {'the writer' if self._schema_spec is not None else 'the first rows'})"
                                  " does not have; write JSONL instead")
        try:
            table = pa.Table.from_pylist(rows, schema=self._schema)
        except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
            raise OutputError(f"rows {first}-{first + len(rows) - 1} do not fit the Parquet schema: "
                              f"{_short(exc)}") from None
        self._pq_writer.write_table(table)

    def _open_parquet(self, schema) -> None:
        self._schema = schema
        self._pq_writer = _pyarrow("writing Parquet").parquet.ParquetWriter(self._tmp, schema, compression="zstd")

    # -- ending ---------------------------------------------------------------------------------------
    def close(self) -> None:
        """Finish the file and put it in place (rename, or upload to S3)."""
        if self._done:
            return
        try:
            if self.format == "parquet":
                self._flush_row_group()
                if self._pq_writer is None:  # no rows at all: still a Parquet file, with the declared columns
                    spec = self._schema_spec
                    self._open_parquet(arrow_schema(spec) if spec is not None else _pyarrow("Parquet").schema([]))
                self._pq_writer.close()
            else:
                self._flush_bytes()
                if self._stdout:
                    self._file.flush()
                else:
                    self._file.close()
            if self._tmp is not None:
                if self.path.startswith("s3://"):
                    self._upload()
                else:
                    os.replace(self._tmp, self.path)
                    self._tmp = None
        except BaseException:
            self.abort()
            raise
        finally:
            self._done = True
            if self._tmp is not None and self.path.startswith("s3://"):
                _remove(self._tmp)

    def _upload(self) -> None:
        from network.s3 import split_s3_url

        bucket, key = split_s3_url(self.path)
        reader = _s3_reader(self._s3)
        _s3_call(lambda: reader.put_file(bucket, key, self._tmp), self.path)

    def abort(self) -> None:
        """Drop what was written; an existing output stays as it was."""
        self._done = True
        try:
            if self._pq_writer is not None:
                self._pq_writer.close()
            elif self._file is not None and not self._stdout:
                self._file.close()
        except Exception:  # noqa: BLE001 - the temporary file goes anyway
            pass
        if self._tmp is not None:
            _remove(self._tmp)
            self._tmp = None

    def __enter__(self) -> "RowWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class _TextToBytes:  # pragma: no cover - see RowWriter.__init__
    def __init__(self, f):
        self.f = f

    def write(self, data: bytes) -> None:
        self.f.write(bytes(data).decode("utf-8", "surrogatepass"))

    def flush(self) -> None:
        self.f.flush()


def temporary_name(target: str | Path) -> str:
    """A name beside `target` for the file that becomes it: hidden, unique, not yet created.  Why not
    tempfile.mkstemp: its files are private (0600), and the output must get the permissions any file the
    user writes gets (the umask's)."""
    target = Path(target)
    return str(target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"))


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _infer(rows: list):
    """A schema from the first row group: column order of first appearance; all-null columns typed from
    KNOWN_TYPES (else string), since a null column says nothing about the values that come later."""
    pa = _pyarrow("writing Parquet")
    names: dict[str, None] = {}
    for row in rows:
        if isinstance(row, dict):
            names.update(dict.fromkeys(row))
    try:
        inferred = pa.Table.from_pylist([r for r in rows if isinstance(r, dict)]).schema
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
        raise OutputError(f"the first rows cannot be typed for Parquet: {_short(exc)}; write JSONL instead") \
            from None
    fields = []
    for name in names:
        t = inferred.field(name).type
        if pa.types.is_null(t):
            t = arrow_schema({name: KNOWN_TYPES.get(name, "string")}).field(name).type
        fields.append(pa.field(name, t))
    return pa.schema(fields)
