"""Who ccimg says it is on the network: one User-Agent string and one robots.txt product token.

Why one place: server operators who see our requests in their logs must be able to tell what we are
and how to reach us, and robots.txt rules written for us must match the token we send.  Before this
module the project sent three different User-Agent strings.
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import metadata

PRODUCT_TOKEN = "ccimg"  # what robots.txt groups ("User-agent: ccimg") are matched against
PROJECT_URL = "https://github.com/ccimg"
PURPOSE = "image size research"
FALLBACK_VERSION = "0.1"

# A contact goes inside the User-Agent comment: no controls (header injection), no parentheses
# (they would end the comment), nothing a header value cannot carry.
_CONTACT_OK = re.compile(r"[\x21-\x27\x2a-\x7e]+(?: [\x21-\x27\x2a-\x7e]+)*")


@lru_cache(maxsize=1)
def version() -> str:
    """The installed ccimg version, or FALLBACK_VERSION when running from a checkout that is not installed."""
    try:
        return metadata.version("ccimg")
    except metadata.PackageNotFoundError:
        return FALLBACK_VERSION


def user_agent(contact: str | None = None) -> str:
    """The User-Agent header value, e.g. ``ccimg/0.1.0 (+https://github.com/ccimg; image size research)``.

    `contact` (an e-mail address or URL of whoever runs the crawl) is added to the comment, so that an
    operator can write to a person rather than block an address range.  ValueError if it could not be
    carried safely in a header comment."""
    comment = f"+{PROJECT_URL}; {PURPOSE}"
    if contact is not None:
        contact = contact.strip()
        if not _CONTACT_OK.fullmatch(contact):
            raise ValueError("contact must be printable ASCII without parentheses or control characters")
        comment += f"; {contact}"
    return f"{PRODUCT_TOKEN}/{version()} ({comment})"


USER_AGENT = user_agent()
