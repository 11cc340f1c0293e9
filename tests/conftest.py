from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def course_glossary() -> Path:
    path = SHARED / "course" / "course-glossary.md"
    if not path.is_file():
        pytest.skip(f"the course glossary is not beside the repository ({path})")
    return path
