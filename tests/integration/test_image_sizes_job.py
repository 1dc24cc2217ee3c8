"""jobs.image_sizes: true sizes of the image records in real web archives and in the sample."""
from __future__ import annotations

import csv

from ccimg.sample import write_sample
from jobs.image_sizes import ImageSizesJob
from models.labels import read_truth
from tests.conftest import assert_lines_accounted, run_job, shared_path


def test_sample_images_have_the_sizes_the_writer_gave_them(tmp_path):
    from tests.integration.test_demo import _expected_urls  # the writer's image records

    info = write_sample(tmp_path / "s.warc.gz", pages=6)
    rows, counters = run_job(ImageSizesJob, ["-r", "inline", info["path"]])
    assert_lines_accounted(counters)
    got = {r["img_url"]: (r["true_width"], r["true_height"]) for r in rows}
    stored = {u for u in _expected_urls(info["path"]) if "tracker" not in u and not u.endswith(".webp")}
    assert set(got) == stored
    assert got["https://news.example.com/static/logo.png"] == (120, 40)
    assert got["https://cdn.example.com/badges/badge-88x31.gif"] == (88, 31)
    assert counters["images"]["sized"] == len(rows)


def test_archive_org_images_match_the_truth_file(tmp_path):
    """The 2008 archive.org crawl holds 55 decodable images; truth/ lists their decoded sizes."""
    warc = shared_path("webarchive", "aut__example.warc.gz")
    truth_csv = shared_path("truth", "aut__example_img_truth.csv")
    rows, counters = run_job(ImageSizesJob, ["-r", "inline", str(warc)])
    assert_lines_accounted(counters)
    got = {r["img_url"]: (r["true_width"], r["true_height"]) for r in rows}
    with open(truth_csv, newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    want = {r["img_url_abs"]: (int(r["true_width"]), int(r["true_height"])) for r in table if r["true_width"]}
    checked = [u for u in want if u in got]
    assert len(checked) >= 40
    assert all(got[u] == want[u] for u in checked), [(u, got[u], want[u]) for u in checked if got[u] != want[u]][:5]
    # the output is a labels file for `ccimg train --labels`
    out = tmp_path / "sizes.jsonl"
    import json

    out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert read_truth(out) == got

