"""The ``cvhelpers`` command: check a machine, list, fetch and verify the course data.

    cvhelpers doctor                 what this machine has, and what to fix
    cvhelpers data list              the datasets, licences, and whether each is here
    cvhelpers data fetch NAME...     download (or find) datasets; --all for every one
    cvhelpers data fetch --profile fast|full   everything one profile's notebooks load (plan first)
    cvhelpers data verify [NAME...]  re-check the local copies' checksums
    cvhelpers data path NAME         print where a dataset's files are
    cvhelpers grade NN FOLDER -o scores.csv   grade a folder of assignment notebooks

Errors exit non-zero with one line on stderr that begins with ``error:``.
TensorFlow is imported only by ``doctor`` (it is slow to import).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

from . import __version__
from . import data as D
from .fetch import DataError, dataset


def _datasets(names, all_):
    if all_:
        return list(D.REGISTRY)
    if not names:
        raise DataError("name at least one dataset (see `cvhelpers data list`) or pass --all")
    for n in names:
        dataset(n)  # raises with the list of known names
    return names


def cmd_list(args) -> int:
    rows = D.status()
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        mark = "here   " if r["present"] else "missing"
        print(f"{r['name']:<{width}}  {mark}  {r['title']}")
        print(f"{'':<{width}}           licence: {r['licence']}")
    print(f"\nread from: {D.data_dir() or '(CVHELPERS_DATA_DIR not set)'} then {D.cache_dir()}")
    return 0


def cmd_fetch(args) -> int:
    if args.profile:
        if args.names or args.all:
            raise DataError("--profile fetches a whole profile: give no dataset names and no --all")
        return _fetch_profile(args)
    names = _datasets(args.names, args.all)
    failed = []
    for n in names:
        try:
            paths = D.fetch(n, progress=not args.quiet and sys.stderr.isatty())
        except DataError as exc:
            if len(names) == 1:
                raise
            print(f"error: {exc}", file=sys.stderr)
            failed.append(n)
            continue
        for p in paths:
            arts = _arts(n, p)
            print(f"{n}: {p} (checksum verified)" if any(a.hashes for a in arts) else
                  f"{n}: {p} (size verified; no published checksum, opened when used)" if any(a.size for a in arts) else
                  f"{n}: {p} (no published checksum; opened when used)")
    if failed:
        print(f"error: {len(failed)} of {len(names)} datasets could not be fetched: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _fetch_profile(args) -> int:
    failed, optional_failed = D.fetch_profile(args.profile, progress=not args.quiet and sys.stderr.isatty())
    for msg in optional_failed:
        print(f"warning: optional file not fetched (the notebook skips that part without it): {msg}", file=sys.stderr)
    if failed:
        for msg in failed:
            print(f"error: {msg}", file=sys.stderr)
        print(f"error: {len(failed)} of the {args.profile} profile's datasets/weights could not be fetched",
              file=sys.stderr)
        return 1
    print(f"the {args.profile} profile's data is here"
          + (f" ({len(optional_failed)} optional file(s) missing, see warnings)" if optional_failed else ""))
    return 0


def _arts(name, path):
    ds = D.REGISTRY[name]
    return [a for form in (*ds.alternatives, ds.artifacts) for a in form if path.name == os.path.basename(a.filename)]


def cmd_verify(args) -> int:
    names = args.names or list(D.REGISTRY)
    bad = 0
    for n in names:
        dataset(n)
        ok, msg = D.verify(n)
        print(f"{n}: {'ok' if ok else 'MISSING'} {msg}")
        bad += not ok and bool(args.names)
    if bad:
        print(f"error: {bad} dataset(s) missing or failing their checksum; run `cvhelpers data fetch NAME`", file=sys.stderr)
        return 1
    return 0


def cmd_path(args) -> int:
    dataset(args.name)
    paths = D.find(args.name)
    if not paths:
        raise DataError(f"{args.name} is not here; run `cvhelpers data fetch {args.name}`")
    for p in paths:
        print(p)
    return 0


def cmd_doctor(args) -> int:
    print(f"cvhelpers {__version__} | Python {platform.python_version()} | {platform.platform(terse=True)} | {os.cpu_count()} CPUs")
    problems = []
    try:
        from .env import setup

        info = setup(quiet=True)
        from .env import report

        print(report(info))
        problems += info["fixes"]
    except ImportError as exc:
        problems.append(f"{exc.name or exc} is not installed: run `make install` (or pip install -e '.[cpu]')")
        print(f"TensorFlow/Keras: not importable ({exc})")
    present = [r["name"] for r in D.status() if r["present"]]
    print(f"datasets here:   {', '.join(present) or 'none'} (of {len(D.REGISTRY)}; `cvhelpers data list`)")
    if not present and D.offline():
        problems.append("offline with no datasets: set CVHELPERS_DATA_DIR to a folder of pre-fetched files")
    print("verdict:         " + ("ready" if not problems else f"{len(problems)} thing(s) to look at (see fix: lines)"))
    return 0


def cmd_grade(args) -> int:
    from .assignments import grade_folder

    t0 = time.monotonic()
    rows = grade_folder(args.assignment, args.folder, args.output, jobs=args.jobs, timeout=args.timeout,
                        progress=not args.quiet, autograder_dir=args.autograders, no_sandbox=args.no_sandbox,
                        memory=int(args.memory * 2**30) if args.memory else None, explain=args.explain)
    if args.no_sandbox:
        print("warning: graded WITHOUT a sandbox (--no-sandbox): each submission could read and change "
              "whatever your user can", file=sys.stderr)
    bad = [r for r in rows if r["problem"]]
    per = sum(r["seconds"] for r in rows) / len(rows)
    print(f"graded {len(rows)} file(s) in {time.monotonic() - t0:.0f} s (-j {args.jobs}, {per:.1f} s per "
          f"submission); {len(bad)} with a problem" + (f"; table: {args.output}" if args.output else ""))
    if not args.output:
        for r in rows:
            print(f"{r['total']:>5}/{r['possible']}  {r['file']}" + (f"  ({r['problem']})" if r["problem"] else ""))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cvhelpers", description="Course helper: machine check, data, grading.")
    p.add_argument("--version", action="version", version=f"cvhelpers {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check this machine").set_defaults(func=cmd_doctor)
    d = sub.add_parser("data", help="list, fetch, verify datasets").add_subparsers(dest="data_command", required=True)
    d.add_parser("list", help="datasets and whether they are here").set_defaults(func=cmd_list)
    f = d.add_parser("fetch", help="download what is missing")
    f.add_argument("names", nargs="*")
    f.add_argument("--all", action="store_true", help="every registered dataset")
    f.add_argument("--profile", choices=sorted(D.PROFILE_DATA),
                   help="every dataset and weights file the notebooks load in this profile")
    f.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    f.set_defaults(func=cmd_fetch)
    v = d.add_parser("verify", help="re-check local copies")
    v.add_argument("names", nargs="*")
    v.set_defaults(func=cmd_verify)
    pa = d.add_parser("path", help="where a dataset's files are")
    pa.add_argument("name")
    pa.set_defaults(func=cmd_path)
    g = sub.add_parser("grade", help="grade a folder of assignment notebooks into a CSV",
                       description="Grade every file in FOLDER and its subfolders against assignment NN (01..12 "
                       "or its name): each notebook runs in a sandbox (bubblewrap, no Docker) and its answers are "
                       "tested outside it; one CSV row per file, a run log beside it.")
    g.add_argument("assignment", metavar="NN", help="assignment number or name, e.g. 03 or 03_mnist_convnets")
    g.add_argument("folder", metavar="FOLDER", help="folder of submitted notebooks (any file names; subfolders too, as LMS exports have)")
    g.add_argument("-o", "--output", metavar="CSV", help="write the grade table here")
    g.add_argument("-j", "--jobs", type=_positive, default=max(1, min(4, os.cpu_count() or 1)),
                   help="submissions graded at once (default: CPUs, at most 4)")
    g.add_argument("-t", "--timeout", type=_positive, default=600, metavar="S",
                   help="time limit per submission in seconds (default 600)")
    g.add_argument("--autograders", metavar="DIR", help="folder of the autograder zips "
                   "(default: dist/assignments/autograder, built from assignments/ when missing)")
    g.add_argument("--memory", type=float, default=4, metavar="GB",
                   help="memory (address space) limit per submission in GB (default 4; 0: none)")
    g.add_argument("--explain", action="store_true", help="also write CSV.explain.csv: each failing test and why")
    g.add_argument("--no-sandbox", action="store_true", help="run submissions unconfined where no sandbox can be "
                   "made (macOS, no user namespaces): they can then read and change whatever your user can")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    g.set_defaults(func=cmd_grade)
    return p


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value




def main(argv=None) -> int:
    parser = build_parser()
    # argparse's own usage errors already exit 2 with "error:" in the last line of stderr.
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (DataError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; nothing half-written was kept (run the command again)", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
