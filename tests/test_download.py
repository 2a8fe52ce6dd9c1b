"""The downloader against a local HTTP server on 127.0.0.1 (started and stopped by the tests)."""

from __future__ import annotations

import multiprocessing as mp
import os
import stat
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from cvhelpers.download import ChecksumError, DataError, check_file, download, file_hash, safe_extract

pytestmark = pytest.mark.network
PAYLOAD = os.urandom(300_000)


def _leftovers(folder: Path):
    """Partial files (``.<name>.<key>.part``) and their records left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name)


def test_success_verifies_and_writes_atomically(server, tmp_path):
    h = server.add("data.bin", PAYLOAD)
    dest = tmp_path / "out" / "data.bin"
    assert download(server.url("ok", "data.bin"), dest, hashes=(h,), size=len(PAYLOAD), progress=False) == dest
    assert dest.read_bytes() == PAYLOAD
    assert _leftovers(dest.parent) == []
    # A second call finds the verified file and does not download again.
    download(server.url("ok", "data.bin"), dest, hashes=(h,), progress=False)
    assert server.count("ok", "data.bin") == 1


def test_404_is_one_clear_line_naming_url_and_fix(server, tmp_path):
    server.add("x.bin", PAYLOAD)
    url = server.url("404", "x.bin")
    with pytest.raises(DataError) as err:
        download(url, tmp_path / "x.bin", progress=False, backoff=0)
    msg = str(err.value)
    assert "\n" not in msg and url in msg and "404" in msg and str(tmp_path / "x.bin") in msg
    assert server.count("404", "x.bin") == 1  # a 404 is not retried
    assert not (tmp_path / "x.bin").exists() and _leftovers(tmp_path) == []


def test_403_is_not_retried(server, tmp_path):
    server.add("x.bin", PAYLOAD)
    with pytest.raises(DataError, match="403"):
        download(server.url("403", "x.bin"), tmp_path / "x.bin", progress=False, backoff=0)
    assert server.count("403", "x.bin") == 1


def test_500_then_success_is_retried(server, tmp_path):
    h = server.add("f.bin", PAYLOAD)
    server.fail_times = 2
    dest = download(server.url("flaky", "f.bin"), tmp_path / "f.bin", hashes=(h,), progress=False, backoff=0.01)
    assert dest.read_bytes() == PAYLOAD
    assert server.count("flaky", "f.bin") == 3


def test_500_forever_gives_up_with_clear_error(server, tmp_path):
    server.add("f.bin", PAYLOAD)
    server.fail_times = 99
    with pytest.raises(DataError, match="HTTP 500"):
        download(server.url("flaky", "f.bin"), tmp_path / "f.bin", progress=False, retries=2, backoff=0.01)
    assert server.count("flaky", "f.bin") == 3
    assert list(tmp_path.iterdir()) == [tmp_path / "f.bin.lock"] or not (tmp_path / "f.bin").exists()


def test_truncated_body_is_retried_then_fails_without_leaving_a_file(server, tmp_path):
    server.add("t.bin", PAYLOAD)
    with pytest.raises(DataError, match="closed before the whole file"):
        download(server.url("truncated", "t.bin"), tmp_path / "t.bin", progress=False, retries=1, backoff=0.01)
    assert server.count("truncated", "t.bin") == 2
    assert not (tmp_path / "t.bin").exists()
    left = _leftovers(tmp_path)  # kept, with the record of where it came from, so that the next try resumes
    assert len(left) == 2 and left[0].startswith(".t.bin.") and left[0].endswith(".part") and left[1] == left[0] + ".json"


def test_reset_then_resume_with_range(server, tmp_path):
    h = server.add("big.bin", PAYLOAD)
    dest = download(server.url("resetonce", "big.bin"), tmp_path / "big.bin", hashes=(h,), progress=False, backoff=0.01)
    assert dest.read_bytes() == PAYLOAD
    assert server.count("resetonce", "big.bin") == 2
    assert len(server.ranges) == 1 and 0 < server.ranges[0] < len(PAYLOAD)  # only the rest was sent again
    assert _leftovers(tmp_path) == []


def test_partial_from_a_killed_process_is_resumed(server, tmp_path):
    h = server.add("p.bin", PAYLOAD)
    url = server.url("resetonce", "p.bin")
    with pytest.raises(DataError, match="the next try from this source resumes"):
        download(url, tmp_path / "p.bin", hashes=(h,), progress=False, retries=0)  # gives up after the reset
    download(url, tmp_path / "p.bin", hashes=(h,), progress=False)  # a later call, as after a killed kernel
    assert (tmp_path / "p.bin").read_bytes() == PAYLOAD
    assert len(server.ranges) == 1 and 0 < server.ranges[0] < len(PAYLOAD)
    assert _leftovers(tmp_path) == []


def test_part_of_unknown_origin_is_not_resumed(server, tmp_path):
    """A part with no record of its source (an old version's .part, garbage) is never continued."""
    h = server.add("g.bin", PAYLOAD)
    (tmp_path / ".g.bin.part").write_bytes(b"garbage" * 10)
    download(server.url("ok", "g.bin"), tmp_path / "g.bin", hashes=(h,), progress=False)
    assert (tmp_path / "g.bin").read_bytes() == PAYLOAD and server.ranges == []
    assert _leftovers(tmp_path) == []


def test_connection_reset_mid_body(server, tmp_path):
    server.add("r.bin", PAYLOAD)
    with pytest.raises(DataError):
        download(server.url("reset", "r.bin"), tmp_path / "r.bin", progress=False, retries=1, backoff=0.01)
    assert server.count("reset", "r.bin") == 2
    assert not (tmp_path / "r.bin").exists()


def test_wrong_bytes_fail_the_checksum_and_are_not_kept(server, tmp_path):
    server.add("w.bin", PAYLOAD)
    wrong = "sha256:" + "0" * 64
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        download(server.url("ok", "w.bin"), tmp_path / "w.bin", hashes=(wrong,), progress=False)
    assert not (tmp_path / "w.bin").exists() and _leftovers(tmp_path) == []


def test_wrong_size_fails(server, tmp_path):
    h = server.add("s.bin", PAYLOAD)
    with pytest.raises(ChecksumError, match="bytes"):
        download(server.url("ok", "s.bin"), tmp_path / "s.bin", hashes=(h,), size=len(PAYLOAD) + 1, progress=False)


def test_corrupt_existing_file_is_replaced(server, tmp_path):
    h = server.add("c.bin", PAYLOAD)
    dest = tmp_path / "c.bin"
    dest.write_bytes(b"half a file")
    download(server.url("ok", "c.bin"), dest, hashes=(h,), progress=False)
    assert dest.read_bytes() == PAYLOAD


def test_md5_hashes_are_accepted(server, tmp_path):
    import hashlib

    server.add("m.bin", PAYLOAD)
    md5 = "md5:" + hashlib.md5(PAYLOAD).hexdigest()
    download(server.url("ok", "m.bin"), tmp_path / "m.bin", hashes=(md5,), progress=False)
    assert check_file(tmp_path / "m.bin", (md5,))
    assert not check_file(tmp_path / "m.bin", ("md5:" + "1" * 32,))


def test_paths_with_spaces(server, tmp_path):
    h = server.add("my file (1).bin", PAYLOAD)
    dest = tmp_path / "a folder with spaces" / "my file (1).bin"
    download(server.url("ok", "my file (1).bin"), dest, hashes=(h,), progress=False)
    assert file_hash(dest) == h.split(":")[1]


def test_no_network_fails_fast(tmp_path):
    t = time.monotonic()
    with pytest.raises(DataError, match="network error"):
        # port 9 on loopback: nothing listens, connection refused at once
        download("http://127.0.0.1:9/x.bin", tmp_path / "x.bin", progress=False, retries=2, backoff=0.01)
    assert time.monotonic() - t < 10


def _worker(url, dest, h, q):
    try:
        download(url, dest, hashes=(h,), progress=False)
        q.put(("ok", Path(dest).read_bytes() == PAYLOAD_BIG))
    except Exception as exc:  # pragma: no cover - reported to the parent
        q.put(("error", repr(exc)))


PAYLOAD_BIG = bytes(range(256)) * 8000  # 2 MB, deterministic so child processes agree


@pytest.mark.slow  # seconds of real archive work: not in `make unit`
def test_four_processes_fetching_one_file(server, tmp_path):
    h = server.add("big.bin", PAYLOAD_BIG)
    dest = tmp_path / "big.bin"
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(server.url("slow", "big.bin"), str(dest), h, q)) for _ in range(4)]
    for p in procs:
        p.start()
    results = [q.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert results == [("ok", True)] * 4
    assert server.count("slow", "big.bin") == 1  # one download; the other three waited on the lock
    assert _leftovers(tmp_path) == []


# ----------------------------------------------------------------------------- archives
def _zip(path: Path, entries):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            if mode is not None:
                info.external_attr = mode << 16
            zf.writestr(info, data)
    return path


@pytest.mark.parametrize("bad", ["../evil.txt", "/etc/evil.txt", "a/../../evil.txt", "C:/evil.txt"])
def test_zip_with_escaping_paths_is_refused(tmp_path, bad):
    arc = _zip(tmp_path / "bad.zip", [("ok.txt", b"fine", None), (bad, b"evil", None)])
    with pytest.raises(DataError, match="refusing"):
        safe_extract(arc, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil.txt").exists()


def test_zip_with_symlink_is_refused(tmp_path):
    arc = _zip(tmp_path / "link.zip", [("link", b"/etc/passwd", stat.S_IFLNK | 0o777)])
    with pytest.raises(DataError, match="link"):
        safe_extract(arc, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_tar_with_symlink_or_dotdot_is_refused(tmp_path):
    arc = tmp_path / "bad.tar.gz"
    with tarfile.open(arc, "w:gz") as tf:
        info = tarfile.TarInfo("sneaky")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tf.addfile(info)
    with pytest.raises(DataError, match="link"):
        safe_extract(arc, tmp_path / "out")
    arc2 = tmp_path / "bad2.tar"
    with tarfile.open(arc2, "w") as tf:
        import io

        info = tarfile.TarInfo("../up.txt")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"abc"))
    with pytest.raises(DataError, match=r"\.\."):
        safe_extract(arc2, tmp_path / "out2")
    assert not (tmp_path / "up.txt").exists()


def test_good_zip_and_tar_extract(tmp_path):
    arc = _zip(tmp_path / "good.zip", [("d/a b.txt", b"hello", None), ("d/sub/c.txt", b"c", None)])
    out = safe_extract(arc, tmp_path / "out zip")
    assert (out / "d" / "a b.txt").read_bytes() == b"hello"
    arc2 = tmp_path / "good.tar.gz"
    with tarfile.open(arc2, "w:gz") as tf:
        tf.add(out / "d", arcname="d")
    out2 = safe_extract(arc2, tmp_path / "out tar")
    assert (out2 / "d" / "sub" / "c.txt").read_bytes() == b"c"
    assert [p.name for p in tmp_path.iterdir() if ".extract-" in p.name] == []


def test_not_an_archive(tmp_path):
    f = tmp_path / "x.zip"
    f.write_bytes(b"not an archive")
    with pytest.raises(DataError, match="not a zip or tar"):
        safe_extract(f, tmp_path / "out")


@pytest.mark.parametrize("kind", ["truncated zip", "bad crc zip", "truncated tar.gz", "html page"])
def test_a_damaged_archive_is_one_line_and_removed_when_allowed(tmp_path, kind):
    """Issue 21: a damaged archive is a DataError (no BadZipFile/ReadError traceback), removed when it is ours."""
    if kind.endswith("zip"):
        good = _zip(tmp_path / "good.zip", [(f"d/{i}.txt", bytes([i]) * 5000, None) for i in range(20)])
    elif kind == "truncated tar.gz":
        good = tmp_path / "good.tar.gz"
        with tarfile.open(good, "w:gz") as tf:
            import io

            for i in range(20):
                info = tarfile.TarInfo(f"d/{i}.bin")
                info.size = 50_000
                tf.addfile(info, io.BytesIO(os.urandom(50_000)))
    blob = good.read_bytes() if kind != "html page" else b"<!DOCTYPE html><html>log in</html>"
    if kind.startswith("truncated"):
        blob = blob[: len(blob) // 2]
    elif kind == "bad crc zip":  # the structure is intact, one member's compressed bytes are not
        blob = bytearray(blob)
        at = blob.index(b"d/10.txt") + len("d/10.txt") + 10
        blob[at] ^= 0xFF
        blob = bytes(blob)
    for remove in (False, True):
        arc = tmp_path / f"damaged-{remove}{'.zip' if 'zip' in kind else '.tar.gz'}"
        arc.write_bytes(blob)
        with pytest.raises(DataError) as err:
            safe_extract(arc, tmp_path / f"out-{remove}", remove_damaged=remove)
        msg = str(err.value)
        assert "\n" not in msg and str(arc) in msg and "damaged" in msg, msg
        assert ("removed" in msg) == remove and arc.exists() != remove, msg
        assert "fetch it" in msg
        assert not (tmp_path / f"out-{remove}").exists()  # nothing half-extracted
        assert [p.name for p in tmp_path.iterdir() if ".extract-" in p.name] == []


def test_md5_and_sha1_work_on_a_fips_system(server, tmp_path, monkeypatch):
    """Issue 21: FIPS-mode OpenSSL refuses MD5/SHA-1 unless asked with usedforsecurity=False."""
    import hashlib

    real_new, real_md5, real_sha1 = hashlib.new, hashlib.md5, hashlib.sha1

    def refuse(name, kwargs):
        if name.lower() in ("md5", "sha1") and kwargs.get("usedforsecurity", True):
            raise ValueError(f"[digital envelope routines] unsupported: {name} disabled for FIPS")

    def fips_new(name, *args, **kwargs):
        refuse(name, kwargs)
        return real_new(name, *args, **kwargs)

    def fips_md5(*args, **kwargs):
        refuse("md5", kwargs)
        return real_md5(*args, **kwargs)

    def fips_sha1(*args, **kwargs):
        refuse("sha1", kwargs)
        return real_sha1(*args, **kwargs)

    md5 = "md5:" + real_md5(PAYLOAD).hexdigest()
    blob = "gitblob:" + real_sha1(b"blob %d\0" % len(PAYLOAD) + PAYLOAD).hexdigest()
    sha1 = "sha1:" + real_sha1(PAYLOAD).hexdigest()
    server.add("fips.bin", PAYLOAD)
    monkeypatch.setattr(hashlib, "new", fips_new)
    monkeypatch.setattr(hashlib, "md5", fips_md5)
    monkeypatch.setattr(hashlib, "sha1", fips_sha1)
    with pytest.raises(ValueError, match="FIPS"):  # the simulation bites where the keyword is missing
        hashlib.md5(b"x")
    for i, h in enumerate((md5, blob, sha1)):
        dest = tmp_path / f"fips{i}.bin"
        download(server.url("ok", "fips.bin"), dest, hashes=(h,), progress=False)  # the part's name uses SHA-1 too
        assert check_file(dest, (h,))
    assert file_hash(dest, "md5") == md5.split(":")[1]
