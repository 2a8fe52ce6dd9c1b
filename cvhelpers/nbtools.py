"""Keep notebooks clean in git: find and strip outputs, execution counts and widget state.

    python -m cvhelpers.nbtools check notebooks/*.ipynb   # exit 1 and list what is dirty
    python -m cvhelpers.nbtools strip notebooks/*.ipynb   # clean them in place (atomic write)

``output_text(cell)`` reads an executed cell's outputs as text (errors as ``ERROR name: value``).

>>> problems({"cells": [{"cell_type": "code", "outputs": [], "execution_count": None}], "metadata": {}})
[]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

__all__ = ["problems", "strip", "output_text", "main"]


def output_text(cell: dict) -> str:
    """An executed cell's outputs as one text: streams, the plain-text form of results, and errors.

    >>> output_text({"outputs": [{"output_type": "stream", "text": "hi"},
    ...                          {"output_type": "error", "ename": "KeyError", "evalue": "'x'"}]})
    "hi\\nERROR KeyError: 'x'"
    """
    parts = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            parts.append(f"ERROR {o['ename']}: {o['evalue']}")
        elif "text" in o:
            parts.append(o["text"])
        elif "data" in o:
            parts.append(o["data"].get("text/plain", ""))
    return "\n".join(parts)


def problems(nb: dict) -> list[str]:
    """What makes a notebook dict unfit to commit (empty list if clean)."""
    out = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("outputs"):
            out.append(f"cell {i}: has outputs")
        if cell.get("execution_count") is not None:
            out.append(f"cell {i}: has an execution count")
        if "widgets" in cell.get("metadata", {}):
            out.append(f"cell {i}: has widget state")
    if "widgets" in nb.get("metadata", {}):
        out.append("notebook metadata: has widget state (breaks GitHub's viewer)")
    return out


def strip(path) -> bool:
    """Strip outputs, counts and widget state from the notebook at ``path``; True if it changed."""
    path = Path(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    if not problems(nb):
        return False
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("widgets", None)
        cell.get("metadata", {}).pop("execution", None)
    nb.get("metadata", {}).pop("widgets", None)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return True


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("check", "strip"):
        print("error: usage: python -m cvhelpers.nbtools check|strip NOTEBOOK...", file=sys.stderr)
        return 2
    cmd, paths = argv[0], argv[1:]
    bad = 0
    for p in paths:
        if cmd == "strip":
            if strip(p):
                print(f"stripped {p}")
        else:
            found = problems(json.loads(Path(p).read_text(encoding="utf-8")))
            for msg in found:
                print(f"{p}: {msg}")
            bad += bool(found)
    return 1 if bad else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
