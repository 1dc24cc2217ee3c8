"""Which URLs to fetch: input rows in, one plan row per input row and one action per distinct URL out.

Input rows are `ccimg score` output (img_url, p_big, label, reason[, page_url]) or the extraction
job's image records, which are scored here with `models.score.Scorer` (the default model and its
default decision, or --model / --recall / --threshold); one file, several, or a job's part folder.
A row's action:
  * ``fetch``: the decision says BIG (or ``--all``, the baseline that fetches everything);
  * ``probe``: the model decided (no exact signal did) and its p_big lies in the
    ``--probe-uncertain P1,P2`` band [P1, P2): probe first;
  * ``skip``: the decision says SMALL (the request the model saves).
A URL met on several rows (the same image on many pages) is fetched once, with the strongest of its
rows' actions (fetch, then probe, then skip).  Rows that cannot be used (a line that is not JSON, a
row without img_url) are kept in the plan with their status, so that the metadata table still has
one row per input row.

The plan rows go to a file in the state folder, not to memory: the final metadata table is a
second pass over that file, joined with the results per URL.
"""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dataio.tables import dumps, loads, open_text

BATCH = 4096
ACTION_RANK = {"skip": 0, "probe": 1, "fetch": 2}


class PlanError(Exception):
    """The input or the options cannot make a plan (a one-line message for the user)."""


# -- reading the input ------------------------------------------------------------------------------------
def input_files(inputs: list[str]) -> list[str]:
    """The files behind the inputs: a folder stands for its part files (names not starting with '_' or '.')."""
    files = []
    for item in inputs:
        if item == "-":
            files.append(item)
            continue
        path = Path(item)
        if path.is_dir():
            parts = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(("_", ".")))
            if not parts:
                raise PlanError(f"{item}: folder without part files")
            files.extend(str(p) for p in parts)
        elif path.is_file():
            files.append(item)
        else:
            raise PlanError(f"{item}: no such file or folder")
    return files


def iter_input_rows(inputs: list[str]) -> Iterator[dict | str]:
    """Every input row in order: a dict, or the reason a line could not be read (a str).

    The one place that reads the fetch's input: JSON lines (``.gz`` allowed) and Parquet files."""
    for path in input_files(inputs):
        if path.endswith(".parquet"):
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH):
                yield from batch.to_pylist()
            continue
        with open_text(path, "rt") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = loads(line)
                except ValueError:
                    yield f"{path} line {number}: not a JSON line"
                    continue
                yield row if isinstance(row, dict) else f"{path} line {number}: not a JSON object"


# -- deciding ----------------------------------------------------------------------------------------------
@dataclass
class Decider:
    """Turns a row's prediction into an action.  `scorer_options` are passed to Scorer when rows need scoring."""

    fetch_all: bool = False
    band: tuple[float, float] | None = None
    model: str | None = None
    recall: float | None = None
    threshold: float | None = None
    _scorer: object = field(default=None, repr=False)

    def action(self, p_big: float, label: str, reason: str | None = "model") -> str:
        """fetch, probe or skip.  The probe band applies to the model's decisions only: an exact signal (a
        declared size, a size in the URL) keeps its label whatever its p_big, as in models.score."""
        if self.fetch_all:
            return "fetch"
        if self.band is not None and reason in (None, "model") and self.band[0] <= p_big < self.band[1]:
            return "probe"
        return "fetch" if label == "BIG" else "skip"

    @property
    def rescoring(self) -> bool:
        return self.model is not None or self.recall is not None or self.threshold is not None

    def scorer(self):
        if self._scorer is None:
            from models.score import Scorer

            try:
                self._scorer = Scorer(self.model, recall=self.recall, threshold=self.threshold)
            except (OSError, ValueError) as exc:
                raise PlanError(f"cannot load the model: {exc}") from None
        return self._scorer


@dataclass
class UrlPlan:
    """The URL's strongest action and highest p_big over its rows; page and alt of its first row."""

    action: str
    p_big: float
    page_url: str | None = None
    alt: str | None = None
    rows: int = 1


@dataclass
class Plan:
    path: Path
    urls: dict[str, UrlPlan]
    counts: Counter

    @property
    def rows(self) -> int:
        return self.counts["rows"]


def _prescored(row: dict) -> bool:
    return isinstance(row.get("p_big"), (int, float)) and row.get("label") in ("BIG", "MEDIUM", "SMALL")


def _plan_row(row: dict, p_big: float, label: str, reason: str | None, action: str) -> dict:
    return {"img_url": row["img_url"], "page_url": row.get("page_url"), "alt": row.get("alt"),
            "p_big": round(float(p_big), 4), "label": label, "reason": reason, "action": action}


def make_plan(inputs: list[str], decider: Decider, path: Path) -> Plan:
    """Read every input row, score those that need it, write the plan rows to `path`, return the URL actions."""
    urls: dict[str, UrlPlan] = {}
    counts: Counter = Counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as out:
        chunk: list = []

        def flush() -> None:
            need = [r for r in chunk if isinstance(r, dict) and r.get("_score")]
            if need:
                scores = decider.scorer().score([r["_row"] for r in need])
                for r, p, label, reason in zip(need, scores.p_big.tolist(), scores.label, scores.reason):
                    r.update(p_big=p, label=label, reason=reason)
            for r in chunk:
                if isinstance(r, tuple):  # (status, detail) of a row that cannot be used
                    out.write(dumps({"img_url": None, "status": r[0], "detail": r[1]}) + b"\n")
                    continue
                row = r["_row"]
                action = decider.action(r["p_big"], r["label"], r["reason"])
                counts[f"action {action}"] += 1
                out.write(dumps(_plan_row(row, r["p_big"], r["label"], r["reason"], action)) + b"\n")
                url = row["img_url"]
                known = urls.get(url)
                if known is None:
                    urls[url] = UrlPlan(action, r["p_big"], row.get("page_url"), row.get("alt"))
                else:
                    known.rows += 1
                    known.p_big = max(known.p_big, r["p_big"])
                    if ACTION_RANK[action] > ACTION_RANK[known.action]:
                        known.action = action
            chunk.clear()

        for row in iter_input_rows(inputs):
            counts["rows"] += 1
            if isinstance(row, str):
                counts["bad-input"] += 1
                chunk.append(("bad-input", row))
            elif not isinstance(row.get("img_url"), str) or not row["img_url"].strip():
                counts["no-url"] += 1
                chunk.append(("no-url", f"input row {counts['rows']}: no img_url"))
            elif _prescored(row):
                if decider.rescoring:
                    raise PlanError("the input is `ccimg score` output, whose decisions were made there: "
                                    "--model/--recall/--threshold need the extraction records (or rerun ccimg score)")
                chunk.append({"_row": row, "p_big": row["p_big"], "label": row["label"], "reason": row.get("reason")})
            else:
                chunk.append({"_row": row, "_score": True})
            if len(chunk) >= BATCH:
                flush()
        flush()
    os.replace(tmp, path)
    counts["urls"] = len(urls)
    return Plan(path, urls, counts)


def iter_plan(path: Path) -> Iterator[dict]:
    with open(path, "rb") as f:
        for line in f:
            yield loads(line)
