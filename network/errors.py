"""The two failures every network call can end in: worth retrying, or not.

Why only two: the retry loop (network.retry) must decide from the exception alone, and the jobs count
failures by a short `kind` ("not_found", "private_address", "http_403", ...), so the kind travels with
the exception.  Messages name the URL or address and what went wrong, never payload bytes or secrets:
they end up in logs and job counters.
"""
from __future__ import annotations


class FetchError(Exception):
    """A failure that retrying cannot fix (or that retrying did not fix).  `kind` names it for counters."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __reduce__(self):
        # Exceptions cross process boundaries (multiprocessing, Spark): keep both arguments.
        return type(self), (self.kind, self.message)


class TransientError(Exception):
    """A failure worth retrying.  `retry_after` is the server's own Retry-After in seconds, where it sent one."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after

    def __reduce__(self):
        return type(self), (self.kind, self.message, self.retry_after)
