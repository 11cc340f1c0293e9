"""The bibliography: it parses, and every key a page cites is in it (checked before the long build)."""

from __future__ import annotations

import re
from pathlib import Path

from pybtex.database import parse_file

BOOK = Path(__file__).resolve().parents[1] / "book"


def test_the_bibliography_parses_and_holds_every_cited_key():
    # pybtex stops at the first unclosed entry (a merge can drop a closing brace): name the file.
    entries = parse_file(str(BOOK / "references.bib"), bib_format="bibtex").entries
    cited = set()
    for page in BOOK.rglob("*.md"):
        if "_build" in page.parts:
            continue
        for keys in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", page.read_text(encoding="utf-8")):
            cited.update(key.strip() for key in keys.split(","))
    assert cited, "no citations found: the pattern no longer matches the pages"
    missing = sorted(cited - set(entries))
    assert not missing, f"cited but not in book/references.bib: {missing}"


def test_every_entry_closes_before_the_next_begins():
    depth, unclosed = 0, []
    for number, line in enumerate((BOOK / "references.bib").read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("@") and depth != 0:
            unclosed.append(f"line {number}: {line.strip()}")
        depth += line.count("{") - line.count("}")
    assert not unclosed and depth == 0, f"an entry is not closed before: {unclosed}"
