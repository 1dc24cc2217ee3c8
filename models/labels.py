"""Labels for training and evaluation: BIG / SMALL by the paper's rule, and where each one came from.

Label sources, best first:
  * ``true``: the image's real pixel size, decoded from the image itself (an image record in the
    same WARC as the page, or a header-only probe); records carry it as `true_width`/`true_height`,
    or a `--labels` file maps `img_url` to it;
  * ``declared``: both HTML attributes `width` and `height` as plain pixel numbers (or, for a line
    of `--aggregate` output, the sizes its occurrences declare, where they agree);
  * ``stated:<where>``: a size the page states about the file elsewhere (`stated_width`,
    `stated_height`, `stated_by`: srcset `w` candidates, og:image, JSON-LD, icon sizes; see
    `features.page.stated_sizes`); "stated" in `sources` takes them all, "stated:icon" one of them.
    Training uses them (all but srcset by default: DEFAULT_SOURCES); evaluations report on true and
    declared labels only, so that their figures compare with the paper's and with earlier runs.
Images in between (neither BIG nor SMALL) are dropped from training and evaluation.

When the declared size is the label, the features must not see it: the model exists for the
images that do not declare their size, and its score must describe that case.
`hide_declared_size` is the one place that hides it (attributes, and a size in `style`).
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dataio.tables import loads, open_text
from features.model_inputs.size_signals import declared_size, size_class
from models.decision import aggregate_declared_size

_STYLE_SIZE_DECL = re.compile(r"(?:min-|max-)?(?:width|height)\s*:[^;]*;?", re.I)


def hide_declared_size(rec: dict) -> dict:
    """A copy of the record without its declared size: width/height attributes and style sizes."""
    out = dict(rec)
    out["width_attr"] = None
    out["height_attr"] = None
    if "declared_sizes" in out:  # an --aggregate line: the sizes its occurrences declare
        out["declared_sizes"] = []
    if out.get("style"):
        out["style"] = _STYLE_SIZE_DECL.sub("", out["style"]).strip() or None
    return out


@dataclass(frozen=True)
class Label:
    label: str  # BIG or SMALL
    source: str  # true or declared
    width: int
    height: int


def true_size(rec: dict, truth: dict | None = None) -> tuple[int, int] | None:
    w, h = rec.get("true_width"), rec.get("true_height")
    if w is not None and h is not None:
        return int(w), int(h)
    if truth:
        return truth.get(rec.get("img_url"))
    return None


def label_of(rec: dict, truth: dict | None = None,
             sources: tuple[str, ...] = ("true", "declared", "stated")) -> Label | None:
    """The record's label from the best available source, None where it is in between or unknown."""
    if "true" in sources:
        ts = true_size(rec, truth)
        if ts is not None:
            cls = size_class(*ts)
            return Label(cls, "true", *ts) if cls else None
    if "declared" in sources:
        d = declared_size(rec) if "declared_sizes" not in rec else aggregate_declared_size(rec)
        if d is not None:
            cls = size_class(d.width, d.height)
            return Label(cls, "declared", d.width, d.height) if cls else None
    if "stated" in sources or f"stated:{rec.get('stated_by')}" in sources:
        w, h = rec.get("stated_width"), rec.get("stated_height")
        if isinstance(w, int) and isinstance(h, int):
            cls = size_class(w, h)
            return Label(cls, f"stated:{rec.get('stated_by')}", w, h) if cls else None
    return None


@dataclass
class LabelledData:
    """Feature-ready records (declared sizes hidden where they are the label) with y (1 = BIG)."""

    records: list[dict]
    y: np.ndarray
    sources: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, mask) -> "LabelledData":
        idx = np.flatnonzero(mask)
        return LabelledData([self.records[i] for i in idx], self.y[idx], self.sources[idx])


# The label sources training uses by default: every source but the stated `srcset` candidates.
# Measured leaving each of 8 collections out in turn (benchmarks/label_sources.py, record model): without
# the 27,041 srcset labels, mean F1avg 0.891 (worst collection 0.772), SMALL fetches skipped at 95% recall
# of BIG 91% (worst 82%); with them 0.875 (0.681) and 91% (79%); without any stated size 0.876 (0.675)
# and 85% (61%).  Why, as far as it can be seen: 80% of the srcset labels are BIG, and they are the
# larger renditions of images whose <img src> (what a crawler fetches) the page shows smaller: they teach
# "an image with a srcset is BIG".  The icons, og:image and JSON-LD sizes stay.
DEFAULT_SOURCES = ("true", "declared", "stated:og:image", "stated:json-ld", "stated:icon")


def labelled(records, truth: dict | None = None,
             sources: tuple[str, ...] = DEFAULT_SOURCES) -> LabelledData:
    recs, ys, srcs = [], [], []
    for rec in records:
        lab = label_of(rec, truth, sources)
        if lab is None:
            continue
        recs.append(hide_declared_size(rec) if lab.source == "declared" else rec)
        ys.append(lab.label == "BIG")
        srcs.append(lab.source)
    return LabelledData(recs, np.array(ys, dtype=np.int8), np.array(srcs, dtype=object))


def read_truth(path: str | Path) -> dict[str, tuple[int, int]]:
    """A `--labels` file: CSV or JSONL with img_url (or img_url_abs) and true_width/true_height (or width/height)."""
    out = {}
    with open_text(path, "rt") as f:
        first = f.readline()
        f.seek(0)
        rows = (loads(line) for line in f if line.strip()) if first.lstrip().startswith("{") else csv.DictReader(f)
        for row in rows:
            url = row.get("img_url") or row.get("img_url_abs")
            w = row.get("true_width", row.get("width"))
            h = row.get("true_height", row.get("height"))
            if url and w not in (None, "") and h not in (None, ""):
                out[url] = (int(w), int(h))
    return out
