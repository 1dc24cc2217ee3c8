"""Decode an HTML payload to text, the way a browser would pick the encoding.

Order (a simplified WHATWG "encoding sniffing"): byte order mark, the HTTP Content-Type
charset, a `<meta>` charset in the first 1024 bytes, valid UTF-8, then windows-1252.
Both HTML parsers get the same decoded text, so they cannot disagree about encodings
(`utf8_payload` only lets a parser that reads UTF-8 bytes skip re-encoding that text).
"""
from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:\-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([a-zA-Z0-9_.:\-]+)""", re.I)

# WHATWG maps these labels to supersets; Python's codecs would be stricter than browsers.
_SUPERSETS = {
    "ascii": "cp1252", "us-ascii": "cp1252", "iso-8859-1": "cp1252", "iso8859-1": "cp1252",
    "latin1": "cp1252", "latin-1": "cp1252", "l1": "cp1252", "iso_8859-1": "cp1252",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030",
    "iso-8859-9": "cp1254", "latin5": "cp1254", "tis-620": "cp874", "iso-8859-11": "cp874",
    "ks_c_5601-1987": "cp949", "euc-kr": "cp949",
    "utf-16": "utf-8", "utf-16le": "utf-8", "utf-16be": "utf-8",  # a meta tag cannot be UTF-16
    "x-user-defined": "cp1252",
}


_NOT_PAGE_ENCODINGS = frozenset({"idna", "punycode", "raw-unicode-escape", "unicode-escape", "undefined"})


def _normalise(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    label = _SUPERSETS.get(label, label)
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    # Only codecs that turn bytes into text the way a page is stored: not base64, rot13, idna, ...
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_PAGE_ENCODINGS:
        return None
    return info.name


def _declared_charset(body: bytes, content_type: str | None) -> str | None:
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if body.startswith(codecs.BOM_UTF16_LE) or body.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if content_type:
        m = _HEADER_CHARSET.search(content_type)
        enc = _normalise(m.group(1)) if m else None
        if enc:
            return enc
    m = _META_CHARSET.search(body[:1024])
    if m:
        return _normalise(m.group(1).decode("ascii", "replace"))
    return None


def _try_utf8(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A page cut in the middle of a multi-byte character (payload truncation) is still UTF-8.
        if exc.start >= len(body) - 3 and exc.reason == "unexpected end of data":
            return body.decode("utf-8", errors="replace")
        return None


def sniff_charset(body: bytes, content_type: str | None = None) -> str:
    """Return the name of the codec to decode `body` with."""
    return decode_html(body, content_type)[1]


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, codec name).  Undecodable bytes become U+FFFD, never an exception."""
    enc = _declared_charset(body, content_type)
    if enc:
        try:
            return body.decode(enc, errors="replace"), enc
        except (UnicodeError, LookupError):  # a codec that cannot replace errors: fall back to sniffing
            pass
    text = _try_utf8(body)  # decoded once: UTF-8 is most of the web, and decoding is not free
    if text is not None:
        return text, "utf-8"
    return body.decode("cp1252", errors="replace"), "cp1252"


def utf8_payload(body: bytes, text: str, encoding: str) -> bytes | None:
    """`body` itself when `text` (decode_html's result, of codec `encoding`) is exactly its UTF-8 decoding,
    else None.

    Why: lexbor parses UTF-8 bytes; given `body` it skips the UTF-8 copy of `text` that it would
    otherwise make, about 4 % of the extraction time, and builds the same tree.
    Exact: the codec is plain utf-8 ("utf-8-sig" is not: that text lacks the byte order mark) and no
    U+FFFD in the text means no byte was replaced, so text.encode("utf-8") == body.  A page holding
    a genuine U+FFFD just takes the general path.
    """
    if encoding == "utf-8" and "\ufffd" not in text:
        return body
    return None
