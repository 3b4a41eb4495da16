"""A real headless Chromium for page tests: started by the test, driven over DevTools.

No websocket client is among our dependencies, so ``DevTools`` speaks the few
parts of RFC 6455 the DevTools protocol needs (client handshake, masked text
frames out, text/continuation/ping/close frames in) over a plain socket.
Every request the browser makes goes through ``RecordingProxy``, a loopback HTTP
proxy that answers 403 and remembers the request, so "no external request" is
checked at the network edge as well as in the page's own Network events.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import socket
import struct
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from support import apt_install

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3


# Debian's /usr/bin/chromium is a wrapper that sources /etc/chromium.d: Google API keys
# (sign-in traffic) and --enable-remote-extensions (extension updates). The binary
# behind it runs with our flags only.
DEBIAN_BINARY = Path("/usr/lib/chromium/chromium")


def ensure_chromium() -> Path:
    """Debian's Chromium binary; installed (apt-get update first) when it is missing."""
    if not DEBIAN_BINARY.is_file():
        apt_install("chromium")
    assert DEBIAN_BINARY.is_file(), f"apt-get installed chromium but {DEBIAN_BINARY} is missing"
    return DEBIAN_BINARY


# Chromium's own services, which a fresh profile calls a few seconds after start
# whatever the page, flags or not (measured with about:blank too: update.googleapis.com,
# clients2.google.com, accounts.google.com; other builds may call other Google
# services). Any other host in the proxy's log was asked for by the page.
BROWSER_SERVICE_DOMAINS = ("google.com", "googleapis.com", "gstatic.com")


def is_browser_service(host: str) -> bool:
    """True for a host of Chromium's own services (``BROWSER_SERVICE_DOMAINS``)."""
    return any(host == d or host.endswith("." + d) for d in BROWSER_SERVICE_DOMAINS)


def request_host(request: str) -> str:
    """The host of a proxy log line (``CONNECT h:443`` or ``GET http://h/...``)."""
    target = request.split()[1]
    return (urlsplit(target).hostname if "://" in target else target.rsplit(":", 1)[0]) or ""


class RecordingProxy(http.server.ThreadingHTTPServer):
    """A loopback proxy that lets nothing through and records what was asked."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _refuse(self) -> None:
                proxy.requests.append(f"{self.command} {self.path}")
                self.send_error(403, "no network in this test")

            do_GET = do_POST = do_HEAD = do_CONNECT = do_PUT = do_OPTIONS = _refuse

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the requests are kept in ``proxy.requests``."""

        super().__init__(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()


class DevTools:
    """One websocket to a page target; ``call`` sends a command and collects events."""

    def __init__(self, ws_url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(ws_url)
        self._sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        self._in = self._sock.makefile("rb")
        key = base64.b64encode(os.urandom(16)).decode()
        self._sock.sendall((f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                            ).encode())
        status = self._in.readline()
        headers = {}
        while (line := self._in.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
        assert b" 101 " in status and headers.get("sec-websocket-accept") == accept, status
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def close(self) -> None:
        self._in.close()
        self._sock.close()

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send ``method``; return its result (events meanwhile go to ``events``)."""
        self._next_id += 1
        ident = self._next_id
        self._send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self._receive())
            if message.get("id") == ident:
                assert "error" not in message, message["error"]
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        """Read events until ``method`` arrives (or one already did)."""
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while time.monotonic() < deadline:
            message = json.loads(self._receive())
            if "method" in message:
                self.events.append(message)
                if message["method"] == method:
                    return message
        raise TimeoutError(f"no {method} within {timeout} s")

    def _send(self, text: str) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x81, 0x80 | size)
        elif size < 1 << 16:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, size)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self._sock.sendall(header + mask + masked)

    def _receive(self) -> str:
        parts: list[bytes] = []
        while True:
            first, second = self._read(2)
            opcode, size = first & 0x0F, second & 0x7F
            if size == 126:
                (size,) = struct.unpack("!H", self._read(2))
            elif size == 127:
                (size,) = struct.unpack("!Q", self._read(8))
            mask = self._read(4) if second & 0x80 else b""
            data = self._read(size)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the websocket")
            if opcode == 0x9:  # ping: answer pong (masked, as a client must)
                pong = os.urandom(4)
                self._sock.sendall(struct.pack("!BB", 0x8A, 0x80 | len(data)) + pong
                                   + bytes(b ^ pong[i % 4] for i, b in enumerate(data)))
                continue
            if opcode in (0x1, 0x0):
                parts.append(data)
                if first & 0x80:  # FIN
                    return b"".join(parts).decode()

    def _read(self, size: int) -> bytes:
        data = self._in.read(size)
        if len(data) != size:
            raise ConnectionError("DevTools websocket ended mid-frame")
        return data


# The browser's own traffic (component updater, sign-in, safe browsing, metrics) off,
# so any request the proxy sees is one the page caused.
_QUIET_BROWSER = (
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--no-default-browser-check", "--disable-extensions",
    "--disable-default-apps", "--disable-component-extensions-with-background-pages",
    "--disable-domain-reliability", "--disable-client-side-phishing-detection",
    "--disable-breakpad", "--no-pings", "--metrics-recording-only",
    "--safebrowsing-disable-auto-update", "--disable-features=Translate,OptimizationHints,"
    "MediaRouter,DialMediaRouteProvider,AutofillServerCommunication,"
    "CertificateTransparencyComponentUpdater,SigninInterceptBubble,AccountConsistency",
)


@contextmanager
def headless_chromium(profile: Path, proxy: RecordingProxy) -> Iterator[DevTools]:
    """Start Chromium with every request sent to ``proxy``; yield DevTools on its page."""
    binary = ensure_chromium()
    profile.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [str(binary), "--headless", "--no-sandbox", "--disable-gpu", *_QUIET_BROWSER,
         f"--user-data-dir={profile}", "--remote-debugging-port=0",
         f"--proxy-server={proxy.url}", "--proxy-bypass-list=<-loopback>",
         "--window-size=1280,2400", "about:blank"],
        env={k: v for k, v in os.environ.items() if not k.startswith("GOOGLE_")},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    devtools = None
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.is_file() and port_file.read_text().count("\n") >= 1):
            assert process.poll() is None, f"chromium exited with {process.returncode}"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.05)  # polling a file the browser writes once it listens
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            targets = json.load(answer)
        page = next(t for t in targets if t["type"] == "page")
        devtools = DevTools(page["webSocketDebuggerUrl"])
        yield devtools
    finally:
        if devtools is not None:
            devtools.close()
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
