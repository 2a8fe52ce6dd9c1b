"""Repository-wide pytest hook: print how long each notebook and test file took, in total.

`make test` runs pytest on two workers (pytest-xdist, ``--dist loadscope``): each notebook and each
test module runs whole on one worker (a notebook's cells in order, a module's session fixtures
built once), two at a time.
"""

from collections import defaultdict

_totals: dict = defaultdict(float)


def pytest_runtest_logreport(report):
    _totals[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _totals:
        return
    terminalreporter.section("time per file (setup + call + teardown)")
    for path, secs in sorted(_totals.items()):
        terminalreporter.write_line(f"{secs:8.1f} s  {path}")
