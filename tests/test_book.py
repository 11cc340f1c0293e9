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
LESSON_10 = "lessons/10-time-series"
LESSON_11 = "lessons/11-transformers"
LESSON_7 = "lessons/07-autoencoders-gans"
LESSON_8 = "lessons/08-unet-segmentation"
LESSON_9 = "lessons/09-recurrent-networks"


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
    for key in ("test_accuracy", "best_epoch", "total_parameters", "training_seconds", "profile",
                "backend", "initial_loss", "unscaled_loss", "raw_first_loss", "scaled_first_loss"):
        assert key in values, f"{key} was not glued"
    test_accuracy = float(values["test_accuracy"])
    assert 0.9 < test_accuracy <= 1.0  # a trained dense network on MNIST, not chance (10 %)
    # The prose shows the glued value with the format the chapter asks for.
    assert f"classifies {test_accuracy:.2%} of the" in re.sub(r"\s+", " ", text)
    assert f"until epoch {values['best_epoch']}" in re.sub(r"\s+", " ", text)
    # What TensorFlow is, and the backend this run used.
    assert f"on the {values['backend'].strip(chr(39))} backend" in re.sub(r"\s+", " ", text)
    # Unscaled pixels: the measured initial losses and first-epoch losses are in the prose.
    initial, unscaled = float(values["initial_loss"]), float(values["unscaled_loss"])
    assert unscaled > 10 * initial
    assert f"validation loss of {unscaled:.0f} instead of {initial:.2f}" in re.sub(r"\s+", " ", text)
    raw_first, scaled_first = float(values["raw_first_loss"]), float(values["scaled_first_loss"])
    assert f"training loss of {raw_first:.1f} , against {scaled_first:.2f} with scaled" in re.sub(r"\s+", " ", text)
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
    # An entry no page links to has no back-link paragraph (found from the sources, so that writing a
    # new chapter does not break this check; skipped once every entry is linked somewhere).
    from dlbook.site import glossary as glossary_data

    book = Path(__file__).resolve().parents[1] / "book"
    linked = {glossary_data.normalise(target) for source in book.rglob("*.md") if source.name != "glossary.md"
              for target in re.findall(r"\{term\}`(?:[^`<]*<)?([^`<>]+)>?`", source.read_text(encoding="utf-8"))}
    terms = [term for lesson in glossary_data.load(book.parent / "glossary") for term in lesson.terms]
    unused = [term for term in terms if not {glossary_data.normalise(n) for n in term.names} & linked
              and re.fullmatch(r"[A-Za-z ]+", term.term)]  # a plain name has a predictable HTML id
    if unused:
        entry = soup.find("dt", id=f"term-{unused[0].term.replace(' ', '-')}")
        assert entry is not None, unused[0].term
        assert entry.find_next_sibling("dd").select_one("p.glossary-used-in") is None, unused[0].term


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
    from bookpages import chapter_pages

    for chapter in chapter_pages():
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
    assert 0.65 < test_accuracy <= 1.0  # the chapter's guard: far above the 50 % of guessing
    assert f"classifies {test_accuracy:.1%} of the" in text
    # The messy folder: every count the report gives appears in the text.
    assert (f"kept {values['messy_usable']} images, converted {values['messy_converted']}" in text
            and f"skipped {values['messy_skipped']} files" in text)
    assert f"{values['total_parameters'].strip(chr(39))} parameters" in text
    # Learns, then overfits: the best epoch lies before the last, and the loss rose after it.
    best_epoch, epochs_run = int(values["best_epoch"]), int(values["epochs_run"])
    assert best_epoch < epochs_run <= int(values["max_epochs"])
    assert float(values["final_val_loss"]) > float(values["best_val_loss"])
    assert f"falls to {float(values['best_val_loss']):.3f} at epoch {best_epoch}" in text
    assert f"for {epochs_run} epochs" in text
    assert "ran in the quick profile" in text and "Profile: quick" in text
    # The page names where its photos came from, as the data layer recorded it.
    source = values["photos_source"].strip("'\"")
    assert source.startswith("Dogs vs. Cats") and "train/cats 1,000" in source
    assert source.split(":")[0] in text and "train/cats 1,000" in text


def test_lesson_3_regularizer_exercise_says_what_this_profile_ran(build):
    text = prose(build, LESSON_3)
    values = glued_values(build, LESSON_3)
    # The quick profile leaves the dropout and L2 runs to the reader, and says so in the solution.
    assert "does not make these two runs" in text and "regularizer_epochs = " in text
    assert f"zeroed {float(values['zeroed_share']):.1%} of ten thousand inputs" in text


def test_lesson_4_compares_baseline_and_regularized_model_at_their_best_epochs(build):
    soup = page(build, LESSON_4)
    text = prose(build, LESSON_4)
    assert "{glue" not in text and "glue:text" not in text
    tables = [t for t in soup.select("article table") if "lowest validation loss" in t.get_text()]
    assert len(tables) == 1, "the glued comparison table is missing"
    runs = [row.select("td")[0].get_text(strip=True) for row in tables[0].select("tbody tr")]
    assert runs == ["baseline", "augmentation + dropout"]
    values = glued_values(build, LESSON_4)
    base_best, reg_best = float(values["baseline_best_val_loss"]), float(values["regularized_best_val_loss"])
    # The mechanism the chapter guards: the baseline turns upward, the regularized best is lower.
    assert int(values["baseline_best_epoch"]) < int(values["baseline_epochs_run"])
    assert float(values["baseline_final_val_loss"]) > base_best > reg_best
    assert f"falls to {base_best:.3f} at epoch {values['baseline_best_epoch']}" in text
    assert f"at {reg_best:.3f} , below the baseline" in text
    base_at_best, reg_at_best = float(values["baseline_val_accuracy"]), float(values["regularized_val_accuracy"])
    assert f"classifies {reg_at_best:.1%} of the validation" in text and f"the {base_at_best:.1%} of the baseline" in text
    # Regularization makes the training photos harder to fit (a guard of the chapter).
    assert float(values["regularized_final_train_accuracy"]) < float(values["baseline_final_train_accuracy"])
    test_accuracy, baseline_test = float(values["test_accuracy"]), float(values["baseline_test_accuracy"])
    assert f"classifies {test_accuracy:.1%} of the test photos" in text
    assert f"baseline\N{RIGHT SINGLE QUOTATION MARK}s {baseline_test:.1%} (test loss" in text  # smart quotes
    # The exercises' runs are left to the reader in the quick profile, and the page says so.
    assert len(re.findall(r"does not make these runs: that would add about \d+ (?:seconds|minutes) to", text)) == 2
    assert len(re.findall(r"does not make this run: that would add about \d+ (?:seconds|minutes) to", text)) == 1
    # The interpolation the quick profile chose, and the measurement behind it (a guard of the chapter).
    assert "so the block interpolates to the nearest pixel here" in text
    kept_bilinear, kept_nearest = float(values["detail_bilinear"]), float(values["detail_nearest"])
    assert kept_bilinear < kept_nearest
    assert re.search(rf"keep {kept_bilinear:.0f}\s*% of the photo", text)
    assert re.search(rf"nearest-neighbour interpolation {kept_nearest:.0f}\s*%", text)
    assert "rates = (0.0, 0.25, 0.5, 0.75)" in text  # the grid needs its rates as well as its epochs
    record = json.loads((build.parent / "results" / "quick" / "lesson-04.json").read_text())
    assert set(record["metrics"]) >= {"baseline_test_accuracy", "test_accuracy", "baseline_best_validation_loss",
                                      "regularized_best_validation_loss", "baseline_best_validation_accuracy",
                                      "regularized_best_validation_accuracy"}
    assert record["metrics"]["regularized_best_validation_loss"] == pytest.approx(reg_best)


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
    assert re.search(r"trained-models/lesson05-quick-classifier-[0-9a-f]{12}\.keras$", model_path)
    assert f"saved as {model_path}" in text
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
    assert re.search(r"lesson05-quick-classifier-[0-9a-f]{12}\.keras", values["model_path"])
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


# The figures each chapter shows at least (Lesson 4's two runs share one comparison plot).
MINIMUM_FIGURES = {LESSON_1: 4, LESSON_2: 5, LESSON_3: 6, LESSON_4: 2, LESSON_5: 5, LESSON_6: 12,
                   LESSON_10: 7}
MINIMUM_FIGURES[LESSON_7] = 11
MINIMUM_FIGURES[LESSON_8] = 4
MINIMUM_FIGURES[LESSON_9] = 4
MINIMUM_FIGURES[LESSON_11] = 6


def test_every_chapter_is_listed_with_its_figures():
    from bookpages import chapter_pages

    # The results page is a notebook too, but not a chapter: it has its own tests (test_results.py).
    assert sorted(MINIMUM_FIGURES) == sorted(p.docname for p in chapter_pages())


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
    LESSON_8: (25, ("U-Net", "Contracting-path", "Expansive-path", "Skip-connection", "Transposed-convolution",
                    "PyDataset", "Intersection-over-union", "Majority-class-baseline", "Residual-connection")),
    LESSON_9: (20, ("Word-embedding", "Embedding-matrix", "Input-padding", "Masking", "Unrolled-RNN", "SimpleRNN",
                    "Return-sequences", "Stacked-recurrent-layers", "Vanishing-gradient-problem", "LSTM",
                    "Validation-split")),
    LESSON_11: (20, ("Transformer", "Scaled-dot-product-attention", "Multi-head-attention", "Positional-encoding",
                     "Token-and-position-embedding", "Transformer-block", "Masking", "Vision-Transformer", "Patch",
                     "Class-token")),
    LESSON_10: (20, ("Time-series", "Lookback", "Delay", "Data-generator", "Naive-baseline", "Mean-absolute-error",
                     "GRU", "Recurrent-dropout", "Bidirectional-RNN", "Conv1D")),
}
TERM_LINKS[LESSON_7] = (25, ("Autoencoder", "Encoder-and-decoder", "Latent-space", "Convolutional-autoencoder",
                             "Reconstruction-loss", "Adam", "GAN", "Generator-network", "Discriminator-network",
                             "Mode-collapse", "Custom-training-step"))


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


# --------------------------------------------------------------------------------------------------
# Lesson 10: time series forecasting


def test_lesson_10_prose_shows_the_numbers_of_the_run(build):
    text = prose(build, LESSON_10).replace("\u2019", "'")  # Sphinx's typographic apostrophes
    values = glued_values(build, LESSON_10)
    assert values["profile"].strip("'\"") == "quick"
    # The quick profile always runs on New York's weather, and the page says so.
    assert "The quick profile always uses New York's weather" in text
    baseline_validation, baseline_test = (float(values[f"persistence_{p}_mae"]) for p in ("validation", "test"))
    assert 0.5 < baseline_validation < 10 and 0.5 < baseline_test < 10  # degrees, not normalized units
    assert f"Persistence is off by {baseline_validation:.2f} °C on average in the validation" in text
    for key in ("dense", "gru", "stacked_gru", "bidirectional_gru", "conv1d_gru"):
        for period in ("validation", "test"):
            mae = float(values[f"{key}_{period}_mae"])
            assert 0.5 < mae < 10 and f"{mae:.2f}" in text, (key, period)
    # The claim the chapter guards, in the words it prints.
    gru_test = float(values["gru_test_mae"])
    assert gru_test < baseline_test
    assert f"{values['gru_test_verb'].strip(chr(39))} it on the test period: {gru_test:.2f} °C" in text
    # The GRU's parameter count is Keras 3's formula, 3u(d + u + 2), not the course's 3u(d + u + 1).
    units, features = int(values["units"]), int(values["n_features"])
    assert values["gru_parameters"].strip("'") == f"{3 * units * (features + units + 2):,}"
    assert values["gru_parameters_course"].strip("'") == f"{3 * units * (features + units + 1):,}"
    assert f"has {3 * units * (features + units + 2):,} parameters in Keras 3" in text
    # The windows of the generator and of Keras were compared, all of them in the quick profile.
    assert values["checked_text"].strip("'").startswith("All ")
    assert "lookback 72, step 1, delay 24" in text


def test_lesson_10_records_every_model_against_the_baseline(build):
    values = glued_values(build, LESSON_10)
    record = json.loads((build.parent / "results" / "quick" / "lesson-10.json").read_text())
    metrics = record["metrics"]
    assert record["lesson"] == 10 and metrics["dataset"] == "nyc_weather"
    for key in ("persistence", "dense", "gru", "stacked_gru", "bidirectional_gru", "conv1d_gru"):
        for period in ("validation", "test"):
            assert metrics[f"{key}_{period}_mae"] == pytest.approx(float(values[f"{key}_{period}_mae"]))


def test_lesson_10_cites_the_gru_bidirectional_and_dropout_papers(build):
    citations = [re.sub(r"\s+", " ", a.get_text()) for a in page(build, LESSON_10).select('article a[href*="bibliography.html"]')]
    for source in ("Cho et al., 2014", "Hochreiter and Schmidhuber, 1997", "Schuster and Paliwal, 1997",
                   "Gal and Ghahramani, 2016"):
        assert any(source in citation for citation in citations), (source, citations)


# --- Lesson 7: autoencoders and GANs ---------------------------------------------------------------

LESSON_7_RESULTS = {"autoencoder_test_bce": "conv_test_loss", "dense_autoencoder_test_bce": "dense_test_loss",
                    "mean_image_test_bce": "mean_image_loss", "classifier_test_accuracy": "classifier_accuracy",
                    "gan_top3_class_share": "top3_share", "gan_classes_missing": "missing_classes"}


def test_lesson_7_prose_shows_the_numbers_of_the_run(build):
    text = prose(build, LESSON_7)
    values = glued_values(build, LESSON_7)
    floor, conv, dense, mean = (float(values[key]) for key in ("floor_loss", "conv_test_loss", "dense_test_loss",
                                                               "mean_image_loss"))
    assert floor < conv < dense < mean  # what the page's guards claim, in the numbers it shows
    # A glued value is followed by a space in the page's text, also before punctuation.
    assert f"the mean image scores {mean:.4f} , and a perfect copy {floor:.4f} ," in text
    assert f"closes {float(values['conv_gap_closed']):.0%} of that gap (loss {conv:.4f} )" in text
    accuracy = float(values["classifier_accuracy"])
    assert 0.95 < accuracy <= 1.0 and f"recognises {accuracy:.1%} of the real test digits" in text
    top3 = float(values["top3_share"])
    assert 0.3 <= top3 <= 1.0 and f"take {top3:.0%} , where a generator that covers every digit equally" in text
    steps = values["gan_steps"].strip("'\"")
    assert f"After {steps} steps" in text and f"after {steps} steps here" in text
    assert "ran in the quick profile" in text
    # The loss table is a rendered table with the four reconstructions, not Markdown source.
    tables = [t for t in page(build, LESSON_7).select("article table") if "gap closed" in t.get_text()]
    assert len(tables) == 1
    rows = [row.select("td")[0].get_text(strip=True) for row in tables[0].select("tbody tr")]
    assert rows == ["mean training image", "dense autoencoder", "convolutional autoencoder", "perfect copy"]


def test_lesson_7_records_its_results_for_the_results_page(build):
    record = json.loads((build.parent / "results" / "quick" / "lesson-07.json").read_text())
    values = glued_values(build, LESSON_7)
    metrics = record["metrics"]
    assert set(metrics) == set(LESSON_7_RESULTS) | {"gan_steps"}
    for key, glued in LESSON_7_RESULTS.items():
        assert metrics[key] == pytest.approx(float(values[glued])), key
    assert metrics["gan_steps"] == int(values["gan_steps"].strip("'\"").replace(",", ""))
    assert 0 <= metrics["gan_classes_missing"] <= 10 and isinstance(metrics["gan_classes_missing"], int)


def test_lesson_7_links_back_to_lesson_6_for_grad_cam(build):
    links = page(build, LESSON_7).select('article a[href*="06-visualizing-convnets"]')
    assert links, "Lesson 7 should send Grad-CAM readers to Lesson 6"


# Lesson 8: U-Net segmentation


def test_lesson_8_prose_shows_the_numbers_of_the_run(build):
    text = re.sub(r"\s+([:;,.)])", r"\1", prose(build, LESSON_8))  # no space before punctuation
    values = glued_values(build, LESSON_8)
    assert values["profile"].strip("'\"") == "quick" and "ran in the quick profile" in text
    # Which data, with counts: the page says so in words and numbers.
    used = values["dataset_used"].strip("'\"")
    assert f"This run used {used}: {values['n_pairs'].strip(chr(39))} photo/trimap pairs" in text
    assert (f"We train on {values['n_train'].strip(chr(39))} pairs, validate on "
            f"{values['n_validation'].strip(chr(39))} and test on {values['n_test'].strip(chr(39))}") in text
    # The parameter counts by hand, and the course's network (34.5 million parameters).
    assert values["course_parameters"].strip("'") == "34,513,475"
    assert f"has {values['course_parameters'].strip(chr(39))} parameters, about 34.5 million" in text
    # Headline results against the majority baseline, as glued and as the prose prints them.
    mean_iou, baseline = float(values["mean_iou"]), float(values["baseline_mean_iou"])
    assert mean_iou > baseline + 0.1, "the U-Net should clearly beat the majority baseline"
    assert f"Its mean IoU is {mean_iou:.3f} against {baseline:.3f}" in text
    assert f"an IoU of {float(values['iou_pet']):.3f} for pets" in text
    assert f"sits on that baseline: its validation accuracy after epoch 1 is " \
           f"{float(values['first_val_accuracy']):.1%}" in text
    assert int(values["plateau_epochs"]) >= 1
    # The comparison table is a rendered table with both rows.
    tables = [t for t in page(build, LESSON_8).select("article table") if "mean IoU" in t.get_text()]
    assert len(tables) == 1 and len(tables[0].select("tbody tr")) == 2
    assert "majority baseline" in tables[0].get_text()


def test_lesson_8_records_its_segmentation_results(build):
    values = glued_values(build, LESSON_8)
    record = json.loads((build.parent / "results" / "quick" / "lesson-08.json").read_text())
    metrics = record["metrics"]
    for key in ("pixel_accuracy", "mean_iou", "iou_pet", "iou_background", "iou_border",
                "majority_pixel_accuracy", "majority_mean_iou"):
        assert isinstance(metrics[key], float) and 0.0 <= metrics[key] <= 1.0, key
    assert metrics["mean_iou"] == pytest.approx(float(values["mean_iou"]))
    assert metrics["majority_mean_iou"] == pytest.approx(float(values["baseline_mean_iou"]))
    assert metrics["mean_iou"] == pytest.approx((metrics["iou_pet"] + metrics["iou_background"] + metrics["iou_border"]) / 3)
    assert "pairs" in metrics["dataset"] and metrics["evaluated_on"].startswith("test split")
    assert metrics["dataset"].startswith(("full: ", "subset: "))  # picks the results page's reference row


def test_lesson_8_cites_its_sources(build):
    cited = {a["href"].split("#")[-1] for a in page(build, LESSON_8).select('article a[href*="bibliography.html"]')}
    assert len(cited) >= 5
    bibliography = page(build, "bibliography").get_text()
    assert "Ronneberger" in bibliography and "Parkhi" in bibliography


# Lessons 9 and 11: recurrent networks on IMDB; transformers for text and a Vision Transformer


def tight_prose(build: Path, name: str) -> str:
    """The page's text without the spaces that get_text puts between a glued value and its punctuation."""
    return re.sub(r"\(\s+", "(", re.sub(r"\s+([,.;:)])", r"\1", prose(build, name)))


def test_lesson_9_prose_shows_the_numbers_of_the_run(build):
    text = tight_prose(build, LESSON_9)
    values = glued_values(build, LESSON_9)
    assert values["profile"].strip("'\"") == "quick" and "ran in the quick profile" in text
    accuracies = {key: float(values[key]) for key in ("bag_of_words_test", "simple_rnn_test", "lstm_test")}
    assert all(0.6 < value <= 1.0 for value in accuracies.values()), accuracies  # trained models, not chance
    assert (f"The bag of words reaches {accuracies['bag_of_words_test']:.1%}, the SimpleRNN "
            f"{accuracies['simple_rnn_test']:.1%} and the LSTM {accuracies['lstm_test']:.1%}") in text
    ranking = values["test_ranking"].strip("'\"")
    assert f"the ranking is {ranking}." in text
    # The ranking the page states is the order of the glued accuracies.
    names = {"bag of words": "bag_of_words_test", "SimpleRNN": "simple_rnn_test", "LSTM": "lstm_test"}
    assert [accuracies[names[n]] for n in ranking.split(", then ")] == sorted(accuracies.values(), reverse=True)
    # The embedding's parameter count is V × D, as the page says.
    parameters = int(values["embedding_parameters"].strip("'").replace(",", ""))
    assert parameters == int(values["num_words"].strip("'").replace(",", "")) * int(values["embedding_dim"])
    assert f"= {values['embedding_parameters'].strip(chr(39))} parameters" in text
    # The guards' mechanism: the gradient vanishes in untrained networks, and training works against it.
    untrained, trained = float(values["rnn_untrained_far_near"]), float(values["rnn_trained_far_near"])
    lstm_untrained, lstm_trained = float(values["lstm_untrained_far_near"]), float(values["lstm_trained_far_near"])
    assert untrained < 0.2 and lstm_untrained < untrained and lstm_trained > lstm_untrained
    assert values["rnn_trained_direction"].strip("'") == ("up" if trained > untrained else "down")
    assert f"receive {untrained:.1%} of the gradient of the last" in text


def test_lesson_9_saves_the_models_lesson_11_loads(build):
    values = glued_values(build, LESSON_9)
    name = values["lstm_file"].strip("'\"")
    assert name.startswith("lesson09-quick-lstm-") and name.endswith(".keras")
    assert f"The LSTM is saved as {name} under" in tight_prose(build, LESSON_9)
    lesson_11 = glued_values(build, LESSON_11)
    # The book runs Lesson 9 first, so Lesson 11 finds both of its models.
    assert lesson_11["lstm_how"].strip("'\"") == "loaded from Lesson 9"
    assert lesson_11["bag_of_words_how"].strip("'\"") == "loaded from Lesson 9"
    assert float(lesson_11["lstm_test"]) == pytest.approx(float(values["lstm_test"]), abs=5e-4)
    record = json.loads((build.parent / "results" / "quick" / "lesson-09.json").read_text())
    for key in ("bag_of_words_test_accuracy", "simple_rnn_test_accuracy", "lstm_test_accuracy",
                "bag_of_words_validation_accuracy", "simple_rnn_validation_accuracy", "lstm_validation_accuracy"):
        assert 0.5 < record["metrics"][key] <= 1.0, key


def test_lesson_11_prose_shows_the_numbers_of_the_run(build):
    text = tight_prose(build, LESSON_11)
    values = glued_values(build, LESSON_11)
    assert values["profile"].strip("'\"") == "quick" and "ran in the quick profile" in text
    transformer, lstm = float(values["transformer_test"]), float(values["lstm_test"])
    assert 0.8 < transformer <= 1.0  # the chapter guards this claim
    assert f"{values['transformer_vs_lstm'].strip(chr(39))} the LSTM ({lstm:.1%})" in text
    assert f"the transformer reaches {transformer:.1%}," in text
    vit = float(values["vit_test"])
    assert 0.8 < vit <= 1.0 and f"the ViT recognises {vit:.1%} of the" in text
    # The hand count of MultiHeadAttention's parameters is the number the page shows.
    assert f"= {values['mha_parameters']}, as Keras counts" in text
    # The saved transformer loaded back with the same predictions.
    assert float(values["prediction_difference"]) < 1e-6
    record = json.loads((build.parent / "results" / "quick" / "lesson-11.json").read_text())
    metrics = record["metrics"]
    assert metrics["transformer_test_accuracy"] == pytest.approx(transformer)
    assert metrics["vit_test_accuracy"] == pytest.approx(vit)
    assert metrics["lstm_test_accuracy"] == pytest.approx(lstm)
    assert "bag_of_words_test_accuracy" in metrics

