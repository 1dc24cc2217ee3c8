"""A declared HTML size in pixels: the one parser of `width`/`height` attribute values.

Here, beside the page extraction, because extraction itself reads declared sizes (the sizes the
other images of a page declare: `features.page.images.add_page_context`), as do the labels and
the model inputs downstream.
"""
from __future__ import annotations

import re

# The paper's classes: BIG when width and height are both over 400 px, SMALL when both are under 200.
BIG_MIN = 400
SMALL_MAX = 200

_PIXELS = re.compile(r"^\s*(\d{1,5})(?:\.\d*)?\s*(?:px)?\s*$", re.I)


def parse_pixels(value) -> int | None:
    """A declared HTML size in pixels ('300', '300px', '300.0'), None for '100%', 'auto', ''..."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    m = _PIXELS.match(str(value))
    return int(m.group(1)) if m else None
