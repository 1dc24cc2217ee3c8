"""`ccimg probe` against real servers on 127.0.0.1 serving the real images of ../shared/data/images.

What is checked: sizes from the first bytes agree with fastimage's expected sizes (where the
format is readable from a header; the rest get a clear status), robots.txt is honoured with no
request reaching a disallowed path, a 503 is retried, a server that ignores Range is read only
up to the limit, loopback is refused without --allow-private-addresses, extraction JSONL works
as input, and `models.labels.read_truth` reads the output.
"""
from __future__ import annotations

import json
from pathlib import Path

from ccimg.cli import main as cli_main
from models.labels import read_truth
from tests.conftest import shared_path
from tests.support.servers import (  # noqa: F401 - fixtures
    Fail, FlakyHTTPServer, link_tree, no_proxy, range_http_factory, start_static_http_server)

# Formats whose size a header-only probe cannot give: SVGs sized only by a viewBox or percentages
# (fastimage derives a size from the viewBox; we report svg_no_size rather than guess).
SVG_WITHOUT_SIZE = {"test_partial_viewport.svg", "test3.svg", "test4.svg", "test5.svg", "test7.svg", "test6.svg"}
# Stored rotated (EXIF orientation 6) where imagesize does not find the orientation tag: width and
# height come back as stored, i.e. swapped against fastimage's display size.
ROTATED_AS_STORED = {"orient_6.jpg"}


def _probe(tmp_path: Path, lines: list[str], *extra: str, name: str = "in.txt") -> dict[str, dict]:
    src = tmp_path / name
    src.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert cli_main(["probe", str(src), "-o", str(out), "--rate", "200", *extra]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    by_url = {r["img_url"]: r for r in rows}
    assert len(by_url) == len(rows)
    return by_url


def test_real_images_sizes_match_fastimage(tmp_path, range_http_factory, no_proxy, capsys):  # noqa: F811
    images = shared_path("images")
    expected = json.loads((images / "expected_from_fastimage_test_rb.json").read_text())
    server = range_http_factory(images)
    urls = {server.url + name: name for name in expected["good"]}
    bad = {server.url + name: name for name in expected["bad"]}
    rows = _probe(tmp_path, [*urls, *bad, *urls], "--allow-private-addresses")  # duplicates are deduped
    assert set(rows) == set(urls) | set(bad)
    for url, name in urls.items():
        row, want = rows[url], expected["good"][name]
        if name in SVG_WITHOUT_SIZE:
            assert (row["status"], row["format"]) == ("svg_no_size", "svg"), row
            continue
        assert row["status"] == "ok", row
        assert row["format"] == want["type"], row
        got = (row["true_width"], row["true_height"])
        if name in ROTATED_AS_STORED:
            got = got[::-1]
        assert got == (want["width"], want["height"]), (name, row)
        assert 0 < row["bytes_read"] <= 64 * 1024 + 512 * 1024
    # fastimage's "bad" fixtures: a clear status each (a.CR2 is a TIFF container whose header does give a size,
    # star.avifs an AVIF sequence whose header does too)
    bad_status = {name: rows[url]["status"] for url, name in bad.items()}
    assert bad_status == {"faulty.jpg": "bad_header", "test_rgb.ct": "not_an_image", "test.xml": "not_an_image",
                          "test2.xml": "not_an_image", "a.CR2": "ok", "a.CRW": "not_an_image",
                          "avif/star.avifs": "ok"}, bad_status
    # the big JPEG (2 MB) was read only in its first bytes
    assert rows[server.url + "test4.jpg"]["bytes_read"] <= 64 * 1024
    err = capsys.readouterr().err
    assert f"{2 * len(urls) + len(bad)} rows" in err and "'duplicate': " + str(len(urls)) in err


def test_robots_disallow_and_retry_on_503(tmp_path, no_proxy):  # noqa: F811
    images = shared_path("images")
    root = link_tree(tmp_path / "site", {"ok/test.png": images / "test.png",
                                         "private/test.gif": images / "test.gif",
                                         "flaky/test.jpg": images / "test.jpg"})
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    with FlakyHTTPServer(root) as server:
        server.script("/flaky/test.jpg", [Fail(503, (("Retry-After", "0"),))])
        rows = _probe(tmp_path, [server.url + "ok/test.png", server.url + "private/test.gif",
                                 server.url + "flaky/test.jpg"], "--allow-private-addresses")
        assert rows[server.url + "private/test.gif"]["status"] == "robots_disallowed"
        assert server.hits_for("/private/test.gif") == []
        assert len(server.hits_for("/robots.txt")) == 1  # fetched once per host
        assert (rows[server.url + "ok/test.png"]["true_width"], rows[server.url + "ok/test.png"]["true_height"]) \
            == (30, 20)
        flaky = rows[server.url + "flaky/test.jpg"]
        assert (flaky["status"], flaky["true_width"], flaky["true_height"]) == ("ok", 882, 470)
        hits = server.hits_for("/flaky/test.jpg")
        assert len(hits) == 2 and all(h.range == "bytes=0-65535" for h in hits)


def test_server_ignoring_range_is_cut_off(tmp_path, no_proxy):  # noqa: F811
    images = shared_path("images")
    root = link_tree(tmp_path / "site", {"animated.gif": images / "animated.gif", "test.jpg": images / "test.jpg"})
    server = start_static_http_server(root, "http.server")  # answers 200 with the whole file
    try:
        rows = _probe(tmp_path, [server.url + "animated.gif", server.url + "test.jpg"],
                      "--allow-private-addresses", "--range-bytes", "4096", "--retry-range-bytes", "8192")
    finally:
        server.stop()
    gif = rows[server.url + "animated.gif"]  # 1 MB file
    assert (gif["status"], gif["true_width"], gif["true_height"], gif["format"]) == ("ok", 400, 400, "gif")
    assert gif["bytes_read"] <= 4096
    jpg = rows[server.url + "test.jpg"]
    assert jpg["bytes_read"] <= 4096 + 8192
    assert jpg["status"] in ("ok", "size_not_in_range")


def test_private_address_refused_without_flag(tmp_path, no_proxy):  # noqa: F811
    with FlakyHTTPServer(shared_path("images")) as server:
        rows = _probe(tmp_path, [server.url + "test.png", "ftp://example.org/a.png"])
        assert rows[server.url + "test.png"]["status"] == "private_address"
        assert rows["ftp://example.org/a.png"]["status"] == "unsupported_scheme"
        assert server.hits == []


def test_jsonl_input_and_read_truth(tmp_path, no_proxy):  # noqa: F811
    images = shared_path("images")
    with FlakyHTTPServer(images) as server:
        records = [{"img_url": server.url + "test.png", "page_url": "http://a/"},
                   {"img_url": server.url + "test.png", "page_url": "http://b/"},
                   {"img_url": server.url + "missing.png"},
                   {"img_url": server.url + "test.svg"},
                   {"img_url": server.url + "MIT-LICENSE"},
                   {"no": "url"}]
        rows = _probe(tmp_path, [json.dumps(r) for r in records], "--allow-private-addresses", name="x.jsonl")
    assert rows[server.url + "missing.png"]["status"] == "http_404"
    assert rows[server.url + "MIT-LICENSE"]["status"] == "not_an_image"
    assert len(rows) == 4
    truth = read_truth(tmp_path / "out.jsonl")
    assert truth == {server.url + "test.png": (30, 20), server.url + "test.svg": (200, 300)}


def test_redirect_hops_are_checked_against_robots_and_the_guard(tmp_path, no_proxy):  # noqa: F811
    """The probe goes through the one network layer: every redirect hop is checked against the robots.txt of
    its host before it is requested (a redirect into a disallowed path is never fetched), every request carries
    the project's one User-Agent, and robots.txt is fetched once per host."""
    from network.identity import USER_AGENT

    images = shared_path("images")
    root = link_tree(tmp_path / "site", {"ok/test.png": images / "test.png",
                                         "private/test.gif": images / "test.gif"})
    (root / "robots.txt").write_text("User-agent: ccimg\nDisallow: /private/\n")
    with FlakyHTTPServer(root) as server:
        server.script("/go/private.gif", [], then=Fail(302, (("Location", server.url + "private/test.gif"),)))
        server.script("/go/ok.png", [], then=Fail(302, (("Location", "/ok/test.png"),)))
        rows = _probe(tmp_path, [server.url + "go/private.gif", server.url + "go/ok.png"], "--allow-private-addresses")
        assert rows[server.url + "go/private.gif"]["status"] == "robots_disallowed"
        assert (rows[server.url + "go/ok.png"]["status"], rows[server.url + "go/ok.png"]["true_width"]) == ("ok", 30)
        assert server.hits_for("/private/test.gif") == []
        assert len(server.hits_for("/robots.txt")) == 1
        assert {h.user_agent for h in server.hits} == {USER_AGENT}


def test_probe_streams_its_input_in_bounded_rounds(tmp_path, monkeypatch, capsys):
    """A long list is read and probed in rounds of --chunk distinct URLs (never held whole), duplicates are
    dropped across rounds, and every row is accounted for.  ftp:// URLs are refused without any request."""
    import itertools

    import ccimg.commands.probe as probe_command
    from ccimg.commands.probe import _chunks, _distinct_urls
    from collections import Counter
    from dataio.tables import Row, Skips

    rounds = []
    real = probe_command.probe_urls

    def counting(urls, options, log=None, prober=None):
        rounds.append(len(urls))
        assert prober is not None  # one prober for all rounds: one rate limit and robots.txt cache per host
        return real(urls, options, log=log, prober=prober)

    monkeypatch.setattr(probe_command, "probe_urls", counting)
    urls = [f"ftp://h{i % 7}.example/{i}.png" for i in range(2500)]
    src = tmp_path / "urls.txt"
    src.write_text("\n".join(urls + urls[:700]) + "\n{\"img_url\": 3}\n")
    out = tmp_path / "out.jsonl"
    assert cli_main(["probe", str(src), "-o", str(out), "--chunk", "1000", "-q"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["img_url"] for r in rows) == sorted(urls) and {r["status"] for r in rows} == {"unsupported_scheme"}
    assert rounds == [1000, 1000, 500]
    err = capsys.readouterr().err
    assert "3,201 rows, 2,500 URLs probed" in err and "'duplicate': 700" in err and "'img_url_not_text': 1" in err
    # the first round starts before the input ends: an endless input still gives its first round
    endless = (Row(f"https://h.example/{i}.jpg", "-", i) for i in itertools.count())
    first = next(_chunks(_distinct_urls(endless, Skips(), Counter(), 8192), 10))
    assert first == [f"https://h.example/{i}.jpg" for i in range(10)]
