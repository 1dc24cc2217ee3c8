"""Parse `srcset` the way browsers do (WHATWG "parse a srcset attribute"), simplified.

Why not `split(',')`: URLs may contain commas (CDN transforms such as `w_300,h_200`), and a
candidate's URL ends at whitespace, not at a comma.
"""
from __future__ import annotations

import re

_WS = " \t\n\r\f"
_W_DESCRIPTOR = re.compile(r"^(\d+)w$")
_X_DESCRIPTOR = re.compile(r"^(\d+(?:\.\d+)?|\.\d+)x$")


def parse_srcset(value: str | None) -> list[tuple[str, str]]:
    """Return [(url, descriptor)], descriptor '' where none was given."""
    if not value:
        return []
    out: list[tuple[str, str]] = []
    pos, n = 0, len(value)
    while pos < n:
        while pos < n and (value[pos] in _WS or value[pos] == ","):
            pos += 1
        if pos >= n:
            break
        start = pos
        while pos < n and value[pos] not in _WS:
            pos += 1
        url = value[start:pos]
        descriptor = ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            start = pos
            depth = 0
            while pos < n:
                ch = value[pos]
                if ch == "(":
                    depth += 1
                elif ch == ")" and depth:
                    depth -= 1
                elif ch == "," and not depth:
                    break
                pos += 1
            descriptor = " ".join(value[start:pos].split())
            pos += 1
        if url:
            out.append((url, descriptor))
    return out


def first_url(value: str | None) -> str | None:
    cands = parse_srcset(value)
    return cands[0][0] if cands else None


def candidate_width(descriptor: str) -> int | None:
    """The width a candidate's `w` descriptor states (its file's true width), None without one."""
    for part in descriptor.split():
        m = _W_DESCRIPTOR.match(part)
        if m:
            return int(m.group(1))
    return None


def width_descriptors(value: str | None) -> list[int]:
    """The `w` descriptors of a srcset, in order: each states the true pixel width of its candidate."""
    return [w for _, desc in parse_srcset(value) if (w := candidate_width(desc)) is not None]
