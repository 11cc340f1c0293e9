"""The glossary data: schema errors name file and entry; the course's terms are all covered."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dlbook.site import glossary
from dlbook.site.glossary import GlossaryError, normalise

# Headings in the course glossary that structure an entry and are not terms themselves
# (see shared/course/README.md), and the argument names of the course's time-series generator,
# which the "Data generator" entry explains.
STRUCTURAL = {
    "experimentation tasks", "key characteristics", "parameters", "usage", "example", "training tips",
    "generator function parameters", "generator function output", "neural network models",
    "implementation in keras", "attention mechanism notes", "lookback, steps, and delay",
    "simplified architecture",
}
GENERATOR_ARGUMENTS = {"data", "min_index", "max_index", "shuffle", "batch_size", "step", "samples", "targets"}


def course_terms(path: Path) -> dict[int, list[str]]:
    """The bolded names of the course glossary, per lesson."""
    lessons: dict[int, list[str]] = {}
    lesson = None
    for line in path.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"#+\s*\*\*Lesson (\d+):\*\*", line)
        if heading:
            lesson = int(heading.group(1))
            lessons[lesson] = []
            continue
        if lesson is not None:
            lessons[lesson] += [name.strip().rstrip(":").strip() for name in re.findall(r"\*\*([^*]+?)\*\*", line)]
    return lessons


def covered(name: str, names: set[str]) -> bool:
    """The matching rule: whole name, or either side of "X (Y)", or each part of "X, Y" pairs."""
    candidates = [name]
    parenthetical = re.match(r"^(.*?)\s*\((.*)\)\s*(.*)$", name)
    if parenthetical:
        candidates += [parenthetical.group(1) + (" " + parenthetical.group(3) if parenthetical.group(3) else ""),
                       parenthetical.group(2)]
    candidates.append(re.sub(r"^introduction to\s+", "", name, flags=re.I))
    if any(normalise(c) in names for c in candidates if c.strip()):
        return True
    parts = [p.strip() for p in name.split(",")]
    return len(parts) > 1 and all(normalise(p) in names for p in parts)


@pytest.fixture(scope="module")
def lessons(root):
    return glossary.load(root / "glossary")


def test_the_glossary_loads_with_every_lesson(lessons):
    assert [lesson.lesson for lesson in lessons] == list(range(1, 12))
    assert sum(len(lesson.terms) for lesson in lessons) >= 150


def test_every_course_term_is_covered(lessons, course_glossary):
    names = set(glossary.index(lessons))
    missing = []
    for lesson, terms in course_terms(course_glossary).items():
        for name in terms:
            if normalise(name) in STRUCTURAL or re.fullmatch(r"task \d+", name.lower()) or name in GENERATOR_ARGUMENTS:
                continue
            if not covered(name, names):
                missing.append(f"lesson {lesson}: {name}")
    assert missing == []


def test_repeated_course_terms_have_one_entry_that_lists_where_they_return(lessons):
    by_name = glossary.index(lessons)
    for name, first, later in [("Overfitting", 1, 2), ("Binary crossentropy", 2, 7), ("IMDB dataset", 2, 9),
                               ("One-hot encoding", 2, 9), ("Input shape", 3, 10), ("Dropout", 3, 4),
                               ("tf-keras-vis", 6, 7), ("Adam", 7, 8), ("Interpretability", 6, 11),
                               ("ImageDataGenerator", 3, 4)]:
        entry = by_name[normalise(name)]
        assert entry.lesson == first, f"{name} should be introduced in lesson {first}"
        assert later in entry.returns_in, f"{name} should list lesson {later} in returns_in"


def test_names_are_unique_and_see_also_resolves(lessons):
    all_names = [normalise(n) for lesson in lessons for t in lesson.terms for n in t.names]
    assert len(all_names) == len(set(all_names))
    terms = {normalise(t.term) for lesson in lessons for t in lesson.terms}
    for lesson in lessons:
        for term in lesson.terms:
            assert {normalise(s) for s in term.see_also} <= terms, term.term


def test_definitions_are_our_own_words(lessons, course_glossary):
    def words(text):
        return re.findall(r"[a-z0-9']+", text.lower())

    course = words(course_glossary.read_text(encoding="utf-8"))
    runs = {tuple(course[i:i + 10]) for i in range(len(course) - 9)}
    copied = []
    for lesson in lessons:
        for term in lesson.terms:
            ours = words(term.definition)
            if any(tuple(ours[i:i + 10]) in runs for i in range(len(ours) - 9)):
                copied.append(term.term)
    assert copied == []


def test_rendered_page_has_every_term_and_alias(lessons):
    text = glossary.to_myst(lessons)
    assert text.count(":::{glossary}") == 11
    for lesson in lessons:
        assert f"## Lesson {lesson.lesson}: {lesson.title}" in text
        for term in lesson.terms:
            for name in term.names:
                assert f"\n{name}\n" in text, name


# --------------------------------------------------------------------------------------------------
# Schema errors: each names the file and the entry.

GOOD_ENTRY = "  - term: Thing\n    definition: A thing.\n"


def write(folder: Path, name: str, body: str, lesson: int = 1) -> Path:
    path = folder / name
    path.write_text(f"lesson: {lesson}\ntitle: T\ncourse_title: C\nterms:\n{body}", encoding="utf-8")
    return path


@pytest.mark.parametrize("body, message", [
    ("  - term: Broken\n    definiton: typo in the key\n", r"entry 1 \('Broken'\): unknown keys \['definiton'\]"),
    ("  - term: Empty\n    definition: ''\n", r"entry 1 \('Empty'\): `definition` must be a non-empty string"),
    (GOOD_ENTRY + "  - term: Second\n    definition: x\n    aliases: Thing2\n", r"entry 2 \('Second'\): `aliases` must be a list"),
    (GOOD_ENTRY + "  - term: Later\n    definition: x\n    returns_in: [1]\n", r"entry 2 \('Later'\): `returns_in` lists lesson 1"),
    (GOOD_ENTRY + "  - term: Linked\n    definition: x\n    see_also: [Nothing]\n", r"entry 'Linked': see_also 'Nothing' is not a term"),
    ("  - term: Roles\n    definition: See {term}`Thing`.\n", r"entry 1 \('Roles'\): definitions may not use roles"),
    ("  - term: [unclosed\n", r"not valid YAML"),
])
def test_schema_errors_name_file_and_entry(tmp_path, body, message):
    write(tmp_path, "01-bad.yml", body)
    with pytest.raises(GlossaryError, match=message) as error:
        glossary.load(tmp_path)
    assert "01-bad.yml" in str(error.value)


def test_duplicate_term_across_files_names_both(tmp_path):
    write(tmp_path, "01-a.yml", GOOD_ENTRY, lesson=1)
    write(tmp_path, "02-b.yml", "  - term: Other\n    definition: x\n    aliases: [thing]\n", lesson=2)
    with pytest.raises(GlossaryError, match=r"02-b\.yml, entry 'Other': the name 'thing' is already used by 'Thing' in 01-a\.yml"):
        glossary.load(tmp_path)


def test_missing_file_keys_are_reported(tmp_path):
    (tmp_path / "01-x.yml").write_text("lesson: 1\nterms: []\n", encoding="utf-8")
    with pytest.raises(GlossaryError, match=r"01-x\.yml: unknown keys \[\], missing keys \['course_title', 'title'\]"):
        glossary.load(tmp_path)
