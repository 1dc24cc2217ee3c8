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
rows' actions (fetch, then probe, then skip).  Rows that cannot be used (no img_url, a field of the
wrong type) and rows the --provider/--license filter drops are kept in the plan with their status
(no-url, bad-input, filtered), so that the metadata table still has one row per input row; a line that
is not a JSON object at all is no row: it is counted and logged by the reader (dataio.tables.Skips).

The plan rows go to a file in the state folder, not to memory: the final metadata table is a
second pass over that file, joined with the results per URL.
"""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dataio.tables import InputError, Skips, dumps, iter_rows, loads

BATCH = 4096
ACTION_RANK = {"skip": 0, "probe": 1, "fetch": 2}


class PlanError(Exception):
    """The input or the options cannot make a plan (a one-line message for the user)."""


# -- reading the input ------------------------------------------------------------------------------------
def iter_input_rows(inputs: list[str], skips: Skips, clean: Callable | None = None) -> Iterator[dict | tuple]:
    """Every usable input row in order (a dict), or (status, detail) for a row that cannot be used.

    Files, part folders, globs, Parquet and s3:// are read by dataio.tables.iter_rows; what is not a JSON
    object at all (a broken line) is counted and logged in `skips` there.  `clean(record) -> (record,
    reason, detail)` checks a record's field types (the commands' data_args.clean_record)."""
    try:
        for row in iter_rows(inputs, skips=skips):
            data = row.data
            where = f"{row.source}:{row.number}"
            if type(data) is not dict:
                skips.add("not_an_object", row.source, row.number)
                continue
            url = data.get("img_url")
            if not isinstance(url, str) or not url.strip():
                yield "no-url", f"{where}: no img_url"
                continue
            if clean is not None:
                data, reason, detail = clean(data)
                if reason:
                    yield "bad-input", f"{where}: {reason}" + (f" ({detail})" if detail else "")
                    continue
            yield data
    except InputError as exc:
        raise PlanError(str(exc)) from None


# -- deciding ----------------------------------------------------------------------------------------------
@dataclass
class Decider:
    """Turns a row's prediction into an action.  `scorer_options` are passed to Scorer when rows need scoring."""

    fetch_all: bool = False
    band: tuple[float, float] | None = None
    model: str | None = None
    recall: float | None = None
    threshold: float | str | None = None
    keep: object = None  # a features.record_filter.ProviderLicenseFilter, or None
    _scorer: object = field(default=None, repr=False)

    def action(self, p_big: float, label: str, reason: str | None = "model") -> str:
        """fetch, probe or skip.  The probe band applies to the model's decisions only: an exact signal (a
        declared size, a size in the URL) keeps its label whatever its p_big, as in models.score."""
        if self.fetch_all:
            return "fetch"
        if self.band is not None and reason in (None, "model") and self.band[0] <= p_big < self.band[1]:
            return "probe"
        return "fetch" if label == "BIG" else "skip"

    def kept(self, row: dict) -> bool:
        return self.keep is None or not self.keep.active or self.keep(row)

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


def make_plan(inputs: list[str], decider: Decider, path: Path, skips: Skips | None = None,
              clean: Callable | None = None) -> Plan:
    """Read every input row, score those that need it, write the plan rows to `path`, return the URL actions.

    A row the provider/license filter drops keeps its plan row, with status ``filtered``."""
    skips = skips if skips is not None else Skips()
    urls: dict[str, UrlPlan] = {}
    counts: Counter = Counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as out:
        chunk: list = []

        def flush() -> None:
            need = [r for r in chunk if isinstance(r, dict) and r.get("_score")]
            if need:
                try:
                    scores = decider.scorer().score([r["_row"] for r in need])
                except ValueError as exc:  # e.g. a recall target the model has no threshold for
                    raise PlanError(str(exc)) from None
                for r, p, label, reason in zip(need, scores.p_big.tolist(), scores.label, scores.reason):
                    r.update(p_big=p, label=label, reason=reason)
            for r in chunk:
                if isinstance(r, tuple):  # (status, detail[, row]) of a row that is not fetched
                    row = r[2] if len(r) > 2 else {}
                    out.write(dumps({"img_url": row.get("img_url"), "page_url": row.get("page_url"),
                                     "alt": row.get("alt"), "status": r[0], "detail": r[1]}) + b"\n")
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

        for row in iter_input_rows(inputs, skips, clean):
            counts["rows"] += 1
            if isinstance(row, tuple):
                counts[row[0]] += 1
                chunk.append(row)
            elif not decider.kept(row):
                if _prescored(row) and decider.keep.needs_records:
                    raise PlanError("--license and --provider NAME/SUB need extraction records, "
                                    "not `ccimg score` output")
                counts["filtered"] += 1
                chunk.append(("filtered", "dropped by --provider/--license", row))
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
