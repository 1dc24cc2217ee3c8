"""The parts of ccimg.fetch that need no network: scheduler, journal, layouts, statuses, opt-outs."""
from __future__ import annotations

import tarfile
import threading
import time

import pytest

from ccimg.fetch.download import opted_out, status_of
from ccimg.fetch.journal import Journal, OptionsChanged, check_options, forget
from ccimg.fetch.schedule import HostScheduler
from ccimg.fetch.store import FilesLayout, LocalSink, WebDatasetLayout


def test_scheduler_keeps_per_host_limit_and_interval_and_spreads_threads():
    sched = HostScheduler(per_host=1, interval=0.15)
    for i in range(4):
        sched.add("slow.test", i)
    for i in range(8):
        sched.add(f"h{i}.test", i)
    starts: dict[str, list[float]] = {}
    in_flight: dict[str, int] = {}
    worst = {}
    lock = threading.Lock()

    def work():
        while (taken := sched.take()) is not None:
            host, _job = taken
            with lock:
                starts.setdefault(host, []).append(time.monotonic())
                in_flight[host] = in_flight.get(host, 0) + 1
                worst[host] = max(worst.get(host, 0), in_flight[host])
            time.sleep(0.02)
            with lock:
                in_flight[host] -= 1
            sched.done(host)

    threads = [threading.Thread(target=work) for _ in range(4)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not any(t.is_alive() for t in threads)
    assert sum(len(v) for v in starts.values()) == 12
    assert max(worst.values()) == 1
    gaps = [b - a for a, b in zip(starts["slow.test"], starts["slow.test"][1:])]
    assert min(gaps) >= 0.14
    # the other hosts did not wait behind slow.test: all of them started before its last job
    assert max(v[0] for h, v in starts.items() if h != "slow.test") < starts["slow.test"][-1]
    assert time.monotonic() - began < 20
    assert sched.hosts_left == 0


def test_scheduler_takes_jobs_added_while_running_and_stops():
    sched = HostScheduler(per_host=2, interval=0.0)
    sched.add("a", 1)
    host, job = sched.take()
    sched.add(host, 2)  # a probe that found a BIG image adds its download before it is done
    sched.done(host)
    assert sched.take() == ("a", 2)
    sched.done("a")
    assert sched.take() is None  # nothing left, nothing out
    sched.add("b", 3)
    sched.stop()
    assert sched.take() is None


def test_journal_survives_a_torn_line_and_keeps_the_last_entry(tmp_path):
    path = tmp_path / "journal.jsonl"
    journal = Journal(path, sync_every=2)
    journal.append({"img_url": "http://a/1", "status": "probed-big"})
    journal.append({"img_url": "http://a/2", "status": "ok", "key": "000000000"})
    journal.close()
    with open(path, "ab") as f:
        f.write(b'{"img_url": "http://a/3", "sta')  # a crash in the middle of a line
    journal = Journal(path)
    journal.append({"img_url": "http://a/1", "status": "ok", "key": "000000001"})
    journal.close()
    done = Journal(path).load()
    assert set(done) == {"http://a/1", "http://a/2"}
    assert done["http://a/1"]["status"] == "ok"


def test_options_are_kept_and_a_change_is_refused(tmp_path):
    state = tmp_path / "state"
    check_options(state, {"layout": "files", "thumbnails": [200]})
    check_options(state, {"layout": "files", "thumbnails": [200]})
    with pytest.raises(OptionsChanged, match="thumbnails"):
        check_options(state, {"layout": "files", "thumbnails": [640]})
    (state / "journal.jsonl").write_text("{}\n")
    forget(state)
    check_options(state, {"layout": "files", "thumbnails": [640]})
    assert not (state / "journal.jsonl").exists()


def test_files_layout_writes_img2dataset_names(tmp_path):
    layout = FilesLayout(LocalSink(tmp_path), shard_size=2, first_key=2)
    durable = []
    for i in range(3):
        layout.add(lambda key, i=i: {"jpg": b"x%d" % i, "json": b"{}", "txt": b"alt"}, durable.append)
    assert durable == ["000000002", "000000003", "000000004"]
    assert (tmp_path / "00001" / "000000002.jpg").read_bytes() == b"x0"
    assert (tmp_path / "00002" / "000000004.txt").read_bytes() == b"alt"
    assert not list(tmp_path.rglob("*.tmp"))


def test_webdataset_shards_are_durable_only_when_closed(tmp_path):
    out = tmp_path / "out"
    layout = WebDatasetLayout(LocalSink(out), tmp_path / "tmp", shard_size=2)
    durable = []
    for i in range(3):
        layout.add(lambda key, i=i: {"jpg": b"x%d" % i, "json": b'{"key": "%s"}' % key.encode()}, durable.append)
    assert durable == ["000000000", "000000001"]  # the first shard closed when the third image came
    assert (out / "00000.tar").exists() and not (out / "00001.tar").exists()
    layout.close()
    assert durable == ["000000000", "000000001", "000000002"]
    with tarfile.open(out / "00001.tar") as tar:
        assert tar.getnames() == ["000000002.jpg", "000000002.json"]
        assert tar.extractfile("000000002.jpg").read() == b"x2"
    # a shard closed by bytes: the next image starts the next shard
    layout = WebDatasetLayout(LocalSink(out), tmp_path / "tmp", shard_size=100, first_key=200)
    layout.shard_bytes = 1
    names = [layout.add(lambda key: {"jpg": b"y"}, lambda key: None) for _ in range(2)]
    layout.close()
    assert names == ["000000200", "000000300"]
    assert (out / "00002.tar").exists() and (out / "00003.tar").exists()


def test_status_names_and_opt_outs():
    assert status_of("gave_up_http_503") == "http-503"
    assert status_of("not_found") == "http-404"
    assert status_of("too_large") == "too-large"
    assert status_of("gave_up_timeout") == "timeout"
    assert status_of("deadline") == "timeout"
    assert status_of("private_address") == "private-address"
    assert status_of("gave_up_dns") == status_of("dns_error") == "dns-error"  # the download and the probe agree
    assert opted_out("noimageai", "ccimg") == "noimageai"
    assert opted_out("googlebot: noindex, ccimg: noai", "ccimg") == "noai"
    assert opted_out("googlebot: noindex", "ccimg") is None
    assert opted_out("max-image-preview:large", "ccimg") is None
    assert opted_out(None, "ccimg") is None
