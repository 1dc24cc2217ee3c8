"""Decode an HTML payload to text, the way a browser picks the encoding (WHATWG Encoding Standard).

The order is the HTML standard's "encoding sniffing algorithm", simplified where browsers guess:
  1. a byte order mark (UTF-8, UTF-16LE, UTF-16BE) wins over everything, the HTTP header included;
  2. the HTTP Content-Type charset, if it is a WHATWG label (``charset=utf-16`` means UTF-16LE, as in
     browsers, so a UTF-16LE body without a BOM is read right);
  3. a ``<meta charset>`` or ``<meta http-equiv=content-type content="...charset=...">`` in the first
     1024 bytes (comments skipped); a meta naming UTF-16 or UTF-32 means UTF-8 (a page that can be
     read as ASCII to find its meta cannot be UTF-16/32), x-user-defined means windows-1252;
  4. valid UTF-8, then windows-1252 (the standard's "implementation-defined" guess).
Labels are read with the WHATWG label table (the `webencodings` package): ``latin1``, ``ascii`` and
``iso-8859-1`` mean windows-1252, ``gb2312`` means GBK, and labels browsers do not know (``cp500``
and the other EBCDIC code pages, ``utf-32``, ``base64``) are ignored, not handed to Python's codec
registry.  Labels of the "replacement" encoding (``iso-2022-kr``, ``hz-gb-2312``, ...) decode the
whole page to one U+FFFD, as browsers do (those labels were a way to smuggle markup past filters).

Both HTML parsers get the same decoded text, so they cannot disagree about encodings
(`utf8_payload` only lets a parser that reads UTF-8 bytes skip re-encoding that text).
"""
from __future__ import annotations

import codecs
import re

import webencodings

PRESCAN_BYTES = 1024
REPLACEMENT = "replacement"

# WHATWG encoding name -> the Python codec that decodes as the standard's decoder does.  webencodings
# already maps most (shift_jis -> cp932, euc-kr -> cp949, big5 -> big5hkscs); GBK's decoder is GB18030's.
_PYTHON_CODEC = {"gbk": "gb18030", "gb18030": "gb18030", "utf-8": "utf-8", "utf-16le": "utf-16-le",
                 "utf-16be": "utf-16-be", "windows-1252": "cp1252"}

_CHARSET_PARAM = re.compile(r"""charset\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s;"']+))""", re.I)
_META = re.compile(rb"<meta[\s/]([^>]*)>?", re.I)
_ATTRIBUTE = re.compile(rb"""([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]*))?""")


def whatwg_encoding(label: str | bytes | None) -> str | None:
    """The WHATWG name of the encoding a label means (``latin1`` -> ``windows-1252``), None for an unknown label."""
    if label is None:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "replace")
    found = webencodings.lookup(label.strip())
    return found.name if found is not None else None


def _python_codec(name: str) -> str:
    if name in _PYTHON_CODEC:
        return _PYTHON_CODEC[name]
    return webencodings.lookup(name).codec_info.name


def header_charset(content_type: str | None) -> str | None:
    """The WHATWG encoding named by an HTTP Content-Type's charset parameter, None if none or unknown."""
    if not content_type:
        return None
    m = _CHARSET_PARAM.search(content_type)
    if not m:
        return None
    return whatwg_encoding(next(g for g in m.groups() if g is not None))


def _strip_comments(head: bytes) -> bytes:
    """`head` without its <!-- --> comments (an unclosed one runs to the end), in linear time."""
    out, pos = [], 0
    while True:
        start = head.find(b"<!--", pos)
        if start < 0:
            out.append(head[pos:])
            return b"".join(out)
        out.append(head[pos:start])
        end = head.find(b"-->", start + 4)
        if end < 0:
            return b"".join(out)
        pos = end + 3


def meta_charset(body: bytes) -> str | None:
    """The WHATWG encoding a <meta> in the first 1024 bytes declares (after the prescan's own rules:
    UTF-16/32 -> UTF-8, x-user-defined -> windows-1252), None if there is none."""
    head = _strip_comments(body[:PRESCAN_BYTES])
    for meta in _META.finditer(head):
        attrs: dict[bytes, bytes] = {}
        for m in _ATTRIBUTE.finditer(meta.group(1)):
            name = m.group(1).lower()
            if name not in attrs:
                attrs[name] = (m.group(2) or b"").strip(b"\"'")
        label = None
        if b"charset" in attrs:
            label = attrs[b"charset"]
        elif attrs.get(b"http-equiv", b"").strip().lower() == b"content-type" and b"content" in attrs:
            found = _CHARSET_PARAM.search(attrs[b"content"].decode("ascii", "replace"))
            label = next(g for g in found.groups() if g is not None) if found else None
        if label is None:
            continue
        text = label.decode("ascii", "replace").strip().lower() if isinstance(label, bytes) else label
        if text.startswith(("utf-16", "utf-32", "utf16", "utf32", "ucs-2", "ucs-4")):
            return "utf-8"
        name = whatwg_encoding(text)
        if name is None:
            continue  # an unknown label: the prescan goes on to the next <meta>
        if name in ("utf-16le", "utf-16be"):
            return "utf-8"
        if name == "x-user-defined":
            return "windows-1252"
        return name
    return None


def _bom(body: bytes) -> tuple[str, int] | None:
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", 0  # the codec drops the BOM itself (and utf8_payload then takes the general path)
    if body.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if body.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
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
    bom = _bom(body)
    if bom is not None:
        codec, skip = bom
        return body[skip:].decode(codec, errors="replace"), codec
    name = header_charset(content_type) or meta_charset(body)
    if name == REPLACEMENT:
        return ("\ufffd" if body else ""), REPLACEMENT
    if name is not None and name != "utf-8":
        codec = _python_codec(name)
        try:
            return body.decode(codec, errors="replace"), codec
        except (UnicodeError, LookupError):  # pragma: no cover - every WHATWG codec can replace errors
            pass
    if name == "utf-8":
        return body.decode("utf-8", errors="replace"), "utf-8"
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
