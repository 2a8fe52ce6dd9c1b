# Stand-in for Colab's kernel start (IPYTHONDIR points here during `make colab-check`):
# 1. google.colab is imported before the first cell, as in Colab;
# 2. `%pip` is a stand-in: colab-check has already installed the course exactly as the setup cell
#    would, from this checkout (no network), so the magic only checks that the cell asks for that very
#    spec (COLAB_STANDIN_PIP_EXPECT) and records the call in COLAB_STANDIN_LOG.
import google.colab  # noqa: F401


def _colab_standin_pip(line: str) -> None:
    import os
    import shlex

    expected = os.environ.get("COLAB_STANDIN_PIP_EXPECT", "")
    args = shlex.split(line)
    specs = [a for a in args if a.startswith("cvhelpers")]
    with open(os.environ["COLAB_STANDIN_LOG"], "a", encoding="utf-8") as log:
        log.write(line.strip() + "\n")
    if args[:1] != ["install"] or specs != [expected]:
        raise RuntimeError(f"the setup cell runs %pip {line.strip()!r}; colab-check expected "
                           f"%pip install -q {expected!r}")


get_ipython().register_magic_function(_colab_standin_pip, "line", "pip")
del _colab_standin_pip
