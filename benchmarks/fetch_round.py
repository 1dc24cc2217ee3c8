"""One round of the loop back: train, fetch, retrain with the fetched true sizes, and what changed.

    python -m benchmarks.fetch_round                  # about 5 minutes on 2 busy cores

The question a crawl asks: after fetching from sites the model never saw, do the true sizes that came
back make it better on those sites' other pages?  The round, with the commands it runs:

  1. A = `ccimg train --data base.jsonl.gz --method ours` on the records of the training-side sites of
     ../shared/data (the standard site split; labels as usual: true sizes, else declared ones).
  2. New sites: the test-side pages of the declared replay of benchmarks/fetch_savings.py (images that
     declare both sides, served as a real photo resized to that size; the declared size is hidden from
     the model).  Their pages are split in two halves by a hash of the page URL.
  3. `ccimg fetch half1 --model A --probe-uncertain LOW,HIGH` against the replay server: what A calls
     BIG is downloaded, the uncertain band is probed, the rest is skipped; the metadata table holds the
     true sizes of what was downloaded or probed.
  4. B = `ccimg train --data base.jsonl.gz half1.jsonl.gz --labels labels.jsonl --method ours`: the same
     records plus the first half's, labelled by the fetch (an image the fetch skipped has no label).
  5. C, for comparison: as B, but with the labels of a `ccimg fetch --all` of the first half (every image
     downloaded, as img2dataset would): what the round could bring if labels cost nothing.
  6. `ccimg eval --data half2.jsonl.gz --model A|B|C`: the other pages of the same sites, labelled by their
     declared sizes (hidden from the features), which no model saw.

labels.jsonl is the metadata table with each URL mapped back from the replay server's URL (the same
URL with the server's port) to the URL the records hold; `ccimg train --labels` reads the metadata
table itself just as well (tests/integration/test_fetch.py checks it).
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.fetch_savings import PhotoBodies, declared_replay
from benchmarks.image_site import ImageSite, host_map_resolver
from ccimg.cli import main as cli
from ccimg.fetch.run import Fetcher, FetchOptions
from models.corpus import DEFAULT_DATA_DIR, CorpusReader
from models.split import is_test_site, record_site


def _write(path: Path, records) -> str:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec) + "\n")
    return str(path)


def _half(page_url: str | None) -> int:
    return hashlib.sha1((page_url or "").encode()).digest()[0] % 2


def _eval(model: Path, data: str, out: Path) -> dict:
    assert cli(["eval", "--data", data, "--model", str(model), "--json-out", str(out)]) == 0
    return json.loads(out.read_text())


def _fetch(records: list[dict], model: Path, band: tuple[float, float] | None, data: Path, work: Path, args,
           fetch_all: bool = False, name: str = "fetched") -> tuple:
    """Fetch the records' images from the replay server, scored by `model`; the labels file and the summary."""
    photos = PhotoBodies(data / "images" / "test4.jpg")
    with ImageSite(latency=args.latency, bandwidth=args.bandwidth) as site:
        served = {}
        rows = []
        for rec in records:
            url = site.with_port(rec["img_url"])
            served[url] = rec["img_url"]
            rows.append({**rec, "img_url": url})
        declared = {r["img_url"]: tuple(r["_declared"]) for r in records}
        for original, size in declared.items():
            site.add(original, *photos.body(original, size))
        src = work / "half1_served.jsonl"
        src.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "_declared"}) + "\n" for r in rows))
        options = FetchOptions(inputs=[str(src)], dest=str(work / name), model=None if fetch_all else str(model),
                               probe_band=None if fetch_all else band, fetch_all=fetch_all, delay=args.delay,
                               workers=16)
        summary = Fetcher(options, resolver=host_map_resolver(), log=lambda message: None).run()
        requests = len(site.hits)
    labels = work / f"{name}-labels.jsonl"
    with open(work / name / "metadata.jsonl", encoding="utf-8") as f, open(labels, "w", encoding="utf-8") as out:
        for line in f:
            row = json.loads(line)
            if row["img_url"] in served:
                row["img_url"] = served[row["img_url"]]
            out.write(json.dumps(row) + "\n")
    return labels, summary, requests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--declared", type=int, default=4000, help="distinct image URLs of the new sites")
    parser.add_argument("--trees", type=int, default=40)
    parser.add_argument("--band", default="auto",
                        help="--probe-uncertain band of the fetch: P1,P2, 'none', or 'auto': from A's default "
                             "(recall target) threshold to its best-F1 one")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--bandwidth", type=float, default=0.0)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--out", type=Path, default=Path("out/fetch_round.json"))
    args = parser.parse_args(argv)
    band = None if args.band in ("none", "auto") else tuple(float(x) for x in args.band.split(","))
    work = Path(tempfile.mkdtemp(prefix="ccimg-fetch-round-"))
    t0 = time.monotonic()
    try:
        corpus = list(CorpusReader(args.data).records())
        base = [r for r, test in zip(corpus, is_test_site([record_site(r) for r in corpus])) if not test]
        hidden, sizes = declared_replay(args.data, args.declared)
        originals = {}
        for rec in corpus:
            if rec.get("img_url") in sizes:
                originals.setdefault((rec.get("page_url"), rec["img_url"]), rec)
        half1 = [dict(r, _declared=sizes[r["img_url"]]) for r in hidden if _half(r.get("page_url")) == 0]
        half2 = [originals[(r.get("page_url"), r["img_url"])] for r in hidden if _half(r.get("page_url")) == 1]
        base_path = _write(work / "base.jsonl.gz", base)
        half1_path = _write(work / "half1.jsonl.gz", ({k: v for k, v in r.items() if k != "_declared"}
                                                      for r in half1))
        half2_path = _write(work / "half2.jsonl.gz", half2)
        print(f"base {len(base):,} records; new sites: half 1 {len(half1):,}, half 2 {len(half2):,} records "
              f"({time.monotonic() - t0:.0f}s)", file=sys.stderr)
        models = {name: work / f"{name}.skops" for name in ("A", "B", "C")}
        common = ["--method", "ours", "--trees", str(args.trees)]
        assert cli(["train", "--data", base_path, *common, "-o", str(models["A"])]) == 0
        if args.band == "auto":
            from models.score import Scorer

            default = Scorer(models["A"])
            estimator = default.bundle.for_input("record")
            band = (default.threshold_for(estimator), Scorer(default.bundle, threshold="f1").threshold_for(estimator))
        fetches = {"B": _fetch(half1, models["A"], band, args.data, work, args),
                   "C": _fetch(half1, models["A"], band, args.data, work, args, fetch_all=True, name="all")}
        for name, (labels, summary, _requests) in fetches.items():
            print("\n".join(summary.lines()), file=sys.stderr)
            assert cli(["train", "--data", base_path, half1_path, "--labels", str(labels), *common,
                        "-o", str(models[name])]) == 0
        evaluation = {name: _eval(path, half2_path, work / f"{name}.json") for name, path in models.items()}
        from models.model_file import load

        result = {"settings": {k: str(v) for k, v in vars(args).items()},
                  "fetch": {name: {"requests": requests, "statuses": dict(summary.statuses)}
                            for name, (_labels, summary, requests) in fetches.items()},
                  "training": {name: load(path).metadata["training_data"] for name, path in models.items()},
                  "half2": {name: {k: m[k] for k in ("examples", "big", "small", "sites", "f1_small", "f1_big",
                                                     "f1_avg", "recall_big", "precision_big", "skipped")}
                            for name, m in evaluation.items()}}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print("| model | trained on (true / declared labels) | F1 BIG | recall BIG | precision BIG | F1avg | "
          "SMALL skipped at 90 / 95 / 99% recall |")
    print("|---|---|---|---|---|---|---|")
    for name in ("A", "B", "C"):
        t, m = result["training"][name], result["half2"][name]
        skipped = " / ".join(f"{s['small_skipped']:.0%}" for s in m["skipped"])
        print(f"| {name} | {t['examples']:,} ({t['label_sources'].get('true', 0):,} / "
              f"{t['label_sources'].get('declared', 0):,}) | {m['f1_big']:.3f} | {m['recall_big']:.3f} | "
              f"{m['precision_big']:.3f} | {m['f1_avg']:.3f} | {skipped} |")
    print(f"evaluated on half 2: {m['examples']:,} examples ({m['big']:,} BIG) from {m['sites']} sites; "
          f"{time.monotonic() - t0:.0f}s in all", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
