"""`ccimg score --provider/--license` on real extraction records and URLs, and its mistakes (exit 2)."""
from __future__ import annotations

import json

import pytest

from ccimg.cli import main
from features.providers import provider_of
from models.corpus import CorpusReader
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """Image records of real WARCs: Wikipedia pages (by-sa, wikimedia images) and archive.org pages."""
    reader = CorpusReader(shared_path(""), stated=False)  # the extraction job's own records
    recs = reader.warc(shared_path("cc", "whirlwind__whirlwind.warc.gz"))
    recs += reader.warc(shared_path("webarchive", "aut__example.warc.gz"))
    path = tmp_path_factory.mktemp("score") / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    return path, recs


def _out(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_license_and_provider_filters_on_records(records, tmp_path):
    path, recs = records
    out = tmp_path / "by-sa.jsonl"
    assert main(["score", str(path), "--license", "by-sa", "-o", str(out)]) == 0
    expected = [(r["img_url"], r["page_url"]) for r in recs if r["license"] == "by-sa"]
    assert 0 < len(expected) < len(recs)
    assert [(o["img_url"], o["page_url"]) for o in _out(out)] == expected
    out = tmp_path / "wm.jsonl"
    assert main(["score", str(path), "--provider", "wikimedia", "--license", "by-sa/4.0,cc0", "-o", str(out)]) == 0
    expected = [r["img_url"] for r in recs if r["license"] == "by-sa" and r["license_version"] == "4.0"
                and provider_of(r).provider == "wikimedia"]
    assert expected and [o["img_url"] for o in _out(out)] == expected


def test_provider_filter_on_a_url_list(records, tmp_path):
    _path, recs = records
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(r["img_url"] + "\n" for r in recs), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["score", str(urls), "--provider", "none", "-o", str(out)]) == 0
    expected = [r["img_url"] for r in recs if provider_of(r["img_url"]).provider is None]
    assert 0 < len(expected) < len(recs) and [o["img_url"] for o in _out(out)] == expected


@pytest.mark.parametrize("args, message", [
    (["--license", "cc-by"], "unknown license 'cc-by'"),
    (["--provider", "flikr"], "unknown provider 'flikr'"),
    (["--providers", "/nonexistent/map.json"], "cannot read the provider mapping"),
])
def test_mistakes_exit_2_with_one_line(records, tmp_path, capsys, args, message):
    assert main(["score", str(records[0]), *args, "-o", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ccimg score: error: ") and message in err and "\n" not in err


def test_license_filter_needs_records(records, tmp_path, capsys):
    urls = tmp_path / "urls.txt"
    urls.write_text(records[1][0]["img_url"] + "\n", encoding="utf-8")
    assert main(["score", str(urls), "--license", "any", "-o", str(tmp_path / "o.jsonl")]) == 2
    assert "need extraction records" in capsys.readouterr().err
