"""Rows on S3 (moto's S3 server on 127.0.0.1, dummy credentials): the job's part folder under a prefix, one
object, Parquet and JSONL written by upload at close, no silent overwrite; and `ccimg score` from S3 to S3."""
from __future__ import annotations

import gzip
import json

import pytest

from ccimg.cli import main
from dataio.tables import InputError, OutputError, RowWriter, iter_rows
from network.s3 import S3Reader
from tests.support.servers import moto_s3, moto_s3_server  # noqa: F401 - fixtures

pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install -e '.[parquet]')")

RECORDS = [{"img_url": f"https://img.example/{i}-1024x768.jpg" if i % 2 else f"https://img.example/{i}.gif",
            "page_url": "https://example.org/"} for i in range(8)]


@pytest.fixture
def s3(moto_s3, monkeypatch):  # noqa: F811
    """A bucket holding a job's output folder; boto3 finds the endpoint in AWS_ENDPOINT_URL_S3, as the commands'
    users set it for MinIO and the like."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_s3.endpoint_url)
    reader = S3Reader(endpoint_url=moto_s3.endpoint_url, timeout=10)
    reader.bucket = moto_s3.create_bucket("ccimg-tables")
    reader.put_bytes(reader.bucket, "job/images/part-00000",
                     "".join(json.dumps(r) + "\n" for r in RECORDS[:4]).encode())
    reader.put_bytes(reader.bucket, "job/images/part-00001",
                     gzip.compress("".join(json.dumps(r) + "\n" for r in RECORDS[4:]).encode()))
    reader.put_bytes(reader.bucket, "job/images/_SUCCESS", b"")
    reader.put_bytes(reader.bucket, "job/images-old/part-00000", b'{"img_url": "https://old.example/x.jpg"}\n')
    return reader


def test_a_prefix_reads_the_jobs_parts_in_order(s3):
    base = f"s3://{s3.bucket}/job/images"
    for prefix in (base + "/", base):
        rows = list(iter_rows(prefix))
        assert [r.data for r in rows] == RECORDS  # not images-old/, not _SUCCESS
        assert rows[4].source == base + "/part-00001" and rows[4].number == 1
    assert [r.data for r in iter_rows(base + "/part-00000")] == RECORDS[:4]


def test_missing_s3_inputs_are_one_line_errors(s3):
    with pytest.raises(InputError, match="no such S3 object or folder"):
        list(iter_rows(f"s3://{s3.bucket}/nothing/here"))
    with pytest.raises(InputError, match="cannot read s3://no-such-bucket"):
        list(iter_rows("s3://no-such-bucket/x.jsonl"))


@pytest.mark.parametrize("name", ["out/rows.parquet", "out/rows.jsonl.gz"])
def test_written_at_close_and_read_back_and_never_overwritten_unasked(s3, name):
    url = f"s3://{s3.bucket}/{name}"
    with RowWriter(url, overwrite=True) as w:
        w.write_many(RECORDS)
        assert name not in s3.list_keys(s3.bucket, "out/")  # nothing visible before the end
    assert [r.data for r in iter_rows(url)] == RECORDS
    with pytest.raises(OutputError, match="exists: pass --overwrite"):
        RowWriter(url)


def test_ccimg_score_from_an_s3_prefix_to_s3(s3, capsys):
    scores = f"s3://{s3.bucket}/scores/all.jsonl.gz"
    assert main(["score", f"s3://{s3.bucket}/job/images/", "-o", scores]) == 0
    rows = [r.data for r in iter_rows(scores)]
    assert [r["img_url"] for r in rows] == [r["img_url"] for r in RECORDS]
    out = f"s3://{s3.bucket}/scores/big.txt"
    assert main(["score", f"s3://{s3.bucket}/job/images/", "--only", "BIG", "--format", "urls", "-o", out]) == 0
    body = s3.open_body(s3.bucket, "scores/big.txt").read()
    assert body.decode().splitlines() == [r["img_url"] for r in rows if r["label"] == "BIG"]
    assert main(["score", f"s3://{s3.bucket}/job/images/", "-o", out]) == 2
    assert "exists: pass --overwrite" in capsys.readouterr().err
