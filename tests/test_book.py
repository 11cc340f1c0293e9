"""The book itself: built from a clean execution cache with -W -n in the quick profile, then checked.

The build goes to `test-output/book/` so that a reader's own `book/_build` stays untouched. Any
failing cell, unknown term, broken reference or Sphinx warning makes the build, and so this
module, fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.book
LESSON_1 = "lessons/01-dense-networks"


@pytest.fixture(scope="session")
def build(root) -> Path:
    output = root / "test-output" / "book"
    shutil.rmtree(output, ignore_errors=True)  # a clean execution cache: every chapter runs
    output.mkdir(parents=True)
    env = {**os.environ, "DLBOOK_PROFILE": "quick"}
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    started = time.perf_counter()
    result = subprocess.run(
        [str(jupyter_book), "build", str(root / "book"), "--path-output", str(output), "-W", "-n", "--keep-going"],
        capture_output=True, text=True, env=env,
    )
    seconds = time.perf_counter() - started
    (output / "build.log").write_text(result.stdout + result.stderr)
    print(f"\nclean book build: {seconds:.0f} s (log: {output / 'build.log'})")
    for line in (result.stdout + result.stderr).splitlines():
        if "Executed notebook in" in line:
            print("  " + line.split("/book/")[-1])
    assert result.returncode == 0, "book build failed:\n" + (result.stdout + result.stderr)[-6000:]
    return output / "_build"


def page(build: Path, name: str) -> BeautifulSoup:
    return BeautifulSoup((build / "html" / f"{name}.html").read_text(encoding="utf-8"), "html.parser")


def glued_values(build: Path, name: str) -> dict[str, str]:
    """The text/plain value of every glued variable, as myst-nb stored it from the executed notebook."""
    stored = json.loads((build / "jupyter_execute" / f"{name}.glue.json").read_text())
    return {key: output["data"]["text/plain"] for key, output in stored.items()
            if "text/plain" in output.get("data", {})}


def test_lesson_1_page_has_its_figures_with_alt_text(build):
    soup = page(build, LESSON_1)
    figures = soup.select("article figure img")
    assert len(figures) >= 4
    for img in figures:
        assert img.get("alt") and not img["alt"].startswith("../_images"), "a figure without alt text"
        assert (build / "html" / "lessons" / img["src"]).resolve().is_file()
    # Every image in the chapter appears once (a glued figure must not also show as a cell output).
    sources = [img["src"] for img in soup.select("article img") if "_images" in img["src"]]
    assert len(sources) == len(set(sources))
    assert all(fig.select_one("figcaption") for fig in soup.select("article figure"))


def test_lesson_1_prose_shows_the_numbers_of_the_run(build):
    soup = page(build, LESSON_1)
    text = soup.select_one("article").get_text(" ")
    assert "{glue" not in text and "glue:text" not in text
    values = glued_values(build, LESSON_1)
    for key in ("test_accuracy", "best_epoch", "total_parameters", "training_seconds", "profile"):
        assert key in values, f"{key} was not glued"
    test_accuracy = float(values["test_accuracy"])
    assert 0.5 < test_accuracy <= 1.0  # a trained model, not chance (10 %)
    # The prose shows the glued value with the format the chapter asks for.
    assert f"classifies {test_accuracy:.2%} of the" in re.sub(r"\s+", " ", text)
    assert f"until epoch {values['best_epoch']}" in re.sub(r"\s+", " ", text)
    assert "Profile: quick" in text
    assert "ran in the quick profile" in re.sub(r"\s+", " ", text)
    assert values["profile"].strip("'\"") == "quick"


def test_lesson_1_term_links_resolve_to_glossary_entries(build):
    links = page(build, LESSON_1).select('article a[href*="glossary.html#term-"]')
    assert len(links) >= 20
    glossary_ids = {tag["id"] for tag in page(build, "glossary").select("dt[id]")}
    for link in links:
        assert link["href"].split("#")[1] in glossary_ids, link["href"]


def test_glossary_has_every_lesson_and_back_links(build):
    soup = page(build, "glossary")
    headings = [h.get_text(" ", strip=True) for h in soup.select("article h2")]
    assert len([h for h in headings if h.startswith("Lesson")]) == 11
    overfitting = soup.find("dt", id="term-Overfitting")
    used_in = overfitting.find_next_sibling("dd").select_one("p.glossary-used-in")
    assert used_in is not None, "no 'Used in' back-links on the Overfitting entry"
    hrefs = [a["href"] for a in used_in.select("a")]
    # Lesson 1 introduces the term; later chapters that use it follow, each linked once.
    assert hrefs[0] == f"{LESSON_1}.html" and len(hrefs) == len(set(hrefs))
    assert all((build / "html" / href).is_file() for href in hrefs)
    # An entry no chapter uses yet has no back-link paragraph.
    vit = soup.find("dt", id="term-Vision-Transformer")
    assert vit is not None and vit.find_next_sibling("dd").select_one("p.glossary-used-in") is None


def test_hovering_a_term_has_its_definition_to_show(build):
    tips = list((build / "html" / "_static" / "tippy" / "lessons").glob("01-dense-networks.*.js"))
    assert tips, "sphinx-tippy wrote no tooltip data for Lesson 1"
    data = tips[0].read_text(encoding="utf-8")
    assert "term-Overfitting" in data and "validation loss reaches a minimum" in data


def test_status_page_lists_the_chapter_execution(build):
    soup = page(build, "status")
    rows = [row.get_text(" ", strip=True) for row in soup.select("article table tbody tr")]
    lesson_rows = [row for row in rows if "01-dense-networks" in row]
    assert lesson_rows, rows
    assert "✅" in lesson_rows[0]
    seconds = re.findall(r"\b\d+\.\d+\b", lesson_rows[0])
    assert seconds, lesson_rows[0]
    print(f"\nLesson 1 execution time (status page): {seconds[-1]} s")


def test_bibliography_and_citations(build):
    soup = page(build, LESSON_1)
    citations = soup.select('article a[href*="bibliography.html#id"], article a.reference.internal[href*="bibliography"]')
    assert citations, "Lesson 1 cites nothing"
    assert "LeCun" in page(build, "bibliography").get_text()


# --------------------------------------------------------------------------------------------------
# Lessons 3 and 4: convnets on a folder of photos, then augmentation and dropout

LESSON_3 = "lessons/03-convnets"
LESSON_4 = "lessons/04-augmentation"


def prose(build: Path, name: str) -> str:
    return re.sub(r"\s+", " ", page(build, name).select_one("article").get_text(" "))


@pytest.mark.parametrize("name, figures", [(LESSON_3, 7), (LESSON_4, 2)])
def test_lessons_3_and_4_have_their_figures_with_alt_text(build, name, figures):
    soup = page(build, name)
    images = soup.select("article figure img")
    assert len(images) == figures
    for img in images:
        assert img.get("alt") and not img["alt"].startswith("../_images"), "a figure without alt text"
        assert (build / "html" / "lessons" / img["src"]).resolve().is_file()
    sources = [img["src"] for img in soup.select("article img") if "_images" in img["src"]]
    assert len(sources) == len(set(sources)), "a glued figure also shows as a cell output"
    assert all(fig.select_one("figcaption") for fig in soup.select("article figure"))


def test_lesson_3_prose_shows_the_numbers_of_the_run(build):
    text = prose(build, LESSON_3)
    assert "{glue" not in text and "glue:text" not in text
    values = glued_values(build, LESSON_3)
    test_accuracy = float(values["test_accuracy"])
    assert 0.6 < test_accuracy <= 1.0  # the chapter asserts it beats guessing clearly
    assert f"classifies {test_accuracy:.1%} of the" in text
    # The messy folder: every count the report gives appears in the text.
    assert (f"kept {values['messy_usable']} images, converted {values['messy_converted']}" in text
            and f"skipped {values['messy_skipped']} files" in text)
    assert f"{values['total_parameters'].strip(chr(39))} parameters" in text
    assert f"epoch {values['best_epoch']} (" in text
    assert "ran in the quick profile" in text and "Profile: quick" in text


def test_lesson_3_regularizer_table_is_glued_from_the_run(build):
    soup = page(build, LESSON_3)
    tables = [t for t in soup.select("article table") if "gap (points)" in t.get_text()]
    assert len(tables) == 1, "the glued comparison table is missing"
    runs = [row.select("td")[0].get_text(strip=True) for row in tables[0].select("tbody tr")]
    assert runs == ["no regularization", "dropout", "L2 weight decay"]
    values = glued_values(build, LESSON_3)
    best = values["best_regularizer_run"].strip("'\"")
    assert best in runs and f"the best of the three runs here is {best}" in prose(build, LESSON_3)


def test_lesson_4_four_way_comparison_and_choice_are_glued(build):
    soup = page(build, LESSON_4)
    text = prose(build, LESSON_4)
    assert "{glue" not in text and "glue:text" not in text
    tables = [t for t in soup.select("article table") if "gap (points)" in t.get_text()]
    assert len(tables) == 2, "the four-run table and the tuning table should both be glued"
    runs = [row.select("td")[0].get_text(strip=True) for row in tables[0].select("tbody tr")]
    assert runs == ["baseline", "augmentation", "dropout", "both"]
    values = glued_values(build, LESSON_4)
    best, chosen = values["best_run"].strip("'\""), values["chosen_run"].strip("'\"")
    assert best in runs
    assert f"the highest validation accuracy to {best} (" in text
    assert f"The model chosen on validation accuracy is {chosen}" in text
    test_accuracy = float(values["test_accuracy"])
    assert 0.6 < test_accuracy <= 1.0 and f"it reaches {test_accuracy:.1%}" in text


@pytest.mark.parametrize("name", [LESSON_3, LESSON_4])
def test_lessons_3_and_4_term_links_resolve_to_glossary_entries(build, name):
    links = page(build, name).select('article a[href*="glossary.html#term-"]')
    assert len(links) >= 20
    glossary_ids = {tag["id"] for tag in page(build, "glossary").select("dt[id]")}
    for link in links:
        assert link["href"].split("#")[1] in glossary_ids, link["href"]
