"""Environment check, seeding and distribution strategy: the first cell of every notebook.

>>> from cvhelpers.env import setup
>>> info = setup(quiet=True)              # doctest: +SKIP
>>> info["profile"] in ("fast", "full")   # doctest: +SKIP
True
"""

from __future__ import annotations

import os
import platform
import random
import sys

from . import profile as _profile

__all__ = ["in_colab", "colab_widgets", "seed_everything", "course_seed", "current_seed", "gpus", "setup", "split_cpu", "strategy", "fixes"]

DEFAULT_SEED = 42
_seeded: list[int] = []  # the last seed seed_everything() set in this process

COLAB_GPU_FIX = ("No GPU in this Colab runtime: Runtime > Change runtime type > Hardware accelerator: GPU, "
                 "then run this cell again.")
LOCAL_GPU_FIX = ("The full profile expects a GPU and TensorFlow sees none. With an NVIDIA card on Linux install "
                 "TensorFlow's CUDA build: `make lab GPU=1` (pip install 'tensorflow[and-cuda]'; `nvidia-smi` must "
                 "work first). Otherwise use Colab's GPU runtime, or the fast profile (CVHELPERS_FAST=1), which is "
                 "sized for a CPU.")


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def course_seed() -> int:
    """The run's seed: ``CVHELPERS_SEED`` if set (a non-negative integer), else 42.

    Change it to see how much a result owes to chance, without editing a notebook
    (``CVHELPERS_SEED=3 make lab``); ``benchmarks/spread.py`` runs notebooks under several seeds.

    >>> import os
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ):          # the environment as it was, afterwards
    ...     _ = os.environ.pop("CVHELPERS_SEED", None)
    ...     print(course_seed())
    42
    """
    raw = os.environ.get("CVHELPERS_SEED", "").strip()
    if not raw:
        return DEFAULT_SEED
    if not raw.isdigit():
        raise ValueError(f"CVHELPERS_SEED={raw!r} is not a non-negative integer: set it to e.g. 42, or unset it")
    return int(raw)


def current_seed() -> int:
    """The seed :func:`seed_everything` last set in this process (else :func:`course_seed`)."""
    return _seeded[-1] if _seeded else course_seed()


def _threads() -> int | None:
    raw = os.environ.get("CVHELPERS_THREADS", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"CVHELPERS_THREADS={raw!r} is not a positive integer: set it to e.g. 1 or 2, or unset it")
    return int(raw)


def seed_everything(seed: int = DEFAULT_SEED) -> None:
    """Seed Python, NumPy and TensorFlow/Keras so that a rerun on this machine gives the same numbers.

    The same seed on another CPU (other kernels, thread scheduling) or a GPU can give other numbers:
    only ``tf.config.experimental.enable_op_determinism()`` (``CVHELPERS_DETERMINISTIC=1`` in
    :func:`setup`) makes repeats exact, and only on the same machine.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    _seeded[:] = [seed]
    random.seed(seed)
    import numpy as np

    np.random.seed(seed)
    import keras

    keras.utils.set_random_seed(seed)  # seeds Python, NumPy and the backend (TensorFlow)


def gpus(memory_growth: bool = True) -> list[dict]:
    """List the GPUs TensorFlow sees (name, compute capability); turn on memory growth.

    Memory growth lets two notebooks share one GPU instead of the first grabbing all memory.
    """
    import tensorflow as tf

    found = []
    for dev in tf.config.list_physical_devices("GPU"):
        if memory_growth:
            try:
                tf.config.experimental.set_memory_growth(dev, True)
            except RuntimeError:  # already initialised: growth can no longer change
                pass
        details = tf.config.experimental.get_device_details(dev) or {}
        found.append({"device": dev.name, "name": details.get("device_name", "GPU"),
                      "compute_capability": details.get("compute_capability")})
    return found


def _mixed_precision(gpu_list: list[dict]) -> str:
    if not gpu_list:
        return "not useful here (no GPU: float16 is slower than float32 on a CPU)"
    caps = [g.get("compute_capability") or (0, 0) for g in gpu_list]
    if all(tuple(c) >= (7, 0) for c in caps):
        return "available: keras.mixed_precision.set_global_policy('mixed_float16')"
    return "runs, but this GPU (compute capability < 7.0) has no tensor cores: little speed-up"


def fixes(info: dict) -> list[str]:
    """What to do about what :func:`setup` found missing (one line per problem).

    A missing GPU is a problem in Colab (a GPU runtime is one click away) and in the full profile;
    on a laptop in the fast profile it is not (that profile is sized for a CPU): :func:`report` then
    prints a neutral note instead.

    >>> fixes({"gpus": [], "colab": False, "profile": "fast"})
    []
    >>> fixes({"gpus": [], "colab": False, "profile": "full"}) == [LOCAL_GPU_FIX]
    True
    """
    out = []
    if not info.get("gpus"):
        if info.get("colab"):
            out.append(COLAB_GPU_FIX)
        elif info.get("profile") != "fast":
            out.append(LOCAL_GPU_FIX)
    if info.get("data_dir_missing"):
        out.append(f"CVHELPERS_DATA_DIR={info['data_dir']} does not exist: fix the path or unset it.")
    if sys.version_info < (3, 10):
        out.append("Python 3.10 or newer is needed: make a new environment (see README).")
    return out


# Lines TensorFlow's C++ core writes to stderr when it is imported, whatever TF_CPP_MIN_LOG_LEVEL says
# (TensorFlow 2.21 on a CPU): information, not errors, that a student would read as errors.
STARTUP_NOISE = ("All log messages before absl::InitializeLog()", "oneDNN custom operations are on",
                 "Unable to register cuDNN", "Unable to register cuFFT", "Unable to register cuBLAS",
                 "computation placer already registered", "TF-TRT Warning", "This TensorFlow binary is optimized",
                 "Could not find cuda drivers", "failed call to cuInit")


def colab_widgets() -> str | None:
    """In Colab, make the course's ipywidgets render; outside Colab, do nothing (None).

    Colab's built-in widget renderer speaks ipywidgets 7, the version Colab ships (7.7.1): nothing
    to do then. ipywidgets 8 (installed over Colab's) renders only through Colab's custom widget
    manager, which this turns on with ``google.colab.output.enable_custom_widget_manager()``.
    Returns the line :func:`setup`'s report shows.
    """
    if not in_colab():
        return None
    try:
        import ipywidgets
    except ImportError:
        return "ipywidgets missing: the explorers need it (pip install ipywidgets)"
    version = getattr(ipywidgets, "__version__", "?")
    if not version.split(".")[0].isdigit() or int(version.split(".")[0]) < 8:
        return f"ipywidgets {version}, Colab's own: its built-in renderer shows them (no custom widget manager)"
    try:
        from google.colab import output
        output.enable_custom_widget_manager()
    except Exception as exc:  # an old or odd Colab: say so, the lesson still runs
        return f"ipywidgets {version}: could not turn on Colab's custom widget manager ({exc}); widgets may not show"
    return f"ipywidgets {version}: Colab's custom widget manager turned on (ipywidgets 8 needs it)"


def _import_tensorflow_quietly():
    """Import Keras and TensorFlow with their start-up lines on stderr filtered: the known harmless ones
    (:data:`STARTUP_NOISE`) are dropped, anything else is printed again."""
    if "tensorflow" in sys.modules:
        import keras
        import tensorflow as tf

        return keras, tf
    import tempfile

    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real stderr: import as usual
        import keras
        import tensorflow as tf

        return keras, tf
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras
            import tensorflow as tf
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        text = captured.read().decode("utf-8", errors="replace")
    for line in text.splitlines():
        if line.strip() and not any(noise in line for noise in STARTUP_NOISE):
            print(line, file=sys.stderr)
    return keras, tf


def setup(seed: int | None = None, *, quiet: bool = False) -> dict:
    """Check the environment, seed everything and print a short report.

    Prints Python/TensorFlow/Keras versions, the GPUs (memory growth on), whether mixed precision
    is worth it, the active profile (fast/full), where data is read from and cached, the seed, and a
    fix for anything missing. Returns the same facts as a dict.

    ``seed`` defaults to :func:`course_seed` (``CVHELPERS_SEED``, else 42). ``CVHELPERS_THREADS=N``
    fixes TensorFlow's thread pools to N threads; ``CVHELPERS_DETERMINISTIC=1`` turns on
    TensorFlow's deterministic ops (exact repeats on the same machine, at some cost in speed).
    """
    from . import data as _data

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's C++ start-up chatter
    import warnings

    # Keras 3 warns on every fit() with a tf.data input because fit's default is shuffle=True;
    # the course's datasets shuffle themselves (cvhelpers.pipeline), so the warning is noise.
    warnings.filterwarnings("ignore", message=r".*`shuffle=True` was passed.*", category=UserWarning)
    keras, tf = _import_tensorflow_quietly()
    tf.get_logger().setLevel("ERROR")  # e.g. "N out of the last M calls triggered tf.function retracing"

    threads = _threads()
    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # TensorFlow already started: its pools are fixed for this kernel
            pass
    deterministic = _profile.flag("CVHELPERS_DETERMINISTIC")
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    gpu_list = gpus()
    seed = course_seed() if seed is None else seed
    seed_everything(seed)
    data_dir = _data.data_dir()
    info = {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "colab": in_colab(),
        "widgets": colab_widgets(),
        "gpus": gpu_list,
        "mixed_precision": _mixed_precision(gpu_list),
        "profile": _profile.name(),
        "data_dir": str(data_dir) if data_dir else None,
        "data_dir_missing": bool(data_dir) and not data_dir.is_dir(),
        "cache_dir": str(_data.cache_dir()),
        "offline": _data.offline(),
        "mirrors": _data.mirrors(),
        "seed": seed,
        "threads": threads,
        "deterministic": deterministic,
    }
    info["fixes"] = fixes(info)
    if not quiet:
        print(report(info))
    return info


def _home_relative(path: str) -> str | None:
    """``path`` as ``~/...`` when it lies under the home folder, else None (not to be shown)."""
    from pathlib import Path

    try:
        home = Path.home()
        if len(home.parts) > 1:                   # a home folder of "/" would shorten every path
            rel = Path(path).relative_to(home).as_posix()
            return "~" if rel == "." else f"~/{rel}"
    except (RuntimeError, ValueError):            # no home folder known, or the path is outside it
        pass
    return None


def report(info: dict) -> str:
    """Format :func:`setup`'s dict as the short text a notebook prints.

    Folders appear as ``~/...`` when they are in the home folder, else by the variable that set them,
    so that a published notebook shows no path of the machine that ran it (the full paths stay in
    the dict: ``info["data_dir"]``, ``info["cache_dir"]``). A missing GPU is a ``fix:`` where it
    matters (:func:`fixes`) and a ``note:`` on a CPU in the fast profile.
    """
    gpu_text = ", ".join(g["name"] for g in info["gpus"]) or "none (running on the CPU)"
    prof = info["profile"]
    prof_text = ("fast (CVHELPERS_FAST=1: offline mirror data, subsets, few epochs)" if prof == "fast"
                 else "full (official data, full epochs; a GPU is recommended)")
    cache = _home_relative(info["cache_dir"])
    cache = (f"cache {cache}" if cache else "cache set in CVHELPERS_CACHE_DIR" if os.environ.get("CVHELPERS_CACHE_DIR")
             else "cache (outside the home folder)")
    if info["data_dir"]:
        shown = _home_relative(info["data_dir"])
        data_text = (f"course data folder {shown} (CVHELPERS_DATA_DIR)" if shown
                     else "course data folder set in CVHELPERS_DATA_DIR") + f", then {cache}"
    else:
        data_text = f"{cache} (no course data folder: CVHELPERS_DATA_DIR is not set)"
    mirrors = [m if "://" in m else _home_relative(m) or "a folder set in CVHELPERS_MIRROR" for m in info["mirrors"]]
    lines = [
        f"Python {info['python']} | TensorFlow {info['tensorflow']} | Keras {info['keras']}"
        + (" | Colab" if info["colab"] else ""),
        f"GPU:             {gpu_text}",
        *([f"widgets:         {info['widgets']}"] if info.get("widgets") else []),
        f"mixed precision: {info['mixed_precision']}",
        f"profile:         {prof_text}",
        f"data read from:  {data_text}",
        f"network:         {'off (CVHELPERS_OFFLINE=1)' if info['offline'] else 'allowed'}"
        + (f"; mirrors first: {', '.join(mirrors)}" if mirrors else ""),
        f"seed:            {info['seed']} (Python, NumPy, TensorFlow; change it with CVHELPERS_SEED)"
        + (f" | threads: {info['threads']}" if info.get("threads") else "")
        + (" | deterministic ops" if info.get("deterministic") else ""),
    ]
    if not info["gpus"] and prof == "fast" and not info["colab"]:
        lines.append("note: no GPU here, and none is needed: the fast profile is sized for a CPU "
                     "(for the full profile, see 'Getting a GPU' in notebook 00)")
    lines += [f"fix: {f}" for f in info["fixes"]]
    return "\n".join(lines)


def split_cpu(n: int = 2) -> list[str]:
    """Split the CPU into ``n`` logical devices, to try ``MirroredStrategy`` without several GPUs.

    Each logical device runs its own copy of the model (its own replica), so :func:`strategy`
    then returns a ``MirroredStrategy`` with ``n`` replicas on a machine without GPUs: the same
    code path as on a multi-GPU server, only not faster. TensorFlow fixes its devices when it
    initialises (at the first tensor or model), so call this before building anything; calling it
    again with the same ``n`` is harmless. Returns the logical CPU device names.

    >>> split_cpu(2)                 # doctest: +SKIP
    ['/device:CPU:0', '/device:CPU:1']
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    configured = tf.config.get_logical_device_configuration(cpu) or [None]
    if len(configured) != n:
        try:
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)
        except RuntimeError:
            raise RuntimeError(f"TensorFlow has already set up its devices ({len(configured)} logical CPU(s)): "
                               f"restart the kernel and call split_cpu({n}) before building any model or "
                               "tensor") from None
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def strategy(verbose: bool = True):
    """Return the ``tf.distribute`` strategy for this machine.

    TPU (Colab's TPU runtime) -> ``TPUStrategy``; several GPUs -> ``MirroredStrategy`` over them;
    no GPU but a CPU split into several logical devices (:func:`split_cpu`) -> ``MirroredStrategy``
    over those; otherwise the default strategy (one GPU or the CPU). Build and compile models inside
    ``with strategy().scope():``.

    >>> strategy().num_replicas_in_sync     # doctest: +SKIP
    strategy: default (one device), 1 replica(s)
    1
    """
    import tensorflow as tf

    kind, strat = "default (one device)", None
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()  # raises without a TPU
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        strat, kind = tf.distribute.TPUStrategy(resolver), "TPUStrategy"
    except (ValueError, RuntimeError, tf.errors.NotFoundError):
        gpu_devices = tf.config.list_logical_devices("GPU")
        cpu_devices = tf.config.list_logical_devices("CPU")
        if len(gpu_devices) > 1:
            strat, kind = tf.distribute.MirroredStrategy(), "MirroredStrategy (GPUs)"
        elif not gpu_devices and len(cpu_devices) > 1:
            strat = tf.distribute.MirroredStrategy([d.name for d in cpu_devices])
            kind = "MirroredStrategy (logical CPU devices)"
        else:
            strat = tf.distribute.get_strategy()
    if verbose:
        print(f"strategy: {kind}, {strat.num_replicas_in_sync} replica(s)")
    return strat
