"""Scoring speed of the URL model, as a ratio against the plain path measured in the same run.

The plain path is what the issue calls the baseline: scikit-learn's CountVectorizer with the
paper's n-gram analyzer (Python, one URL at a time) and a random forest.  Our path is
`models.score.Scorer` with the shipped model (one scan of the batch for the URL sizes, which serve
both the exact decisions and the model's URL numbers; the batch n-gram transform; the linear
model), and separately two of its steps.  The machine is shared and noisy, so each figure is the
median of --repeat interleaved runs, in CPU seconds of one core (OMP/BLAS threads 1, forest
n_jobs 1), and the figure that matters is the ratio.

    python benchmarks/score_speed.py [--model models/default_model.skops] [--urls 100000]
    python benchmarks/score_speed.py --profile   # where one batch's time goes (cProfile)
    python benchmarks/score_speed.py --verify    # Scorer == a per-URL reference, on every URL

--verify scores every unique image URL of --records, plus variants of some of them (upper case,
%-encoded characters, an encoded newline, a non-ASCII letter, size parameters), and checks that
p_big (bit for bit), label, reason, width and height equal a reference computed one URL at a
time: `url_size` of each URL, the paper's n-gram
analyzer, the URL numbers from plain string operations, then the fitted linear model and its
calibrator.
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def cpu_seconds(fn) -> float:
    """CPU time (process time) of one call.

    CPU time, not wall time: on a shared machine a process waits for a core, and the wait is not
    its cost.  Everything here runs on one thread (BLAS/OpenMP threads 1, forests n_jobs 1), so CPU
    seconds are seconds of one core.
    """
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def set_single_thread(est) -> None:
    """n_jobs=1 on every forest inside an estimator (a per-core figure)."""
    from sklearn.base import BaseEstimator
    seen = set()

    def walk(o):
        if id(o) in seen:
            return
        seen.add(id(o))
        if hasattr(o, "n_jobs"):
            o.n_jobs = 1
        if isinstance(o, BaseEstimator):
            for v in vars(o).values():
                walk(v)
        elif isinstance(o, (list, tuple)):
            for v in o:
                walk(v)
        elif isinstance(o, dict):
            for v in o.values():
                walk(v)

    walk(est)


def url_steps(url_model):
    """(n-gram transformer, URL-numbers transformer, URL-hints transformer, linear model) of the shipped URL model."""
    pipe = url_model.estimator_
    parts = dict(pipe.named_steps["features"].transformer_list)
    return parts["ngrams"], parts["shape"], parts.get("hints"), pipe.named_steps["linear"]


# --------------------------------------------------------------------------- --verify

def variants(urls: list[str]) -> list[str]:
    """Odd but possible versions of real URLs, for the corners of the batch code."""
    out = []
    for i, u in enumerate(urls[::50]):
        kind = i % 8
        if kind == 0:
            out.append(u.upper())
        elif kind == 1:
            out.append(u.replace("x", "%78").replace("=", "%3D").replace("-", "%2D"))
        elif kind == 2:
            out.append(u.replace("/", "%0A", 1) + "%0a")
        elif kind == 3:
            out.append(u.replace("a", "\u0130", 1) + "?f\u0131t=300")
        elif kind == 4:
            out.append(u + "?height=144&dpr=2")
        elif kind == 5:
            out.append(u + "&w=300?v=1")
        elif kind == 6:
            out.append(u.replace("/", "\r", 1))
        else:
            out.append(u + "\n" + u[::-1])
    return out + ["", "?", "%", "%E2%82", "http://x.org/a-300x200.JPG?W=800&H=600"]


def reference_scores(scorer, urls: list[str]):
    """What Scorer.score should return for a URL list, computed one URL at a time."""
    import numpy as np
    import scipy.sparse as sp

    from features.model_inputs.size_signals import url_size
    from features.model_inputs.url_grams import url_ngrams, url_path
    from features.model_inputs.url_hints import url_hints
    from features.model_inputs.url_shape import _SUFFIX_CODE, _SUFFIXES
    from features.urls import url_extension
    from models.decision import decide_from_size, rule_labels
    from models.score import Scores

    est = scorer.bundle.for_input("url")
    grams, shape, hints, linear = url_steps(est)
    allowed = rule_labels(scorer.rules, "url-pattern")
    vocab = grams.vocabulary_
    offsets = np.cumsum([0] + [len(e) + 1 for e in shape.edges_])
    shape_width = offsets[-1] + len(_SUFFIXES)
    hint_names = [n for n in hints.names_ if n != "num_max"] if hints is not None else []
    exact_p = scorer.bundle.metadata.get("exact_p", {})
    n = len(urls)
    p, label, reason = np.zeros(n), [None] * n, [None] * n
    width, height = [None] * n, [None] * n
    rest, rows = [], []
    for i, url in enumerate(urls):
        sig = url_size(url)
        d = decide_from_size(sig) if sig is not None else None
        if d is not None and (allowed is None or d.label in allowed):
            p[i] = exact_p.get(f"{d.reason}:{d.label}", d.p_big)
            label[i], reason[i], width[i], height[i] = d.label, d.reason, d.width, d.height
            continue
        path, _, query = url.partition("?")
        numbers = [len(url), path.count("/"), len(query), -1, -1, -1, -1]
        if sig is not None:
            known = [v for v in (sig.width, sig.height) if v is not None]
            numbers[3:] = [-1 if sig.width is None else sig.width, -1 if sig.height is None else sig.height,
                           min(known), max(known)]
        gram_url = url_path(url) if getattr(grams, "url_part", "all") == "path" else url
        cols = sorted(vocab[g] for g in url_ngrams(gram_url, tuple(grams.ngram_range)) if g in vocab)
        cols += [len(vocab) + offsets[j] + int(np.searchsorted(edges, np.float32(numbers[j]), side="right"))
                 for j, edges in enumerate(shape.edges_)]
        code = _SUFFIX_CODE.get(url_extension(path), -1)
        if code >= 0:
            cols.append(len(vocab) + offsets[-1] + code)
        if hints is not None:
            h = url_hints(url)
            base = len(vocab) + shape_width
            cols += [base + j for j, name in enumerate(hint_names) if h[name]]
            if h["num_max"] > 0:
                cols.append(base + len(hint_names) + int(np.searchsorted(hints.edges_, np.float32(h["num_max"]),
                                                                         side="right")))
        rest.append(i)
        rows.append(cols)
    if rest:
        n_cols = len(vocab) + shape_width + (len(hint_names) + len(hints.edges_) + 1 if hints is not None else 0)
        indptr = np.cumsum([0] + [len(r) for r in rows])
        indices = np.array([c for r in rows for c in r], dtype=np.int32)
        X = sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(len(rows), n_cols))
        pm = est.calibrator_.predict(linear.predict_proba(X)[:, 1])
        t = scorer.threshold_for(est, "url")
        for i, v in zip(rest, pm):
            p[i] = v
            label[i], reason[i] = ("BIG" if v >= t else "SMALL"), "model"
    return Scores(p, label, reason, width, height)


def verify(scorer, urls: list[str]) -> bool:
    from collections import Counter

    import numpy as np

    urls = urls + variants(urls)
    t0 = time.process_time()
    got = scorer.score(urls)
    batches = [scorer.score(urls[i:i + 1000]) for i in range(0, 20_000, 1000)]  # batching changes nothing
    want = reference_scores(scorer, urls)
    ok = True
    checks = [("p_big (bit for bit)", got.p_big.tobytes() == want.p_big.tobytes()),
              ("label", got.label == want.label), ("reason", got.reason == want.reason),
              ("width", got.width == want.width), ("height", got.height == want.height),
              ("batches of 1000", np.concatenate([b.p_big for b in batches]).tobytes()
               == got.p_big[:20_000].tobytes() and sum((b.label for b in batches), []) == got.label[:20_000])]
    for name, same in checks:
        print(f"  {name}: {'identical' if same else 'DIFFERENT'}")
        ok &= same
    if not ok:
        bad = [i for i in range(len(urls)) if (got.p_big[i], got.label[i], got.reason[i], got.width[i], got.height[i])
               != (want.p_big[i], want.label[i], want.reason[i], want.width[i], want.height[i])]
        for i in bad[:10]:
            print(f"    {urls[i]!r}: got {got.p_big[i]!r} {got.label[i]} {got.reason[i]}, "
                  f"want {want.p_big[i]!r} {want.label[i]} {want.reason[i]}")
    print(f"verify: {len(urls):,} URLs ({dict(Counter(got.reason))}) in {time.process_time() - t0:.0f}s CPU: "
          f"{'IDENTICAL' if ok else 'DIFFERENT'}")
    return ok


# --------------------------------------------------------------------------- main

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--records", default="out/shared_records.jsonl.gz",
                    help="records whose image URLs are scored (see ccimg build-default-model)")
    ap.add_argument("--urls", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--plain-urls", type=int, default=20_000)
    ap.add_argument("--baseline-trees", type=int, default=30)
    ap.add_argument("--profile", action="store_true", help="cProfile one Scorer batch of --urls URLs and stop")
    ap.add_argument("--verify", action="store_true", help="check the Scorer against a per-URL reference and stop")
    args = ap.parse_args(argv)

    import numpy as np
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.feature_extraction.text import CountVectorizer

    from features.model_inputs.size_signals import url_sizes
    from features.model_inputs.url_grams import url_ngrams
    from dataio.tables import read_jsonl as read_records
    from models.labels import labelled
    from models.model_file import load
    from models.score import DEFAULT_MODEL, Scorer

    t0 = time.process_time()
    bundle = load(args.model or DEFAULT_MODEL)
    load_s = time.process_time() - t0
    for est in bundle.estimators.values():
        set_single_thread(est)
    scorer = Scorer(bundle)

    records = read_records(args.records)
    unique = list(dict.fromkeys(r["img_url"] for r in records))  # unique URLs: no help from repeats
    if args.verify:
        return 0 if verify(scorer, unique) else 1
    urls = (unique * (args.urls // len(unique) + 1))[:args.urls]
    if args.profile:
        import cProfile
        import pstats
        scorer.score(urls[:1000])
        prof = cProfile.Profile()
        prof.runcall(scorer.score, urls)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
        return 0

    train = labelled(records[:60000])
    train_urls = [r["img_url"] for r in train.records]
    # the plain path: CountVectorizer (Python analyzer) + RandomForest, trained on the same kind of data
    vec = CountVectorizer(analyzer=url_ngrams, binary=True, min_df=2, dtype=np.float32)
    forest = RandomForestClassifier(n_estimators=args.baseline_trees, n_jobs=1, random_state=0)
    forest.fit(vec.fit_transform(train_urls), train.y)
    grams, _shape, hints, _linear = url_steps(bundle.for_input("url"))
    plain_urls = urls[:args.plain_urls]  # the plain path is slow: fewer URLs, same per-URL rate

    # Drop the corpus before timing: a scoring process does not hold 185k dicts for the garbage
    # collector to walk on every collection (that would slow both paths alike, and noisily).
    del records, train, train_urls
    gc.collect()
    gc.freeze()

    paths = {
        "plain": (lambda: forest.predict_proba(vec.transform(plain_urls)), len(plain_urls)),
        "ours": (lambda: scorer.score(urls), len(urls)),
        "ours_sizes": (lambda: url_sizes(urls), len(urls)),
        "plain_ngram": (lambda: vec.transform(plain_urls), len(plain_urls)),
        "ours_ngram": (lambda: grams.transform(urls), len(urls)),
    }
    if hints is not None:
        paths["ours_hints"] = (lambda: hints.transform(urls), len(urls))
    times = {k: [] for k in paths}
    for _ in range(args.repeat):  # interleaved: on a shared machine the load changes from second to second
        for k, (fn, _n) in paths.items():
            times[k].append(cpu_seconds(fn))
    rate = {k: n / statistics.median(times[k]) for k, (_fn, n) in paths.items()}

    print(f"{len(urls):,} unique real image URLs (plain path: {len(plain_urls):,}), one core, median of "
          f"{args.repeat} interleaved runs (CPU time); model file load {load_s:.2f}s CPU; "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| path | URLs/s | vs plain |\n|---|---|---|")
    print(f"| plain: CountVectorizer + RF({args.baseline_trees}) | {rate['plain']:,.0f} | 1.0x |")
    print(f"| ours: ccimg score URL path (exact patterns + grams + linear model) | {rate['ours']:,.0f} | "
          f"{rate['ours'] / rate['plain']:.1f}x |")
    print(f"| step: URL sizes, one scan of the batch (decisions and model features) | {rate['ours_sizes']:,.0f} | |")
    print(f"| n-gram step: CountVectorizer | {rate['plain_ngram']:,.0f} | 1.0x |")
    print(f"| n-gram step: ours (batch hashing) | {rate['ours_ngram']:,.0f} | "
          f"{rate['ours_ngram'] / rate['plain_ngram']:.1f}x |")
    if "ours_hints" in rate:
        print(f"| step: URL hints (url_hints.py, the batch's names, words and numbers) | {rate['ours_hints']:,.0f} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
