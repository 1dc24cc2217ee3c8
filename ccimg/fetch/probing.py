"""The cheap middle step of `ccimg fetch --probe-uncertain`: `ccimg probe`'s Prober, not a copy of it.

Why the probe: for an image the model is unsure about, a header-only Range GET (the first 64 KiB)
tells its true size at the cost of one small request; only those that turn out BIG are then
downloaded whole.  The probe's statuses are mapped onto the fetch's: a size read means "BIG, fetch
it" or "probed-not-big" (a label for training either way); a size the header did not give means
"fetch it and see"; anything else (robots, an error status, a refused address) ends the URL as the
download would have.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ccimg.fetch.download import status_of
from features.model_inputs.size_signals import size_class

# Probe statuses after which the URL is still worth a full download: the header did not say.
UNDECIDED = frozenset({"size_not_in_range", "svg_no_size", "too_short", "bad_header", "empty"})


@dataclass
class Probed:
    """What the probe found for one URL: `action` is "fetch" (download it) or "done" (`status` settles it)."""

    action: str
    status: str
    width: int | None = None
    height: int | None = None
    format: str | None = None
    bytes: int = 0


def make_probe(client, robots, timeout: float, retries: int, range_bytes: int = 64 * 1024,
               log: Callable[[str], None] | None = None) -> Callable[[str], dict]:
    """A thread-safe function url -> probe row (img_url, true_width, true_height, format, status, bytes_read).

    The Prober uses the run's HttpClient (its guard, resolver, User-Agent and HostGate: probes count
    against the same per-host limits as downloads) and the run's RobotsCache (robots.txt is read once
    per host for both).  `range_bytes`: the first Range asked for; where the size is not in it, one more
    request asks for 512 KiB (a JPEG with a large EXIF block)."""
    from ccimg.probe import RETRY_RANGE_BYTES, Options, Prober
    from network.retry import RetryPolicy

    options = Options(range_bytes=range_bytes, retry_range_bytes=max(range_bytes, RETRY_RANGE_BYTES),
                      timeout=timeout, allow_private=client.allow_private,
                      policy=RetryPolicy(max_attempts=retries + 1, base_delay=0.5, max_delay=10.0, max_elapsed=60.0))
    prober = Prober(options, log, client)
    prober.robots = robots
    return prober.probe


def read_probe(row: dict) -> Probed:
    """The fetch's reading of one probe row."""
    status = row.get("status") or "error"
    w, h = row.get("true_width"), row.get("true_height")
    got = int(row.get("bytes_read") or 0)
    if status == "ok" and w is not None and h is not None:
        if size_class(w, h) == "BIG":
            return Probed("fetch", "probed-big", w, h, row.get("format"), got)
        return Probed("done", "probed-not-big", w, h, row.get("format"), got)
    if status in UNDECIDED:
        return Probed("fetch", "probed-undecided", None, None, row.get("format"), got)
    return Probed("done", status_of(status), None, None, row.get("format"), got)
