"""Shared fixtures: an isolated data environment and a misbehaving HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parent.parent

# The stand-in google.colab and its IPython start-up file run only inside `make colab-check`'s kernels
# (collecting them would put a fake google.colab into the test session).
collect_ignore = ["colab/standin"]


def shared_data_dir() -> Path | None:
    """The offline mirror (CVHELPERS_DATA_DIR as CI sets it, or ../shared/data beside the repo)."""
    raw = os.environ.get("CVHELPERS_DATA_DIR") or str(REPO.parent / "shared" / "data")
    p = Path(raw)
    return p if (p / "MANIFEST.md").is_file() or (p / "mnist.npz").is_file() else None


@pytest.fixture
def mirror_dir():
    d = shared_data_dir()
    if d is None:
        pytest.skip("the offline data mirror is not here (set CVHELPERS_DATA_DIR)")
    return d


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    """No data dir, an empty cache under tmp, no mirrors, network allowed, full profile."""
    for var in ("CVHELPERS_DATA_DIR", "CVHELPERS_MIRROR", "CVHELPERS_OFFLINE", "CVHELPERS_FAST", "CVHELPERS_CATS_VS_DOGS"):
        monkeypatch.delenv(var, raising=False)
    cache = tmp_path / "cache dir with spaces"
    monkeypatch.setenv("CVHELPERS_CACHE_DIR", str(cache))
    return cache


class Server:
    """Files served under /<name>; behaviour chosen by the first path segment.

    /ok/NAME        the bytes of NAME
    /404/NAME       404
    /403/NAME       403
    /flaky/NAME     500 for the first ``fail_times`` requests of NAME, then the bytes
    /truncated/NAME Content-Length of the whole file, half the body, then close
    /reset/NAME     half the body, then a TCP reset
    /resetonce/NAME the first request as /reset, later ones honour Range (resume)
    /ok/NAME also honours "Range: bytes=N-" with a 206 (416 past the end), sends an ETag and
                    Last-Modified, and answers "If-Range" with a different ETag by the whole file
    /slow/NAME      the bytes, slowly (for concurrency tests)
    /switch/NAME    behaves as the mode in ``server.switch`` (default "ok"): one URL whose
                    behaviour a test changes between two fetches
    /loop/NAME      a redirect to itself, for ever
    /drip/NAME      Content-Length of the whole file, then ``drip_size`` bytes (default 1) every
                    ``drip_every`` s for ``drip_for`` s, then the rest
    /overlong/NAME  the whole file under a Content-Length 100 bytes too long, then close
    /416/NAME       416 to any Range request (a part it cannot continue), else the bytes
    /busy/NAME      503 with "Retry-After: ``retry_after``" for ``fail_times`` requests, then as /ok
    /portal/NAME    200 with an HTML login page (a captive portal)
    """

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.hits: dict[str, int] = {}
        self.fail_times = 2
        self.ranges: list[int] = []  # start offsets of Range requests served
        self.requests: list[tuple[str, dict]] = []  # (path, headers) of every request
        self.switch = "ok"
        self.drip_every, self.drip_for, self.drip_size = 0.25, 8.0, 1
        self.retry_after = "1"
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def _empty(self, code, **headers):
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k.replace("_", "-"), v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):  # noqa: N802
                import time

                parts = unquote(self.path).lstrip("/").split("/", 1)
                mode, name = (parts + [""])[:2]
                with outer.lock:
                    outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                    n = outer.hits[self.path]
                    outer.requests.append((self.path, dict(self.headers)))
                if mode == "switch":
                    mode = outer.switch
                if mode == "loop":
                    self._empty(302, Location=self.path)
                    return
                body = outer.files.get(name)
                if mode in ("404", "403") or body is None:
                    self._empty(403 if mode == "403" else 404)
                    return
                if mode == "flaky" and n <= outer.fail_times:
                    self._empty(500)
                    return
                if mode == "busy":
                    if n <= outer.fail_times:
                        self._empty(503, Retry_After=outer.retry_after)
                        return
                    mode = "ok"
                if mode == "portal":
                    page = b"<!DOCTYPE html>\n<html><head><title>Guest Wi-Fi</title></head><body>Log in</body></html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                rng = self.headers.get("Range", "")
                if mode == "416" and rng:
                    self._empty(416, Content_Range=f"bytes */{len(body)}")
                    return
                if mode == "resetonce" and n == 1:
                    mode = "reset"
                elif rng.startswith("bytes=") and mode in ("ok", "resetonce"):
                    if_range = self.headers.get("If-Range")
                    start = int(rng[6:].split("-")[0])
                    if if_range is None or if_range == etag:
                        if start >= len(body):
                            self._empty(416, Content_Range=f"bytes */{len(body)}")
                            return
                        outer.ranges.append(start)
                        self.send_response(206)
                        self.send_header("ETag", etag)
                        self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                        self.send_header("Content-Length", str(len(body) - start))
                        self.end_headers()
                        self.wfile.write(body[start:])
                        return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body) + (100 if mode == "overlong" else 0)))
                if mode in ("ok", "resetonce", "416", "truncated"):
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", "Sat, 01 Nov 2025 10:00:00 GMT")
                self.end_headers()
                if mode in ("truncated", "reset", "overlong"):
                    self.wfile.write(body if mode == "overlong" else body[: len(body) // 2])
                    self.wfile.flush()
                    if mode == "reset":
                        time.sleep(0.3)  # let the client read the first half before the reset
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                if mode == "slow":
                    step = max(1, len(body) // 20)
                    for i in range(0, len(body), step):
                        self.wfile.write(body[i:i + step])
                        self.wfile.flush()
                        time.sleep(0.05)
                    return
                if mode == "drip":
                    t0, i = time.monotonic(), 0
                    try:
                        while i < len(body) and time.monotonic() - t0 < outer.drip_for:
                            self.wfile.write(body[i:i + outer.drip_size])
                            self.wfile.flush()
                            i += outer.drip_size
                            time.sleep(outer.drip_every)
                        self.wfile.write(body[i:])
                    except OSError:  # the client gave up: that is the point
                        pass
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def add(self, name: str, data: bytes) -> str:
        self.files[name] = data
        return "sha256:" + hashlib.sha256(data).hexdigest()

    def url(self, mode: str, name: str) -> str:
        from urllib.parse import quote

        return f"{self.base}/{mode}/{quote(name)}"

    def count(self, mode: str, name: str) -> int:
        from urllib.parse import quote

        return self.hits.get(f"/{mode}/{quote(name)}", 0)


def _serve():
    s = Server()
    s.thread.start()
    try:
        yield s
    finally:
        s.httpd.shutdown()
        s.httpd.server_close()


@pytest.fixture
def server():
    yield from _serve()


@pytest.fixture
def server2():
    """A second, independent server (a mirror beside the official site)."""
    yield from _serve()
