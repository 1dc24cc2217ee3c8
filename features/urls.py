"""Small URL helpers shared by the page side and the model-input side of `features`."""
from __future__ import annotations

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
