"""network.s3 against moto's S3 server (a real HTTP server on 127.0.0.1, in a thread), dummy credentials."""
from __future__ import annotations

import socket

import pytest

from network.errors import FetchError, TransientError
from network.s3 import S3Reader, split_s3_url

moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed")

DUMMY_AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
             "AWS_DEFAULT_REGION": "us-east-1"}
BUCKET = "ccimg-test"
DATA = bytes(range(256)) * 64  # 16 KiB


@pytest.fixture(scope="module")
def endpoint():
    with pytest.MonkeyPatch.context() as mp:
        for name, value in DUMMY_AWS.items():
            mp.setenv(name, value)
        server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        reader = S3Reader(endpoint_url=url, timeout=10)
        reader.client.create_bucket(Bucket=BUCKET)
        reader.put_bytes(BUCKET, "crawl/segment/file.warc.gz", DATA, "application/gzip")
        try:
            yield url
        finally:
            server.stop()


@pytest.fixture
def reader(endpoint, monkeypatch):
    for name, value in DUMMY_AWS.items():
        monkeypatch.setenv(name, value)
    return S3Reader(endpoint_url=endpoint, timeout=10)


def test_get_range(reader):
    assert reader.get_range(BUCKET, "crawl/segment/file.warc.gz", 1000, 300) == DATA[1000:1300]
    assert reader.get_range(BUCKET, "crawl/segment/file.warc.gz", 0, 1) == DATA[:1]


def test_get_range_past_the_end(reader):
    with pytest.raises(FetchError) as info:
        reader.get_range(BUCKET, "crawl/segment/file.warc.gz", len(DATA) - 10, 100)  # S3 answers the 10 there are
    assert info.value.kind == "short_range"
    with pytest.raises(FetchError) as info:
        reader.get_range(BUCKET, "crawl/segment/file.warc.gz", len(DATA) + 10, 100)
    assert info.value.kind == "range_not_satisfiable"


def test_open_body_from_an_offset(reader):
    with reader.open_body(BUCKET, "crawl/segment/file.warc.gz") as body:
        assert body.read() == DATA
    with reader.open_body(BUCKET, "crawl/segment/file.warc.gz", start=5000) as body:
        assert body.read(10) == DATA[5000:5010]
        assert body.read() == DATA[5010:]


def test_put_and_list_keys_paginated(reader):
    for i in range(5):
        reader.put_bytes(BUCKET, f"listing/part-{i:05d}", b"%d" % i, "text/plain")
    assert reader.list_keys(BUCKET, "listing/") == [f"listing/part-{i:05d}" for i in range(5)]
    assert reader.list_keys(BUCKET, "listing/", page_size=2) == [f"listing/part-{i:05d}" for i in range(5)]
    assert reader.list_keys(BUCKET, "nothing-here/") == []
    with pytest.raises(FetchError) as info:
        reader.list_keys(BUCKET, "listing/", limit=3, page_size=2)
    assert info.value.kind == "too_many_keys"
    assert reader.get_range(BUCKET, "listing/part-00003", 0, 1) == b"3"


def test_missing_key_and_bucket(reader):
    for bucket, key in ((BUCKET, "no/such/key"), ("no-such-bucket-ccimg", "k")):
        with pytest.raises(FetchError) as info:
            reader.get_range(bucket, key, 0, 10)
        assert info.value.kind == "not_found"
        with pytest.raises(FetchError) as info:
            reader.open_body(bucket, key)
        assert info.value.kind == "not_found"


def test_no_credentials(endpoint, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no 1-second wait for an instance role
    with pytest.raises(FetchError) as info:
        S3Reader(endpoint_url=endpoint, timeout=5).get_range(BUCKET, "crawl/segment/file.warc.gz", 0, 10)
    assert info.value.kind == "no_credentials"
    assert "data.commoncrawl.org" in str(info.value)


def test_unreachable_endpoint_is_transient(monkeypatch):
    for name, value in DUMMY_AWS.items():
        monkeypatch.setenv(name, value)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransientError) as info:
        S3Reader(endpoint_url=f"http://127.0.0.1:{port}", timeout=2).get_range(BUCKET, "k", 0, 10)
    assert info.value.kind == "connection"


@pytest.mark.parametrize("url, expected", [
    ("s3://commoncrawl/crawl-data/CC-MAIN-2024-10/x.warc.gz", ("commoncrawl", "crawl-data/CC-MAIN-2024-10/x.warc.gz")),
    ("s3://b/k", ("b", "k")),
])
def test_split_s3_url(url, expected):
    assert split_s3_url(url) == expected


@pytest.mark.parametrize("url", ["s3://bucket", "s3://bucket/", "s3:///key", "http://b/k", "", None])
def test_split_s3_url_refuses(url):
    with pytest.raises(FetchError) as info:
        split_s3_url(url)
    assert info.value.kind == "bad_url"
