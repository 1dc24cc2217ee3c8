"""jobs/corpus_stats.py on real Common Crawl and web-archive WARCs: over records and over WARCs, engines agree,
byte splits that cut pages change nothing, and the numbers match a plain recount of the records."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from features.model_inputs.size_signals import declared_size, size_class
from features.providers import provider_of
from jobs.corpus_stats import CorpusStatsJob, file_type, license_key, page_domain
from jobs.extract_images import ExtractImagesJob
from models.score import Scorer
from tests.conftest import assert_lines_accounted, run_job, shared_path

WARCS = [("cc", "resiliparse__warcfile.warc.gz"), ("cc", "whirlwind__whirlwind.warc.gz"), ("cc", "jwarc__cc.warc.gz"),
         ("webarchive", "aut__example.warc.gz"), ("webarchive", "ukwa__sopa-wikipedia-homepage.warc.gz")]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stats")
    warcs = [str(shared_path(*w)) for w in WARCS]
    manifest = folder / "manifest.txt"
    manifest.write_text("\n".join(warcs) + "\n", encoding="utf-8")
    records, _ = run_job(ExtractImagesJob, ["-r", "inline", str(manifest)])
    path = folder / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return manifest, path, records


def stats_of(*args: str) -> tuple[dict, dict]:
    rows, counters = run_job(CorpusStatsJob, list(args))
    assert len(rows) == 1
    return rows[0], counters


@pytest.fixture(scope="module")
def inline_stats(data):
    return stats_of("-r", "inline", str(data[1]))


def recount(records: list[dict]) -> dict:
    """The statistics recomputed from the records with plain Python, for comparison."""
    pages = Counter((r["warc_filename"], r["warc_offset"], r["page_url"]) for r in records)
    declared = Counter()
    for r in records:
        size = declared_size(r)
        declared["both" if size else "other"] += 1
        if size:
            declared[size_class(size.width, size.height) or "between"] += 1
    per_page = Counter(pages.values())
    return {
        "images": len(records), "pages": len(pages), "image_urls": len({r["img_url"] for r in records}),
        "page_urls": len({r["page_url"] for r in records}), "image_hosts": len({r["img_host"] for r in records}),
        "page_domains": len({page_domain(r["page_host"]) for r in records}),
        "declared": declared, "elements": Counter(r["element"] for r in records),
        "file_types": Counter(file_type(r["img_url"]) for r in records),
        "licenses": Counter(license_key(r) for r in records),
        "providers": Counter(provider_of(r).provider or "none" for r in records),
        "same_site": sum(r["same_domain"] for r in records),
        "per_page": {str(k): v for k, v in sorted(per_page.items())},
        "top_hosts": Counter(r["img_host"] for r in records).most_common(3),
    }


def test_numbers_match_a_plain_recount(inline_stats, data):
    stats, counters = inline_stats
    expect = recount(data[2])
    assert_lines_accounted(counters)
    assert counters["input"]["records"] == expect["images"] > 1000
    assert stats["images"] == expect["images"] and stats["pages"]["with_images"] == expect["pages"]
    for name in ("image_urls", "page_urls", "image_hosts", "page_domains"):
        assert stats["unique"][name]["value"] == expect[name] and stats["unique"][name]["exact"], name
    assert stats["declared"]["both"] == expect["declared"]["both"]
    assert stats["declared"]["both"] + stats["declared"]["one"] + stats["declared"]["none"] == expect["images"]
    for k in ("BIG", "SMALL", "between"):
        assert stats["declared"][k] == expect["declared"][k]
    for name in ("elements", "file_types", "licenses", "providers"):
        table = stats["licenses"]["images"] if name == "licenses" else (
            stats["providers"]["images"] if name == "providers" else stats[name])
        assert table == dict(expect[name]), name
    assert stats["same_site"] == expect["same_site"]
    assert stats["images_per_page"]["histogram"] == expect["per_page"]
    assert [tuple(x) for x in stats["top_image_hosts"][:3]] == expect["top_hosts"]
    assert stats["licenses"]["pages"]["by-sa 3.0"] >= 2  # Wikipedia 2012, archive.org items


def around_the_largest_page(path, records: list[dict]):
    """The same records, the largest page in the middle of the file: a cut into two halves by bytes falls inside it."""
    pages: list[list[str]] = []
    key = None
    for r in records:
        k = (r["warc_filename"], r["warc_offset"], r["page_url"])
        if k != key:
            pages.append([])
            key = k
        pages[-1].append(json.dumps(r) + "\n")
    size = [sum(len(line.encode("utf-8")) for line in p) for p in pages]
    big = max(range(len(pages)), key=size.__getitem__)
    others = [i for i in range(len(pages)) if i != big]
    before, n = [], 0
    for i in others:
        if n >= (sum(size) - size[big]) / 2:
            break
        before.append(i)
        n += size[i]
    order = before + [big] + [i for i in others if i not in before]
    path.write_text("".join(line for i in order for line in pages[i]), encoding="utf-8")
    return path


def test_local_with_pages_cut_by_byte_splits_agrees_with_inline(inline_stats, data, tmp_path):
    """-r local cuts the records file by bytes into 2 x cores splits (2 here): a page is cut; its halves meet again."""
    path = around_the_largest_page(tmp_path / "records.jsonl", data[2])
    stats, counters = stats_of("-r", "local", "--num-cores", "1", str(path))
    assert counters["stats"]["pages joined across splits"] > 0  # the case this test is about did happen
    assert stats == inline_stats[0]
    assert counters["input"] == inline_stats[1]["input"]


def test_straight_over_warcs_gives_the_same_statistics(inline_stats, data):
    stats, counters = stats_of("-r", "inline", str(data[0]))
    assert_lines_accounted(counters)
    assert stats["pages"]["html"] == counters["pages"]["html"] > stats["pages"]["with_images"]
    assert stats["pages"]["html_bytes"] == counters["pages"]["html bytes"]
    same = {k: v for k, v in stats.items() if k != "pages"}
    assert same == {k: v for k, v in inline_stats[0].items() if k != "pages"}
    assert stats["pages"]["with_images"] == inline_stats[0]["pages"]["with_images"]


def test_model_share_and_fetches_saved(data):
    records = data[2]
    stats, _ = stats_of("-r", "inline", "--model", "default", str(data[1]))
    scores = Scorer().score(records)
    big = [r["img_url"] for r, label in zip(records, scores.label) if label == "BIG"]
    model = stats["model"]
    assert model["scored"] == len(records) and model["predicted_big"] == len(big) > 0
    assert model["reasons"] == dict(Counter(f"{r}:{lab}" for r, lab in zip(scores.reason, scores.label)))
    assert model["unique_big_urls"]["value"] == len(set(big))
    assert model["fetches_saved"] == {"occurrences": len(records) - len(big),
                                      "unique_urls": len({r["img_url"] for r in records}) - len(set(big))}


def test_bad_lines_are_counted(tmp_path, data):
    path = tmp_path / "mixed.jsonl"
    good = data[1].read_text(encoding="utf-8").splitlines()[:5]
    path.write_text("\n".join([*good, "{not json", '{"no": "img_url"}', "", "# comment"]) + "\n", encoding="utf-8")
    stats, counters = stats_of("-r", "inline", str(path))
    assert_lines_accounted(counters)
    assert counters["errors"] == {"bad_record_json": 1, "bad_record": 1}
    assert counters["input"]["lines ok"] == 5 and stats["images"] == 5
