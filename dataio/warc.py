"""WARC records as the jobs see them: a thin, library-independent view over warcio.

Small helpers hide warcio's details (as cc-pyspark's `is_html` / `get_payload_stream` do), so
a job reads `record.type`, `record.url`, `record.payload()` and never touches warcio itself.

What is added to warcio, because a WARC is data and may be damaged or hostile:
  * a response (or request, revisit) without WARC-Target-URI is read as a record whose `url` is
    None, so that the job fails that record and goes on with the next (warcio itself calls
    None.startswith() and the iterator is lost);
  * a WARC record without Content-Length is an error (its headers were cut off: a pointer whose
    range ends inside them), not a record with an empty body;
  * no line warcio reads is longer than MAX_HEADER_LINE (a file of zeros, or of text without
    newlines, would otherwise be read into memory whole as one "header line");
  * nothing of a file's bytes reaches a log or an error message: warcio's own warnings (which
    print the offending line) are silenced and counted, and errors say what is wrong, not what
    the bytes were.
"""
from __future__ import annotations

import io
import logging
import re
import zlib
from datetime import datetime, timezone
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import DecompressingBufferedReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecordLoader
from warcio.utils import BUFF_SIZE

MAX_PAYLOAD = 10 * 1024 * 1024  # Common Crawl truncates at 1 MiB; other archives may not
MAX_HEADER_LINE = 1024 * 1024  # a WARC or HTTP header line; longer is cut (and then fails to parse)
_CRAWL_ID = re.compile(r"CC-MAIN-\d{4}-\d{2}(?!\d)")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_SNIFF_TAG = re.compile(rb"<(?:!doctype\s+html|html|head|body|meta|title|div|p|img|a)[\s>/]", re.I)
_SNIFF_SPACE = b" \t\n\r\f\v"
_UNKNOWN_TYPES = ("", "application/octet-stream", "unk", "text/plain", "application/unknown", "none")
_URI_RECORDS = ("response", "request", "revisit", "resource")

# warcio logs a record's whole WARC-Target-URI (any length) when it holds spaces: not in our task logs.
logging.getLogger("warcio").addHandler(logging.NullHandler())
logging.getLogger("warcio").propagate = False


class WarcFormatError(Exception):
    """The bytes are not (or no longer) a readable WARC/ARC stream.  `kind` names the failure."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def _shown(url: str | None, limit: int = 200) -> str:
    """A record's URL for a message: repr'd (no control characters) and at most `limit` characters."""
    if url is None:
        return "(no WARC-Target-URI)"
    return repr(url[:limit] + ("..." if len(url) > limit else ""))


def normalise_warc_date(value: str | None) -> str | None:
    """ISO 8601 UTC (`2020-08-08T17:27:41Z`), or None where the header is not a date.

    Why: aggregates compare dates as strings, and real archives carry odd ones
    (ClueWeb: `2008-10-294T05:21:46-0700`).
    """
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def crawl_from_name(name: str) -> str | None:
    """`CC-MAIN-2024-22` from `crawl-data/CC-MAIN-2024-22/segments/...`, else None."""
    m = _CRAWL_ID.search(name)
    return m.group(0) if m else None


@dataclass
class Record:
    """One WARC record: headers read, payload not yet read (call `payload()` before the next record)."""

    type: str
    url: str | None
    date: str | None
    record_id: str | None
    offset: int
    http_status: int | None
    http_content_type: str | None
    identified_type: str | None
    _raw: object = field(repr=False, default=None)
    _payload: bytes | None = field(repr=False, default=None)

    def payload(self, max_bytes: int = MAX_PAYLOAD) -> bytes:
        """The HTTP body (dechunked and content-decoded by warcio), at most `max_bytes`."""
        if self._payload is None:
            # Read once (the stream cannot be rewound): a later call with a smaller limit gets a prefix.
            self._payload = self._raw.content_stream().read(max_bytes)
            if len(self._payload) < max_bytes:
                _check_complete(self._raw, self.url)
        return self._payload[:max_bytes] if len(self._payload) > max_bytes else self._payload

    @property
    def missing_target_uri(self) -> bool:
        """A record that must name its URL (response, request, revisit, resource) and does not."""
        return self.type in _URI_RECORDS and not self.url

    @property
    def mime(self) -> str:
        return (self.http_content_type or "").split(";", 1)[0].strip().lower()

    def is_html(self) -> bool:
        """HTML by its HTTP Content-Type; where that is missing or generic, by the index's
        identified type, then by sniffing the first bytes."""
        if self.type not in ("response", "resource"):
            return False
        if self.http_status is not None and self.http_status != 200:
            return False
        if self.mime in _HTML_TYPES:
            return True
        if self.mime not in _UNKNOWN_TYPES:
            return False
        ident = (self.identified_type or "").split(";", 1)[0].strip().lower()
        if ident in _HTML_TYPES:
            return True
        if ident and ident not in _UNKNOWN_TYPES:
            return False
        return looks_like_html(self.payload()[:2048])


def looks_like_html(head: bytes) -> bool:
    """True when `head` (the first bytes of a body) starts, after white space and comments, with a tag
    that only HTML starts with.

    Why a loop and not one regular expression: ``^\\s*(?:<!--.*?-->\\s*)*<tag`` backtracks
    exponentially on a run of empty comments (thirty ``<!---->`` took minutes); this is linear."""
    pos, end = 0, len(head)
    while True:
        while pos < end and head[pos] in _SNIFF_SPACE:
            pos += 1
        if not head.startswith(b"<!--", pos):
            return _SNIFF_TAG.match(head, pos) is not None
        close = head.find(b"-->", pos + 4)
        if close < 0:
            return False
        pos = close + 3


def _check_complete(rec, url: str | None) -> None:
    """Raise WarcFormatError if the record's block ended before its Content-Length.

    Why: warcio reads a gzip member or a file that was cut off without complaint; without this
    check half a page would pass as a whole one.
    """
    missing = getattr(rec.raw_stream, "limit", 0)
    if missing > 0:
        raise WarcFormatError("truncated", f"record {_shown(url)} is cut off: {missing} bytes of its block are "
                                           "missing")


class _Loader(ArcWarcRecordLoader):
    """warcio's record loader, reading a record without WARC-Target-URI as one without HTTP headers
    (instead of failing with AttributeError, which loses the iterator and the rest of the file)."""

    def load_http_headers(self, rec_type, uri, stream, length):
        return super().load_http_headers(rec_type, uri or "", stream, length)


class _BoundedReader(DecompressingBufferedReader):
    """warcio's reader, with every line it reads cut at MAX_HEADER_LINE bytes (see the module's docstring)."""

    def readline(self, length=None):
        return super().readline(MAX_HEADER_LINE if length is None else min(length, MAX_HEADER_LINE))


class _Iterator(ArchiveIterator):
    """ArchiveIterator with the loader and the reader above, and without its stderr warning.

    warcio writes "Record not followed by newline ... Remainder: <the line>" to stderr when a record's
    Content-Length looks wrong: a line of the file's bytes in the task log.  The count stays in
    `err_count`; the job reports it as a counter."""

    INC_RECORD = ""

    def __init__(self, fileobj, arc2warc: bool = True, block_size: int = BUFF_SIZE):
        super().__init__(fileobj, arc2warc=arc2warc, block_size=block_size)
        self.loader = _Loader(verify_http=False, arc2warc=arc2warc)
        self.reader = _BoundedReader(self.fh, block_size=block_size)


def _to_record(rec, offset: int) -> Record:
    headers = rec.rec_headers
    status = ctype = None
    if rec.http_headers is not None and rec.rec_type in ("response", "request", "revisit"):
        if rec.rec_type == "response":
            try:
                status = int(rec.http_headers.get_statuscode() or 0) or None
            except ValueError:
                status = None
        ctype = rec.http_headers.get_header("Content-Type")
    elif rec.rec_type == "resource":
        ctype = headers.get_header("Content-Type")
    return Record(
        type=rec.rec_type,
        url=headers.get_header("WARC-Target-URI"),
        date=normalise_warc_date(headers.get_header("WARC-Date")),
        record_id=headers.get_header("WARC-Record-ID"),
        offset=offset,
        http_status=status,
        http_content_type=ctype,
        identified_type=headers.get_header("WARC-Identified-Payload-Type"),
        _raw=rec,
    )


def warcinfo_crawl(record: Record) -> str | None:
    """Common Crawl's warcinfo names the crawl in `isPartOf: CC-MAIN-2020-34`."""
    try:
        body = record.payload(64 * 1024).decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - a broken warcinfo only costs us the crawl id
        return None
    return crawl_from_name(body)


def iter_records(stream: BinaryIO, warnings: list | None = None) -> Iterator[Record]:
    """Records of a WARC (or ARC) stream, gzipped per record or not, in order.

    Raises WarcFormatError when the stream is not a WARC or breaks off; records before the
    damage have been yielded by then.  Messages never quote the stream's bytes (exceptions are
    re-raised without their cause's text).  `warnings`, if given, gets one entry per record that
    was not followed by the blank lines a WARC puts between records (warcio's silenced warning).
    """
    it = _Iterator(stream, arc2warc=True)
    offset = 0
    try:
        for rec in it:
            # `it.offset` is the start of the current record; get_record_offset() would consume the payload.
            offset = it.offset
            if rec.format == "warc" and rec.rec_headers.get_header("Content-Length") is None:
                raise WarcFormatError("bad_header", f"record at offset {offset} has no Content-Length: its "
                                                    "headers are cut off or damaged")
            record = _to_record(rec, offset)
            yield record
            it.read_to_end()  # what the iterator does next anyway; then the block must be complete
            _check_complete(rec, record.url)
            if warnings is not None and it.err_count > len(warnings):
                warnings.append(offset)
    except ArchiveLoadFailed:
        raise WarcFormatError("not_warc", f"the bytes after offset {offset} are not a WARC or ARC record") from None
    except (zlib.error, EOFError) as exc:
        raise WarcFormatError("truncated", f"gzip stream broken or cut off after offset {offset} "
                                           f"({type(exc).__name__})") from None
    except (ValueError, IndexError, KeyError, UnicodeDecodeError, AttributeError, TypeError) as exc:
        # warcio has no error type for malformed headers (an int() of a bad number, a header line
        # without a colon, ...).  Only reading happens in this try (the consumer's code runs outside
        # it, at `yield`), so these can only come from a malformed record.  The exception's text is
        # not kept: it may quote the bytes (int() does).
        raise WarcFormatError("bad_header", f"malformed record headers after offset {offset} "
                                            f"({type(exc).__name__})") from None


def read_one_record(data: bytes) -> Record:
    """The single record in `data` (the bytes of an index pointer), payload already read."""
    records = iter_records(io.BytesIO(data))
    try:
        rec = next(records)
    except StopIteration:
        raise WarcFormatError("empty", "no WARC record in the byte range") from None
    rec.payload()
    return rec
