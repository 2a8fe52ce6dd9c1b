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
    /ok/NAME also honours "Range: bytes=N-" with a 206
    /slow/NAME      the bytes, slowly (for concurrency tests)
    """

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.hits: dict[str, int] = {}
        self.fail_times = 2
        self.ranges: list[int] = []  # start offsets of Range requests served
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):  # noqa: N802
                parts = unquote(self.path).lstrip("/").split("/", 1)
                mode, name = (parts + [""])[:2]
                with outer.lock:
                    outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                    n = outer.hits[self.path]
                body = outer.files.get(name)
                if mode in ("404", "403") or body is None:
                    code = 403 if mode == "403" else 404
                    self.send_response(code)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if mode == "flaky" and n <= outer.fail_times:
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                rng = self.headers.get("Range", "")
                if mode == "resetonce" and n == 1:
                    mode = "reset"
                elif rng.startswith("bytes=") and mode in ("ok", "resetonce"):
                    start = int(rng[6:].split("-")[0])
                    outer.ranges.append(start)
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                    self.send_header("Content-Length", str(len(body) - start))
                    self.end_headers()
                    self.wfile.write(body[start:])
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if mode in ("truncated", "reset"):
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    if mode == "reset":
                        import time

                        time.sleep(0.3)  # let the client read the first half before the reset
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                if mode == "slow":
                    import time

                    step = max(1, len(body) // 20)
                    for i in range(0, len(body), step):
                        self.wfile.write(body[i:i + step])
                        self.wfile.flush()
                        time.sleep(0.05)
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


@pytest.fixture
def server():
    s = Server()
    s.thread.start()
    try:
        yield s
    finally:
        s.httpd.shutdown()
        s.httpd.server_close()
