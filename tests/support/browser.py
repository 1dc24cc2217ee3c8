"""A real headless Chromium (Debian's package) driven over the DevTools protocol, for page tests.

`open_page(url, screenshot)` loads a page, waits for its load event, and returns what a person
would notice: console errors and warnings, uncaught exceptions, failed resource loads (a missing
chart is "Failed to load resource"), and every <img> with its natural size; the screenshot is saved
as PNG.  Chromium starts with an empty profile in a temporary folder and the flags that work on
these machines (no sandbox as root, no GPU, no network services).
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--window-size=1280,2400", "--enable-logging=stderr", "--v=0"]


def chromium_path() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def unavailable() -> str | None:
    if chromium_path() is None:
        return "no Chromium on PATH (apt-get install -y --no-install-recommends chromium; .ci/run does it)"
    try:
        import websocket  # noqa: F401
    except ImportError:
        return "websocket-client is not installed (pip install -e '.[dev]')"
    return None


@dataclass
class PageResult:
    errors: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    title: str = ""


class _Session:
    def __init__(self, ws):
        self.ws, self.next_id, self.events = ws, 0, []

    def call(self, method: str, timeout: float = 30, **params) -> dict:
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == ident:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)
        raise TimeoutError(method)


def _errors(events: list[dict]) -> list[str]:
    out = []
    for msg in events:
        method, params = msg.get("method"), msg.get("params", {})
        if method == "Runtime.exceptionThrown":
            out.append("exception: " + params["exceptionDetails"].get("text", ""))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
            out.append(f"console.{params['type']}: " + " ".join(str(a.get("value", a.get("description")))
                                                               for a in params.get("args", [])))
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            entry = params["entry"]
            out.append(f"log {entry['level']}: {entry.get('text')} {entry.get('url', '')}".strip())
        elif method == "Network.loadingFailed":
            out.append(f"load failed: {params.get('errorText')}")
    return out


def open_page(url: str, screenshot: str | os.PathLike, settle: float = 0.5) -> PageResult:
    import websocket

    profile = tempfile.mkdtemp(prefix="ccimg-chromium-")
    proc = subprocess.Popen([chromium_path(), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        browser_ws = None
        deadline = time.monotonic() + 60
        while browser_ws is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {proc.returncode}")
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                browser_ws = m.group(1)
        if browser_ws is None:
            raise TimeoutError("chromium did not report its DevTools address")
        ws = websocket.create_connection(browser_ws, timeout=60, suppress_origin=True)
        browser = _Session(ws)
        target = browser.call("Target.createTarget", url="about:blank")["targetId"]
        session_id = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = _PageSession(browser, session_id)
        for domain in ("Runtime", "Log", "Page", "Network"):
            page.call(f"{domain}.enable")
        page.call("Page.navigate", url=url)
        page.wait_for("Page.loadEventFired")
        time.sleep(settle)  # late console messages
        images = page.call("Runtime.evaluate", returnByValue=True, expression=(
            "Array.from(document.images).map(i => ({src: i.getAttribute('src'), complete: i.complete, "
            "width: i.naturalWidth, height: i.naturalHeight}))"))["result"]["value"]
        title = page.call("Runtime.evaluate", returnByValue=True, expression="document.title")["result"]["value"]
        shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(shot))
        page.drain()
        result = PageResult(errors=_errors(page.events), images=images, title=title)
        ws.close()
        return result
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


class _PageSession:
    """A flattened target session: the browser socket, messages tagged with the session id."""

    def __init__(self, browser: _Session, session_id: str):
        self.browser, self.session_id, self.events = browser, session_id, []

    def _recv(self) -> dict:
        return json.loads(self.browser.ws.recv())

    def call(self, method: str, timeout: float = 30, **params) -> dict:
        self.browser.next_id += 1
        ident = self.browser.next_id
        self.browser.ws.send(json.dumps({"id": ident, "method": method, "params": params,
                                         "sessionId": self.session_id}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self._recv()
            if msg.get("id") == ident:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if msg.get("sessionId") == self.session_id:
                self.events.append(msg)
        raise TimeoutError(method)

    def wait_for(self, event: str, timeout: float = 30) -> dict:
        for msg in self.events:
            if msg.get("method") == event:
                return msg
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self._recv()
            if msg.get("sessionId") == self.session_id:
                self.events.append(msg)
                if msg.get("method") == event:
                    return msg
        raise TimeoutError(event)

    def drain(self, quiet: float = 0.2) -> None:
        """Read what is still queued (messages that arrived after the last answer)."""
        ws = self.browser.ws
        ws.settimeout(quiet)
        try:
            while True:
                msg = self._recv()
                if msg.get("sessionId") == self.session_id:
                    self.events.append(msg)
        except Exception:  # noqa: BLE001 - the timeout ends the drain
            pass
        finally:
            ws.settimeout(60)
