"""Where the course lives: its GitHub repository and branch, set in one place.

Every Colab badge, every Colab install line (``%pip install "cvhelpers @ git+https://github.com/…"``),
the book's repository links and the project URL name the course's home. They all follow
:data:`REPOSITORY` and :data:`BRANCH` below.

Design, briefly:

* The setting is two constants in this module, not a data file: the module ships inside the
  package, so a plain (non-editable) ``pip install`` has it as well as a checkout; it needs nothing
  but the standard library; and Python code (``book/build.py``, :mod:`cvhelpers.assignments`, the
  tests) imports :func:`repo_url`, :func:`colab_url` and :func:`install_spec` instead of repeating
  the URL.
* Notebooks, Markdown, YAML and ``pyproject.toml`` cannot import anything, so they carry the
  literal URL, and ``make retarget REPO=owner/name [BRANCH=main]`` (``python cvhelpers/home.py
  retarget owner/name --branch main``: this file runs as a plain script, without the course's
  environment) rewrites the two constants here and every such link in the tree.
* Links are found by the *current* setting (read from this file in the tree being rewritten), and
  by their context where a link can only be the course's (a Colab link to a notebook of the tree,
  a ``cvhelpers @ git+…`` install line, a ``git clone``, ``[project.urls]``, the book's
  ``repository:``), so a second retarget to another repository works and a hand-edited badge is
  caught. Links to other repositories (data sets, papers) are left alone.
* Only the characters of the links change. Notebooks are rewritten as text, so their JSON stays
  byte-identical apart from those URLs (a URL holds no character that JSON escapes; each rewrite is
  checked by parsing the notebook before and after).
* The install line names the branch only when it is not ``main``: ``git+URL`` without ``@ref``
  installs the repository's default branch, which is ``main`` for the course and for its forks.

``python cvhelpers/home.py check`` lists the links that disagree with the setting (the tests run it).
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__" and sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]   # run as a script: cvhelpers/profile.py must not shadow the standard library's profile

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

#: The course's GitHub repository, ``owner/name``. Change it with ``make retarget REPO=owner/name``.
REPOSITORY = "dlcv-course/deep-learning-cv"
#: The branch the Colab badges open and the install lines install.
BRANCH = "main"

#: The branch that ``git+https://github.com/owner/name`` installs when no ``@ref`` is given.
DEFAULT_BRANCH = "main"

__all__ = ["REPOSITORY", "BRANCH", "repo_url", "blob_url", "colab_url", "install_spec", "check_repository",
           "check_branch", "find_links", "retarget", "disagreements", "main"]


# --------------------------------------------------------------------------------------------
# the setting, as URLs
# --------------------------------------------------------------------------------------------

def repo_url(repository: str | None = None) -> str:
    """``https://github.com/owner/name`` of the course."""
    return f"https://github.com/{repository or REPOSITORY}"


def blob_url(path: str, *, tree: bool = False, repository: str | None = None, branch: str | None = None) -> str:
    """A file (or, with ``tree=True``, a folder) of the course on GitHub, on :data:`BRANCH`."""
    return f"{repo_url(repository)}/{'tree' if tree else 'blob'}/{branch or BRANCH}/{path}"


def colab_url(path: str, *, repository: str | None = None, branch: str | None = None) -> str:
    """The Colab link of the notebook ``path`` (relative to the repository root, e.g. ``notebooks/00_setup.ipynb``)."""
    return f"https://colab.research.google.com/github/{repository or REPOSITORY}/blob/{branch or BRANCH}/{path}"


def install_spec(extra: str | None = None, *, repository: str | None = None, branch: str | None = None) -> str:
    """What ``pip install`` needs to install ``cvhelpers`` (with ``extra``) from the course on GitHub.

    >>> install_spec("grading", repository="you/course", branch="main")
    'cvhelpers[grading] @ git+https://github.com/you/course'
    >>> install_spec(repository="you/course", branch="dev")
    'cvhelpers @ git+https://github.com/you/course@dev'
    """
    branch = branch or BRANCH
    ref = "" if branch == DEFAULT_BRANCH else f"@{branch}"
    return f"cvhelpers{f'[{extra}]' if extra else ''} @ git+{repo_url(repository)}{ref}"


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------

_OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
_NAME_CHARS = r"A-Za-z0-9._-"
_REPOSITORY = re.compile(rf"{_OWNER}/[{_NAME_CHARS}]{{1,100}}")
_REF_CHARS = r"A-Za-z0-9._/-"


class SettingError(ValueError):
    """A REPO or BRANCH that cannot be the course's home (the message says what to do)."""


def check_repository(repository: str) -> str:
    """``repository`` if it is one GitHub ``owner/name``, else :class:`SettingError`."""
    r = repository.strip()
    ok = (_REPOSITORY.fullmatch(r) is not None and r.split("/")[1] not in (".", "..")
          and not r.lower().endswith(".git"))
    if not ok:
        hint = " (the owner/name part of the URL, not the URL)" if "github.com" in r or ":" in r else ""
        raise SettingError(
            f"REPO={repository!r} is not one GitHub repository: give owner/name{hint}, e.g. `make retarget "
            "REPO=you/your-fork` (owner: letters, digits and single inner '-', at most 39; name: letters, "
            "digits, '.', '_', '-', no '.git')")
    return r


def check_branch(branch: str) -> str:
    """``branch`` if it is a git branch name that is safe in a URL, else :class:`SettingError`.

    The rules of ``git check-ref-format --branch``, on the characters letters, digits, ``. _ - /``
    (git allows a few more, which would need quoting in a URL, a Markdown link or a shell line).
    """
    b = branch.strip()
    parts = b.split("/")
    ok = (bool(b) and re.fullmatch(f"[{_REF_CHARS}]+", b) is not None and ".." not in b
          and not b.startswith("-") and b != "HEAD"
          and all(p and not p.startswith(".") and not p.endswith(".lock") for p in parts)
          and not b.endswith("."))
    if not ok:
        raise SettingError(
            f"BRANCH={branch!r} is not a usable git branch name: use letters, digits and . _ - / "
            "(no '..', no part starting with '.', not ending in '.', '/' or '.lock'), "
            "e.g. `make retarget REPO=you/your-fork BRANCH=main`")
    return b


# --------------------------------------------------------------------------------------------
# finding the links
# --------------------------------------------------------------------------------------------

_LINK = re.compile(
    r"(?P<pre>https://colab\.research\.google\.com/github/|git\+https://github\.com/|https://github\.com/)"
    rf"(?P<owner>{_OWNER})/(?P<name>[{_NAME_CHARS}]*?[A-Za-z0-9_-])(?P<git>\.git)?"
    r"(?![A-Za-z0-9_-]|\.[A-Za-z0-9_-])"
    rf"(?P<tail>/[A-Za-z0-9._~%+/-]*[A-Za-z0-9_~%+/-]|@[{_REF_CHARS}]*[A-Za-z0-9_/-])?")
_INSTALL_BEFORE = re.compile(r"cvhelpers(?:\[[^\]\s]*\])?\s*@\s*$")
_CLONE_BEFORE = re.compile(r"git clone\s+$")
_EOL = r"\r?\n"   # `git clone` then `cd NAME` on the next line (Markdown, shell; not across a notebook's JSON lines)
_KINDS = {"https://colab.research.google.com/github/": "colab", "git+https://github.com/": "install",
          "https://github.com/": "web"}


@dataclass(frozen=True)
class Link:
    """One GitHub link in a text: ``kind`` is ``colab``, ``install`` or ``web``."""

    kind: str
    start: int
    end: int
    owner: str
    name: str
    branch: str | None      # the branch (or ref) it names, None where it names none
    path: str               # after the branch (colab, blob/tree links), else ""
    git: str                # ".git" or ""
    tail: str               # what follows owner/name, as written
    course: bool            # a link to the course's home (by the setting or by its context)

    @property
    def repository(self) -> str:
        return f"{self.owner}/{self.name}"


def _split_ref(rest: str, branch: str, files) -> tuple[str, str]:
    """``ref/path`` -> (ref, path); a branch may hold '/', so the known branch and files decide."""
    if rest == branch or rest.startswith(branch + "/"):
        return branch, rest[len(branch) + 1:]
    cuts = [i for i, c in enumerate(rest) if c == "/"]
    for i in cuts:
        if rest[i + 1:] in files:
            return rest[:i], rest[i + 1:]
    return (rest[:cuts[0]], rest[cuts[0] + 1:]) if cuts else (rest, "")


def _sections(text: str, rel: str) -> list[tuple[int, int]]:
    """Spans of ``text`` where every GitHub link is the course's: ``[project.urls]`` of pyproject.toml,
    the ``repository:`` block of a Jupyter Book ``_config.yml``."""
    name = rel.rsplit("/", 1)[-1]
    if name == "pyproject.toml":
        m = re.search(r"(?ms)^\[project\.urls\][^\n]*\n(.*?)(?=^\[|\Z)", text)
    elif name == "_config.yml":
        m = re.search(r"(?m)^repository:[ \t]*\r?\n((?:[ \t]+[^\n]*\n|[ \t]*\r?\n)*)", text)
    else:
        m = None
    return [m.span(1)] if m else []


def find_links(text: str, repository: str | None = None, branch: str | None = None, files=frozenset(),
               rel: str = "") -> list[Link]:
    """The GitHub links of ``text``, each marked ``course`` when it points (or should point) to the course.

    A link is the course's when it names the setting ``repository`` (default: :data:`REPOSITORY`), or
    when its context says so: a Colab link to a notebook in ``files`` (the tree's files, relative
    paths), a ``cvhelpers @ git+…`` install, a ``git clone``, or a link in ``[project.urls]`` of
    ``pyproject.toml`` or under ``repository:`` in ``_config.yml`` (``rel``: the file's path).
    """
    repository = repository or REPOSITORY
    branch = branch or BRANCH
    sections = _sections(text, rel)
    links = []
    for m in _LINK.finditer(text):
        kind = _KINDS[m["pre"]]
        tail = m["tail"] or ""
        ref, path = None, ""
        if kind == "install":
            if tail.startswith("@"):
                ref = tail[1:]
            elif tail:                                       # git+https://github.com/o/n/… is no install URL
                continue
        elif kind == "colab":
            if not tail.startswith("/blob/"):
                continue
            ref, path = _split_ref(tail[len("/blob/"):], branch, files)
        elif tail.startswith(("/blob/", "/tree/")):
            ref, path = _split_ref(tail[len("/blob/"):], branch, files)
        elif tail.startswith("@"):                           # https://github.com/o/n@x: not a link of ours
            continue
        owner, name = m["owner"], m["name"]
        before = text[max(0, m.start() - 80):m.start()]
        course = (f"{owner}/{name}".lower() == repository.lower()
                  or (kind == "colab" and path in files and path.endswith(".ipynb"))
                  or (kind == "install" and _INSTALL_BEFORE.search(before) is not None)
                  or (kind == "web" and _CLONE_BEFORE.search(before) is not None)
                  or (kind == "web" and any(a <= m.start() < b for a, b in sections)))
        links.append(Link(kind, m.start(), m.end(), owner, name, ref, path, m["git"] or "", tail, course))
    return links


def _render(link: Link, repository: str, branch: str, old_branch: str) -> str:
    """``link`` pointing to ``repository`` and ``branch``."""
    if link.kind == "colab":
        return colab_url(link.path, repository=repository, branch=branch).rstrip("/")
    if link.kind == "install":
        ref = "" if branch == DEFAULT_BRANCH else f"@{branch}"
        return f"git+https://github.com/{repository}{link.git}{ref}"
    tail = link.tail
    if link.branch == old_branch and tail.startswith(("/blob/", "/tree/")):   # a permalink (a commit) stays
        tail = tail[:6] + branch + tail[6 + len(old_branch):]
    return f"https://github.com/{repository}{link.git}{tail}"


# --------------------------------------------------------------------------------------------
# the tree
# --------------------------------------------------------------------------------------------

_TEXT_SUFFIXES = {".ipynb", ".md", ".markdown", ".rst", ".txt", ".yml", ".yaml", ".toml", ".cfg", ".ini",
                  ".py", ".sh", ".html", ".in"}
_TEXT_NAMES = {"Makefile", "Dockerfile"}
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "build", "dist", "_book", "__pycache__", ".cache",
              "test-artifacts", ".pytest_cache", ".ipynb_checkpoints"}
HOME_FILE = "cvhelpers/home.py"
_SETTING = re.compile(r'(?m)^(?P<key>REPOSITORY|BRANCH) = "(?P<value>[^"\n]*)"[ \t]*$')


def _tree_files(root: Path) -> list[str]:
    """The course's files under ``root`` (relative, '/'-separated): git's tracked and not ignored, else a walk."""
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             capture_output=True, check=True).stdout.decode()
        if (root / ".git").exists():
            return sorted({f for f in out.split("\0") if f and (root / f).is_file()})
    except (OSError, subprocess.CalledProcessError):
        pass
    found = []
    for d, dirs, names in os.walk(root):
        dirs[:] = [x for x in dirs if x not in _SKIP_DIRS and not x.startswith(".")]
        found += [Path(d, n).relative_to(root).as_posix() for n in names]
    return sorted(found)


def _is_text(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return name in _TEXT_NAMES or os.path.splitext(name)[1] in _TEXT_SUFFIXES


def read_setting(root: str | os.PathLike = ".") -> tuple[str, str]:
    """``(REPOSITORY, BRANCH)`` as written in ``root``'s ``cvhelpers/home.py`` (not the imported module's)."""
    path = Path(root) / HOME_FILE
    if not path.is_file():
        raise SettingError(f"{path} not found: run this from the course repository (the folder with Makefile "
                           "and cvhelpers/), or pass --root")
    found = {m["key"]: m["value"] for m in _SETTING.finditer(path.read_text(encoding="utf-8"))}
    if set(found) != {"REPOSITORY", "BRANCH"}:
        raise SettingError(f"{path}: no `REPOSITORY = \"owner/name\"` and `BRANCH = \"…\"` lines; restore them "
                           "(git checkout cvhelpers/home.py) and retry")
    return check_repository(found["REPOSITORY"]), check_branch(found["BRANCH"])


def _rewrite(text: str, rel: str, old: tuple[str, str], new: tuple[str, str], files) -> tuple[str, int]:
    """``text`` with every course link pointing to ``new``; and how many links changed."""
    (old_repo, old_branch), (new_repo, new_branch) = old, new
    out, pos, changed = [], 0, 0
    for link in find_links(text, old_repo, old_branch, files, rel):
        if not link.course or rel == HOME_FILE:          # home.py: only its setting (its examples stay)
            continue
        was = text[link.start:link.end]
        now = _render(link, new_repo, new_branch, old_branch)
        out += [text[pos:link.start], now]
        pos = link.end
        changed += now != was
        if link.kind == "web" and _CLONE_BEFORE.search(text[max(0, link.start - 80):link.start]):
            # `git clone URL` then `cd NAME`: the folder is named after the repository
            cd = re.compile(rf"[ \t]*{_EOL}[ \t]*cd[ \t]+(?P<dir>{re.escape(link.name)})(?=[ \t]*(?:$|[\r\n;&#\\]))",
                            re.M).match(text, link.end)
            new_name = new_repo.split("/")[1]
            if cd and cd["dir"] != new_name:
                out += [text[pos:cd.start("dir")], new_name]
                pos = cd.end("dir")
                changed += 1
    out.append(text[pos:])
    text = "".join(out)
    if rel == HOME_FILE:
        def setting(m):
            return f'{m["key"]} = "{new_repo if m["key"] == "REPOSITORY" else new_branch}"'
        text, n = _SETTING.subn(setting, text)
        changed += 0 if (new_repo, new_branch) == (old_repo, old_branch) else 1
    if rel.rsplit("/", 1)[-1] == "_config.yml":
        m = re.search(r"(?m)^repository:[ \t]*\r?\n(?:[ \t]+[^\n]*\n)*?[ \t]+branch:[ \t]*(?P<b>[^\s#]+)", text)
        if m and m["b"] != new_branch:
            text = text[:m.start("b")] + new_branch + text[m.end("b"):]
            changed += 1
    return text, changed


def _strings(obj, fn):
    """``obj`` (parsed JSON) with ``fn`` applied to every string."""
    if isinstance(obj, str):
        return fn(obj)
    if isinstance(obj, list):
        return [_strings(x, fn) for x in obj]
    if isinstance(obj, dict):
        return {k: _strings(v, fn) for k, v in obj.items()}
    return obj


def retarget(repository: str, branch: str = DEFAULT_BRANCH, root: str | os.PathLike = ".",
             *, dry_run: bool = False) -> dict[str, int]:
    """Point the course at ``repository`` (``owner/name``) and ``branch``: the setting in
    ``cvhelpers/home.py`` and every course link in the tree's text files. Returns ``{file: links changed}``.

    Idempotent: a second call with the same arguments changes nothing. Nothing is written unless
    every file could be rewritten (a notebook must parse to the same JSON with only its links changed).
    """
    new = (check_repository(repository), check_branch(branch))
    root = Path(root)
    old = read_setting(root)
    files = _tree_files(root)
    fileset = frozenset(files)
    edits: dict[str, tuple[bytes, int]] = {}
    for rel in files:
        if not _is_text(rel):
            continue
        raw = (root / rel).read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        now, n = _rewrite(text, rel, old, new, fileset)
        if now == text:
            continue
        if rel.endswith(".ipynb"):
            try:
                parsed = json.loads(text)
            except ValueError as e:
                raise SettingError(f"{rel} is not valid JSON ({e}): repair it (a merge conflict?), then retry") from None
            expected = _strings(parsed, lambda s: _rewrite(s, rel, old, new, fileset)[0])
            if json.loads(now) != expected:
                raise SettingError(f"{rel}: rewriting its links as text would change more than the links; "
                                   "fix its Colab links by hand, then retry")
        edits[rel] = (now.encode("utf-8"), n)
    if not dry_run:
        for rel, (data, _) in edits.items():
            (root / rel).write_bytes(data)
    return {rel: n for rel, (_, n) in edits.items()}


def disagreements(root: str | os.PathLike = ".") -> list[str]:
    """The course links under ``root`` that disagree with its setting, one line each (``file:line: …``)."""
    root = Path(root)
    repo, branch = read_setting(root)
    files = _tree_files(root)
    fileset = frozenset(files)
    problems = []
    for rel in files:
        if not _is_text(rel) or rel == HOME_FILE:
            continue
        try:
            text = (root / rel).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for link in find_links(text, repo, branch, fileset, rel):
            if not link.course:
                continue
            where = f"{rel}:{text.count(chr(10), 0, link.start) + 1}: {text[link.start:link.end]}"
            wrong = []
            if link.repository != repo:
                wrong.append(f"names {link.repository}, not {repo}")
            if link.kind == "colab" and link.branch != branch:
                wrong.append(f"opens branch {link.branch}, not {branch}")
            if link.kind == "install" and (link.branch or DEFAULT_BRANCH) != branch:
                wrong.append(f"installs branch {link.branch or DEFAULT_BRANCH}, not {branch}")
            if link.kind == "colab" and link.path not in fileset:
                wrong.append(f"{link.path} is not a file of the tree")
            if link.kind == "web" and _CLONE_BEFORE.search(text[max(0, link.start - 80):link.start]):
                cd = re.compile(rf"[ \t]*{_EOL}[ \t]*cd[ \t]+(?P<dir>[^\s;&#\\]+)", re.M).match(text, link.end)
                if cd and cd["dir"] != repo.split("/")[1]:
                    wrong.append(f"is followed by `cd {cd['dir']}`, not `cd {repo.split('/')[1]}`")
            problems += [f"{where}: {w}" for w in wrong]
        if rel.rsplit("/", 1)[-1] == "_config.yml":
            m = re.search(r"(?m)^repository:[ \t]*\r?\n(?:[ \t]+[^\n]*\n)*?[ \t]+branch:[ \t]*(?P<b>[^\s#]+)", text)
            if m and m["b"] != branch:
                problems.append(f"{rel}: repository branch {m['b']}, not {branch}")
    return problems


# --------------------------------------------------------------------------------------------
# the command line (``make retarget`` runs ``python cvhelpers/home.py retarget``)
# --------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python cvhelpers/home.py",
        description="The course's GitHub home (cvhelpers/home.py): show it, check the links, or move them.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    show = sub.add_parser("show", help="print the setting")
    check = sub.add_parser("check", help="list the links that disagree with the setting (exit 1 if any)")
    move = sub.add_parser("retarget", help="point the setting and every course link at OWNER/NAME and BRANCH")
    move.add_argument("repository", metavar="OWNER/NAME")
    move.add_argument("--branch", default=DEFAULT_BRANCH)
    move.add_argument("--dry-run", action="store_true", help="say what would change, write nothing")
    for p in (show, check, move):
        p.add_argument("--root", default=".", help="the course repository (default: the current folder)")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "show":
            repo, branch = read_setting(args.root)
            print(f"{repo} (branch {branch}): {repo_url(repo)}")
            return 0
        if args.cmd == "check":
            problems = disagreements(args.root)
            for p in problems:
                print(p)
            if problems:
                print(f"{len(problems)} link(s) disagree with cvhelpers/home.py: run `make retarget REPO=owner/name`")
            return 1 if problems else 0
        if not args.repository.strip():
            raise SettingError("no repository given: run `make retarget REPO=you/your-fork [BRANCH=main]`")
        old = read_setting(args.root)
        changed = retarget(args.repository, args.branch, args.root, dry_run=args.dry_run)
    except SettingError as e:
        print(f"retarget: error: {e}" if args.cmd == "retarget" else f"error: {e}", file=sys.stderr)
        return 2
    new = (args.repository.strip(), args.branch.strip())
    if not changed:
        print(f"The course already points at {new[0]} (branch {new[1]}): nothing to change.")
        return 0
    verb = "would change" if args.dry_run else "changed"
    print(f"{old[0]} ({old[1]}) -> {new[0]} ({new[1]}): {verb} {sum(changed.values())} link(s) in "
          f"{len(changed)} file(s):")
    for rel, n in changed.items():
        print(f"  {rel} ({n})")
    if not args.dry_run:
        print(f"Commit and push to {repo_url(new[0])} (branch {new[1]}): the badges and install lines work "
              "once that branch is on GitHub.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
