"""A small headless-Chromium driver (Chrome DevTools Protocol over ``--remote-debugging-pipe``,
stdlib only) for the report's browser tests, and the tests that prove it notices what it must:
a dialog, a console error, an uncaught exception, a network request, a blank screenshot.

The browser runs with the network cut (a proxy that does not exist, every host name unresolvable);
whatever the page still tries to fetch is recorded through ``Network.requestWillBeSent``.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from base64 import b64decode
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    found = find_chromium()
    if not found:
        pytest.skip(
            "no chromium on PATH: install it (Debian: apt-get install chromium; .ci/run does) to run browser tests"
        )
    return found


@dataclass
class PageLoad:
    """What happened while a page loaded."""

    dialogs: list[dict[str, Any]] = field(default_factory=list)
    console: list[dict[str, Any]] = field(default_factory=list)  # console API calls (every level)
    log: list[dict[str, Any]] = field(default_factory=list)  # browser log entries (CSP violations, load errors)
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL the page asked for (the page itself included)
    blocked: list[str] = field(default_factory=list)  # of those, what the browser refused to send (CSP...)

    @property
    def sent(self) -> list[str]:
        """The requests that were not blocked before leaving the page."""
        left = list(self.requests)
        for url in self.blocked:
            if url in left:
                left.remove(url)
        return left

    @property
    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser log errors, as text."""
        out = [json.dumps(c.get("args"))[:300] for c in self.console if c.get("type") in ("error", "assert")]
        for e in self.exceptions:
            details = e.get("exceptionDetails", {})
            out.append(f"{details.get('text')} {details.get('exception', {}).get('description', '')}"[:300])
        out += [f"{e.get('source')}: {e.get('text')}"[:300] for e in self.log if e.get("level") == "error"]
        return out


class Browser:
    """One headless Chromium; ``load(url)`` opens a fresh tab and records what the page does."""

    def __init__(self, *, javascript: bool = True, width: int = 1280, height: int = 900) -> None:
        exe = require_chromium()
        self._profile = tempfile.mkdtemp(prefix="tf-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def place_pipes() -> None:  # the protocol's fixed descriptors: 3 = commands in, 4 = replies out
            # Copy first: a pipe end may already be 3 or 4, and dup2 onto itself keeps close-on-exec.
            commands, replies = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(commands, 3)
            os.dup2(replies, 4)

        args = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--proxy-server=http://127.0.0.1:9",  # nothing listens there: no request can leave
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={self._profile}",
            f"--window-size={width},{height}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=place_pipes,
            close_fds=False,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        self.javascript = javascript
        self.width, self.height = width, height

    # -- protocol --------------------------------------------------------------------------------
    def _send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> int:
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        return self._next_id

    def _read(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buf:
            if time.monotonic() > deadline:
                raise TimeoutError("chromium did not answer")
            import select

            ready, _, _ = select.select([self._from_child], [], [], 0.5)
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None, timeout: float = 60
    ) -> dict[str, Any]:
        wanted = self._send(method, params, session)
        while True:
            msg = self._read(timeout)
            if msg.get("id") == wanted:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self._events.append(msg)

    def _drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self._events.append(self._read(max(end - time.monotonic(), 0.05)))
            except TimeoutError:
                return

    # -- pages -----------------------------------------------------------------------------------
    def load(self, url: str, *, settle: float = 0.5) -> Page:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=session)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        if not self.javascript:
            self.call("Emulation.setScriptExecutionDisabled", {"value": True}, session=session)
        self._events.clear()
        self.call("Page.navigate", {"url": url}, session=session)
        load = PageLoad()
        deadline = time.monotonic() + 60
        loaded = False
        while not loaded and time.monotonic() < deadline:
            msg = self._read(60)
            self._events.append(msg)
            loaded = msg.get("method") == "Page.loadEventFired" and msg.get("sessionId") == session
            if msg.get("method") == "Page.javascriptDialogOpening":  # answer it, or the page hangs
                self._send("Page.handleJavaScriptDialog", {"accept": False}, session)
        self._drain(settle)
        urls: dict[str, str] = {}
        for msg in self._events:
            if msg.get("sessionId") != session:
                continue
            m, p = msg.get("method"), msg.get("params", {})
            if m == "Page.javascriptDialogOpening":
                load.dialogs.append(p)
            elif m == "Runtime.consoleAPICalled":
                load.console.append(p)
            elif m == "Runtime.exceptionThrown":
                load.exceptions.append(p)
            elif m == "Log.entryAdded":
                load.log.append(p.get("entry", {}))
            elif m == "Network.requestWillBeSent":
                urls[p.get("requestId", "")] = p.get("request", {}).get("url", "")
                load.requests.append(urls[p.get("requestId", "")])
            elif m == "Network.loadingFailed" and p.get("blockedReason"):
                load.blocked.append(urls.get(p.get("requestId", ""), ""))
        return Page(self, session, load)

    def close(self) -> None:
        try:
            self._send("Browser.close")
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait(timeout=10)
        finally:
            os.close(self._to_child)
            os.close(self._from_child)
            shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Page:
    def __init__(self, browser: Browser, session: str, load: PageLoad) -> None:
        self.browser, self.session, self.load = browser, session, load

    def js(self, expression: str) -> Any:
        """Evaluate in the page (works with the page's scripts disabled: this is the debugger's realm)."""
        result = self.browser.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=self.session
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluation failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, *, full_page: bool = False) -> bytes:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.js("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            params["clip"] = {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.browser.call("Page.captureScreenshot", params, session=self.session)["data"]
        return b64decode(data)


# -- PNG: enough of a decoder to tell a blank screenshot from a real one -----------------------------
def png_pixels(png: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, bytes per pixel, rows) of an 8-bit RGB/RGBA, non-interlaced PNG."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    height = colour_type = 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        chunk = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and interlace == 0 and colour_type in (2, 6), (depth, colour_type, interlace)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    bpp = 4 if colour_type == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def distinct_colours(png: bytes, step: int = 7) -> int:
    """How many different colours a sample of the pixels has (1 for a blank page)."""
    width, height, bpp, rows = png_pixels(png)
    seen = set()
    for y in range(0, height, step):
        row = rows[y]
        for x in range(0, width, step):
            seen.add(row[x * bpp : x * bpp + 3])
    return len(seen)


# -- the driver's own tests: each check can fail ---------------------------------------------------
@pytest.fixture(scope="module")
def browser() -> Any:
    require_chromium()
    with Browser() as b:
        yield b


def _page(tmp_path: Path, name: str, html: str) -> str:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path.as_uri()


def test_driver_sees_dialogs_console_errors_and_exceptions(browser: Browser, tmp_path: Path) -> None:
    url = _page(
        tmp_path,
        "bad.html",
        "<p>x</p><script>alert('boom'); console.error('broken'); throw new Error('uncaught');</script>",
    )
    load = browser.load(url).load
    assert [d.get("message") for d in load.dialogs] == ["boom"]
    assert any("broken" in e for e in load.errors)
    assert any("uncaught" in e for e in load.errors)


def test_driver_sees_requests_and_csp_blocks_them(browser: Browser, tmp_path: Path) -> None:
    url = _page(tmp_path, "fetch.html", '<img src="http://example.invalid/pixel.png"><p>x</p>')
    assert any("example.invalid" in r for r in browser.load(url).load.sent)
    csp = '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
    url = _page(tmp_path, "csp.html", csp + '<img src="http://example.invalid/pixel.png"><p>x</p>')
    load = browser.load(url).load
    assert not any("example.invalid" in r for r in load.sent)
    assert any("Content Security Policy" in (e.get("text") or "") for e in load.log)


def test_driver_tells_blank_from_drawn(browser: Browser, tmp_path: Path) -> None:
    blank = browser.load(_page(tmp_path, "blank.html", "<body style='background:#fff'></body>")).screenshot()
    drawn = browser.load(
        _page(
            tmp_path,
            "drawn.html",
            "<h1>Report</h1><svg width=300 height=100><rect width=200 height=50 "
            "fill='#c0392b'/><circle cx=250 cy=50 r=20 fill='#0072B2'/></svg>",
        )
    ).screenshot()
    assert distinct_colours(blank) == 1
    assert distinct_colours(drawn) > 3


def test_driver_can_run_without_javascript(tmp_path: Path) -> None:
    require_chromium()
    url = _page(
        tmp_path, "js.html", "<p id=p>static</p><script>document.getElementById('p').textContent='ran'</script>"
    )
    with Browser(javascript=False) as b:
        assert b.load(url).js("document.getElementById('p').textContent") == "static"
