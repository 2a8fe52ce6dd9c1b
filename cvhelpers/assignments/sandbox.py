"""The wall around a submission while it runs: bubblewrap (``bwrap``, Debian/Ubuntu package
``bubblewrap``), no Docker needed.

:func:`command` wraps a command line so that it runs

- as user 65534 (``nobody``) without any capability, in its own user namespace;
- with its own PID namespace, so every process it starts dies with it (``--die-with-parent``);
- without network (a new, empty network namespace) and with a new session (no terminal);
- seeing the file system **read-only and only in part**: the system folders, the Python it runs
  with, the ``cvhelpers`` package and the course data (``CVHELPERS_DATA_DIR`` and the data cache),
  nothing else — not the teacher's home, the other submissions, the autograder or the CSV;
- writing only to its own size-limited ``/tmp`` (a tmpfs, gone when it ends);
- with limits on memory (address space), processes, file size, open files and no core dumps;
- with only an allow-listed environment (:data:`ENV_ALLOWED`), not the teacher's.

What it cannot stop is in the instructor guide's "Trust" section (assignments/README.md).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

#: Variables passed into the sandbox when the teacher has them set (the rest is not).
ENV_ALLOWED = ("CVHELPERS_FAST", "CVHELPERS_SEED", "CVHELPERS_THREADS", "CVHELPERS_DETERMINISTIC", "CVHELPERS_DATA_DIR",
               "CVHELPERS_CACHE_DIR", "KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL", "LANG", "LC_ALL", "TZ")
#: The files of /etc a Python program needs.
ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd", "/etc/group",
       "/etc/nsswitch.conf", "/etc/alternatives", "/etc/os-release", "/etc/mime.types", "/etc/fonts")
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install "
                "bubblewrap) on a Linux machine with user namespaces, or pass --no-sandbox to run submissions "
                "unconfined (each can then read and change whatever your user can: only for code you trust)")


@functools.lru_cache(maxsize=1)
def unavailable() -> str:
    """Why no sandbox can be made here ('' when one can)."""
    if not sys.platform.startswith("linux"):
        return f"no sandbox on {sys.platform} (bubblewrap needs Linux)"
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    probe = command(["/bin/true"], memory=None)
    try:
        proc = subprocess.run(probe, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap does not start: {exc}"
    if proc.returncode != 0:
        why = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        return f"bwrap cannot make a sandbox here ({why}; are user namespaces disabled?)"
    return ""


def _python_paths() -> list[Path]:
    """The folders the running Python needs: its installation, the venv, the site-packages."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix),
             Path(os.path.realpath(sys.executable)).parent.parent}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        p = sysconfig.get_paths().get(key)
        if p:
            paths.add(Path(p))
    return [p.resolve() for p in paths if p.exists()]


def _package_dir() -> Path:
    """The ``cvhelpers`` package folder (in site-packages, or a checkout's ``cvhelpers/``)."""
    return Path(__file__).resolve().parents[1]


def data_paths() -> list[Path]:
    """The course data the sandbox may read: ``CVHELPERS_DATA_DIR`` entries and the data cache."""
    out = []
    for raw in os.environ.get("CVHELPERS_DATA_DIR", "").split(os.pathsep):
        if raw.strip() and Path(raw).expanduser().is_dir():
            out.append(Path(raw).expanduser().resolve())
    try:
        from cvhelpers import data
        cache = data.cache_dir()
        if cache.is_dir():
            out.append(cache.resolve())
    except Exception:  # noqa: BLE001 - no cache yet: nothing to show
        pass
    return out


def environment(home: str = "/tmp/home") -> dict:
    """The sandbox's whole environment: the allow-list, plus what Python and the course need."""
    env = {k: os.environ[k] for k in ENV_ALLOWED if k in os.environ}
    pkg_parent = str(_package_dir().parent)
    env.update({"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin", "HOME": home,
                "TMPDIR": "/tmp", "PYTHONPATH": pkg_parent, "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{home}/.matplotlib",
                "KERAS_HOME": f"{home}/.keras", "CVHELPERS_OFFLINE": "1", "CUDA_VISIBLE_DEVICES": ""})
    cache = next((p for p in data_paths() if "CVHELPERS_CACHE_DIR" not in env), None)
    if cache is not None and "CVHELPERS_CACHE_DIR" not in os.environ:
        try:
            from cvhelpers import data
            env["CVHELPERS_CACHE_DIR"] = str(data.cache_dir().resolve())
        except Exception:  # noqa: BLE001
            pass
    env.setdefault("LANG", "C.UTF-8")
    return env


def command(argv: list[str], memory: int | None = 4 * 2**30, processes: int = 256, file_size: int = 256 * 2**20,
            tmp_size: int = 512 * 2**20, env: dict | None = None) -> list[str]:
    """``argv`` wrapped in bwrap (and, for root, run as ``nobody``) with the limits above.

    ``memory`` is the address-space limit in bytes (``None``: none).
    """
    bw = ["bwrap", "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
          "--hostname", "sandbox", "--proc", "/proc", "--dev", "/dev",
          "--size", str(tmp_size), "--tmpfs", "/tmp", "--dir", "/tmp/home"]
    for d in ("/usr", "/opt"):
        if os.path.isdir(d):
            bw += ["--ro-bind", d, d]
    for f in ETC:  # not the whole of /etc: no shadow, no ssh keys, no machine secrets
        if os.path.exists(f):
            bw += ["--ro-bind", f, f]
    for d in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(d):
            bw += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            bw += ["--ro-bind", d, d]
    seen = set()
    for p in [*_python_paths(), _package_dir(), *data_paths()]:
        s = str(p)
        if s not in seen and not any(s.startswith(x.rstrip("/") + "/") for x in ("/usr", "/etc", "/opt")):
            seen.add(s)
            bw += ["--ro-bind", s, s]
    bw += ["--clearenv"]
    for k, v in (environment() if env is None else env).items():
        bw += ["--setenv", k, v]
    bw += ["--chdir", "/tmp/home", "--"]
    limits = ["prlimit", f"--nproc={processes}", f"--fsize={file_size}", "--nofile=1024", "--core=0"]
    if memory:
        limits.append(f"--as={int(memory)}")
    return bw + limits + ["--"] + list(argv)


class ProcessLimit:
    """A cap on the number of processes of one sandbox, for a teacher running as root.

    ``RLIMIT_NPROC`` (set by :func:`command`) does not bind processes that belong to root outside
    the namespace, so as root the sandbox is also put in a cgroup with ``pids.max`` (v2, or v1's
    ``pids`` controller) where one can be made. ``enforced`` says whether the cap holds.
    """

    def __init__(self, processes: int = 256):
        self.path = None
        if os.geteuid() != 0:
            self.enforced = True
            return
        for base in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")):
            if (base / "cgroup.procs").exists() and os.access(base, os.W_OK):
                try:
                    p = base / f"cvhelpers-sandbox-{os.getpid()}-{id(self)}"
                    p.mkdir()
                    (p / "pids.max").write_text(str(processes))
                    self.path = p
                    break
                except OSError:
                    continue
        self.enforced = self.path is not None

    def enter(self):  # preexec_fn: runs in the child before exec
        if self.path is not None:
            with open(self.path / "cgroup.procs", "w") as f:
                f.write(str(os.getpid()))

    def close(self):
        if self.path is not None:
            try:
                self.path.rmdir()
            except OSError:
                pass
