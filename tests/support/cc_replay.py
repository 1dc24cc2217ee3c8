"""Replays the recorded real exchanges with Common Crawl's servers on a local HTTP server.

``../shared/data/cdx/cdx_toolkit_mock_responses/`` holds real requests to index.commoncrawl.org (collinfo,
CDX JSON lines for three crawls, 404 "No Captures found" and 400 "Page 1 invalid" bodies, showNumPages) and
byte-range GETs on data.commoncrawl.org (base64 bodies of real gzipped WARC records), recorded by cdx_toolkit's
tests in September 2025.  This server answers with them, so the Common Crawl dialect is tested over real HTTP.

How a request finds its recording (the rules a real pywb index server would make equivalent):

- ``url=X/*`` and ``url=X/&matchType=prefix`` are one query, as are ``*.X`` and ``X&matchType=domain``;
- ``from`` is ignored: cdx_toolkit added a "one year ago" default that depends on the day it was recorded;
- ``output`` and ``limit`` are ignored for matching, but an answer is cut to the requested ``limit``;
  among recordings that differ only in limit, the largest answer is used;
- a missing ``page`` is page 0; showNumPages ignores ``filter`` (a ZipNum page count does not depend on it);
- ``https://index.commoncrawl.org`` in answers (collinfo's cdx-api links) becomes this server's address, as a
  mirror would serve it.

Anything else gets ``501 {"message": "no recorded exchange ..."}`` and is listed in ``unmatched``.
Data requests (``/crawl-data/...``) must carry the Range header the recorded CDX line implies.
"""
from __future__ import annotations

import ast
import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

CC_INDEX = "https://index.commoncrawl.org"
CC_DATA = "https://data.commoncrawl.org"


def _norm_url(url: str, match: str | None) -> tuple[str, str]:
    if url.startswith("*."):
        return url[2:], "domain"
    if url.endswith("*"):
        return url[:-1], "prefix"
    return url, match or "exact"


def index_key(path: str, params: dict[str, list[str]]) -> tuple:
    """What identifies an index query, after the equivalences above."""
    one = {k: v[-1] for k, v in params.items()}
    url, match = _norm_url(one.get("url", ""), one.get("matchType"))
    count = one.get("showNumPages") == "true"
    filters = () if count else tuple(sorted(params.get("filter", [])))
    rest = tuple(sorted((k, v) for k, v in one.items()
                        if k not in ("url", "matchType", "from", "output", "limit", "filter", "page", "showNumPages")))
    return path, url, match, filters, "count" if count else one.get("page", "0"), rest


def _params(recorded) -> dict[str, list[str]]:
    if recorded in (None, "None"):
        return {}
    raw = ast.literal_eval(recorded) if isinstance(recorded, str) else recorded
    out = {}
    for k, v in raw.items():
        if v is None:
            continue
        out[k] = [str(x) for x in v] if isinstance(v, (list, tuple)) else [str(v)]
    return out


@dataclass
class Recording:
    status: int
    body: bytes
    content_type: str
    lines: int  # CDX lines in a JSON-lines answer (for limit), 0 otherwise


@dataclass
class ReplayServer:
    recordings_dir: Path
    index: dict[tuple, list[Recording]] = field(default_factory=dict)
    data: dict[str, bytes] = field(default_factory=dict)  # path -> record bytes
    captures: list[dict] = field(default_factory=list)  # every recorded CDX JSON line
    requests: list[str] = field(default_factory=list)  # path?query of every request served
    unmatched: list[str] = field(default_factory=list)
    port: int = 0

    def load(self) -> "ReplayServer":
        for f in sorted(self.recordings_dir.rglob("*.jsonl")):
            for raw in f.read_text().splitlines():
                if raw.strip():
                    self._add(json.loads(raw))
        return self

    def _add(self, rec: dict) -> None:
        url = rec["url"]
        status = int(rec["response_status_code"])
        headers = rec.get("response_headers") or "{}"
        headers = ast.literal_eval(headers) if isinstance(headers, str) else headers
        if url.startswith(CC_DATA):
            self.data[urlsplit(url).path] = base64.b64decode(rec["response_text"])
            return
        if not url.startswith(CC_INDEX):
            path = urlsplit(url).path  # the Wayback Machine's CDX (another dialect), example.com/404
        else:
            path = url[len(CC_INDEX):]
        text = rec["response_text"]
        lines = 0
        if text.startswith("{\"urlkey\""):
            rows = [json.loads(ln) for ln in text.splitlines() if ln.strip()]
            self.captures += rows
            lines = len(rows)
        key = index_key(path, _params(rec.get("request_params")))
        ctype = str(headers.get("Content-Type", "application/json"))
        self.index.setdefault(key, []).append(Recording(status, text.encode(), ctype, lines))

    def answer(self, path: str, query: str) -> tuple[int, bytes, str]:
        params = parse_qs(query, keep_blank_values=True)
        found = self.index.get(index_key(path, params))
        if not found:
            self.unmatched.append(f"{path}?{query}")
            return 501, json.dumps({"message": f"no recorded exchange for {path}?{query}"}).encode(), "application/json"
        rec = max(found, key=lambda r: r.lines)
        body = rec.body.replace(CC_INDEX.encode(), f"http://127.0.0.1:{self.port}".encode())
        limit = params.get("limit", [None])[-1]
        if rec.lines and limit is not None and limit.isdigit():
            body = b"".join(ln + b"\n" for ln in body.splitlines()[: int(limit)])
        return rec.status, body, rec.content_type

    def serve(self) -> "ReplayServer":
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean; requests are in replay.requests
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                replay.requests.append(self.path)
                if parts.path in replay.data:
                    self._data(replay.data[parts.path])
                    return
                status, body, ctype = replay.answer(parts.path, parts.query)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _data(self, record: bytes):
                """A recorded WARC record, served only for the byte range its CDX line names."""
                expected = [c for c in replay.captures if "/" + c["filename"] == urlsplit(self.path).path
                            and int(c["length"]) == len(record)]
                want = {f"bytes={c['offset']}-{int(c['offset']) + int(c['length']) - 1}" for c in expected}
                if self.headers.get("Range") not in want:
                    self.send_response(416)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    replay.unmatched.append(f"{self.path} Range {self.headers.get('Range')}")
                    return
                self.send_response(206)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(record)))
                self.send_header("Content-Range", f"{self.headers['Range'].replace('=', ' ')}/*")
                self.end_headers()
                self.wfile.write(record)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
