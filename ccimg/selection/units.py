"""The selection loop: (crawl, URL pattern) units, fetched page by page into a `Selection` (the manifest).

Shared by the CDX index and the columnar (Parquet) index: each source plans its pages and fetches
one page; this module fills the selection, resumes where a journal says it stopped, and guards
against a server that ignores `page=`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Iterable

from ccimg.selection.index import page_numbers
from ccimg.selection.manifest import Selection
from ccimg.selection.query import IndexServerError, Query

log = logging.getLogger("ccimg.select")


@dataclass
class Unit:
    """One (crawl, pattern) to select: how to plan its pages and fetch one."""

    key: str  # in the journal
    plan: Callable[[], object]
    fetch: Callable[[int | None, int | None], Iterable[dict] | None]  # (page, limit): None past the last page
    lazy: bool = False  # fetch ignores limit and yields lazily: just stop reading (DuckDB)


# With --limit N, ask the server for N + N/4 + 10 captures first (room for duplicates dropped here), then 4 times
# more each time.  Asking for more than needed costs server time in proportion (benchmarks/select_local.py).
def _first_ask(need: int) -> int:
    return need + need // 4 + 10


def _fill_page(unit: Unit, page: int | None, selection: Selection) -> tuple | None:
    """Fetch one page into `selection`; None when the page is past the end, else the page's first capture key.

    The server's limit= counts captures before this side drops revisits and duplicate digests, so a page asked
    for N may hold fewer than N keepers and more behind them: ask again, for more, skipping what was
    read (the order is the index's, so the first answer is a prefix of the next).  Without --limit a page is
    asked for whole (a Common Crawl page is at most 5 blocks of 3000 lines).
    """
    need = selection.remaining
    if need is None or unit.lazy:
        captures = unit.fetch(page, None)
        if captures is None:
            return None
        captures = iter(captures)
        first = next(captures, None)
        if first is not None:
            selection.add_captures([first])
            selection.add_captures(captures)
        return _first_key([first] if first else [])
    ask, taken, first = _first_ask(need), 0, ()
    while True:
        captures = unit.fetch(page, ask)
        if captures is None:
            return first if taken else None
        captures = list(captures)
        if not taken:
            first = _first_key(captures)
        selection.add_captures(captures[taken:])
        taken = len(captures)
        if selection.full or len(captures) < ask:
            return first
        ask *= 4


def _first_key(captures: list[dict]) -> tuple:
    c = captures[0] if captures else {}
    return (c.get("urlkey"), c.get("timestamp"), c.get("filename"), c.get("offset"))


def run_units(units: list[Unit], selection: Selection, quiet: bool) -> int:
    """Fetch every unfinished page of every unit into `selection`; returns pages fetched by this run."""
    from tqdm import tqdm

    fetched = 0
    known = sum(p if isinstance(p, int) else 1 for p in selection.plans.values() if p is not None)
    bar = tqdm(total=known or None, initial=len(selection.done), unit="page", desc="index pages",
               disable=True if quiet else None, dynamic_ncols=True)
    bar.set_postfix(captures=selection.kept)
    try:
        for unit in units:
            if selection.full:
                break
            if unit.key in selection.plans:
                plan = selection.plans[unit.key]
            else:
                plan = unit.plan()
                selection.set_plan(unit.key, plan)
                if plan is not None:
                    bar.total = (bar.total or 0) + (plan if isinstance(plan, int) else 1)
                    bar.refresh()
            log.debug("%s: %s", unit.key, f"{plan} pages" if isinstance(plan, int) else plan or "pages unknown")
            firsts: set[tuple] = set()  # first capture of each page fetched: a page that starts like another
            for page in page_numbers(plan):
                if selection.full:
                    break
                if selection.is_done(unit.key, page):
                    continue
                kept_before = selection.kept
                first = _fill_page(unit, page, selection)
                if first is None:
                    break
                if plan is None and first in firsts and first[0] is not None:
                    # only where the page count is unknown: guard against a server that ignores page= (or cycles
                    # through a few pages), whose paging would never end
                    raise IndexServerError(f"{unit.key}: page {page} starts like an earlier page: the server "
                                           "seems to ignore page=, so paging would never end")
                firsts.add(first)
                selection.mark_done(unit.key, page)
                fetched += 1
                log.debug("%s page %s: kept %d, %d in all", unit.key, page, selection.kept - kept_before,
                          selection.kept)
                bar.update(1)
                bar.set_postfix(captures=selection.kept)
    finally:
        bar.close()
    return fetched


def make_units(sources: list, names: list[str], query: Query, plan: Callable, fetch: Callable,
               lazy: bool = False) -> tuple[list[Unit], list[str]]:
    """One Unit per (source, pattern), keyed by the source's name: plan(source, pattern) plans its pages and
    fetch(source, pattern, page, limit) fetches one.  Returns the units and the sources' names."""
    units = [Unit(key=f"{name} {p.match} {p.url}",
                  plan=lambda s=source, p=p: plan(s, p),
                  fetch=lambda page, limit, s=source, p=p: fetch(s, p, page, limit),
                  lazy=lazy)
             for source, name in zip(sources, names) for p in query.patterns]
    return units, list(names)
