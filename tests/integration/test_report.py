"""`ccimg report`: valid PNG charts, and a page that opens in a real headless Chromium without errors.

The statistics come from jobs.corpus_stats over real WARCs (with the shipped model); the screenshot
of the page is saved in the test's tmp_path and its path printed (pytest -s shows it).
"""
from __future__ import annotations

import json
import shutil

import pytest
from PIL import Image

from ccimg.cli import main
from ccimg.report import CHARTS
from jobs.corpus_stats import CorpusStatsJob
from tests.conftest import run_job, shared_path
from tests.support import browser

SIZES = {"size_classes": (700, 400), "images_per_page": (700, 400), "top_hosts": (1200, 500),
         "licenses": (1200, 450), "providers": (1200, 450), "elements_types": (1200, 450)}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    warcs = [str(shared_path("cc", "whirlwind__whirlwind.warc.gz")),
             str(shared_path("cc", "resiliparse__warcfile.warc.gz")),
             str(shared_path("webarchive", "aut__example.warc.gz"))]
    rows, _ = run_job(CorpusStatsJob, ["-r", "inline", "--model", "default", *warcs])
    stats_path = folder / "stats.json"
    stats_path.write_text(json.dumps(rows[0]) + "\n", encoding="utf-8")
    out = folder / "report"
    assert main(["report", str(stats_path), "-o", str(out)]) == 0
    return rows[0], out


def test_charts_are_valid_pngs(report):
    stats, out = report
    for name in CHARTS:
        path = out / f"{name}.png"
        with Image.open(path) as img:
            img.verify()
        with Image.open(path) as img:
            assert img.format == "PNG" and img.size == SIZES[name], name
            lo, hi = img.convert("L").getextrema()
            assert hi - lo > 100, f"{name} looks blank"


def test_summary_has_the_numbers(report):
    stats, out = report
    text = (out / "summary.md").read_text(encoding="utf-8")
    assert f"| image occurrences | {stats['images']:,} |" in text
    licensed_pages = sum(v for k, v in stats["licenses"]["pages"].items() if k != "none")
    assert licensed_pages > 0 and f"| pages with a Creative Commons license | {licensed_pages:,} |" in text
    assert "predicted BIG by the model" in text


def test_page_opens_in_headless_chromium_without_errors(report, tmp_path):
    reason = browser.unavailable()
    if reason:
        pytest.skip(reason)
    _stats, out = report
    shot = tmp_path / "report.png"
    page = browser.open_page((out / "index.html").as_uri(), shot)
    print(f"\nscreenshot of the report page: {shot}")
    assert page.errors == []
    assert page.title == "ccimg corpus statistics"
    assert sorted(i["src"] for i in page.images) == sorted(f"{name}.png" for name in CHARTS)
    for img in page.images:
        assert img["complete"] and (img["width"], img["height"]) == SIZES[img["src"][:-4]], img
    with Image.open(shot) as img:
        assert img.format == "PNG" and img.size[0] >= 1000 and img.size[1] >= 2000


def test_a_broken_page_is_caught(report, tmp_path):
    """The check above can fail: the same page with one chart missing shows an error and an empty image."""
    reason = browser.unavailable()
    if reason:
        pytest.skip(reason)
    broken = tmp_path / "broken"
    shutil.copytree(report[1], broken)
    (broken / "licenses.png").unlink()
    page = browser.open_page((broken / "index.html").as_uri(), tmp_path / "broken.png")
    assert page.errors and any("licenses.png" in e or "ERR_FILE_NOT_FOUND" in e for e in page.errors), page.errors
    assert [i["src"] for i in page.images if i["width"] == 0] == ["licenses.png"]


def test_mistakes_exit_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing.json"), "-o", str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err.startswith("ccimg report: error: cannot read")
    (tmp_path / "other.json").write_text('{"img_url": "x"}\n')
    assert main(["report", str(tmp_path / "other.json"), "-o", str(tmp_path / "r")]) == 2
    assert "not the output of jobs.corpus_stats" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
