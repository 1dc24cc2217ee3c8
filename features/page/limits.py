"""What one page may cost: caps on its size and shape, and a guard around the parse of unusual pages.

Why: an HTML parser's time is not linear in the page for every input.  Measured with lexbor
(selectolax 1.0.2) on this machine (``python -m benchmarks.pathological_pages``): 10,000 nested <div>s
parse in 0.06 s, 20,000 in 0.35 s, 40,000 in 3.0 s (cubic); misnested formatting elements
(``<a><b><i>x</a>`` repeated, the HTML standard's "adoption agency" at work) grow quadratically; a
10 MB page of ``<img>`` tags holds 900,000 images, each of which would become a record in memory.  A
crawl has pages like these (generated junk, attacks, broken CMS templates), and one of them must not take
a mapper's memory or hours of its time.

The guard, cheap where pages are normal:
  * count the ``<`` bytes of the payload (a C loop over the bytes: an upper bound of the number of
    tags).  More than `max_tags`: the page is skipped unparsed ("too many elements").
  * up to `inline_tags` (16,384; 99.9 % of the 5,590 real pages of ../shared/data have fewer, the
    largest has 25,496), the page is parsed in the mapper itself: at that size the worst input found
    costs about 0.2 s.
  * above, the page is parsed in a forked child process under a memory limit (RLIMIT_AS: what the
    mapper already maps plus `max_memory`) and a time limit (`max_seconds`, or less if the record's
    deadline comes first; the child is killed at the deadline): "parse time limit" / "parse memory
    limit".  The child first estimates the nesting depth from the tags (`estimated_depth`): more than
    `max_depth` (5,000; the deepest of the real pages is estimated at 1,364, 99.9 % under 280) is
    skipped at once ("too deep").
Measured by ``python -m benchmarks.extract`` (rows ``guard:*``, CPU time, one run): parsing every page in
a forked child cost 5.3 times the extraction (11.3 against 59.5 MB/s); counting ``<`` costs nothing
measurable (57.1 against 59.5 MB/s, within the run's noise).  ``python -m benchmarks.pathological_pages``
gives each pathological page's cost, bare and guarded.

The other caps apply to every page (features.page.images): at most `max_images` image records
(the rest are counted, not emitted), URLs longer than `max_url_length` skipped, attribute values
cut to `max_attribute_length` characters (16,384: real srcsets run to 5,180), and the record's
deadline checked as candidates are read.
"""
from __future__ import annotations

import errno
import os
import pickle
import re
import resource
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

# Elements whose end tag a parser infers, or that cannot have content: they do not nest when left open.
_NO_NESTING = frozenset(
    "area base br col embed hr img input link meta source track wbr param keygen frame image basefont bgsound "
    "p li dt dd option optgroup tr td th tbody thead tfoot colgroup caption rb rt rtc rp html head body".split())
_RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"})
_RAW_TEXT_END = {name: re.compile(f"</{name}", re.I) for name in _RAW_TEXT}
_TAG = re.compile(r"<(/?)([A-Za-z][^\s/>]*)")
# What the parsers raise when an allocation fails under RLIMIT_AS (selectolax does not raise MemoryError).
_OUT_OF_MEMORY = frozenset({"MemoryError", "SelectolaxError"})


@dataclass(frozen=True)
class PageLimits:
    """The caps of one page (see the module's docstring); the job's options set some of them."""

    max_tags: int = 250_000
    inline_tags: int = 16_384
    max_depth: int = 5_000  # the deepest of the 5,590 real pages is estimated at 1,364
    max_seconds: float = 30.0
    max_memory: int = 2 * 1024 ** 3
    max_images: int = 10_000
    max_url_length: int = 8192
    max_attribute_length: int = 16_384  # the longest real srcset of the 1,447 benchmark pages: 5,180
    fork: bool = True  # parse pages over inline_tags in a child (False: in the mapper, unguarded)


class PageSkipped(Exception):
    """The page is not extracted: `reason` is its counter name, the message says why (never its bytes)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __reduce__(self):
        return type(self), (self.reason, self.message)


def estimated_depth(html: str, stop_at: int) -> int:
    """An estimate of the page's element nesting depth from its tags alone (no tree is built).

    Start tags of elements that nest add one, their end tags take one off; void elements and those
    whose end tag the parser infers (p, li, td, ...) do not count; script, style and the other raw
    text elements are jumped over (``if (a<b)`` is not a tag).  Misnested formatting elements that
    are never closed count as nesting, which is what they become in the tree.  Stops as soon as the
    depth passes `stop_at`."""
    depth = deepest = 0
    pos = 0
    search = _TAG.search
    while True:
        m = search(html, pos)
        if m is None:
            return deepest
        pos = m.end()
        name = m.group(2).lower()
        if m.group(1):
            if name not in _NO_NESTING and depth:
                depth -= 1
            continue
        if name in _RAW_TEXT:
            end = _RAW_TEXT_END[name].search(html, pos)
            pos = len(html) if end is None else end.start()
            continue
        if name not in _NO_NESTING:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_at:
                    return deepest


def _address_space() -> int:
    """Bytes of address space this process maps now (VmSize)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


def run_guarded(fn: Callable[[], T], seconds: float, memory: int) -> T:
    """fn() in a forked child with at most `seconds` of wall time and `memory` more bytes of address space.

    The result travels back pickled.  PageSkipped("parse time limit" / "parse memory limit") when a limit
    was hit; an exception raised by fn() in the child is raised again here (PageSkipped as it is,
    anything else as RuntimeError naming its type).  Why fork and not a thread or a signal: the parse
    runs in C and cannot be interrupted from Python; a child can be killed, and its memory given back."""
    if seconds <= 0:
        raise PageSkipped("record time limit", "no time left for the page")
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns, never runs the parent's cleanup (os._exit)
        code = 1
        try:
            os.close(read_fd)
            limit = _address_space() + memory
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard),
                                                    hard))
            cpu = int(seconds) + 2  # a backstop should the parent die: the kernel ends the child
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
            try:
                outcome = ("ok", fn())
            except MemoryError:
                outcome = ("memory", None)
            except PageSkipped as exc:
                outcome = ("skipped", exc)
            except BaseException as exc:  # noqa: BLE001 - reported to the parent by type
                outcome = ("error", type(exc).__name__)
            data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(data)
            while view:
                view = view[os.write(write_fd, view):]
            code = 0
        except MemoryError:
            code = 3
        finally:
            os._exit(code)
    os.close(write_fd)
    deadline = time.monotonic() + seconds
    chunks: list[bytes] = []
    killed = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                killed = True
                break
            ready, _, _ = select.select([read_fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        status = _reap(pid)
    if killed:
        raise PageSkipped("parse time limit", f"the page took more than {seconds:.1f}s to parse")
    if not chunks:
        # no answer: the child died (the kernel's CPU limit, or out of memory outside Python's reach)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU, signal.SIGKILL):
            raise PageSkipped("parse time limit", f"the page took more than {seconds:.1f}s of CPU to parse")
        raise PageSkipped("parse memory limit", f"the parse of the page died (status {status}) under a "
                                                f"{memory >> 20} MiB memory limit")
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "ok":
        return value
    if kind == "memory":
        raise PageSkipped("parse memory limit", f"the page needed more than {memory >> 20} MiB to parse")
    if kind == "skipped":
        raise value
    if value in _OUT_OF_MEMORY:
        raise PageSkipped("parse memory limit", f"the parser gave up ({value}) within a {memory >> 20} MiB memory "
                                                "limit")
    raise RuntimeError(f"the guarded parse failed with {value}")


def _reap(pid: int) -> int:
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:  # pragma: no cover - PEP 475 retries, but be sure
            continue
        except ChildProcessError:  # pragma: no cover - reaped elsewhere (a SIGCHLD handler)
            return 0
        except OSError as exc:  # pragma: no cover
            if exc.errno != errno.EINTR:
                raise


def can_fork() -> bool:
    return hasattr(os, "fork")
