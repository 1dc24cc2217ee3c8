"""Reading the commands' input rows: --data/--labels for train and eval, and the row checks every command uses.

Why checks here: the models read the fields of the extraction job's records (features/page/record_fields.py)
and trust their types; a row from somewhere else (`img_url` a number or a list, `width_attr` a list, a
float NaN from a Parquet file) would crash a batch deep in the model code.  Each row is checked once, on
the way in: a value of the wrong type is fixed where that is unambiguous (a number where a text attribute
is expected, 0/1 for a flag) and the row is skipped, counted and logged with its row number otherwise.
"""
from __future__ import annotations

import math

from ccimg.commands.common import NothingToDo, Progress, UsageError, counted, positive_int, say
from dataio.tables import InputError, Skips, iter_rows

MAX_URL_LENGTH = 8192  # longer "URLs" are skipped and counted: no browser sends them, and their n-grams cost GBs

TEXT_FIELDS = frozenset({
    "page_url", "src", "src_attr", "element", "alt", "title", "width_attr", "height_attr", "srcset", "sizes",
    "class", "id", "style", "loading", "rel", "parent_tag", "parent_text", "page_host", "img_host",
    "warc_filename", "warc_record_id", "crawl", "fetch_time", "collection", "true_format", "ancestors", "stated_by"})
INT_FIELDS = frozenset({"dom_depth", "dom_siblings", "position", "page_images", "page_url_count",
                        "page_folder_count", "page_declared_others", "page_declared_big", "page_declared_longest",
                        "folder_declared_others", "folder_declared_big", "folder_declared_longest", "warc_offset",
                        "true_width", "true_height", "stated_width", "stated_height"})
BOOL_FIELDS = frozenset({"lazy", "in_noscript", "same_domain"})
_MAX_INT = 2 ** 53


def check_url(value, max_length: int = MAX_URL_LENGTH) -> tuple[str | None, str | None]:
    """(url, None), or (None, reason) for a value that cannot be an image URL."""
    if value is None or value == "":
        return None, "no_img_url"
    if type(value) is not str:
        return None, "img_url_not_text"
    if len(value) > max_length:
        return None, "url_too_long"
    return value, None


def _fixed(field: str, value):
    """The value of a record field in the type the models expect; ValueError where there is none."""
    if field in TEXT_FIELDS:
        if type(value) is int:
            return str(value)
        if type(value) is float and math.isfinite(value):
            return str(int(value)) if value.is_integer() else repr(value)
        raise ValueError
    if field in INT_FIELDS:
        if type(value) is float and math.isfinite(value) and value.is_integer():
            value = int(value)
        if type(value) is str and value.strip().lstrip("-").isdigit():
            value = int(value)
        if type(value) is int and -_MAX_INT <= value <= _MAX_INT:
            return value
        raise ValueError
    if field in BOOL_FIELDS:
        if type(value) is int and value in (0, 1):
            return bool(value)
        raise ValueError
    return value


def _fits(field: str, value) -> bool:
    if value is None:
        return True
    if field in TEXT_FIELDS:
        return type(value) is str
    if field in INT_FIELDS:
        return type(value) is int and -_MAX_INT <= value <= _MAX_INT
    if field in BOOL_FIELDS:
        return type(value) is bool
    return True


def clean_record(rec: dict, max_url_length: int = MAX_URL_LENGTH) -> tuple[dict | None, str | None, str]:
    """(record, None, "") with every known field of the expected type, or (None, reason, detail)."""
    url, reason = check_url(rec.get("img_url"), max_url_length)
    if reason:
        return None, reason, ""
    fixed = None
    for field, value in rec.items():
        if _fits(field, value):
            continue
        try:
            new = _fixed(field, value)
        except ValueError:
            return None, "bad_field", f"{field} is a {type(value).__name__}" + (
                f" ({value})" if type(value) is float else "")
        if fixed is None:
            fixed = dict(rec)
        fixed[field] = new
    return (fixed if fixed is not None else rec), None, ""


def records_of(rows, skips: Skips, max_url_length: int = MAX_URL_LENGTH):
    """The checked records of `rows` (see clean_record); the others are counted in `skips`."""
    for row in rows:
        if type(row.data) is not dict:
            skips.add("not_an_object", row.source, row.number)
            continue
        rec, reason, detail = clean_record(row.data, max_url_length)
        if reason:
            skips.add(reason, row.source, row.number, detail)
            continue
        yield rec


# -- train and eval: --data and --labels --------------------------------------------------------------------
LABEL_SOURCES = ("true", "declared", "stated", "stated:srcset", "stated:og:image", "stated:json-ld", "stated:icon")


def add_data_arguments(parser, label_sources: str = "true,declared") -> None:
    parser.add_argument("--data", required=True, nargs="+", metavar="RECORDS",
                        help="extraction records: JSONL (.gz), Parquet or CSV files, folders of part-* files "
                             "(the job's -o), globs or s3://bucket/prefix; all are read, in order")
    parser.add_argument("--labels", metavar="FILE", nargs="+",
                        help="true sizes: CSV, JSONL or Parquet rows with img_url and true_width/true_height "
                             "(or width/height), e.g. `ccimg probe` or `jobs.image_sizes` output")
    parser.add_argument("--label-sources", default=label_sources,
                        help="label sources to use, best first: true (pixel sizes), declared (width/height "
                             "attributes), stated (sizes the page states elsewhere: all, or one of stated:srcset, "
                             f"stated:og:image, stated:json-ld, stated:icon) (default: {label_sources})")
    parser.add_argument("--limit", type=positive_int, metavar="N", help="read at most N records in all")


def load_data(args, quiet: bool = False):
    """(records, truth) from --data / --labels; bad rows skipped and counted, NothingToDo without records."""
    skips = Skips(log=say)
    with Progress("reading records", quiet=quiet or getattr(args, "quiet", False)) as progress:
        try:
            records = list(counted(records_of(iter_rows(args.data, skips=skips, limit=args.limit), skips),
                                   progress))
        except InputError as exc:
            raise UsageError(str(exc)) from None
    if skips.total:
        say(f"--data: {skips.summary()}")
    if not records:
        raise NothingToDo(f"no usable records in {' '.join(args.data)}"
                          + (f" ({skips.summary()})" if skips.total else ""))
    truth = read_labels(args.labels) if args.labels else None
    return records, truth


def read_labels(inputs) -> dict[str, tuple[int, int]]:
    """img_url -> (width, height) from label files (CSV, JSONL, Parquet, folders...); bad rows counted."""
    skips = Skips(log=say)
    truth: dict[str, tuple[int, int]] = {}
    try:
        for row in iter_rows(inputs, skips=skips):
            data = row.data
            if type(data) is not dict:
                skips.add("not_an_object", row.source, row.number)
                continue
            url, reason = check_url(data.get("img_url") or data.get("img_url_abs"))
            w, h = data.get("true_width", data.get("width")), data.get("true_height", data.get("height"))
            if reason:
                skips.add(reason, row.source, row.number)
                continue
            if w in (None, "") or h in (None, ""):
                skips.blank += 1  # a probe that failed: no size, not a mistake
                continue
            try:
                size = (_pixels(w), _pixels(h))
            except ValueError:
                skips.add("bad_size", row.source, row.number, "true_width/true_height are not pixel counts")
                continue
            truth[url] = size
    except InputError as exc:
        raise UsageError(f"--labels: {exc}") from None
    if skips.total:
        say(f"--labels: {skips.summary()}")
    return truth


def _pixels(value) -> int:
    """A pixel count from a number or its text; ValueError for anything else (a list, a bool, NaN, 1.5)."""
    if type(value) not in (int, float, str):
        raise ValueError
    if type(value) is float and not (math.isfinite(value) and value.is_integer()):
        raise ValueError
    n = int(value)
    if not 0 <= n <= 1_000_000:
        raise ValueError
    return n


def label_sources(args) -> tuple[str, ...]:
    sources = tuple(s.strip() for s in args.label_sources.split(",") if s.strip())
    unknown = [s for s in sources if s not in LABEL_SOURCES]
    if unknown or not sources:
        raise UsageError(f"--label-sources: {', '.join(unknown) or 'nothing'}: choose from {', '.join(LABEL_SOURCES)}")
    return sources
