"""The book itself: built from a clean execution cache with -W -n in the quick profile, then checked.

The build is the session fixture `build` (tests/conftest.py), shared with the offline, browser
and PDF checks. Any failing cell, unknown term, broken reference or Sphinx warning makes the
build, and so this module, fail.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.book
LESSON_1 = "lessons/01-dense-networks"
LESSON_2 = "lessons/02-binary-classification"
LESSON_3 = "lessons/03-convnets"
LESSON_4 = "lessons/04-augmentation"
LESSON_5 = "lessons/05-pretrained-convnets"
LESSON_6 = "lessons/06-visualizing-convnets"


def page(build: Path, name: str) -> BeautifulSoup:
    return BeautifulSoup((build / "html" / f"{name}.html").read_text(encoding="utf-8"), "html.parser")


def glued_values(build: Path, name: str) -> dict[str, str]:
    """The text/plain value of every glued variable, as myst-nb stored it from the executed notebook."""
    stored = json.loads((build / "jupyter_execute" / f"{name}.glue.json").read_text())
    return {key: output["data"]["text/plain"] for key, output in stored.items()
            if "text/plain" in output.get("data", {})}


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


def test_glossary_has_every_lesson_and_back_links(build):
    soup = page(build, "glossary")
    headings = [h.get_text(" ", strip=True) for h in soup.select("article h2")]
    assert len([h for h in headings if h.startswith("Lesson")]) == 11
    overfitting = soup.find("dt", id="term-Overfitting")
    used_in = overfitting.find_next_sibling("dd").select_one("p.glossary-used-in")
    assert used_in is not None, "no 'Used in' back-links on the Overfitting entry"
    # Lesson 1 introduces the term; every later chapter that uses it follows, once, in reading order.
    hrefs = [a["href"] for a in used_in.select("a")]
    assert hrefs[:2] == [f"{LESSON_1}.html", f"{LESSON_2}.html"] and hrefs == sorted(hrefs)
    assert len(hrefs) == len(set(hrefs)) and all((build / "html" / href).is_file() for href in hrefs)
    assert f"{LESSON_5}.html" in hrefs
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


def test_lesson_2_prose_shows_the_numbers_of_the_run(build):
    soup = page(build, LESSON_2)
    text = re.sub(r"\s+", " ", soup.select_one("article").get_text(" "))
    assert "{glue" not in text and "glue:text" not in text
    values = glued_values(build, LESSON_2)
    for key in ("test_accuracy", "best_epoch", "epochs_run", "restored_epoch", "grid_best_score",
                "tuner_best_score", "tuner_trials", "n_test", "profile"):
        assert key in values, f"{key} was not glued"
    test_accuracy = float(values["test_accuracy"])
    assert 0.6 < test_accuracy <= 1.0  # a trained model, not chance (50 %)
    assert f"right {test_accuracy:.2%} of the time" in text
    assert f"lowest after epoch {values['best_epoch']}" in text
    assert f"Training ended after {values['epochs_run']} of the allowed {values['max_epochs']} epochs" in text
    assert int(values["epochs_run"]) == int(values["restored_epoch"]) + 3  # EarlyStopping's patience
    assert f"All {values['tuner_trials']} trials completed" in text
    assert "ran in the quick profile" in text and values["profile"].strip("'\"") == "quick"
    # The budget and the search results are displayed as tables, not as raw Markdown.
    headers = [" ".join(th.get_text(" ", strip=True) for th in table.select("th")) for table in soup.select("article table")]
    assert any(h.startswith("budget value") for h in headers), headers
    assert sum(h.startswith("rank units learning rate") for h in headers) == 2, headers
    assert "|---|" not in text


def test_every_chapter_shows_its_budget_as_a_table(build):
    from bookpages import notebook_pages

    for chapter in notebook_pages():
        soup = page(build, chapter.docname)
        first_output = soup.select_one("article div.cell_output")
        assert first_output is not None and "Profile:" in first_output.get_text(), chapter.docname
        table = first_output.select_one("table")
        assert table is not None, f"{chapter.docname}: the budget shows as text, not as a table"
        assert "budget" in table.get_text() and "|" not in table.get_text()




def prose(build: Path, name: str) -> str:
    return re.sub(r"\s+", " ", page(build, name).select_one("article").get_text(" "))


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


def test_lesson_5_prose_shows_the_numbers_of_the_run(build):
    text = prose(build, LESSON_5).replace("\u2019", "'")  # typographic apostrophes as typed
    values = glued_values(build, LESSON_5)
    assert values["profile"].strip("'\"") == "quick"
    # The page says which base ran, with which weights, and it is the quick profile's.
    assert "This page ran with MobileNet (alpha 0.25) as its base, with ImageNet weights from the verified file" in text
    assert values["vgg_parameters"].strip("'") == "138,357,544"
    test_accuracy = float(values["test_accuracy"])
    assert f"this chapter's result: {test_accuracy:.1%} of the" in text
    # Results are best-epoch values, and the summary quotes those, never a smoothed one.
    feature_accuracy = float(values["feature_validation_accuracy"])
    assert f"the validation accuracy is {feature_accuracy:.1%} (training accuracy" in text
    assert (f"reached a validation accuracy of {feature_accuracy:.1%} with stored features and "
            f"{float(values['fine_tune_validation_accuracy']):.1%} after fine-tuning") in text
    assert f"while the head we keep measured {feature_accuracy:.1%}" in text
    assert f"Now {values['tuned_trainable'].strip(chr(39))} parameters are trainable" in text
    # The heads' parameter counts come from the run (the course's Flatten head is the larger one).
    head, flatten = (int(values[key].strip("'").replace(",", "")) for key in ("head_parameters", "flatten_parameters"))
    assert head == int(values["feature_channels"]) + 1 and flatten > 1000 * head
    assert f"{values['flatten_parameters'].strip(chr(39))} parameters," in text
    # The table of stages and the from-scratch comparison are filled in.
    for key in ("feature_test_accuracy", "augmented_test_accuracy", "fine_tuned_test_accuracy"):
        assert f"{float(values[key]):.1%}" in text
    assert values["scratch_sentence"].strip("'\"")[:40] in text
    model_path = values["model_path"].strip("'\"")
    assert model_path.endswith("trained-models/lesson05-quick.keras") and f"saved as {model_path}" in text
    # The results page compares feature extraction as the course runs it: the frozen base with augmentation.
    record = json.loads((build.parent / "results" / "quick" / "lesson-05.json").read_text())["metrics"]
    assert record["feature_extraction_test_accuracy"] == pytest.approx(float(values["augmented_test_accuracy"]), abs=1e-6)
    assert record["stored_features_test_accuracy"] == pytest.approx(float(values["feature_test_accuracy"]), abs=1e-6)
    assert record["test_accuracy"] == record["fine_tuned_test_accuracy"] == pytest.approx(test_accuracy, abs=1e-6)


def test_lesson_6_explains_the_model_lesson_5_saved(build):
    text = prose(build, LESSON_6)
    values = glued_values(build, LESSON_6)
    # The book runs Lesson 5 before Lesson 6, so Lesson 6 finds Lesson 5's model file.
    assert values["model_how"].strip("'\"") == "fine-tuned in Lesson 5"
    assert "lesson05-quick.keras" in values["model_path"]
    assert float(values["gradcam_difference"]) < 1e-3
    assert f"is {float(values['gradcam_difference']):.1e} on a scale" in text
    ranking = values["ranking"].strip("'\"")
    for method in ("CAM", "Grad-CAM", "Grad-CAM++", "Score-CAM", "Saliency", "SmoothGrad"):
        assert f"{method} (" in ranking
    assert f"rank the methods as {ranking}" in text
    # The composite's verdict follows its probability (the course's two-dog task).
    verdict = "calls it a dog" if float(values["two_dogs_probability"]) > 0.5 else "calls it a cat"
    assert f"the model {verdict}" in text
    record = json.loads((build.parent / "results" / "quick" / "lesson-06.json").read_text())["metrics"]
    assert {"deletion_area_cam", "deletion_area_gradcam", "deletion_area_random", "explained_accuracy"} <= set(record)
    assert record["deletion_area_gradcam"] == pytest.approx(float(values["ranking"].split("Grad-CAM (")[1][:5]), abs=1e-3)


def test_every_chapter_with_a_test_accuracy_records_it_for_the_results_page(build):
    from bookpages import notebook_pages

    recorded = 0
    for chapter in notebook_pages():
        values = glued_values(build, chapter.docname)
        if "test_accuracy" not in values:
            continue
        number = int(chapter.docname.split("/")[-1][:2])
        record = json.loads((build.parent / "results" / "quick" / f"lesson-{number:02d}.json").read_text())
        assert record["lesson"] == number and record["profile"] == "quick"
        assert record["metrics"]["test_accuracy"] == pytest.approx(float(values["test_accuracy"])), chapter.docname
        recorded += 1
    assert recorded >= 5


# The figures each chapter shows at least (Lesson 4's four runs share one comparison plot).
MINIMUM_FIGURES = {LESSON_1: 4, LESSON_2: 5, LESSON_3: 7, LESSON_4: 2, LESSON_5: 5, LESSON_6: 12}


def test_every_chapter_is_listed_with_its_figures():
    from bookpages import notebook_pages

    assert sorted(MINIMUM_FIGURES) == sorted(p.docname for p in notebook_pages())


@pytest.mark.parametrize("name, minimum", MINIMUM_FIGURES.items())
def test_chapter_figures_have_alt_text_captions_and_hidden_solutions(build, name, minimum):
    soup = page(build, name)
    figures = soup.select("article figure img")
    assert len(figures) >= minimum
    for img in figures:
        assert img.get("alt") and not img["alt"].startswith("../_images"), "a figure without alt text"
        assert (build / "html" / "lessons" / img["src"]).resolve().is_file()
    # Every image appears once: a glued figure must not also show as a cell output.
    sources = [img["src"] for img in soup.select("article img") if "_images" in img["src"]]
    assert len(sources) == len(set(sources)), "a glued figure also shows as a cell output"
    assert all(fig.select_one("figcaption") for fig in soup.select("article figure"))
    assert "{glue" not in prose(build, name) and "glue:text" not in prose(build, name)
    # The exercises' solutions are there, folded away in dropdowns.
    solutions = soup.select("article div.solution")
    assert len(solutions) >= 3 and all("dropdown" in div["class"] for div in solutions)


# Per chapter: the fewest glossary links it has, and terms it must link (the lesson's own topics).
TERM_LINKS = {
    LESSON_1: (20, ()),
    LESSON_2: (20, ("Binary-classification", "Multi-hot-encoding", "EarlyStopping", "KerasTuner", "Grid-search")),
    LESSON_3: (20, ()),
    LESSON_4: (20, ()),
    LESSON_5: (15, ("Functional-API", "Global-average-pooling", "Feature-extraction", "Fine-tuning")),
    LESSON_6: (15, ("Class-activation-map", "Grad-CAM", "Saliency-map", "SmoothGrad", "Deletion-curve")),
}


@pytest.mark.parametrize("name, minimum, required", [(name, *spec) for name, spec in TERM_LINKS.items()])
def test_chapter_term_links_resolve_to_glossary_entries(build, name, minimum, required):
    links = page(build, name).select('article a[href*="glossary.html#term-"]')
    assert len(links) >= minimum
    glossary_ids = {tag["id"] for tag in page(build, "glossary").select("dt[id]")}
    for link in links:
        assert link["href"].split("#")[1] in glossary_ids, link["href"]
    targets = {link["href"].split("#")[1] for link in links}
    for term in required:
        assert f"term-{term}" in targets, term


@pytest.mark.parametrize("name", [LESSON_5, LESSON_6])
def test_lessons_5_and_6_cite_their_sources(build, name):
    assert page(build, name).select('article a[href*="bibliography.html"]'), f"{name} cites nothing"
