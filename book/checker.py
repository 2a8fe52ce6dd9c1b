"""Site checker for the built book: every page must work offline, from disk or served.

Reads every HTML page (and every local CSS file) under the site folder and reports:

- **missing file**: a local ``href``/``src`` (or a CSS ``url()``) that points to no file;
- **broken anchor**: ``page.html#frag`` (or ``#frag``) where that page has no ``id``/``name`` ``frag``;
- **external asset**: a script, style sheet, image, frame or media file loaded from another host
  (plain ``<a href="https://...">`` links are fine: they are navigation, not page content);
- **leftover .ipynb link**: a link to a notebook that should have become its ``.html`` page
  (the "download this notebook" copies under ``_sources/`` are allowed).

Usage: ``python book/checker.py _book`` (exit status 1 and one line per problem if any).
Only the standard library is used, so the unit tests need nothing else.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

__all__ = ["check_site", "main"]

# Tags whose URL attribute loads something into the page (an asset), by attribute.
_ASSET_ATTRS = {
    "script": ("src",), "img": ("src",), "iframe": ("src",), "source": ("src",), "video": ("src", "poster"),
    "audio": ("src",), "embed": ("src",), "object": ("data",), "input": ("src",), "track": ("src",),
}
# <link rel=...> values that make the browser fetch the target with the page.
_LINK_ASSET_RELS = {"stylesheet", "icon", "shortcut", "preload", "modulepreload", "prefetch", "apple-touch-icon",
                    "manifest", "mask-icon"}
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)|@import\s+(['"])([^'"]+)\3""")
# Folders of third-party files copied as they are (their HTML/CSS is not the book's).
SKIP_DIRS = {"_vendor"}


class _Page(HTMLParser):
    """Collects the anchors (id/name) of one page and its (kind, tag, url) references."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.anchors: set[str] = set()
        self.refs: list[tuple[str, str, str]] = []  # (kind: "asset"|"link", tag, url)

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        for key in ("id", "name") if tag != "meta" else ():
            if a.get(key):
                self.anchors.add(a[key])
        if tag == "a" and "href" in a:
            self.refs.append(("link", tag, a["href"]))
        elif tag == "link" and "href" in a:
            rels = set(a.get("rel", "").lower().split())
            self.refs.append(("asset" if rels & _LINK_ASSET_RELS else "link", tag, a["href"]))
        for attr in _ASSET_ATTRS.get(tag, ()):
            if a.get(attr):
                self.refs.append(("asset", tag, a[attr]))
        if tag in ("img", "source") and a.get("srcset"):
            for part in a["srcset"].split(","):
                if part.strip():
                    self.refs.append(("asset", tag, part.split()[0]))

    handle_startendtag = handle_starttag


def _is_external(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.netloc) or parts.scheme in ("http", "https", "ftp")


def _skip(url: str) -> bool:
    scheme = urlsplit(url).scheme.lower()
    return url.startswith("{{") or scheme in ("mailto", "javascript", "data", "tel", "blob", "about")


def _resolve(site: Path, page: Path, path: str) -> Path:
    """The file a relative URL path points to (``dir/`` -> ``dir/index.html``)."""
    target = (page.parent / unquote(path)) if not path.startswith("/") else site / unquote(path).lstrip("/")
    if path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target


def _in_skipped_dir(site: Path, path: Path) -> bool:
    try:
        return bool(SKIP_DIRS & set(path.relative_to(site).parts))
    except ValueError:
        return False


def check_site(site) -> list[str]:
    """Return the problems found in the HTML site under ``site`` (an empty list when it is clean)."""
    site = Path(site).resolve()
    if not (site / "index.html").is_file():
        return [f"{site}: no index.html (is this a built site?)"]
    pages: dict[Path, _Page] = {}
    for html in sorted(site.rglob("*.html")):
        if _in_skipped_dir(site, html):
            continue
        parser = _Page()
        parser.feed(html.read_text(encoding="utf-8", errors="replace"))
        pages[html.resolve()] = parser
    problems: list[str] = []

    def where(p: Path) -> str:
        return str(p.relative_to(site))

    for page, parsed in pages.items():
        for kind, tag, url in parsed.refs:
            url = url.strip()
            if not url or _skip(url):
                continue
            if _is_external(url):
                if kind == "asset":
                    problems.append(f"{where(page)}: external asset <{tag}> {url}")
                continue
            parts = urlsplit(url)
            target = page if not parts.path else _resolve(site, page, parts.path)
            if PurePosixPath(parts.path).suffix == ".ipynb" and "_sources" not in PurePosixPath(parts.path).parts:
                problems.append(f"{where(page)}: leftover .ipynb link <{tag}> {url}")
                continue
            if not target.is_file():
                problems.append(f"{where(page)}: missing file <{tag}> {url}")
                continue
            frag = unquote(parts.fragment)
            if frag and target.suffix == ".html" and target.resolve() in pages \
                    and frag not in pages[target.resolve()].anchors:
                problems.append(f"{where(page)}: broken anchor <{tag}> {url}")
    for css in sorted(site.rglob("*.css")):
        if _in_skipped_dir(site, css):
            continue
        text = re.sub(r"/\*.*?\*/", "", css.read_text(encoding="utf-8", errors="replace"), flags=re.S)
        for m in _CSS_URL.finditer(text):
            url = (m.group(2) or m.group(4) or "").strip()
            if not url or _skip(url) or url.startswith("#"):
                continue
            if _is_external(url):
                problems.append(f"{where(css)}: external asset (CSS) {url}")
            elif not _resolve(site, css, urlsplit(url).path).is_file():
                problems.append(f"{where(css)}: missing file (CSS) {url}")
    return problems


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python book/checker.py SITE_FOLDER", file=sys.stderr)
        return 2
    problems = check_site(args[0])
    for p in problems:
        print(p)
    print(f"site check of {args[0]}: " + (f"{len(problems)} problem(s)" if problems else "no problems"))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
