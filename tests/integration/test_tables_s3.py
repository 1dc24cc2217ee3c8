"""Rows on S3 (moto's S3 server on 127.0.0.1, dummy credentials): the job's part folder under a prefix, one
object, Parquet and JSONL written by upload at close, no silent overwrite; and `ccimg score` from S3 to S3."""
from __future__ import annotations

import gzip
import json

import pytest

from ccimg.cli import main
from dataio.tables import InputError, OutputError, RowWriter, iter_rows
from network.s3 import S3Reader

moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed")
pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install -e '.[parquet]')")

DUMMY_AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
             "AWS_DEFAULT_REGION": "us-east-1"}
BUCKET = "ccimg-tables"
RECORDS = [{"img_url": f"https://img.example/{i}-1024x768.jpg" if i % 2 else f"https://img.example/{i}.gif",
            "page_url": "https://example.org/"} for i in range(8)]


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
        body = "".join(json.dumps(r) + "\n" for r in RECORDS[:4]).encode()
        reader.put_bytes(BUCKET, "job/images/part-00000", body)
        reader.put_bytes(BUCKET, "job/images/part-00001",
                         gzip.compress("".join(json.dumps(r) + "\n" for r in RECORDS[4:]).encode()))
        reader.put_bytes(BUCKET, "job/images/_SUCCESS", b"")
        reader.put_bytes(BUCKET, "job/images-old/part-00000", b'{"img_url": "https://old.example/x.jpg"}\n')
        try:
            yield url
        finally:
            server.stop()


@pytest.fixture
def s3(endpoint, monkeypatch):
    """boto3 finds the endpoint in AWS_ENDPOINT_URL_S3, as the commands' users set it for MinIO and the like."""
    for name, value in DUMMY_AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
    return S3Reader(endpoint_url=endpoint, timeout=10)


def test_a_prefix_reads_the_jobs_parts_in_order(s3):
    for prefix in ("s3://ccimg-tables/job/images/", "s3://ccimg-tables/job/images"):
        rows = list(iter_rows(prefix))
        assert [r.data for r in rows] == RECORDS  # not images-old/, not _SUCCESS
        assert rows[4].source == "s3://ccimg-tables/job/images/part-00001" and rows[4].number == 1
    assert [r.data for r in iter_rows("s3://ccimg-tables/job/images/part-00000")] == RECORDS[:4]


def test_missing_s3_inputs_are_one_line_errors(s3):
    with pytest.raises(InputError, match="no such S3 object or folder"):
        list(iter_rows("s3://ccimg-tables/nothing/here"))
    with pytest.raises(InputError, match="cannot read s3://no-such-bucket"):
        list(iter_rows("s3://no-such-bucket/x.jsonl"))


@pytest.mark.parametrize("name", ["out/rows.parquet", "out/rows.jsonl.gz"])
def test_written_at_close_and_read_back_and_never_overwritten_unasked(s3, name):
    url = f"s3://{BUCKET}/{name}"
    with RowWriter(url, overwrite=True) as w:
        w.write_many(RECORDS)
        assert name not in s3.list_keys(BUCKET, "out/")  # nothing visible before the end
    assert [r.data for r in iter_rows(url)] == RECORDS
    with pytest.raises(OutputError, match="exists: pass --overwrite"):
        RowWriter(url)


def test_ccimg_score_from_an_s3_prefix_to_s3(s3, capsys):
    out = f"s3://{BUCKET}/scores/big.txt"
    assert main(["score", f"s3://{BUCKET}/job/images/", "--only", "BIG", "--format", "urls", "-o", out]) == 0
    body = s3.open_body(BUCKET, "scores/big.txt").read()
    assert body.decode().splitlines() == [r["img_url"] for r in RECORDS if "1024x768" in r["img_url"]]
    assert main(["score", f"s3://{BUCKET}/job/images/", "-o", out]) == 2
    assert "exists: pass --overwrite" in capsys.readouterr().err
