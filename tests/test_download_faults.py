"""The data layer on networks that misbehave as classroom networks do (issue 12, section 3).

Each test reproduces one fault against local servers on 127.0.0.1 that the tests start and stop
(see ``Server`` in conftest.py): redirect loops, a mirror that breaks off while the official site
is unreachable, two sources with different bytes under one name, HTTP 416, a server that dribbles,
folder mirrors, Retry-After, captive portals, and git blob checksums. The time limits are set
tiny through the environment variables a user would set, so that every test takes seconds.
"""

from __future__ import annotations

import email.utils
import functools
import hashlib
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from cvhelpers import cli
from cvhelpers import data as D
from cvhelpers.fetch import downloader as DL  # the engine itself (its private _Part is tested)
from cvhelpers.fetch import sources  # fetch() downloads through sources.download
from cvhelpers.download import ChecksumError, DataError, check_file, download, file_hash

pytestmark = pytest.mark.network
PAYLOAD = bytes(range(256)) * 1200  # 300 kB
OTHER = bytes(reversed(PAYLOAD))  # same name and size, other bytes (as the course's and Keras' mnist.npz)
REFUSED = "http://127.0.0.1:9/official/"  # nothing listens: connection refused at once


def _parts(folder: Path):
    return sorted(p for p in folder.iterdir() if p.name.endswith(".part"))


@pytest.fixture
def quick(monkeypatch):
    """``fetch`` retries once with a 10 ms back-off (the defaults would take seconds)."""
    monkeypatch.setattr(sources, "download", functools.partial(download, retries=1, backoff=0.01))


def _register(monkeypatch, name, data, urls, filename=None):
    art = D.Artifact(filename or name, ("sha256:" + hashlib.sha256(data).hexdigest(),), None, tuple(urls))
    monkeypatch.setitem(D.REGISTRY, name, D.Dataset(name, "a test dataset", (art,), "test licence", "test citation"))
    return art


def _broken_off(server, name, data, folder, mode="truncated"):
    """Leave a part of ``name`` from ``/switch/name``, as a download the server broke off; return (url, hash)."""
    h = server.add(name, data)
    url = server.url("switch", name)
    server.switch = mode
    with pytest.raises(DataError):
        download(url, folder / name, progress=False, retries=0)
    return url, h


def _cli(capsys, *args):
    t = time.monotonic()
    rc = cli.main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err.strip().splitlines(), time.monotonic() - t


# ----------------------------------------------------------------------------- 1. redirect loop
def test_redirect_loop_is_one_error_line(clean_env, monkeypatch, server, capsys):
    server.add("loop.bin", PAYLOAD)
    _register(monkeypatch, "loopy", PAYLOAD, [server.url("loop", "loop.bin")])
    rc, out, err, _ = _cli(capsys, "data", "fetch", "loopy")
    assert rc == 1 and out == ""
    assert len(err) == 1 and err[0].startswith("error: ") and "redirect" in err[0], err
    assert server.count("loop", "loop.bin") > 1  # urllib followed the redirects before giving up


def test_every_data_error_is_one_line():
    assert str(DataError("first line\nsecond line\n  third")) == "first line second line third"
    assert str(ChecksumError("a\r\nb")) == "a b"


# ----------------------------------------------------------------------------- 2. the mirror's part survives
@pytest.fixture
def no_dns(monkeypatch):
    """Name lookups of *.invalid fail at once, as every lookup does in an offline classroom."""
    import socket

    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if str(host).endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize("official", ["no DNS", "404"])
def test_mirror_part_survives_a_failing_official_url_and_is_resumed(clean_env, monkeypatch, server, quick, no_dns,
                                                                    official):
    server.add("m.bin", PAYLOAD)
    url = "http://official.invalid/m.bin" if official == "no DNS" else server.url("404", "m.bin")
    _register(monkeypatch, "mirrored", PAYLOAD, [url], "m.bin")
    monkeypatch.setenv("CVHELPERS_MIRROR", f"{server.base}/switch")
    server.switch = "truncated"  # the mirror breaks off half-way, every time
    with pytest.raises(DataError) as err:
        D.fetch("mirrored", progress=False)
    assert "\n" not in str(err.value) and "kept" in str(err.value)
    (part,) = _parts(clean_env)
    assert part.stat().st_size == len(PAYLOAD) // 2  # the official attempt did not delete it
    server.switch = "ok"  # next lesson: the mirror works again
    (p,) = D.fetch("mirrored", progress=False)
    assert p.read_bytes() == PAYLOAD
    assert server.ranges == [len(PAYLOAD) // 2]  # resumed: only the second half was sent again
    assert _parts(clean_env) == []


# ----------------------------------------------------------------------------- 3. same name, other bytes
def test_a_part_is_not_resumed_from_a_source_with_other_bytes(clean_env, monkeypatch, server, server2, quick):
    server.add("n.npz", PAYLOAD)  # official: the registered bytes
    server2.add("n.npz", OTHER)  # mirror: a different file of the same name and size
    _register(monkeypatch, "twofiles", PAYLOAD, [server.url("ok", "n.npz")], "n.npz")
    monkeypatch.setenv("CVHELPERS_MIRROR", f"{server2.base}/truncated")
    for _ in range(2):  # the old code failed the checksum on every try
        (p,) = D.fetch("twofiles", progress=False)
        assert p.read_bytes() == PAYLOAD
        p.unlink()
    assert server.ranges == []  # the official URL was never asked to continue the mirror's part


def test_a_part_is_not_resumed_when_the_file_changed_on_the_server(server, tmp_path):
    url, _ = _broken_off(server, "c.bin", OTHER, tmp_path)
    server.files["c.bin"] = PAYLOAD  # the file was replaced (its ETag changed)
    server.switch = "ok"
    h = "sha256:" + hashlib.sha256(PAYLOAD).hexdigest()
    download(url, tmp_path / "c.bin", hashes=(h,), progress=False)
    assert (tmp_path / "c.bin").read_bytes() == PAYLOAD
    last_path, last_headers = server.requests[-1]
    assert "If-Range" in last_headers and server.ranges == []  # asked "only if unchanged", got it whole


def test_a_resumed_file_that_fails_its_checksum_is_fetched_again_from_byte_0(server, tmp_path):
    url, _ = _broken_off(server, "v.bin", OTHER, tmp_path, "reset")  # no validators to tell a change
    server.files["v.bin"] = PAYLOAD
    server.switch = "ok"
    h = "sha256:" + hashlib.sha256(PAYLOAD).hexdigest()
    download(url, tmp_path / "v.bin", hashes=(h,), progress=False)
    assert (tmp_path / "v.bin").read_bytes() == PAYLOAD
    assert server.ranges == [len(OTHER) // 2] and server.count("switch", "v.bin") == 3
    assert _parts(tmp_path) == []


# ----------------------------------------------------------------------------- 4. HTTP 416
def test_416_on_a_complete_part_accepts_it_after_verifying(server, tmp_path):
    h = server.add("f.bin", PAYLOAD)
    url = server.url("switch", "f.bin")
    server.switch = "overlong"  # all the bytes arrive, but the announced length was larger
    with pytest.raises(DataError, match="closed before the whole file"):
        download(url, tmp_path / "f.bin", hashes=(h,), progress=False, retries=0)
    (part,) = _parts(tmp_path)
    assert part.read_bytes() == PAYLOAD
    server.switch = "ok"  # "bytes=300000-" is past the end: 416
    download(url, tmp_path / "f.bin", hashes=(h,), progress=False)
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD
    assert server.ranges == [] and server.count("switch", "f.bin") == 2  # no second full download


def test_416_on_an_incomplete_part_restarts_without_range(server, tmp_path):
    url, h = _broken_off(server, "g.bin", PAYLOAD, tmp_path)
    server.switch = "416"  # refuses every Range request
    download(url, tmp_path / "g.bin", hashes=(h,), progress=False)
    assert (tmp_path / "g.bin").read_bytes() == PAYLOAD
    assert "Range" not in server.requests[-1][1] and "Range" in server.requests[-2][1]


# ----------------------------------------------------------------------------- 5. too slow
@pytest.fixture
def tiny_limits(monkeypatch):
    monkeypatch.setenv("CVHELPERS_MIN_SPEED", "1000")  # bytes/s
    monkeypatch.setenv("CVHELPERS_SPEED_WINDOW", "1")  # s
    monkeypatch.setenv("CVHELPERS_STALL_TIMEOUT", "3")  # s


def test_a_dribbling_server_is_given_up_in_bounded_time_and_the_part_kept(server, tmp_path, tiny_limits):
    server.add("d.bin", PAYLOAD)
    server.drip_every, server.drip_for = 0.2, 8.0  # 5 bytes/s for 8 s (the old code waited it out)
    t = time.monotonic()
    with pytest.raises(DataError) as err:
        download(server.url("drip", "d.bin"), tmp_path / "d.bin", progress=False, backoff=0.01)
    took = time.monotonic() - t
    msg = str(err.value)
    assert took < 5, took
    assert "too slow" in msg and "\n" not in msg and "kept" in msg
    assert server.count("drip", "d.bin") == 1  # too slow is not retried
    (part,) = _parts(tmp_path)
    assert 0 < part.stat().st_size < len(PAYLOAD)


def test_the_deadline_bounds_a_download(server, tmp_path, monkeypatch):
    server.add("e.bin", PAYLOAD)
    server.drip_every, server.drip_for = 0.05, 8.0
    monkeypatch.setenv("CVHELPERS_MIN_SPEED", "0")  # off: only the deadline applies
    monkeypatch.setenv("CVHELPERS_DEADLINE", "1.5")
    t = time.monotonic()
    with pytest.raises(DataError, match="too slow.*deadline of 1.5 s"):
        download(server.url("drip", "e.bin"), tmp_path / "e.bin", progress=False)
    assert time.monotonic() - t < 5


def test_limits_from_keywords_and_bad_values(server, tmp_path, monkeypatch):
    server.add("k.bin", PAYLOAD)
    server.drip_every, server.drip_for = 0.2, 8.0
    with pytest.raises(DataError, match="too slow"):
        download(server.url("drip", "k.bin"), tmp_path / "k.bin", progress=False, min_speed=1000, speed_window=0.5)
    monkeypatch.setenv("CVHELPERS_MIN_SPEED", "fast")
    with pytest.raises(DataError, match="CVHELPERS_MIN_SPEED='fast' is not a number"):
        download(server.url("ok", "k.bin"), tmp_path / "k.bin", progress=False)


def test_a_slow_but_steady_line_passes_the_minimum_speed(server, tmp_path, tiny_limits):
    """Above the minimum speed (here 5 kB/s against 1 kB/s, windows of 1 s) nothing is cut off."""
    data = PAYLOAD[:8_000]
    h = server.add("s.bin", data)
    server.drip_every, server.drip_for, server.drip_size = 0.1, 60.0, 500
    download(server.url("drip", "s.bin"), tmp_path / "s.bin", hashes=(h,), progress=False)
    assert (tmp_path / "s.bin").read_bytes() == data


# ----------------------------------------------------------------------------- 6. folder mirrors
def test_folder_mirror_after_unusable_entries(clean_env, monkeypatch, server, tmp_path, capsys):
    share = tmp_path / "course-data"
    (share / "weights").mkdir(parents=True)
    (share / "t.bin").write_bytes(PAYLOAD)
    (share / "weights" / "w.h5").write_bytes(OTHER)
    _register(monkeypatch, "local", PAYLOAD, [server.url("ok", "t.bin")], "t.bin")
    monkeypatch.setitem(D.WEIGHTS, ("testnet", False),
                        D.Artifact("weights/w.h5", ("sha256:" + hashlib.sha256(OTHER).hexdigest(),), None, ()))
    monkeypatch.setenv("CVHELPERS_MIRROR", f"ftp://nowhere /no/such/folder {share}")
    (p,) = D.fetch("local", progress=False)
    assert p == clean_env / "t.bin" and p.read_bytes() == PAYLOAD  # copied into the cache, verified
    assert D.weights_path("testnet") == str(clean_env / "weights" / "w.h5")
    assert server.hits == {}
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert len(notes) == 2  # each skipped entry said once (not again for the weights), in one line
    assert "ftp://nowhere" in notes[0] and "/no/such/folder" in notes[1]


def test_a_single_folder_with_spaces_in_its_path(clean_env, monkeypatch, server, tmp_path):
    share = tmp_path / "Course Data"
    share.mkdir()
    (share / "s.bin").write_bytes(PAYLOAD)
    _register(monkeypatch, "spaced", PAYLOAD, [server.url("ok", "s.bin")], "s.bin")
    monkeypatch.setenv("CVHELPERS_MIRROR", f"{share}/")
    (p,) = D.fetch("spaced", progress=False)
    assert p.read_bytes() == PAYLOAD and server.hits == {}


def test_file_url_mirror_and_offline(clean_env, monkeypatch, server, tmp_path):
    share = tmp_path / "share with space"
    share.mkdir()
    (share / "u.bin").write_bytes(PAYLOAD)
    _register(monkeypatch, "fileurl", PAYLOAD, [server.url("ok", "u.bin")], "u.bin")
    monkeypatch.setenv("CVHELPERS_MIRROR", "file://" + quote(str(share)))
    monkeypatch.setenv("CVHELPERS_OFFLINE", "1")  # a folder is not the network
    (p,) = D.fetch("fileurl", progress=False)
    assert p.read_bytes() == PAYLOAD and server.hits == {}


def test_bad_folder_copy_and_garbage_entries_fall_back_to_the_official_url(clean_env, monkeypatch, server, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    (share / "b.bin").write_bytes(OTHER)  # the wrong file
    h = server.add("b.bin", PAYLOAD)
    _register(monkeypatch, "badcopy", PAYLOAD, [server.url("ok", "b.bin")], "b.bin")
    monkeypatch.setenv("CVHELPERS_MIRROR", f"::garbage:: {share}")
    (p,) = D.fetch("badcopy", progress=False)
    assert p.read_bytes() == PAYLOAD and server.count("ok", "b.bin") == 1
    assert [q.name for q in clean_env.iterdir() if "copy" in q.name] == []


def test_all_sources_failing_is_one_line_naming_each(clean_env, monkeypatch, tmp_path, capsys, quick):
    empty = tmp_path / "empty"
    empty.mkdir()
    _register(monkeypatch, "nowhere", PAYLOAD, [REFUSED + "x.bin"], "x.bin")
    monkeypatch.setenv("CVHELPERS_MIRROR", f"/no/such/folder {empty}")
    rc, out, err, took = _cli(capsys, "data", "fetch", "nowhere")
    assert rc == 1 and len(err) == 1 and err[0].startswith("error: x.bin: every source failed")
    assert "/no/such/folder" in err[0] and str(empty / "x.bin") in err[0] and "127.0.0.1:9" in err[0]
    assert took < 10


# ----------------------------------------------------------------------------- Retry-After
def test_retry_after_seconds_is_honoured(server, tmp_path):
    h = server.add("r.bin", PAYLOAD)
    server.fail_times, server.retry_after = 1, "1"
    t = time.monotonic()
    download(server.url("busy", "r.bin"), tmp_path / "r.bin", hashes=(h,), progress=False, backoff=0.01)
    assert time.monotonic() - t >= 0.9  # waited as asked, not the 10 ms back-off
    assert server.count("busy", "r.bin") == 2


@pytest.mark.parametrize("when", ["3600", "date"])
def test_retry_after_beyond_the_limits_is_not_waited_for(server, tmp_path, when):
    server.add("r.bin", PAYLOAD)
    server.fail_times = 99
    server.retry_after = "3600" if when == "3600" else email.utils.formatdate(time.time() + 7200, usegmt=True)
    t = time.monotonic()
    with pytest.raises(DataError, match=r"HTTP 503.*asks to wait \d[\d,]* s"):
        download(server.url("busy", "r.bin"), tmp_path / "r.bin", progress=False, backoff=0.01)
    assert time.monotonic() - t < 2 and server.count("busy", "r.bin") == 1


def test_retry_after_never_sleeps_past_the_deadline(server, tmp_path):
    server.add("r.bin", PAYLOAD)
    server.fail_times, server.retry_after = 99, "5"
    t = time.monotonic()
    with pytest.raises(DataError, match="asks to wait 5 s"):
        download(server.url("busy", "r.bin"), tmp_path / "r.bin", progress=False, deadline=2)
    assert time.monotonic() - t < 2


# ----------------------------------------------------------------------------- captive portal
def test_an_html_login_page_is_named_as_such(server, tmp_path):
    h = server.add("p.bin", PAYLOAD)
    with pytest.raises(DataError) as err:
        download(server.url("portal", "p.bin"), tmp_path / "p.bin", hashes=(h,), progress=False, backoff=0.01)
    assert "got an HTML page — are you behind a login portal?" in str(err.value)
    assert server.count("portal", "p.bin") == 1 and not (tmp_path / "p.bin").exists()


def test_a_login_page_does_not_destroy_the_part(server, tmp_path):
    url, h = _broken_off(server, "q.bin", PAYLOAD, tmp_path)
    server.switch = "portal"
    with pytest.raises(DataError, match="login portal"):
        download(url, tmp_path / "q.bin", hashes=(h,), progress=False)
    (part,) = _parts(tmp_path)
    assert part.read_bytes() == PAYLOAD[: len(PAYLOAD) // 2]
    server.switch = "ok"
    download(url, tmp_path / "q.bin", hashes=(h,), progress=False)
    assert (tmp_path / "q.bin").read_bytes() == PAYLOAD and server.ranges == [len(PAYLOAD) // 2]


# ----------------------------------------------------------------------------- git blob checksums
def test_gitblob_checksum(server, tmp_path):
    f = tmp_path / "abc.txt"
    f.write_bytes(b"abc")
    assert file_hash(f, "gitblob") == "f2ba8f84ab5c1bce84a7b441cb1959cfc7093b7f"  # `git hash-object abc.txt`
    assert check_file(f, ("gitblob:f2ba8f84ab5c1bce84a7b441cb1959cfc7093b7f",))
    assert not check_file(f, ("gitblob:" + "0" * 40,))
    blob = "gitblob:" + hashlib.sha1(b"blob %d\0" % len(PAYLOAD) + PAYLOAD).hexdigest()
    server.add("b.bin", PAYLOAD)
    download(server.url("ok", "b.bin"), tmp_path / "b.bin", hashes=(blob,), progress=False)  # no size needed
    with pytest.raises(ChecksumError, match="gitblob"):
        download(server.url("ok", "b.bin"), tmp_path / "c.bin", hashes=("gitblob:" + "1" * 40,), progress=False)


def test_gitblob_of_the_real_hoda_files(mirror_dir):
    """The blob ids in MANIFEST.md (from the public repository) match the offline copies."""
    folder = mirror_dir / "hoda_cdb"
    if not folder.is_dir():
        pytest.skip("no hoda_cdb/ in the offline mirror")
    assert check_file(folder / "Test 20000.cdb", ("gitblob:1928104d6d0537c653ec2105d666e0b6733aabbf",))
    assert check_file(folder / "RemainingSamples.cdb", ("gitblob:9d2fcb7a4e6ce0f8657a2bf27a6751f2317b2d52",))


def test_part_files_are_named_per_source(tmp_path):
    a = DL._Part(tmp_path / "x.npz", "http://mirror/x.npz")
    b = DL._Part(tmp_path / "x.npz", "https://official/x.npz")
    assert a.path != b.path and a.path.name.startswith(".x.npz.") and a.record.name == a.path.name + ".json"


# ----------------------------------------------------------------------------- SSL certificate
def _self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 made here (``cryptography`` or the ``openssl`` CLI), or skip."""
    import datetime
    import ipaddress
    import shutil
    import subprocess

    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        openssl = shutil.which("openssl")
        if openssl is None:
            pytest.skip("neither the cryptography package nor the openssl command is here")
        done = subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                               "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                               "-keyout", str(key), "-out", str(cert)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"openssl could not make a certificate: {done.stderr.strip()[-200:]}")
        return cert, key
    pkey = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    crt = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(pkey.public_key())
           .serial_number(x509.random_serial_number())
           .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
           .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
           .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
           .sign(pkey, hashes.SHA256()))
    cert.write_bytes(crt.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(pkey.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return cert, key


@pytest.fixture
def https_server(tmp_path):
    """An HTTPS server on 127.0.0.1 with a self-signed certificate; counts the connections it accepts."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    cert, key = _self_signed_cert(tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)

    class TLSServer(ThreadingHTTPServer):
        daemon_threads = True
        connections = 0

        def get_request(self):
            sock, addr = super().get_request()
            self.connections += 1
            sock.settimeout(5)
            return ctx.wrap_socket(sock, server_side=True), addr  # a failed handshake is dropped quietly

    httpd = TLSServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield httpd, f"https://127.0.0.1:{httpd.server_address[1]}", cert
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_certificate_that_fails_verification_is_not_retried_and_says_what_to_do(https_server, tmp_path,
                                                                                   monkeypatch):
    httpd, base, cert = https_server
    for var in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(var, raising=False)
    t = time.monotonic()
    with pytest.raises(DataError) as err:
        download(f"{base}/x.bin", tmp_path / "x.bin", progress=False, backoff=1)  # 4 retries by default
    msg = str(err.value)
    assert time.monotonic() - t < 1 and httpd.connections == 1  # not retried: asking again won't heal it
    assert "\n" not in msg and msg.startswith(f"{base}/x.bin: SSL certificate verification failed (")
    assert "self-signed" in msg or "self signed" in msg, msg
    assert "proxy" in msg and "pip install -U certifi" in msg and "SSL_CERT_FILE" in msg
    assert msg.endswith(f"download it by hand and save it as {tmp_path / 'x.bin'}")
    assert err.value.reason == f"{base}/x.bin: " + msg.split(": ", 1)[1].split(", usually")[0]
    assert not (tmp_path / "x.bin").exists() and _parts(tmp_path) == []
    # what the message advises works: a certificate store that holds the certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    download(f"{base}/x.bin", tmp_path / "x.bin", progress=False)
    assert (tmp_path / "x.bin").read_bytes() == PAYLOAD


def test_a_certificate_failure_through_the_data_layer_names_the_fix(clean_env, https_server, monkeypatch, quick):
    httpd, base, _ = https_server
    _register(monkeypatch, "tls", PAYLOAD, [f"{base}/t.bin"], "t.bin")
    with pytest.raises(DataError) as err:
        D.fetch("tls", progress=False)
    msg = str(err.value)
    assert "SSL certificate verification failed" in msg and "certifi" in msg and "CVHELPERS_MIRROR" in msg, msg
    assert httpd.connections == 1
