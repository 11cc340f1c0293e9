"""The PDF book (`make pdf`): built from the same executed notebooks as the HTML site, then read back.

Checks what a reader of the PDF would notice: every page of the table of contents is in it, the
figures are, no reference prints as "??", glossary terms are links into the glossary, and nothing
runs off the page. A few rendered pages are saved to `test-output/pdf-pages/` to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from bookpages import chapter_pages, notebook_pages, soup, title, toc_pages

pytestmark = [pytest.mark.book, pytest.mark.pdf]

# A line may stick out into the margin a little (LaTeX reports every overfull box); more than this
# is visible as text running into the margin.
OVERFULL_LIMIT_PT = 30.0


def poppler(tool: str, *args: str) -> str:
    assert shutil.which(tool), f"{tool} not found: `make test` installs poppler-utils from Debian"
    return subprocess.run([tool, *args], capture_output=True, text=True, check=True).stdout


@cache
def reader(pdf: Path) -> PdfReader:
    return PdfReader(pdf)


@cache
def text_of(pdf: Path) -> str:
    return poppler("pdftotext", "-enc", "UTF-8", str(pdf), "-")


def flat(text: str) -> str:
    """Whitespace and hyphenation at line ends undone, so titles can be found in the PDF's text."""
    return " ".join(re.sub(r"-\n(?=[a-z])", "", text).split())


def outline(pdf: Path) -> list[tuple[str, int]]:
    """(title, first page index) of the PDF's bookmarks, in order, at all levels."""
    found = []
    pdf_reader = reader(pdf)

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                found.append((item.title, pdf_reader.get_destination_page_number(item)))

    walk(pdf_reader.outline)
    return found


def chapter_ranges(pdf: Path, html: Path) -> dict[str, range]:
    """The pages of each TOC page that is a chapter of the PDF (the root page is the front matter)."""
    marks = outline(pdf)
    starts = []
    for page in toc_pages()[1:]:
        wanted = title(html, page)
        page_index = next((index for name, index in marks if name == wanted), None)
        assert page_index is not None, f"no bookmark {wanted!r} in the PDF; bookmarks: {marks}"
        starts.append((page.docname, page_index))
    ends = [index for _, index in starts[1:]] + [len(reader(pdf).pages)]
    return {name: range(start, end) for (name, start), end in zip(starts, ends)}


def links_between(pdf: Path) -> list[tuple[int, int]]:
    """(page of the link, page of its target) for every internal link of the PDF."""
    pdf_reader = reader(pdf)
    destinations = pdf_reader.named_destinations
    links = []
    for index, pdf_page in enumerate(pdf_reader.pages):
        for annotation in pdf_page.get("/Annots") or []:
            annotation = annotation.get_object()
            action = annotation.get("/A")
            if annotation.get("/Subtype") != "/Link" or not action or action.get("/S") != "/GoTo":
                continue
            target = destinations.get(str(action["/D"]))
            if target is not None:
                links.append((index, pdf_reader.get_destination_page_number(target)))
    return links


def test_pdf_has_every_page_of_the_table_of_contents(pdf_build, html):
    pages = len(reader(pdf_build.pdf).pages)
    print(f"\nPDF: {pdf_build.pdf.name}, {pages} pages, built in {pdf_build.seconds:.0f} s")
    text = flat(text_of(pdf_build.pdf))
    for page in toc_pages():
        assert flat(title(html, page)) in text, f"the title of {page.docname} is not in the PDF"
    ranges = chapter_ranges(pdf_build.pdf, html)
    assert all(len(pages_of) >= 1 for pages_of in ranges.values()), ranges
    # Each notebook chapter's body is in the PDF, not only its title: its section headings are.
    for page in notebook_pages():
        for heading in soup(html, page).select("article h2")[:3]:
            name = re.sub(r"^\d+(\.\d+)*\.?\s+", "", " ".join(heading.get_text(" ", strip=True).replace("#", "").split()))
            name = re.sub(r"\s+([:;,.])", r"\1", name)  # get_text(" ") puts a space between `code` and a colon
            assert flat(name) in text, f"section {name!r} of {page.docname} is not in the PDF"


def test_pdf_has_the_executed_figures(pdf_build, html):
    in_html = 0
    for page in toc_pages():
        in_html += len([img for img in soup(html, page).select("article img")
                        if "_images/" in img.get("src", "") and not img["src"].endswith(".svg")])
    listing = poppler("pdfimages", "-list", str(pdf_build.pdf)).splitlines()[2:]
    in_pdf = sum(1 for line in listing if line.split()[2] == "image")  # not their alpha masks
    print(f"\nfigures: {in_html} images in the HTML pages, {in_pdf} in the PDF")
    assert in_html > 0
    assert in_pdf >= in_html


def test_pdf_has_no_unresolved_references(pdf_build):
    text = text_of(pdf_build.pdf)
    assert "??" not in text, [line for line in text.splitlines() if "??" in line][:10]
    log = pdf_build.log.read_text(encoding="utf-8", errors="replace")
    undefined = re.findall(r"(?:Reference|Citation|Hyper reference) `[^']+' on page \d+ undefined", log)
    assert not undefined and "There were undefined references" not in log, undefined[:10]


def test_pdf_glossary_terms_are_links_into_the_glossary(pdf_build, html):
    ranges = chapter_ranges(pdf_build.pdf, html)
    glossary_pages = ranges["glossary"]
    links = links_between(pdf_build.pdf)
    for page in chapter_pages():
        terms_in_html = len(soup(html, page).select('article a[href*="glossary.html#term-"]'))
        into_glossary = [link for link in links
                         if link[0] in ranges[page.docname] and link[1] in glossary_pages]
        print(f"\n{page.docname}: {terms_in_html} term links in the HTML, {len(into_glossary)} in the PDF")
        assert terms_in_html > 0
        assert len(into_glossary) >= terms_in_html, f"{page.docname}: term links missing in the PDF"


def test_pdf_text_stays_on_the_page(pdf_build, root):
    log = pdf_build.log.read_text(encoding="utf-8", errors="replace")
    overfull = [(float(points), where) for points, where in
                re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\) (.*)", log)]
    too_wide = [item for item in overfull if item[0] > OVERFULL_LIMIT_PT]
    assert not too_wide, f"lines wider than the text by more than {OVERFULL_LIMIT_PT} pt: {too_wide[:10]}"
    # And on the rendered pages: nothing is printed in the outer 8 % of any page's width, where
    # only text running off the text block could be.
    pages_dir = root / "test-output" / "pdf-pages"
    shutil.rmtree(pages_dir, ignore_errors=True)
    pages_dir.mkdir(parents=True)
    poppler("pdftoppm", "-r", "30", "-gray", "-png", str(pdf_build.pdf), str(pages_dir / "all"))
    ink_in_margin = []
    for image_path in sorted(pages_dir.glob("all-*.png")):
        image = Image.open(image_path).convert("L")
        width, height = image.size
        margin = image.crop((int(width * 0.92), 0, width, height))
        if margin.getextrema()[0] < 160:  # anything darker than light grey
            ink_in_margin.append(image_path.name)
        image_path.unlink()
    assert not ink_in_margin, f"ink in the right margin (text off the page?) on {ink_in_margin}"


def test_pdf_sample_pages_saved_for_a_look(pdf_build, html, root):
    """Render the first page of each chapter and its first code page, to look at by eye."""
    pages_dir = root / "test-output" / "pdf-pages"
    pages_dir.mkdir(parents=True, exist_ok=True)
    ranges = chapter_ranges(pdf_build.pdf, html)
    wanted = {}
    for name, pages_of in ranges.items():
        wanted[f"{name.replace('/', '-')}-first"] = pages_of.start
        for index in pages_of:
            if "(continued from previous page)" in poppler("pdftotext", "-f", str(index + 1), "-l", str(index + 1),
                                                           str(pdf_build.pdf), "-"):
                wanted[f"{name.replace('/', '-')}-code"] = index
                break
    for label, index in wanted.items():
        poppler("pdftoppm", "-r", "60", "-png", "-singlefile", "-f", str(index + 1), "-l", str(index + 1),
                str(pdf_build.pdf), str(pages_dir / label))
    saved = sorted(p.name for p in pages_dir.glob("*.png"))
    print(f"\nrendered PDF pages in {pages_dir}: {saved}")
    assert len(saved) >= len(ranges)
