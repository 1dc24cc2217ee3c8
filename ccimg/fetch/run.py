"""`ccimg fetch` end to end: plan, resume, fetch over threads by host, store, journal, metadata table.

Threads, not processes: a crawler waits on the network; the CPU work (Pillow decoding and
thumbnails) releases the GIL for most of its time.  One HttpClient is shared (its connection pool
is locked, and a connection serves one request at a time), with one HostGate and one RobotsCache,
so that every request of the run, robots.txt and redirects included, counts against the same
per-host limits.

Every input row ends with a status in the metadata table: the download's (``ok``, ``not-big``,
``http-404``, ``timeout``, ...), the decision's (``skipped-small``), the probe's
(``probed-not-big``) or the input's (``bad-input``, ``no-url``, ``bad-url``).
"""
from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ccimg.fetch.download import DEFAULT_MAX_BYTES, TRANSIENT_STATUSES, Downloader
from ccimg.fetch.image import DEFAULT_MAX_PIXELS, THUMBNAIL_FORMATS, Refused, inspect, set_pillow_limit
from ccimg.fetch.journal import JOURNAL, Journal, check_options, forget
from ccimg.fetch.plan import Decider, Plan, iter_plan, make_plan
from ccimg.fetch.probing import make_probe, read_probe
from ccimg.fetch.schedule import HostScheduler
from ccimg.fetch.store import DEFAULT_SHARD_SIZE, StoreError, is_s3, open_layout, open_sink
from dataio.tables import Skips, dumps
from features.model_inputs.size_signals import size_class
from network.errors import FetchError
from network.guard import check_url

# The metadata table's columns, in order, with their Parquet types (one row per input row; None where a value
# does not apply).  true_width/true_height are what `ccimg train --labels` reads.
META_SCHEMA = {"img_url": "string", "page_url": "string", "alt": "string", "p_big": "float64", "label": "string",
               "reason": "string", "action": "string", "status": "string", "detail": "string",
               "true_width": "int64", "true_height": "int64", "format": "string", "size_source": "string",
               "content_type": "string", "bytes": "int64", "sha256": "string", "fetch_time": "string",
               "http_status": "int64", "final_url": "string", "key": "string", "thumbnails": "list<int64>",
               "requests": "int64", "probe_bytes": "int64"}
META_COLUMNS = tuple(META_SCHEMA)
METADATA = ("metadata.jsonl", "metadata.parquet")
# Statuses of a URL that are not final: a probe that asks for the download.
_PROBED_FOR_FETCH = frozenset({"probed-big", "probed-undecided"})


@dataclass
class FetchOptions:
    inputs: list[str]
    dest: str
    layout: str = "files"
    thumbnails: tuple[int, ...] = ()
    thumbnail_format: str = "webp"
    fetch_all: bool = False
    probe_band: tuple[float, float] | None = None
    probe_bytes: int = 64 * 1024
    model: str | None = None
    recall: float | None = None
    threshold: float | str | None = None
    keep: object = None      # a features.record_filter.ProviderLicenseFilter (--provider/--license), or None
    clean: Callable | None = None  # record -> (record, reason, detail): the field-type check of the commands
    keep_small: bool = False
    workers: int = 16
    per_host: int = 1
    delay: float = 1.0
    timeout: float = 30.0
    max_time: float = 120.0
    retries: int = 2
    max_bytes: int = DEFAULT_MAX_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_redirects: int = 5
    contact: str | None = None
    allow_private: bool = False
    s3_endpoint_url: str | None = None
    state_dir: str | None = None
    restart: bool = False
    retry_failed: bool = False
    shard_size: int = DEFAULT_SHARD_SIZE

    def storage(self) -> dict:
        """The options that shape what is stored: a resumed run must keep them."""
        return {"dest": self.dest, "layout": self.layout, "thumbnails": list(self.thumbnails),
                "thumbnail_format": self.thumbnail_format, "shard_size": self.shard_size,
                "keep_small": self.keep_small}


def default_state_dir(dest: str) -> Path:
    """``DEST/_state`` for a folder; for ``s3://bucket/prefix``, ``./ccimg-fetch-state/bucket/prefix`` (local:
    the journal is appended to line by line, which S3 objects cannot be)."""
    if is_s3(dest):
        return Path("ccimg-fetch-state", *[p for p in dest[len("s3://"):].split("/") if p])
    return Path(dest) / "_state"


@dataclass
class Summary:
    rows: int = 0
    urls: int = 0
    statuses: Counter = field(default_factory=Counter)      # per distinct URL
    row_statuses: Counter = field(default_factory=Counter)  # per input row
    actions: Counter = field(default_factory=Counter)       # per distinct URL: fetch, probe, skip
    requests: int = 0          # image requests this run (attempts and redirect hops)
    probe_requests: int = 0
    robots_requests: int = 0
    bytes: int = 0             # body bytes downloaded this run (images)
    probe_bytes: int = 0
    seconds: float = 0.0
    resumed: int = 0           # URLs already done by an earlier run
    interrupted: bool = False
    metadata: list[str] = field(default_factory=list)
    skipped_lines: str = ""   # input lines that are no row at all (dataio.tables.Skips.summary)

    def lines(self) -> list[str]:
        fetched = self.actions["fetch"] + self.actions["probe"]
        never = self.actions["skip"] + self.statuses["probed-not-big"]
        share = never / self.urls if self.urls else 0.0
        out = [f"{self.rows:,} rows, {self.urls:,} distinct URLs: {self.actions['fetch']:,} to fetch, "
               f"{self.actions['probe']:,} to probe, {self.actions['skip']:,} skipped as SMALL"
               + (f" ({self.resumed:,} done by an earlier run)" if self.resumed else ""),
               f"this run: {self.requests:,} image requests, {self.bytes / 1e6:,.1f} MB; "
               f"{self.probe_requests:,} probes, {self.probe_bytes / 1e6:,.2f} MB; "
               f"{self.robots_requests:,} robots.txt; {self.seconds:,.1f} s",
               "URLs by status: " + ", ".join(f"{k} {v:,}" for k, v in self.statuses.most_common()),
               f"saving: {never:,} of {self.urls:,} URLs ({share:.0%}) never downloaded"
               + (f"; {self.statuses['not-big']:,} downloads turned out not BIG" if fetched else "")]
        if self.skipped_lines:
            out.append(f"input: {self.skipped_lines}")
        if self.metadata:
            out.append("metadata: " + ", ".join(self.metadata))
        return out


class Fetcher:
    """One run of `ccimg fetch`.

    `resolver` replaces the network.guard.Resolver (tests map host names to 127.0.0.1 with it); `log`
    receives one line per notable event (retries, rows skipped; default: stderr); `progress`, if given, is
    told of every URL done (`update(1)`) and shown the hosts busy, MB, ok and failed (`note(text)`): the
    command passes its progress bar (ccimg.commands.common.Progress)."""

    def __init__(self, options: FetchOptions, resolver=None, log: Callable[[str], None] | None = None,
                 progress=None):
        self.o = options
        self.resolver = resolver
        self.state_dir = Path(options.state_dir) if options.state_dir else default_state_dir(options.dest)
        self.summary = Summary()
        self.log = log or (lambda message: print(f"ccimg fetch: {message}", file=sys.stderr))
        self.progress = progress
        self._lock = threading.Lock()
        self._results: dict[str, dict] = {}
        self._fatal: BaseException | None = None
        self._scheduler: HostScheduler | None = None
        self._ok = self._failed = 0

    def _network(self):
        from network.gate import HostGate
        from network.http import HttpClient
        from network.identity import PRODUCT_TOKEN, user_agent
        from network.retry import RetryPolicy
        from network.robots import RobotsCache

        o = self.o
        gate = HostGate(interval=o.delay, max_per_host=o.per_host)
        client = HttpClient(timeout=o.timeout, allow_private=o.allow_private, resolver=self.resolver,
                            user_agent=user_agent(o.contact), max_redirects=o.max_redirects, gate=gate)
        robots = RobotsCache(client, gate, PRODUCT_TOKEN)
        policy = RetryPolicy(max_attempts=o.retries + 1, base_delay=1.0, max_delay=30.0, max_elapsed=o.max_time)
        downloader = Downloader(client, robots, policy, max_bytes=o.max_bytes, max_pixels=o.max_pixels,
                                agent_token=PRODUCT_TOKEN, log=self.log)
        return client, robots, downloader

    # -- the run ---------------------------------------------------------------------------------------
    def run(self) -> Summary:
        o = self.o
        started = time.monotonic()
        if o.restart:
            forget(self.state_dir)
        decider = Decider(o.fetch_all, o.probe_band, o.model, o.recall, o.threshold, o.keep)
        skips = Skips(log=self.log)
        plan = make_plan(o.inputs, decider, self.state_dir / "plan.jsonl", skips, o.clean)
        self.summary.skipped_lines = skips.summary()
        check_options(self.state_dir, o.storage())  # after the plan: a bad input leaves no options behind
        journal = Journal(self.state_dir / JOURNAL)
        done = journal.load()
        self.summary.rows, self.summary.urls = plan.rows, len(plan.urls)
        scheduler = HostScheduler(o.per_host, o.delay)
        jobs = self._schedule(plan, done, scheduler)
        set_pillow_limit(o.max_pixels)
        sink = open_sink(o.dest, o.s3_endpoint_url)
        keys = [int(e["key"]) for e in done.values() if e.get("key")]
        first_key = (max(keys) // o.shard_size + 1) * o.shard_size if keys else 0
        layout = open_layout(o.layout, sink, self.state_dir / "shards", o.shard_size, first_key)
        client, robots, downloader = self._network()
        probe = make_probe(client, robots, o.timeout, o.retries, o.probe_bytes, self.log) if o.probe_band else None
        if self.progress is not None and hasattr(self.progress, "total"):
            self.progress.total = jobs
        self._scheduler = scheduler
        context = (plan, scheduler, downloader, probe, layout, journal, done)
        threads = [threading.Thread(target=self._worker, args=context, name=f"ccimg-fetch-{i}", daemon=True)
                   for i in range(max(1, min(o.workers, jobs)))]
        try:
            for t in threads:
                t.start()
            for t in threads:
                while t.is_alive():
                    t.join(0.5)
        except KeyboardInterrupt:
            self.summary.interrupted = True
            scheduler.stop()
            self.log("interrupted: finishing the downloads in flight (Ctrl-C again to abandon them)")
            for t in threads:
                while t.is_alive():
                    t.join(0.5)
        finally:
            try:
                layout.close()
            finally:
                journal.close()
                client.close()
        self.summary.robots_requests = robots.fetches
        if self._fatal is not None:
            raise self._fatal
        results = {**done, **self._results}
        for url, up in plan.urls.items():
            self.summary.statuses[url_status(up.action, results.get(url))] += 1
        if not self.summary.interrupted:
            self._write_metadata(plan, results, sink)
        self.summary.seconds = time.monotonic() - started
        return self.summary

    def _schedule(self, plan: Plan, done: dict, scheduler: HostScheduler) -> int:
        """Queue what is not done yet; returns the number of jobs queued."""
        jobs = 0
        for url, up in plan.urls.items():
            self.summary.actions[up.action] += 1
            if up.action == "skip":
                continue
            prior = done.get(url)
            kind = "probe" if up.action == "probe" else "fetch"
            if prior is not None:
                status = prior.get("status")
                if status in _PROBED_FOR_FETCH:
                    kind = "fetch"
                elif not (self.o.retry_failed and status in TRANSIENT_STATUSES) and not (
                        kind == "fetch" and status == "probed-not-big"):
                    self.summary.resumed += 1
                    continue
            try:
                host = check_url(url).host
            except FetchError as exc:
                self._results[url] = {"img_url": url, "status": "bad-url", "detail": exc.message[:300]}
                continue
            scheduler.add(host, (kind, url, prior))
            jobs += 1
        return jobs

    def _worker(self, plan, scheduler, downloader, probe, layout, journal, done) -> None:
        while True:
            taken = scheduler.take()
            if taken is None:
                return
            host, (kind, url, prior) = taken
            try:
                if kind == "probe":
                    entry = self._probe(url, probe)
                    if entry["status"] in _PROBED_FOR_FETCH:
                        journal.append(entry)
                        scheduler.add(host, ("fetch", url, entry))  # before done(host): the host stays known
                        continue
                    self._finish(entry, journal)
                else:
                    self._fetch(url, plan.urls[url], prior, downloader, layout, journal)
            except StoreError as exc:
                # The destination failed (after retries): nothing more can be stored, so the run stops.
                with self._lock:
                    if self._fatal is None:
                        self._fatal = exc
                        self.log(f"cannot store into {self.o.dest}: {exc}; stopping (rerun to resume)")
                scheduler.stop()
            except Exception as exc:  # noqa: BLE001 - one URL's bug must not lose the others
                self.log(f"{check_url(url).redacted if url else url}: {type(exc).__name__}: {exc}")
                self._finish({"img_url": url, "status": "error", "detail": f"{type(exc).__name__}"}, journal)
            finally:
                scheduler.done(host)

    def _probe(self, url: str, probe) -> dict:
        row = probe(url)
        found = read_probe(row)
        with self._lock:
            self.summary.probe_requests += 1
            self.summary.probe_bytes += found.bytes
        return {"img_url": url, "status": found.status, "true_width": found.width, "true_height": found.height,
                "format": found.format, "size_source": "probe" if found.width is not None else None,
                "probe_bytes": found.bytes}

    def _fetch(self, url: str, up, prior: dict | None, downloader: Downloader, layout, journal: Journal) -> None:
        got = downloader.download(url)
        entry = {"img_url": url, "status": got.status, "detail": got.detail, "http_status": got.http_status,
                 "final_url": got.final_url if got.final_url != url else None, "content_type": got.content_type,
                 "bytes": got.bytes, "requests": got.requests, "fetch_time": got.fetch_time,
                 "probe_bytes": (prior or {}).get("probe_bytes")}
        with self._lock:
            self.summary.requests += got.requests
            self.summary.bytes += got.bytes
        if got.status != "ok":
            self._finish(entry, journal)
            return
        entry["sha256"] = got.sha256
        o = self.o
        try:
            seen = inspect(got.body, o.max_pixels, o.thumbnails, o.thumbnail_format)
        except Refused as exc:
            entry.update(status=exc.status, detail=exc.detail[:300])
            self._finish(entry, journal)
            return
        entry.update(true_width=seen.width, true_height=seen.height, format=seen.format, size_source="download")
        if seen.thumbnail_error:
            entry["detail"] = seen.thumbnail_error
        if size_class(seen.width, seen.height) != "BIG" and not o.keep_small:
            entry["status"] = "not-big"
            self._finish(entry, journal)
            return
        ext = THUMBNAIL_FORMATS[o.thumbnail_format][1]
        entry["thumbnails"] = sorted(seen.thumbnails)

        def build(key: str) -> dict[str, bytes]:
            entry["key"] = key
            members = {seen.extension: got.body}
            for side, data in seen.thumbnails.items():
                members[f"thumb{side}.{ext}"] = data
            if up.alt:
                members["txt"] = up.alt.encode("utf-8", "surrogatepass")
            members["json"] = dumps(_image_json(entry, up, seen, ext))
            return members

        layout.add(build, lambda key: self._finish(entry, journal))

    def _finish(self, entry: dict, journal: Journal) -> None:
        """A URL is done: journal it (its image durably stored first, for ok), count it, show it."""
        journal.append(entry)
        with self._lock:
            self._results[entry["img_url"]] = entry
            if entry["status"] == "ok":
                self._ok += 1
            elif entry["status"] not in ("not-big", "probed-not-big"):
                self._failed += 1
            mbytes = (self.summary.bytes + self.summary.probe_bytes) / 1e6
            ok, failed = self._ok, self._failed
            if self.progress is not None:  # under the lock: tqdm is not thread-safe for concurrent updates
                hosts = self._scheduler.hosts_active if self._scheduler is not None else 0
                self.progress.note(f"hosts {hosts}, {mbytes:,.1f} MB, ok {ok:,}, failed {failed:,}")
                self.progress.update(1)

    # -- the metadata table ----------------------------------------------------------------------------
    def _write_metadata(self, plan: Plan, results: dict[str, dict], sink) -> None:
        """One row per input row, in input order, as JSONL and (with pyarrow) Parquet beside the images, each
        written to a temporary file and put in place at once (dataio.tables.RowWriter)."""
        from dataio.tables import InputError, OutputError, RowWriter

        names = [METADATA[0]]
        try:
            import pyarrow  # noqa: F401 - Parquet is an extra (pip install 'ccimg[parquet]')

            names.append(METADATA[1])
        except ImportError:
            self.log("metadata.parquet not written: pyarrow is not installed (pip install 'ccimg[parquet]')")
        targets = [f"{str(sink).rstrip('/')}/{name}" for name in names]
        s3 = getattr(sink, "reader", None)
        writers = []
        try:
            writers = [RowWriter(t, schema=META_SCHEMA, overwrite=True, s3=s3) for t in targets]
            for row in iter_plan(plan.path):
                out = metadata_row(row, results)
                self.summary.row_statuses[out["status"]] += 1
                for w in writers:
                    w.write(out)
            for w in writers:
                w.close()
        except (OSError, InputError, OutputError) as exc:
            for w in writers:
                w.abort()
            raise StoreError(f"cannot write the metadata table: {exc}") from None
        self.summary.metadata.extend(targets)


def metadata_row(plan_row: dict, results: dict[str, dict]) -> dict:
    """The metadata row of one input row: its prediction and its URL's outcome."""
    row = dict.fromkeys(META_COLUMNS)
    row.update((k, v) for k, v in plan_row.items() if k in row)
    url = plan_row.get("img_url")
    if plan_row.get("status"):  # the input row was not fetched for a reason of its own (no-url, filtered, ...)
        return row
    result = results.get(url)
    if result is None:
        row["status"] = url_status(plan_row.get("action"), None)
        return row
    row.update((k, v) for k, v in result.items() if k in row and k != "img_url")
    return row


def url_status(action: str | None, result: dict | None) -> str:
    """A URL's status: its result's, else what its action means when nothing was requested."""
    if result is not None:
        return result["status"]
    return "skipped-small" if action == "skip" else "not-done"


def _image_json(entry: dict, up, seen, ext: str) -> dict:
    """The per-image JSON, with img2dataset's field names (url, key, caption, status, width, height, ...)."""
    return {"url": entry["img_url"], "key": entry["key"], "caption": up.alt, "status": "success",
            "error_message": None, "width": seen.width, "height": seen.height, "original_width": seen.width,
            "original_height": seen.height, "sha256": entry.get("sha256"), "format": seen.format,
            "content_type": entry.get("content_type"), "bytes": entry.get("bytes"),
            "fetch_time": entry.get("fetch_time"), "final_url": entry.get("final_url"), "page_url": up.page_url,
            "p_big": round(up.p_big, 4),
            "thumbnails": {str(s): f"{entry['key']}.thumb{s}.{ext}" for s in seen.thumbnails}}
