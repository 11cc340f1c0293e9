"""What the checks of the built book iterate over: the pages of the table of contents.

Read from `book/_toc.yml`, so a chapter added there is checked without touching a test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from bs4 import BeautifulSoup

BOOK = Path(__file__).resolve().parents[1] / "book"


@dataclass(frozen=True)
class Page:
    docname: str  # e.g. "lessons/01-dense-networks"
    source: Path

    @property
    def html(self) -> str:
        return f"{self.docname}.html"

    @property
    def is_notebook(self) -> bool:
        """A chapter that runs: a MyST notebook with a kernelspec in its jupytext header.

        A page the build generates (the glossary) does not exist before the build: not a notebook.
        """
        if not self.source.is_file():
            return False
        if self.source.suffix != ".md":
            return self.source.suffix == ".ipynb"
        text = self.source.read_text(encoding="utf-8")
        return text.startswith("---") and "kernelspec:" in text.split("\n---", 1)[0]


def _files(node) -> list[str]:
    found = []
    if isinstance(node, dict):
        if "file" in node:
            found.append(node["file"])
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key, []) or []:
                found += _files(child)
    return found


def toc_pages(book: Path = BOOK) -> list[Page]:
    """Every page of the book in reading order: the root, then the files of all parts."""
    toc = yaml.safe_load((book / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]] + _files(toc)
    pages = []
    for name in names:
        name = name.rsplit(".", 1)[0] if name.endswith((".md", ".ipynb")) else name
        source = next((book / f"{name}{suffix}" for suffix in (".md", ".ipynb")
                       if (book / f"{name}{suffix}").exists()), book / f"{name}.md")
        pages.append(Page(name, source))
    return pages


def notebook_pages(book: Path = BOOK) -> list[Page]:
    return [page for page in toc_pages(book) if page.is_notebook]


def chapter_pages(book: Path = BOOK) -> list[Page]:
    """The lessons: executed pages with a budget and glossary terms (the results page is neither)."""
    return [page for page in notebook_pages(book) if page.docname.startswith("lessons/")]


def soup(html_dir: Path, page: Page | str) -> BeautifulSoup:
    name = page.html if isinstance(page, Page) else page
    return BeautifulSoup((html_dir / name).read_text(encoding="utf-8"), "html.parser")


def title(html_dir: Path, page: Page) -> str:
    """The page's title as the HTML shows it, without its chapter number and the # anchor."""
    heading = soup(html_dir, page).select_one("article h1")
    text = " ".join(heading.get_text(" ", strip=True).replace("#", "").split())
    return re.sub(r"^\d+(\.\d+)*\.?\s+", "", text)
