"""How much does vectorisation buy? One 2-D correlation timed four ways, in one run.

    python benchmarks/conv_speed.py                 # 512×512 image, 3×3 and 7×7 kernels
    python benchmarks/conv_speed.py --size 256 --naive-size 64

Methods: plain Python loops (``cvhelpers.filters.correlate2d_loops``), vectorised NumPy
(``cvhelpers.filters.correlate2d``: one array operation per kernel weight), SciPy
(``scipy.signal.correlate2d`` and ``scipy.ndimage.correlate``) and ``tf.nn.conv2d``.
The Python loops take seconds per image, so they run once on a crop and are scaled by the
number of output pixels (their cost is exactly proportional to it); the others report the
best of ``--repeat`` runs on the full image after a warm-up call. Times depend on the machine
and on what else runs on it: compare the ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a clone without installing
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cvhelpers.filters import benchmark, format_benchmark  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=512, help="image side in pixels (default 512)")
    ap.add_argument("--kernels", type=int, nargs="+", default=[3, 7], help="kernel sizes (default 3 7)")
    ap.add_argument("--naive-size", type=int, default=128,
                    help="crop side for the Python loops, scaled up afterwards (default 128)")
    ap.add_argument("--repeat", type=int, default=7, help="runs per method, best kept (default 7)")
    args = ap.parse_args(argv)
    rows = benchmark(args.size, args.kernels, args.naive_size, args.repeat)
    import tensorflow as tf

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU(s); "
          f"NumPy/SciPy/TensorFlow {__import__('numpy').__version__}/{__import__('scipy').__version__}/"
          f"{tf.__version__}; GPU: {bool(tf.config.list_physical_devices('GPU'))}")
    print(format_benchmark(rows, args.size))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
