"""`ccimg fetch` against a real HTTP server on 127.0.0.1 serving real images, and moto's S3 server.

The server (benchmarks.image_site.ImageSite) answers for every host name: the images of
../shared/data/webarchive at their archived URLs (www.archive.org, upload.wikimedia.org, ...), the
files of ../shared/data/images, and routes that misbehave (robots.txt, slow, failing, redirecting,
endless, lying Content-Length, huge pixel counts, HTML instead of an image).  The client reaches the
names through an injected Resolver that maps them to 127.0.0.1 and treats that address as public,
so the address guard itself still runs: names mapped to 169.254.169.254 or 10.x are refused.
Sizes are checked against answer keys computed elsewhere (the truth CSVs of ../shared/data/truth,
fastimage's expected sizes), never against our own decoder.
"""
from __future__ import annotations

import csv
import hashlib
import json
import mimetypes
import os
import signal
import struct
import subprocess
import sys
import tarfile
import time
import zlib
from pathlib import Path

import pytest

from benchmarks.image_site import ImageSite, host_map_resolver, warc_images
from ccimg.cli import main as cli_main
from ccimg.fetch.run import Fetcher, FetchOptions
from models.labels import read_truth
from tests.conftest import REPO, shared_path
from tests.support.signals import default_sigint

WEBARCHIVE = ("aut__example.warc.gz", "ukwa__sopa-wikipedia-homepage.warc.gz")
RESOLVE = {"metadata.test": "169.254.169.254", "intranet.test": "10.1.2.3"}


def _bomb_png(width: int = 40_000, height: int = 40_000) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 2_000_000, 9))
            + chunk(b"IEND", b""))


def _truth() -> dict[str, tuple[int, int]]:
    """True sizes of the archived images, from the answer key in ../shared/data/truth."""
    out = {}
    for name in ("aut__example_img_truth.csv", "ukwa__sopa_img_truth.csv"):
        with open(shared_path("truth", name), newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row["in_warc"] == "1":
                    out[row["img_url_abs"]] = (int(row["true_width"]), int(row["true_height"]))
    return out


def _rows(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def _metadata(dest: Path) -> list[dict]:
    return [json.loads(line) for line in (dest / "metadata.jsonl").read_text().splitlines()]


def _options(inputs, dest, **kw) -> FetchOptions:
    base = dict(delay=0.0, timeout=3.0, retries=1, max_time=20.0, workers=8)
    base.update(kw)
    return FetchOptions(inputs=[str(i) for i in inputs], dest=str(dest), **base)


@pytest.fixture(scope="module")
def archived():
    """{archived URL: (body, content type)} of the image records of the webarchive WARCs."""
    out = {}
    for name in WEBARCHIVE:
        out.update(warc_images(shared_path("webarchive", name)))
    return out


def _serve_archive(site: ImageSite, archived: dict) -> list[str]:
    for url, (body, ctype) in archived.items():
        site.add(url, body, ctype)
    return [site.with_port(url) for url in archived]


def _serve_images(site: ImageSite) -> dict[str, str]:
    """../shared/data/images at http://img.test/images/NAME; {served URL: file name}."""
    images = shared_path("images")
    out = {}
    for path in sorted(images.rglob("*")):
        if path.is_file() and path.suffix != ".json" and path.name != "MIT-LICENSE":
            name = path.relative_to(images).as_posix()
            url = f"http://img.test/images/{name}"
            site.add(url, path.read_bytes(), mimetypes.guess_type(name)[0] or "application/octet-stream")
            out[site.with_port(url)] = name
    return out


def _serve_bad_routes(site: ImageSite) -> dict[str, str]:
    """Misbehaving routes on bad.test; {served URL: the status it must end with}."""
    photo = shared_path("images", "test.jpg").read_bytes()  # 882 x 470, BIG
    p = site.port
    site.robots("bad.test", "User-agent: *\nDisallow: /private/\n")
    site.add("http://bad.test/private/photo.jpg", photo, "image/jpeg")
    site.drip("http://bad.test/slow.jpg", photo[:5000], rate=20.0)
    site.fail("http://bad.test/flaky.jpg", [(503, [("Retry-After", "1")])], photo)
    site.fail("http://bad.test/down.jpg", [(500, [])])
    site.add("http://bad.test/forbidden.jpg", b"", "text/plain")
    site.fail("http://bad.test/forbidden.jpg", [(403, [])])
    site.redirect("http://bad.test/moved.jpg", "/moved-again.jpg", 301)
    site.redirect("http://bad.test/moved-again.jpg", f"http://img.test:{p}/images/test4.jpg")
    site.redirect("http://bad.test/loop1.jpg", "/loop2.jpg")
    site.redirect("http://bad.test/loop2.jpg", "/loop1.jpg")
    site.redirect("http://bad.test/to-metadata.jpg", f"http://metadata.test:{p}/latest/meta-data/")
    site.redirect("http://bad.test/to-private-literal.jpg", f"http://10.0.0.1:{p}/x.jpg")
    site.redirect("http://bad.test/to-disallowed.jpg", "/private/photo.jpg")
    site.endless("http://bad.test/endless.jpg")
    site.lie("http://bad.test/short.jpg", photo[:3000], announced=len(photo))
    site.lie("http://bad.test/announced-huge.jpg", photo[:3000], announced=10**12)
    site.add("http://bad.test/bomb.png", _bomb_png(), "image/png")
    site.add("http://bad.test/soft404.jpg", b"<!doctype html><title>Not found</title>" * 50, "text/html")
    site.add("http://bad.test/noai.jpg", photo, "image/jpeg", headers=[("X-Robots-Tag", "noai, noimageai")])
    site.add("http://bad.test/ok.jpg", photo, "image/jpeg")
    expected = {
        "/private/photo.jpg": "robots", "/slow.jpg": "timeout", "/flaky.jpg": "ok", "/down.jpg": "http-500",
        "/forbidden.jpg": "http-403", "/moved.jpg": "ok", "/loop1.jpg": "too-many-redirects",
        "/to-metadata.jpg": "private-address", "/to-private-literal.jpg": "private-address",
        "/to-disallowed.jpg": "robots", "/endless.jpg": "too-large", "/short.jpg": "incomplete-body",
        "/announced-huge.jpg": "too-large", "/bomb.png": "decompression-bomb", "/soft404.jpg": "not-an-image",
        "/noai.jpg": "x-robots-tag", "/ok.jpg": "ok", "/missing.jpg": "http-404",
    }
    out = {site.with_port(f"http://bad.test{path}"): status for path, status in expected.items()}
    site.robots("robots-down.test", "")
    site.fail("http://robots-down.test/robots.txt", [(503, [])])
    site.add("http://robots-down.test/a.jpg", photo, "image/jpeg")
    out[site.with_port("http://robots-down.test/a.jpg")] = "robots-unavailable"
    out[site.with_port("http://metadata.test/direct.jpg")] = "private-address"
    out["ftp://bad.test/file.jpg"] = "bad-url"
    return out


def test_real_images_and_every_bad_route_end_with_their_status(tmp_path, archived):
    expected_images = json.loads(shared_path("images", "expected_from_fastimage_test_rb.json").read_text())
    truth = _truth()
    with ImageSite() as site:
        archive_urls = _serve_archive(site, archived)
        image_urls = _serve_images(site)
        bad = _serve_bad_routes(site)
        urls = archive_urls + list(image_urls) + list(bad)
        rows = [{"img_url": u, "p_big": 0.5, "label": "BIG", "reason": "model", "alt": "an alt"} for u in urls]
        src = _rows(tmp_path / "in.jsonl", rows + rows[:5])  # repeated rows: fetched once, reported twice
        dest = tmp_path / "out"
        started = time.monotonic()
        summary = Fetcher(_options([src], dest, fetch_all=True, keep_small=True, thumbnails=(64,),
                                   max_bytes=4 << 20), resolver=host_map_resolver(RESOLVE)).run()
        elapsed = time.monotonic() - started
        hits = list(site.hits)
    assert elapsed < 90  # nothing hangs: slow, endless and lying routes all end within their caps
    meta = _metadata(dest)
    assert len(meta) == len(rows) + 5
    assert summary.rows == len(rows) + 5 and summary.urls == len(urls)
    by_url = {m["img_url"]: m for m in meta}
    # the archived images: status ok and the true size of the answer key
    for url, served in zip(archived, archive_urls):
        m = by_url[served]
        assert m["status"] == "ok", m
        if url in truth:
            assert (m["true_width"], m["true_height"]) == truth[url], url
    assert sum(u in truth for u in archived) >= 60
    # ../shared/data/images: fastimage's sizes (display orientation), or a clear status
    for url, name in image_urls.items():
        m = by_url[url]
        want = expected_images["good"].get(name)
        if name == "test2.bmp":
            assert m["status"] == "broken-image"  # 1 KiB of a 1920 x 1080 bitmap
        elif want is not None and m["format"] != "svg":
            assert m["status"] == "ok", m
            assert (m["true_width"], m["true_height"]) == (want["width"], want["height"]), name
        elif want is None:
            assert m["status"] in ("not-an-image", "broken-image") or name == "avif/star.avifs", (name, m)
    # the bad routes
    got = {url: by_url[url]["status"] for url in bad}
    assert got == bad
    # politeness: robots.txt once per host, the disallowed path never requested, retries bounded
    robots = [h for h in hits if h.path == "/robots.txt"]
    assert len(robots) == len({h.host for h in robots}) == len({h.host for h in hits})
    assert not [h for h in hits if h.path.startswith("/private/")]
    assert [h.path for h in hits].count("/flaky.jpg") == 2
    assert [h.path for h in hits].count("/down.jpg") == 2  # one retry, then given up
    assert not [h for h in hits if h.host in ("metadata.test", "intranet.test")]
    endless = by_url[site.with_port("http://bad.test/endless.jpg")]
    assert 4 << 20 < endless["bytes"] <= (4 << 20) + (64 << 10)  # read up to the cap, then the connection dropped
    # each distinct URL requested once (not counting retries, redirect loops, a redirect's target that is an input
    # URL too, and the robots.txt fetches)
    again = ("/robots.txt", "/flaky.jpg", "/down.jpg", "/slow.jpg", "/short.jpg", "/loop1.jpg", "/loop2.jpg",
             "/images/test4.jpg")
    image_hits = [h for h in hits if h.path not in again]
    assert len(image_hits) == len({(h.host, h.path) for h in image_hits}) > 150
    assert [h.path for h in hits].count("/loop1.jpg") + [h.path for h in hits].count("/loop2.jpg") == 6
    # what was stored: originals byte for byte, one JSON per image, thumbnails, captions
    stored = {m["key"]: m for m in meta if m["status"] == "ok"}
    for key, m in list(stored.items())[:20]:
        folder = dest / key[:5]
        record = json.loads((folder / f"{key}.json").read_text())
        assert record["url"] == m["img_url"] and record["sha256"] == m["sha256"]
        original, = (f for f in folder.glob(f"{key}.*") if f.name.count(".") == 1 and f.suffix not in (".json", ".txt"))
        assert hashlib.sha256(original.read_bytes()).hexdigest() == m["sha256"]
        assert (folder / f"{key}.txt").read_text() == "an alt"
        if m["format"] != "svg":
            assert (folder / f"{key}.thumb64.webp").exists()
    # the loop back: the metadata table is a labels file
    labels = read_truth(dest / "metadata.jsonl")
    assert labels[by_url[archive_urls[0]]["img_url"]] == (by_url[archive_urls[0]]["true_width"],
                                                          by_url[archive_urls[0]]["true_height"])
    assert all(by_url[u]["status"] not in ("robots", "timeout") for u in labels)


def test_only_what_the_decision_keeps_is_requested(tmp_path, archived):
    truth = _truth()
    with ImageSite() as site:
        served = dict(zip(_serve_archive(site, archived), archived))
        rows = []
        for url, original in served.items():
            w, h = truth.get(original, (0, 0))
            big = w > 100 and h > 100  # a stand-in for the model's decision: the larger archived images
            rows.append({"img_url": url, "p_big": 0.9 if big else 0.1, "label": "BIG" if big else "SMALL",
                         "reason": "model", "page_url": "http://www.archive.org/"})
        src = _rows(tmp_path / "scores.jsonl", rows)
        dest = tmp_path / "out"
        summary = Fetcher(_options([src], dest), resolver=host_map_resolver()).run()
        requested = {site.with_port(f"http://{h.host}{h.path}") for h in site.hits if h.path != "/robots.txt"}
    meta = _metadata(dest)
    assert len(meta) == len(rows)
    kept = {r["img_url"] for r in rows if r["label"] == "BIG"}
    assert 0 < len(kept) < len(rows)
    assert requested == kept  # the SMALL ones were never asked for
    assert {m["status"] for m in meta if m["label"] == "SMALL"} == {"skipped-small"}
    assert {m["status"] for m in meta if m["label"] == "BIG"} <= {"ok", "not-big"}
    assert summary.actions["skip"] == len(rows) - len(kept)
    assert any(line.startswith("saving: ") for line in summary.lines())


def test_provider_filter_and_the_parquet_metadata(tmp_path, archived):
    """--provider keeps the rows of one provider (the others end as "filtered", never requested); the metadata
    table comes as JSONL and Parquet with the same rows, and both are labels files for `ccimg train`."""
    from ccimg.commands.data_args import read_labels
    from dataio.tables import iter_rows
    from features.record_filter import ProviderLicenseFilter

    with ImageSite() as site:
        urls = _serve_archive(site, archived)
        rows = [{"img_url": u, "p_big": 0.9, "label": "BIG", "reason": "model"} for u in urls]
        src = _rows(tmp_path / "scores.jsonl", rows)
        dest = tmp_path / "out"
        Fetcher(_options([src], dest, keep=ProviderLicenseFilter(["wikimedia"]), keep_small=True),
                resolver=host_map_resolver()).run()
        requested = {h.host for h in site.hits}
    meta = _metadata(dest)
    wikimedia = [m for m in meta if "wikimedia.org" in m["img_url"]]
    assert wikimedia and len(wikimedia) < len(meta)
    assert {m["status"] for m in meta if m not in wikimedia} == {"filtered"}
    assert "filtered" not in {m["status"] for m in wikimedia}
    assert requested and all(h.endswith("wikimedia.org") for h in requested)
    parquet = [r.data for r in iter_rows([str(dest / "metadata.parquet")])]
    assert parquet == meta
    labels = read_labels([str(dest / "metadata.parquet")])
    assert labels == read_truth(dest / "metadata.jsonl") == {
        m["img_url"]: (m["true_width"], m["true_height"]) for m in wikimedia if m["true_width"] is not None}
    assert len(labels) >= 10


def test_decisions_probe_and_labels(tmp_path):
    """Score output in, --probe-uncertain: only BIG and in-band URLs are requested; probes give labels."""
    images = shared_path("images")
    with ImageSite() as site:
        def url(name):
            site.add(f"http://127.0.0.1/images/{name}", (images / name).read_bytes(), "image/jpeg")
            return f"http://127.0.0.1:{site.port}/images/{name}"

        rows = [
            {"img_url": url("test4.jpg"), "p_big": 0.9, "label": "BIG", "reason": "model"},     # 1485x1299: fetch
            {"img_url": url("test.jpg"), "p_big": 0.3, "label": "SMALL", "reason": "model"},    # 882x470: probe, BIG
            {"img_url": url("test2.jpg"), "p_big": 0.2, "label": "SMALL", "reason": "model"},   # 250x188: probe only
            {"img_url": url("favicon.ico"), "p_big": 0.01, "label": "SMALL", "reason": "model"},  # skipped
            {"img_url": url("test3.jpg"), "p_big": 0.8, "label": "BIG", "reason": "model"},     # 630x367: not BIG
        ]
        rows.append(dict(rows[1], page_url="http://elsewhere.test/"))
        # an exact signal keeps its label whatever its p_big: not probed
        rows.append({"img_url": url("man.ico"), "p_big": 0.27, "label": "SMALL", "reason": "srcset"})
        src = _rows(tmp_path / "scores.jsonl", rows)
        dest = tmp_path / "out"
        assert cli_main(["fetch", src, "-o", str(dest), "-q", "--delay", "0", "--probe-uncertain",
                         "0.1,0.5", "--thumbnails", "200,640", "--thumbnail-format", "jpeg",
                         "--allow-private-addresses"]) == 0
        hits = {name: [h.range for h in site.hits_for(f"http://127.0.0.1/images/{name}")]
                for name in ("test4.jpg", "test.jpg", "test2.jpg", "favicon.ico", "test3.jpg", "man.ico")}
    assert hits["favicon.ico"] == [] and hits["man.ico"] == []
    assert hits["test4.jpg"] == [None]  # fetched at once
    assert hits["test.jpg"] == ["bytes=0-65535", None]  # probed (the first 64 KiB), found BIG, fetched
    assert hits["test2.jpg"] == ["bytes=0-65535"]  # probed: not BIG, never downloaded whole
    assert hits["test3.jpg"] == [None]
    meta = _metadata(dest)
    assert [m["status"] for m in meta] == ["ok", "ok", "probed-not-big", "skipped-small", "not-big", "ok",
                                           "skipped-small"]
    assert meta[5]["page_url"] == "http://elsewhere.test/" and meta[5]["key"] == meta[1]["key"]
    assert (meta[2]["true_width"], meta[2]["true_height"], meta[2]["size_source"]) == (250, 188, "probe")
    assert (meta[1]["true_width"], meta[1]["true_height"], meta[1]["size_source"]) == (882, 470, "download")
    labels = read_truth(dest / "metadata.jsonl")
    assert set(labels) == {rows[0]["img_url"], rows[1]["img_url"], rows[2]["img_url"], rows[4]["img_url"]}
    from PIL import Image

    key = meta[0]["key"]
    assert Image.open(dest / "00000" / f"{key}.thumb640.jpg").size == (640, 560)
    assert Image.open(dest / "00000" / f"{key}.thumb200.jpg").size == (200, 175)


def test_extraction_records_are_scored_on_the_fly(tmp_path):
    """Records of the extraction job in, the default model decides: fetched exactly what it calls BIG."""
    from models.corpus import CorpusReader
    from models.score import Scorer

    with ImageSite() as site:
        images = warc_images(shared_path("webarchive", "ukwa__sopa-wikipedia-homepage.warc.gz"))
        for url, (body, ctype) in images.items():
            site.add(url, body, ctype)
        records = CorpusReader().warc(shared_path("webarchive", "ukwa__sopa-wikipedia-homepage.warc.gz"))
        for rec in records:
            for field in ("true_width", "true_height", "true_format"):
                rec.pop(field, None)
        for rec in records:
            rec["img_url"] = site.with_port(rec["img_url"])
        scores = Scorer().score(records)  # the records as the fetch reads them
        src = tmp_path / "part-00000"
        src.mkdir()
        _rows(src / "part-00000", records[:30])
        _rows(src / "part-00001", records[30:])
        dest = tmp_path / "out"
        Fetcher(_options([src], dest), resolver=host_map_resolver()).run()
        requested = {h.path for h in site.hits if h.path != "/robots.txt"}
    meta = _metadata(dest)
    assert len(meta) == len(records)
    assert [m["label"] for m in meta] == scores.label
    assert [m["p_big"] for m in meta] == [round(p, 4) for p in scores.p_big.tolist()]
    big = {rec["img_url"] for rec, label in zip(records, scores.label) if label == "BIG"}
    assert {m["img_url"] for m in meta if m["status"] != "skipped-small"} == big
    assert len(requested) == len(big) < len({r["img_url"] for r in records})


def _cli(args: list[str], **kw) -> subprocess.Popen:
    code = ("import resource, sys; from ccimg.cli import main; rc = main(sys.argv[1:]); "
            "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", code, "fetch", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint, **kw)


def _serve_copies(site: ImageSite, name: str, n: int, prefix: str = "copy") -> list[str]:
    data = shared_path("images", name).read_bytes()
    urls = []
    for i in range(n):
        site.add(f"http://127.0.0.1/{prefix}/{i}/{name}", data, "image/jpeg")
        urls.append(f"http://127.0.0.1:{site.port}/{prefix}/{i}/{name}")
    return urls


@pytest.mark.parametrize("layout, sig", [("files", signal.SIGINT), ("webdataset", signal.SIGKILL)])
def test_an_interrupted_run_resumes_and_loses_nothing(tmp_path, layout, sig):
    with ImageSite() as site:
        urls = _serve_copies(site, "test.jpg", 12)
        src = _rows(tmp_path / "scores.jsonl", [{"img_url": u, "p_big": 0.9, "label": "BIG", "reason": "model"}
                                                 for u in urls])
        dest = tmp_path / "out"
        args = [src, "-o", str(dest), "-q", "--delay", "0.4", "--allow-private-addresses",
                "--layout", layout, "--shard-size", "3", "--thumbnails", "100"]
        proc = _cli(args)
        journal = dest / "_state" / "journal.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not journal.exists() or journal.read_text().count("\n") < 4):
            time.sleep(0.05)
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == (130 if sig == signal.SIGINT else -signal.SIGKILL), err
        if sig == signal.SIGINT:
            assert "rerun the same command to resume" in err
        assert not (dest / "metadata.jsonl").exists()  # written only when the run is complete
        first = {h.path for h in site.hits if h.path != "/robots.txt"}
        assert 4 <= len(first) < len(urls)
        proc = _cli(args)
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        paths = [h.path for h in site.hits if h.path != "/robots.txt"]
    meta = _metadata(dest)
    assert [m["img_url"] for m in meta] == urls and {m["status"] for m in meta} == {"ok"}
    assert len(set(paths)) == len(urls)
    if sig == signal.SIGINT:
        assert len(paths) == len(urls)  # a clean interrupt: nothing downloaded twice
    keys = [m["key"] for m in meta]
    assert len(set(keys)) == len(keys)
    if layout == "files":
        assert all((dest / f"{int(k) // 3:05d}" / f"{k}.jpg").exists() for k in keys)
    else:
        members = set()
        for tar in dest.glob("*.tar"):
            with tarfile.open(tar) as t:
                members.update(t.getnames())
        assert all({f"{k}.jpg", f"{k}.json", f"{k}.thumb100.webp"} <= members for k in keys)


def test_memory_stays_flat(tmp_path):
    """Peak memory does not grow with the number of images: bodies are held one per thread, never all."""
    peaks = {}
    with ImageSite() as site:
        site.endless("http://127.0.0.1/endless.jpg")
        for n in (4, 40):
            urls = _serve_copies(site, "test4.jpg", n, prefix=f"n{n}")  # 2 MB, 1485 x 1299 each
            urls.append(f"http://127.0.0.1:{site.port}/endless.jpg")
            src = _rows(tmp_path / f"in{n}.jsonl", [{"img_url": u, "p_big": 0.9, "label": "BIG", "reason": "model"}
                                                    for u in urls])
            proc = _cli([src, "-o", str(tmp_path / f"out{n}"), "-q", "--delay", "0", "--workers", "4",
                         "--allow-private-addresses", "--thumbnails", "200", "--max-bytes", "8M"])
            _out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            peaks[n] = int(err.rsplit("MAXRSS", 1)[1].split()[0]) // 1024  # MB
            statuses = [m["status"] for m in _metadata(tmp_path / f"out{n}")]
            assert statuses == ["ok"] * n + ["too-large"]
    # 36 more images of 2 MB (72 MB of bodies, 210 MB decoded) cost no more than a few buffers
    print("peak RSS MB", peaks)
    assert peaks[40] - peaks[4] < 60, peaks


def test_s3_destination_through_moto_server(tmp_path, monkeypatch):
    moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    s3 = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    s3.start()
    try:
        host, port = s3.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        from network.s3 import S3Reader

        reader = S3Reader(endpoint_url=endpoint, timeout=10)
        reader.client.create_bucket(Bucket="images")
        data = shared_path("images", "test.jpg").read_bytes()
        with ImageSite() as site:
            urls = _serve_copies(site, "test.jpg", 3)
            src = _rows(tmp_path / "scores.jsonl", [{"img_url": u, "p_big": 0.9, "label": "BIG", "reason": "model",
                                                     "alt": f"photo {i}"} for i, u in enumerate(urls)])
            for layout in ("files", "webdataset"):
                assert cli_main(["fetch", src, "-o", f"s3://images/run/{layout}", "--s3-endpoint-url", endpoint,
                                 "--layout", layout, "--thumbnails", "120", "-q", "--delay", "0",
                                 "--allow-private-addresses", "--state-dir", str(tmp_path / layout)]) == 0
        files = reader.list_keys("images", "run/files/")
        assert sorted(files) == sorted(["run/files/metadata.jsonl", "run/files/metadata.parquet"] + [
            f"run/files/00000/00000000{i}.{ext}" for i in range(3) for ext in ("jpg", "json", "txt", "thumb120.webp")])
        assert reader.get_range("images", "run/files/00000/000000001.jpg", 0, len(data)) == data
        meta = [json.loads(line) for line in reader.open_body("images", "run/files/metadata.jsonl").read().splitlines()]
        assert [m["status"] for m in meta] == ["ok"] * 3
        assert reader.list_keys("images", "run/webdataset/") == ["run/webdataset/00000.tar",
                                                                 "run/webdataset/metadata.jsonl",
                                                                 "run/webdataset/metadata.parquet"]
        tar_path = tmp_path / "shard.tar"
        tar_path.write_bytes(reader.open_body("images", "run/webdataset/00000.tar").read())
        with tarfile.open(tar_path) as tar:
            assert tar.extractfile("000000002.txt").read() == b"photo 2"
            assert json.loads(tar.extractfile("000000002.json").read())["caption"] == "photo 2"
            assert tar.extractfile("000000000.jpg").read() == data
    finally:
        s3.stop()


@pytest.mark.parametrize("args, message", [
    (["--all", "--recall", "0.9"], "--all fetches everything"),
    (["--thumbnails", "10"], "thumbnail sizes"),
    (["--probe-uncertain", "0.6,0.2"], "P1 < P2"),
    (["--contact", "me (x)"], "--contact"),
    (["--workers", "0"], "--workers"),
])
def test_bad_arguments_exit_2_with_one_line(tmp_path, capsys, args, message):
    src = _rows(tmp_path / "in.jsonl", [{"img_url": "http://a.test/x.jpg", "p_big": 0.9, "label": "BIG"}])
    try:
        code = cli_main(["fetch", src, "-o", str(tmp_path / "out"), *args])
    except SystemExit as exc:  # argparse's own refusals
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and message in err[-1]


def test_bad_inputs_exit_2(tmp_path, capsys):
    scores = _rows(tmp_path / "scores.jsonl", [{"img_url": "http://a.test/x.jpg", "p_big": 0.9, "label": "BIG"}])
    assert cli_main(["fetch", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "out")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert cli_main(["fetch", scores, "-o", str(tmp_path / "out"), "--threshold", "0.3"]) == 2
    assert "ccimg score" in capsys.readouterr().err
    assert cli_main(["fetch", scores, "-o", str(tmp_path / "o2"), "-q", "--all"]) == 0
    capsys.readouterr()
    assert cli_main(["fetch", scores, "-o", str(tmp_path / "o2"), "--thumbnails", "200"]) == 2
    assert "--restart" in capsys.readouterr().err


def test_a_failing_destination_stops_the_run_with_exit_1(tmp_path, capsys):
    with ImageSite() as site:
        urls = _serve_copies(site, "test.jpg", 3)
        src = _rows(tmp_path / "scores.jsonl", [{"img_url": u, "p_big": 0.9, "label": "BIG", "reason": "model"}
                                                 for u in urls])
        dest = tmp_path / "out"
        dest.mkdir()
        (dest / "00000").write_text("a file where the first shard folder goes")
        assert cli_main(["fetch", src, "-o", str(dest), "-q", "--delay", "0",
                         "--allow-private-addresses"]) == 1
    err = capsys.readouterr().err
    assert "the destination failed" in err and "rerun" in err
    assert not (dest / "metadata.jsonl").exists()
    assert not (dest / "_state" / "journal.jsonl").exists() or not (dest / "_state" / "journal.jsonl").read_text()
