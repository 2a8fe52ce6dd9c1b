"""Repository-wide pytest hook: print how long each notebook and test file took, in total.

`make test` runs pytest on two workers (pytest-xdist, ``--dist loadscope``): each notebook and each
test module runs whole on one worker (a notebook's cells in order, a module's session fixtures
built once), two at a time. Notebooks 05-08 form one unit, run in that order on one worker: 06
compares itself with the record 05 writes, and 08's table reads the records of 05, 06 and 07 (without
this, another worker could reach 06 before 05 has finished and 06 would retrain 05's baseline).
"""

from collections import defaultdict

import pytest

_totals: dict = defaultdict(float)


def pytest_runtest_logreport(report):
    _totals[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _totals:
        return
    terminalreporter.section("time per file (setup + call + teardown)")
    for path, secs in sorted(_totals.items()):
        terminalreporter.write_line(f"{secs:8.1f} s  {path}")


# Notebooks that read the results records of earlier ones: one xdist work unit, run in this order.
CHAINED_NOTEBOOKS = ("notebooks/05_", "notebooks/06_", "notebooks/07_", "notebooks/08_")


@pytest.hookimpl(optionalhook=True)   # without pytest-xdist (colab-check's Python 3.13 venv): unused
def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist", None) != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class CourseScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            if nodeid.startswith(CHAINED_NOTEBOOKS):
                return "notebooks/05-08 (chained)"
            return super()._split_scope(nodeid)

    return CourseScheduling(config, log)
