"""The glossary as data: one YAML file per lesson under `glossary/`, loaded and validated.

See `glossary/SCHEMA.md` for the format. Every problem is reported with the file and the entry it
is in, so a broken glossary fails the build with a message that says where to look.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import yaml

ENTRY_KEYS = {"term", "aliases", "definition", "see_also", "returns_in"}
FILE_KEYS = {"lesson", "title", "course_title", "terms"}
LESSON_RANGE = range(1, 12)


class GlossaryError(ValueError):
    """The glossary data is malformed; the message names the file and the entry."""


@dataclasses.dataclass(frozen=True)
class Term:
    term: str
    definition: str
    lesson: int
    source: Path
    aliases: tuple[str, ...] = ()
    see_also: tuple[str, ...] = ()
    returns_in: tuple[int, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.term, *self.aliases)

    @property
    def anchor(self) -> str:
        """The HTML id Sphinx gives this term (`term-` + the normalised name)."""
        return "term-" + re.sub(r"[^a-z0-9]+", "-", self.term.lower()).strip("-")


@dataclasses.dataclass(frozen=True)
class LessonGlossary:
    lesson: int
    title: str
    course_title: str
    source: Path
    terms: tuple[Term, ...]


def normalise(name: str) -> str:
    """The form names are compared in: lower case, hyphens/underscores/spaces alike."""
    return re.sub(r"[\s_\-]+", " ", name.strip().lower())


def _load_file(path: Path) -> LessonGlossary:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise GlossaryError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise GlossaryError(f"{path}: expected a mapping with keys {sorted(FILE_KEYS)}")
    unknown = set(data) - FILE_KEYS
    missing = FILE_KEYS - set(data)
    if unknown or missing:
        raise GlossaryError(f"{path}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    lesson = data["lesson"]
    if not isinstance(lesson, int) or lesson not in LESSON_RANGE:
        raise GlossaryError(f"{path}: `lesson` must be a number from 1 to 11, not {lesson!r}")
    if not isinstance(data["terms"], list) or not data["terms"]:
        raise GlossaryError(f"{path}: `terms` must be a non-empty list")
    terms = []
    for index, raw in enumerate(data["terms"], start=1):
        where = f"{path}, entry {index}" + (f" ({raw.get('term')!r})" if isinstance(raw, dict) else "")
        if not isinstance(raw, dict):
            raise GlossaryError(f"{where}: each entry must be a mapping with `term` and `definition`")
        unknown = set(raw) - ENTRY_KEYS
        if unknown:
            raise GlossaryError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(ENTRY_KEYS)}")
        for key in ("term", "definition"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise GlossaryError(f"{where}: `{key}` must be a non-empty string")
        lists = {}
        for key, kind in (("aliases", str), ("see_also", str), ("returns_in", int)):
            value = raw.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, kind) and not isinstance(v, bool) for v in value):
                raise GlossaryError(f"{where}: `{key}` must be a list of {kind.__name__}s")
            lists[key] = tuple(value)
        for later in lists["returns_in"]:
            if later not in LESSON_RANGE or later == lesson:
                raise GlossaryError(f"{where}: `returns_in` lists lesson {later}, which is not another lesson 1-11")
        if re.search(r"\{(term|cite|ref|doc)\}", raw["definition"]) or re.search(r"^#", raw["definition"], re.M):
            raise GlossaryError(f"{where}: definitions may not use roles or headings (use `see_also` for links)")
        terms.append(Term(term=raw["term"].strip(), definition=raw["definition"].strip(), lesson=lesson,
                          source=path, aliases=tuple(a.strip() for a in lists["aliases"]),
                          see_also=lists["see_also"], returns_in=lists["returns_in"]))
    return LessonGlossary(lesson=lesson, title=str(data["title"]), course_title=str(data["course_title"]),
                          source=path, terms=tuple(terms))


def load(folder: Path) -> list[LessonGlossary]:
    """All lesson glossaries in `folder`, validated together, ordered by lesson."""
    files = sorted(folder.glob("*.yml"))
    if not files:
        raise GlossaryError(f"{folder}: no glossary files (*.yml)")
    lessons = [_load_file(f) for f in files]
    seen_lessons: dict[int, Path] = {}
    for lesson in lessons:
        if lesson.lesson in seen_lessons:
            raise GlossaryError(f"{lesson.source}: lesson {lesson.lesson} is also defined in {seen_lessons[lesson.lesson]}")
        seen_lessons[lesson.lesson] = lesson.source
    names: dict[str, Term] = {}
    for term in (t for lesson in lessons for t in lesson.terms):
        for name in term.names:
            key = normalise(name)
            if key in names:
                other = names[key]
                raise GlossaryError(
                    f"{term.source}, entry {term.term!r}: the name {name!r} is already used by "
                    f"{other.term!r} in {other.source.name}; a term has one entry (add `returns_in` instead)"
                )
            names[key] = term
    canonical = {normalise(t.term) for lesson in lessons for t in lesson.terms}
    for term in (t for lesson in lessons for t in lesson.terms):
        for target in term.see_also:
            if normalise(target) not in canonical:
                hint = names.get(normalise(target))
                extra = f" (it is an alias of {hint.term!r})" if hint else ""
                raise GlossaryError(f"{term.source}, entry {term.term!r}: see_also {target!r} is not a term{extra}")
    return sorted(lessons, key=lambda lesson: lesson.lesson)


def index(lessons: list[LessonGlossary]) -> dict[str, Term]:
    """Every name (term or alias), normalised, mapped to its entry."""
    return {normalise(name): term for lesson in lessons for term in lesson.terms for name in term.names}


def to_myst(lessons: list[LessonGlossary]) -> str:
    """The glossary page body in MyST markdown: a section and a `{glossary}` block per lesson."""
    canonical = {normalise(t.term): t.term for lesson in lessons for t in lesson.terms}
    out = []
    for lesson in lessons:
        out.append(f"## Lesson {lesson.lesson}: {lesson.title}\n")
        out.append(f"*The course's lesson: {lesson.course_title}.*\n")
        out.append(":::{glossary}")
        for term in sorted(lesson.terms, key=lambda t: t.term.lower()):
            out.extend(term.names)
            body = term.definition
            extras = []
            if term.aliases:
                extras.append("Also called: " + ", ".join(f"*{a}*" for a in term.aliases) + ".")
            if term.returns_in:
                extras.append("Returns in lesson" + ("s " if len(term.returns_in) > 1 else " ")
                              + ", ".join(str(n) for n in term.returns_in) + ".")
            if term.see_also:
                extras.append("See also: " + ", ".join(f"{{term}}`{canonical[normalise(s)]}`" for s in term.see_also) + ".")
            if extras:
                body += "\n\n" + " ".join(extras)
            out.extend("  " + line if line else "" for line in body.splitlines())
            out.append("")
        out.append(":::\n")
    return "\n".join(out)
