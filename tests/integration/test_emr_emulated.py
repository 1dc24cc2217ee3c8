"""`-r emr -c mrjob.conf` end to end against moto's EMR and S3 server on 127.0.0.1.

mrjob's EMR runner does everything it does on AWS (creates the temporary bucket, uploads the job,
the project's packages, the bootstrap script and the input, creates the cluster, submits the steps)
against the emulator; the emulator runs nothing, so the runner is told not to wait for the steps
(`_finish_run`, the waiting loop of mrjob 0.7.4's EMRJobRunner.run) and the test checks what moto
recorded: steps and their arguments, bootstrap actions and script, instance groups, spot, idle
timeout, and that the dummy credentials of this test's environment appear in nothing submitted.

The emulator runs in this process (moto's ThreadedMotoServer: a real HTTP server on 127.0.0.1), so
that one bug of moto 5.2 can be mended: `run_job_flow` without Applications stores its default
application under lower-case keys it never reads back, and mrjob then finds no application name.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import tarfile

import pytest

from jobs.corpus_stats import CorpusStatsJob
from jobs.extract_images import ExtractImagesJob
from jobs.line_splits import NLINE_INPUT_FORMAT, POINTER_LINES
from tests.conftest import REPO

ACCESS_KEY = "AKIACCIMGEMRTEST0001"
SECRET_KEY = "ccimg-emr-test-secret-1f7d0c9e"
SESSION_TOKEN = "ccimg-emr-test-session-token-5b2a"
PINNED = ("mrjob==0.7.4", "warcio==", "selectolax==", "boto3==", "scikit-learn==", "tldextract==")


@pytest.fixture(scope="module")
def emulator():
    moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    import moto.emr.models as emr_models

    mp = pytest.MonkeyPatch()
    original = emr_models.Cluster.add_applications

    def add_applications(self, applications):
        return original(self, [{k[:1].lower() + k[1:]: v for k, v in app.items()} for app in applications])

    mp.setattr(emr_models.Cluster, "add_applications", add_applications)
    for key, value in {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                       "AWS_SESSION_TOKEN": SESSION_TOKEN, "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                       "AWS_EC2_METADATA_DISABLED": "true"}.items():
        mp.setenv(key, value)
    mp.delenv("AWS_PROFILE", raising=False)
    mp.delenv("MRJOB_CONF", raising=False)
    mp.chdir(REPO)  # mrjob.conf ships jobs/#, features/#, ... relative to the repository's root
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        mp.undo()


def _client(service: str, url: str):
    import boto3

    return boto3.client(service, endpoint_url=url, region_name="us-east-1")


def submit(url: str, job_cls, args: list[str]) -> dict:
    """Run the job with -r emr against the emulator; what moto recorded about it."""
    job = job_cls(["-r", "emr", "-c", str(REPO / "mrjob.conf"), "--emr-endpoint", url, "--s3-endpoint", url,
                   "--ec2-endpoint", url, "--iam-endpoint", url,
                   "--cloud-fs-sync-secs", "0",  # S3 is consistent (and moto too): no 5 s wait per job
                   *args])
    emr, s3 = _client("emr", url), _client("s3", url)
    with job.make_runner() as runner:
        runner._finish_run = lambda: None  # the emulator runs nothing: do not wait for the steps
        runner.run()
        cluster_id = runner.get_cluster_id()
        objects = {}  # read before the runner's cleanup deletes its temporary files
        for bucket in s3.list_buckets()["Buckets"]:
            for obj in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []):
                objects[f"s3://{bucket['Name']}/{obj['Key']}"] = s3.get_object(Bucket=bucket["Name"],
                                                                               Key=obj["Key"])["Body"].read()
    return {"cluster": emr.describe_cluster(ClusterId=cluster_id)["Cluster"],
            "steps": emr.list_steps(ClusterId=cluster_id)["Steps"][::-1],  # oldest first
            "bootstrap": emr.list_bootstrap_actions(ClusterId=cluster_id)["BootstrapActions"],
            "groups": {g["InstanceGroupType"]: g for g in emr.list_instance_groups(ClusterId=cluster_id)
                       ["InstanceGroups"]},
            "objects": objects}


def _texts(blob: bytes, name: str) -> list[str]:
    """An uploaded file as text, the members of an uploaded .tar.gz one by one."""
    if name.endswith(".tar.gz"):
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
            return [tar.extractfile(m).read().decode("utf-8", "replace") for m in tar.getmembers() if m.isfile()]
    if name.endswith(".gz"):
        blob = gzip.decompress(blob)
    return [blob.decode("utf-8", "replace")]


def assert_no_secrets(found: dict) -> None:
    recorded = json.dumps([found["cluster"], found["steps"], found["bootstrap"], found["groups"]], default=str)
    texts = [recorded] + [t for name, blob in found["objects"].items() for t in _texts(blob, name)]
    for secret in (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN):
        assert not any(secret in t for t in texts), f"{secret} was submitted"


def arg_after(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a == flag]


@pytest.fixture(scope="module")
def extraction(emulator, tmp_path_factory):
    manifest = tmp_path_factory.mktemp("emr") / "warc-paths.txt"
    lines = [f"crawl-data/CC-MAIN-2024-22/segments/1715971057216.39/warc/CC-MAIN-20240517-{i:05d}.warc.gz"
             for i in range(3)]
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = submit(emulator, ExtractImagesJob, ["--source-base", "s3://commoncrawl/", "--aggregate",
                                                 "--output-dir", "s3://ccimg-results/images/", str(manifest)])
    print("\nsubmitted step (extract_images):\n" + json.dumps(found["steps"][0]["Config"]["Args"], indent=1))
    return found, manifest


def test_cluster_instances_spot_and_idle_timeout(extraction):
    found, _ = extraction
    cluster, groups = found["cluster"], found["groups"]
    assert cluster["ReleaseLabel"] == "emr-7.2.0"
    assert cluster["ServiceRole"] == "EMR_DefaultRole"
    assert cluster["Ec2InstanceAttributes"]["IamInstanceProfile"] == "EMR_EC2_DefaultRole"
    assert cluster["Ec2InstanceAttributes"]["Ec2AvailabilityZone"].startswith("us-east-1")
    assert cluster["AutoTerminate"] is False  # a pooled cluster waits for the next job...
    idle = [b for b in found["bootstrap"] if b["Name"] == "idle timeout"]
    assert len(idle) == 1 and idle[0]["Args"] == ["900"]  # ...and ends itself after 15 idle minutes
    assert {k: (g["Market"], g["InstanceType"], g["RequestedInstanceCount"]) for k, g in groups.items()} == {
        "MASTER": ("ON_DEMAND", "m5.xlarge", 1), "CORE": ("ON_DEMAND", "m5.xlarge", 2),
        "TASK": ("SPOT", "c5.2xlarge", 20)}
    assert groups["TASK"]["BidPrice"] == "0.34"
    assert {t["Key"]: t["Value"] for t in cluster["Tags"]}["__mrjob_pool_name"] == "ccimg"


def test_bootstrap_installs_pinned_packages_into_python_3_11(extraction):
    found, _ = extraction
    master = next(b for b in found["bootstrap"] if b["Name"] == "master")
    script = found["objects"][master["ScriptPath"]].decode("utf-8")
    assert "sudo dnf install -y python3.11 python3.11-pip" in script
    pip = next(line for line in script.splitlines() if "python3.11 -m pip install" in line)
    assert all(p in pip for p in PINNED) and ">=" not in pip


def test_step_arguments(extraction):
    found, manifest = extraction
    (step,) = found["steps"]
    args = step["Config"]["Args"]
    assert args[0] == "hadoop-streaming"
    assert arg_after(args, "-inputformat") == [NLINE_INPUT_FORMAT]
    conf = dict(d.split("=", 1) for d in arg_after(args, "-D"))
    assert conf["mapreduce.input.lineinputformat.linespermap"] == "1"  # whole WARC files: one per task
    assert conf["stream.map.input.ignoreKey"] == "true"
    assert arg_after(args, "-output") == ["s3://ccimg-results/images/"]
    (mapper,) = arg_after(args, "-mapper")
    assert "python3.11 extract_images.py --step-num=0 --mapper" in mapper
    assert "--source-base 's3://commoncrawl/'" in mapper and "--aggregate" in mapper
    assert arg_after(args, "-combiner") and arg_after(args, "-reducer")
    archives = arg_after(args, "-archives")[0].split(",")
    assert sorted(a.rsplit("#", 1)[1] for a in archives) == ["dataio", "features", "jobs", "models", "network"]
    # the input, uploaded as it is
    (input_uri,) = arg_after(args, "-input")
    assert found["objects"][input_uri] == manifest.read_bytes()
    # the project's packages as uploaded: the job's own modules are in them
    jobs_tar = next(uri for uri in found["objects"] if uri.endswith("/jobs.tar.gz"))
    with tarfile.open(fileobj=io.BytesIO(found["objects"][jobs_tar]), mode="r:gz") as tar:
        assert {"extract_images.py", "line_splits.py", "corpus_stats.py"} <= {os.path.basename(n) for n in
                                                                             tar.getnames()}


def test_no_credentials_in_anything_submitted(extraction):
    assert_no_secrets(extraction[0])


def test_corpus_stats_over_record_pointers_two_steps_and_the_model(emulator, tmp_path):
    manifest = tmp_path / "pointers.txt"
    manifest.write_text("".join(f"crawl-data/CC-MAIN-2024-22/segments/1/warc/x.warc.gz\t{i * 1000}\t1000\n"
                                for i in range(5)), encoding="utf-8")
    found = submit(emulator, CorpusStatsJob, ["--source-base", "s3://commoncrawl/", "--model", "default",
                                              "--output-dir", "s3://ccimg-results/stats/", str(manifest)])
    steps = [s for s in found["steps"] if "corpus_stats" in s["Name"]]
    assert len(steps) == 2
    first, second = (s["Config"]["Args"] for s in steps)
    print("\nsubmitted steps (corpus_stats):\n" + json.dumps([first, second], indent=1))
    assert arg_after(first, "-inputformat") == [NLINE_INPUT_FORMAT] and not arg_after(second, "-inputformat")
    conf = dict(d.split("=", 1) for d in arg_after(first, "-D"))
    assert conf["mapreduce.input.lineinputformat.linespermap"] == str(POINTER_LINES)  # record pointers
    assert all("--model default" in m for m in arg_after(first, "-mapper"))
    assert arg_after(second, "-output") == ["s3://ccimg-results/stats/"]
    assert_no_secrets(found)


def test_the_secrets_check_sees_a_leak(emulator, tmp_path):
    """The check can fail: a user who passes the key on the command line (--cmdenv) has it in the steps."""
    manifest = tmp_path / "one.txt"
    manifest.write_text("crawl-data/x.warc.gz\n", encoding="utf-8")
    found = submit(emulator, ExtractImagesJob, ["--cmdenv", f"AWS_SECRET_ACCESS_KEY={SECRET_KEY}",
                                                 "--output-dir", "s3://ccimg-results/leak/", str(manifest)])
    with pytest.raises(AssertionError, match="was submitted"):
        assert_no_secrets(found)
