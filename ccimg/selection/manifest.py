"""The manifest `ccimg select` writes, and the journal that lets an interrupted selection resume.

A manifest line is ``FILENAME<TAB>OFFSET<TAB>LENGTH<TAB>URL``: where one WARC record lies, for the extraction
job's mappers to fetch by ranged GET (FILENAME is resolved against the job's --source-base).  Whole-file lines
(from warc.paths) are just the WARC's path.

While a selection runs, its state lives next to the output, in ``OUTPUT.select-state/``:

- ``captures.tsv``: the captures kept so far (manifest columns plus the digest), appended page by page;
- ``journal.jsonl``: the query's fingerprint, then one line per planned source and per finished page, with
  the size captures.tsv had once that page was written.

A page counts as finished only once its journal line is written, after its captures; on resume captures.tsv is
cut back to the size the last journal line names, so a page that was half written when the process died is
fetched again, and a finished one never is.  Writes are flushed (they survive the process being killed),
not fsynced (a power cut may cost the last pages, which are then fetched again).
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Iterable

from ccimg.selection.query import UsageError

STATE_SUFFIX = ".select-state"


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def filename_refusal(name: str) -> str | None:
    """Why a WARC file name from an index (or a warc.paths listing) is refused, None if it is fine.

    The extraction job resolves a relative name against its --source-base; an index answer is data, and
    an absolute path (/etc/passwd), a path with '..', another scheme (file:, http://169.254.169.254/...,
    s3://someone-elses-bucket/...) or a Windows drive would make the job read a local file or another
    server instead.  `ccimg select --allow-any-filename` accepts them."""
    if name.startswith(("/", "~")):
        return "an absolute path"
    if "\\" in name:
        return "a backslash"
    if _SCHEME.match(name):
        return "a URL or drive (a ':' before the first '/')"
    if ".." in name.split("/"):
        return "a '..' segment"
    return None


def clean_url(url: str) -> str:
    """A URL fit for a tab-separated line (CDX URLs should not hold white space, but nothing guarantees it)."""
    return url.replace("\t", "%09").replace("\n", "%0A").replace("\r", "%0D")


def capture_line(capture: dict) -> tuple[str, int] | None:
    """(manifest line, length) for a CDX capture, or None when it does not point at a WARC record."""
    try:
        filename = capture["filename"]
        offset = int(capture["offset"])
        length = int(capture["length"])
    except (KeyError, TypeError, ValueError):
        return None
    if not isinstance(filename, str) or not filename or offset < 0 or length <= 0 \
            or any(c in filename for c in "\t\n\r\x00"):
        return None
    return f"{filename}\t{offset}\t{length}\t{clean_url(str(capture.get('url', '')))}", length


def split_weighted(items: list[tuple[str, int]], parts: int) -> list[list[str]]:
    """Cut `items` (line, weight) into `parts` contiguous runs of about equal total weight.

    Contiguous keeps the selection's order (index order: a site's pages together); the weight (record length)
    evens out the bytes each mapper fetches.
    """
    total = sum(w for _, w in items) or 1
    out: list[list[str]] = [[] for _ in range(parts)]
    done = 0
    for line, weight in items:
        out[min(parts - 1, done * parts // total)].append(line)
        done += weight
    return out


def write_manifest(output: Path, lines: list[tuple[str, int]], parts: int) -> list[Path]:
    """Write `lines` to `output` (parts == 1) or to `output`/part-NNNNN.tsv; atomically, file by file."""
    if parts <= 1:
        if output.is_dir():
            raise UsageError(f"-o {output} is a directory: name a file (or pass --parts N for part files in it)")
        targets = [(output, [line for line, _ in lines])]
    else:
        if output.exists() and not output.is_dir():
            raise UsageError(f"--parts {parts} writes a directory of part files, but {output} is a file")
        output.mkdir(parents=True, exist_ok=True)
        for stale in output.glob("part-*.tsv"):  # from an earlier run with more parts
            stale.unlink()
        targets = [(output / f"part-{i:05d}.tsv", chunk) for i, chunk in enumerate(split_weighted(lines, parts))]
    written = []
    for path, chunk in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.writelines(line + "\n" for line in chunk)
        os.replace(tmp, path)
        written.append(path)
    return written


class Selection:
    """The captures chosen so far: deduplicated, limited, journaled page by page so that a rerun resumes."""

    def __init__(self, output: Path, fingerprint: dict, limit: int | None = None, dedupe: bool = True,
                 restart: bool = False, allow_any_filename: bool = False):
        self.output = output
        self.allow_any_filename = allow_any_filename
        self.refused = 0  # file names outside the source base (filename_refusal)
        self.refused_example: str | None = None
        self.state = output.with_name(output.name + STATE_SUFFIX)
        self.limit = limit
        self.dedupe = dedupe
        self.plans: dict[str, object] = {}
        self.done: set[tuple[str, int | None]] = set()
        self.digests: set[str] = set()
        self.kept = 0
        self.seen = 0  # captures the index returned
        self.duplicates = 0
        self.revisits = 0
        self.unusable = 0  # no filename/offset/length: not a WARC-backed index
        self.resumed_pages = 0
        if restart and self.state.exists():
            shutil.rmtree(self.state)
        self.state.mkdir(parents=True, exist_ok=True)
        self._journal_path = self.state / "journal.jsonl"
        self._captures_path = self.state / "captures.tsv"
        fingerprint = json.loads(json.dumps(fingerprint))  # as it will read back
        journal = self._journal_path
        if not (journal.exists() and journal.stat().st_size and self._resume(fingerprint)):
            self._captures_path.write_text("")
            with open(self._journal_path, "w", encoding="utf-8") as fh:
                fh.write(json.dumps({"fingerprint": fingerprint}) + "\n")
        self._marked = (self.seen, self.kept, self.duplicates, self.revisits, self.unusable, self.refused)
        self._journal = open(self._journal_path, "a", encoding="utf-8")
        self._captures = open(self._captures_path, "ab")  # binary: tell() is the byte size the journal records

    def _resume(self, fingerprint: dict) -> bool:
        """Pick up an unfinished selection; False when there is nothing worth keeping (no page finished)."""
        entries = []
        with open(self._journal_path, encoding="utf-8") as fh:
            for raw in fh:
                try:
                    entries.append(json.loads(raw))
                except ValueError:
                    break  # a line cut short when the process died
        if not any("done" in e for e in entries):
            return False  # e.g. the last run failed on its first request: start afresh, whatever its settings
        if entries[0].get("fingerprint") != fingerprint:
            raise UsageError(f"{self.state} holds an unfinished selection with different settings "
                             f"({entries[0].get('fingerprint') if entries else 'unreadable'}); rerun that command "
                             "to finish it, or pass --restart to throw it away")
        size = 0
        for e in entries[1:]:
            if "plan" in e:
                self.plans[e["plan"]] = e["pages"]
            elif "done" in e:
                self.done.add((e["done"], e["page"]))
                self.seen += e.get("seen", 0)
                self.duplicates += e.get("dup", 0)
                self.revisits += e.get("rev", 0)
                self.unusable += e.get("bad", 0)
                self.refused += e.get("ref", 0)
                size = e["bytes"]
        self.resumed_pages = len(self.done)
        # rewrite the journal without a torn last line, and cut captures.tsv back to the last finished page
        with open(self._journal_path, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(e) + "\n" for e in entries)
        with open(self._captures_path, "r+b") as fh:
            fh.truncate(size)
        with open(self._captures_path, encoding="utf-8") as fh:
            for row in fh:
                self.kept += 1
                digest = row.rstrip("\n").split("\t")[4]
                if digest:
                    self.digests.add(digest)
        return True

    def _log(self, entry: dict) -> None:
        self._journal.write(json.dumps(entry) + "\n")
        self._journal.flush()

    @property
    def full(self) -> bool:
        return self.limit is not None and self.kept >= self.limit

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.kept)

    def set_plan(self, key: str, pages) -> None:
        self.plans[key] = pages
        self._log({"plan": key, "pages": pages})

    def is_done(self, key: str, page: int | None) -> bool:
        return (key, page) in self.done

    def add_captures(self, captures: Iterable[dict]) -> int:
        """Keep the usable, new captures (up to the limit); stops reading `captures` once the limit is reached.

        They count as selected only once their page is marked done (`mark_done`): a resume drops the rest.
        """
        kept = 0
        rows = []
        for capture in captures:
            if self.full:
                break
            self.seen += 1
            if capture.get("mime") == "warc/revisit":
                self.revisits += 1  # no payload: nothing for the extraction job to read
                continue
            line = capture_line(capture)
            if line is None:
                self.unusable += 1
                continue
            if not self.allow_any_filename:
                why = filename_refusal(capture["filename"])
                if why is not None:
                    self.refused += 1
                    if self.refused_example is None:
                        self.refused_example = f"{capture['filename'][:100]!r} ({why})"
                    continue
            digest = str(capture.get("digest") or "").strip("-")
            if self.dedupe:
                filename, offset, _ = line[0].split("\t", 2)
                digest = digest or f"{filename}#{offset}"  # no digest: at least never the same record twice
                if digest in self.digests:
                    self.duplicates += 1
                    continue
                self.digests.add(digest)
            rows.append(f"{line[0]}\t{digest}\n")
            kept += 1
            self.kept += 1
        self._captures.write("".join(rows).encode("utf-8"))
        return kept

    def mark_done(self, key: str, page: int | None) -> None:
        """The page is finished: journal it (after its captures, so that a resume never skips one)."""
        self._captures.flush()
        now = (self.seen, self.kept, self.duplicates, self.revisits, self.unusable, self.refused)
        d = [x - y for x, y in zip(now, self._marked)]
        self._marked = now
        self.done.add((key, page))
        self._log({"done": key, "page": page, "seen": d[0], "kept": d[1], "bytes": self._captures.tell(),
                   "dup": d[2], "rev": d[3], "bad": d[4], "ref": d[5]})

    def add_page(self, key: str, page: int | None, captures: Iterable[dict]) -> int:
        kept = self.add_captures(captures)
        self.mark_done(key, page)
        return kept

    def lines(self) -> list[tuple[str, int]]:
        self._captures.flush()
        out = []
        with open(self._captures_path, encoding="utf-8") as fh:
            for row in fh:
                cols = row.rstrip("\n").split("\t")
                out.append(("\t".join(cols[:4]), int(cols[2])))
        return out

    def finish(self, parts: int, keep_state: bool = False) -> list[Path]:
        """Write the manifest (or its parts) and, unless asked to keep it, drop the state."""
        paths = write_manifest(self.output, self.lines(), parts)
        self.close()
        if not keep_state:
            shutil.rmtree(self.state, ignore_errors=True)
        return paths

    def close(self) -> None:
        for fh in (self._journal, self._captures):
            if not fh.closed:
                fh.close()
