"""Small URL helpers shared by the page side and the model-input side of `features`."""
from __future__ import annotations

import re
from urllib.parse import urlsplit


def url_of(item) -> str:
    """The image URL of a record dict, or the item itself when it is already a string."""
    if isinstance(item, str):
        return item
    return item.get("img_url") or ""


def url_extension(url: str) -> str:
    """The lower-cased extension of the URL's last path segment ('' if none): fragment and query ignored."""
    path = url.split("#", 1)[0].split("?", 1)[0]
    last = path.rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1].lower() if "." in last else ""


def host_of(url: str) -> str:
    """The lower-cased host of a URL, '' where it has none or cannot be parsed."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


# -- URLs as a browser sends them (WHATWG URL Standard, https://url.spec.whatwg.org/) -----------------------
# Any character that may need work: controls, space, non-ASCII, and the few printable ones some
# component's percent-encode set holds.  A URL without any (nearly all of them) is returned as it is.
NEEDS_BROWSER_FORM = re.compile(r"[^\x21-\x7e]|[\"<>`{}']")
_C0_SPACE_NON_ASCII = frozenset(chr(c) for c in range(0x21))
_PATH_SET = _C0_SPACE_NON_ASCII | set('"#<>?`{}')
_QUERY_SET = _C0_SPACE_NON_ASCII | set("\"#<>'")  # the special-query set (http, https)
_FRAGMENT_SET = _C0_SPACE_NON_ASCII | set('"<>`')
_USERINFO_SET = _C0_SPACE_NON_ASCII
# Code points a host may not hold (the forbidden domain code points, less '%'): a browser refuses the URL.
_FORBIDDEN_HOST = re.compile(r"[\x00-\x20#/:<>?@\[\\\]^|\x7f]")


def _encode(text: str, encode_set: frozenset | set) -> str:
    """Percent-encode the characters of `encode_set` and every non-ASCII one, as UTF-8 bytes; an existing
    '%XX' stays as it is (WHATWG never re-encodes '%').  A lone surrogate becomes U+FFFD, as a browser's
    USVString conversion makes it."""
    out = []
    for ch in text:
        if ch in encode_set or ch > "\x7e":
            if "\ud800" <= ch <= "\udfff":
                ch = "\ufffd"
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out)


def ascii_host(host: str) -> str:
    """A host as a browser looks it up: IDNA (UTS #46, non-transitional: mapped to lower case) where it is not
    ASCII; an ASCII host as it is.  ValueError where a browser would refuse the host."""
    if not host.isascii():
        import idna

        try:
            mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
        except idna.IDNAError as exc:
            raise ValueError(f"host cannot be mapped to ASCII: {exc}") from None
        labels = []
        for label in mapped.split("."):
            if label.isascii():
                labels.append(label)
                continue
            try:
                labels.append(idna.alabel(label).decode("ascii"))
            except idna.IDNAError:  # stricter than browsers (hyphen rules, some scripts): plain Punycode
                labels.append("xn--" + label.encode("punycode").decode("ascii"))
        host = ".".join(labels)
    if _FORBIDDEN_HOST.search(host):
        raise ValueError("host holds a character no host may hold")
    return host


def browser_url(url: str) -> str:
    """An absolute http(s) URL in the form a browser requests it (the WHATWG URL parser's serialisation,
    for what matters to a fetch): spaces, controls, quotes, <, >, ` and non-ASCII percent-encoded as
    UTF-8 by each component's own set (so a space is %20 in the path and the query, and `'` is encoded
    in the query only); a non-ASCII host in IDNA form.  ValueError where a browser would refuse the URL.

    Left as they are (a browser would change them too, but the request reaches the same resource on
    ordinary servers, and the image records keep their history): the case of an ASCII host, a default
    port, dot segments in an absolute URL, and the fragment (never sent)."""
    if NEEDS_BROWSER_FORM.search(url) is None:
        return url
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("not an absolute URL")
    end = len(rest)
    for delim in "/?#":
        i = rest.find(delim)
        if 0 <= i < end:
            end = i
    authority, tail = rest[:end], rest[end:]
    userinfo, at, hostport = authority.rpartition("@")
    if hostport.startswith("["):  # an IPv6 literal: ASCII by construction (urlsplit checked it)
        host, port = hostport, ""
    else:
        host, colon, port = hostport.partition(":")
        host = ascii_host(host)
        port = colon + port
    if port and not port[1:].isdigit() and port != ":":
        raise ValueError("bad port")
    before_fragment, hash_sign, fragment = tail.partition("#")
    path, question_mark, query = before_fragment.partition("?")
    return "".join((scheme, sep, _encode(userinfo, _USERINFO_SET), at, host, port, _encode(path, _PATH_SET),
                    question_mark, _encode(query, _QUERY_SET), hash_sign, _encode(fragment, _FRAGMENT_SET)))
