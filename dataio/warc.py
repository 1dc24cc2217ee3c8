"""WARC records as the jobs see them: a thin, library-independent view over warcio.

Small helpers hide warcio's details (as cc-pyspark's `is_html` / `get_payload_stream` do), so
a job reads `record.type`, `record.url`, `record.payload()` and never touches warcio itself.
"""
from __future__ import annotations

import io
import re
import zlib
from datetime import datetime, timezone
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

MAX_PAYLOAD = 10 * 1024 * 1024  # Common Crawl truncates at 1 MiB; other archives may not
_CRAWL_ID = re.compile(r"CC-MAIN-\d{4}-\d{2}(?!\d)")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_HTML_SNIFF = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|div|p|img|a)[\s>/]",
                         re.I | re.S)
_UNKNOWN_TYPES = ("", "application/octet-stream", "unk", "text/plain", "application/unknown", "none")


class WarcFormatError(Exception):
    """The bytes are not (or no longer) a readable WARC/ARC stream.  `kind` names the failure."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


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
        return bool(_HTML_SNIFF.match(self.payload()[:2048]))


def _check_complete(rec, url: str | None) -> None:
    """Raise WarcFormatError if the record's block ended before its Content-Length.

    Why: warcio reads a gzip member or a file that was cut off without complaint; without this
    check half a page would pass as a whole one.
    """
    missing = getattr(rec.raw_stream, "limit", 0)
    if missing > 0:
        raise WarcFormatError("truncated", f"record {url} is cut off: {missing} bytes of its block are missing")


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


def iter_records(stream: BinaryIO) -> Iterator[Record]:
    """Records of a WARC (or ARC) stream, gzipped per record or not, in order.

    Raises WarcFormatError when the stream is not a WARC or breaks off; records before the
    damage have been yielded by then.
    """
    it = ArchiveIterator(stream, arc2warc=True)
    try:
        for rec in it:
            # `it.offset` is the start of the current record; get_record_offset() would consume the payload.
            record = _to_record(rec, it.offset)
            yield record
            it.read_to_end()  # what the iterator does next anyway; then the block must be complete
            _check_complete(rec, record.url)
    except ArchiveLoadFailed as exc:
        raise WarcFormatError("not_warc", f"not a WARC/ARC record: {exc}") from exc
    except (zlib.error, EOFError) as exc:
        raise WarcFormatError("truncated", f"gzip stream broken or cut off: {exc}") from exc
    except (ValueError, IndexError, KeyError, UnicodeDecodeError, AttributeError, TypeError) as exc:
        # warcio has no error type for malformed headers: e.g. a response without WARC-Target-URI
        # makes it call None.startswith().  Only reading happens in this try (the consumer's code
        # runs outside it, at `yield`), so these can only come from a malformed record.
        raise WarcFormatError("bad_header", f"malformed record headers: {type(exc).__name__}: {exc}") from exc


def read_one_record(data: bytes) -> Record:
    """The single record in `data` (the bytes of an index pointer), payload already read."""
    records = iter_records(io.BytesIO(data))
    try:
        rec = next(records)
    except StopIteration:
        raise WarcFormatError("empty", "no WARC record in the byte range") from None
    rec.payload()
    return rec
