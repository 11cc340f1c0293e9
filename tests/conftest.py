from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
# Every build-based check reads this one build: the HTML site, then the PDF from the same
# execution cache (the notebooks run once).
BUILD_OUTPUT = ROOT / "test-output" / "book"

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


def jupyter_book(*args: str, output: Path) -> tuple[subprocess.CompletedProcess, float]:
    # Chapters record their headline results (dlbook.results) beside this build, not in the data directory.
    env = {**os.environ, "DLBOOK_PROFILE": "quick", "DLBOOK_RESULTS_DIR": str(BUILD_OUTPUT / "results")}
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(ROOT / "book"),
               "--path-output", str(output), "-W", "-n", "--keep-going", *args]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    return result, time.perf_counter() - started


@pytest.fixture(scope="session")
def build() -> Path:
    """The HTML book, built from a clean execution cache with -W -n in the quick profile.

    The build goes to `test-output/book/` so that a reader's own `book/_build` stays untouched.
    Any failing cell, unknown term, broken reference or Sphinx warning fails it.

    While working on the checks themselves, DLBOOK_TEST_REUSE_BUILD=1 reuses the last build in
    test-output/book instead (never in CI: it would skip the clean build).
    """
    if os.environ.get("DLBOOK_TEST_REUSE_BUILD") == "1" and (BUILD_OUTPUT / "_build" / "html").is_dir():
        assert os.environ.get("CI") != "true", "DLBOOK_TEST_REUSE_BUILD is for local work, not CI"
        print(f"\nREUSING the book build in {BUILD_OUTPUT} (DLBOOK_TEST_REUSE_BUILD=1)")
        return BUILD_OUTPUT / "_build"
    shutil.rmtree(BUILD_OUTPUT, ignore_errors=True)  # a clean execution cache: every chapter runs
    BUILD_OUTPUT.mkdir(parents=True)
    result, seconds = jupyter_book(output=BUILD_OUTPUT)
    (BUILD_OUTPUT / "build.log").write_text(result.stdout + result.stderr)
    print(f"\nclean book build: {seconds:.0f} s (log: {BUILD_OUTPUT / 'build.log'})")
    for line in (result.stdout + result.stderr).splitlines():
        if "Executed notebook in" in line:
            print("  " + line.split("/book/")[-1])
    assert result.returncode == 0, "book build failed:\n" + (result.stdout + result.stderr)[-6000:]
    return BUILD_OUTPUT / "_build"


@pytest.fixture(scope="session")
def html(build) -> Path:
    return build / "html"


@dataclass(frozen=True)
class PdfBuild:
    pdf: Path
    log: Path  # LaTeX's log of the last run
    seconds: float


@pytest.fixture(scope="session")
def pdf_build(build) -> PdfBuild:
    """The PDF book, built after the HTML one into the same output, reusing its executed notebooks.

    Needs xelatex, latexmk and the fonts (`make test` installs them from Debian).
    """
    missing = [tool for tool in ("xelatex", "latexmk") if shutil.which(tool) is None]
    assert not missing, (f"{', '.join(missing)} not found: run `make test`, or install TeX Live with "
                         "`tools/ensure_debian_packages.sh` (see the Makefile's TEX_DEBS)")
    result, seconds = jupyter_book("--builder", "pdflatex", output=BUILD_OUTPUT)
    (BUILD_OUTPUT / "pdf-build.log").write_text(result.stdout + result.stderr)
    print(f"\nPDF build (notebooks from the HTML build's cache): {seconds:.0f} s")
    executed = [line for line in (result.stdout + result.stderr).splitlines() if "Executing" in line]
    assert not executed, f"the PDF build executed notebooks again: {executed}"
    assert result.returncode == 0, "PDF build failed:\n" + (result.stdout + result.stderr)[-6000:]
    latex = build / "latex"
    pdfs = list(latex.glob("*.pdf"))
    assert len(pdfs) == 1, f"expected one PDF in {latex}, found {pdfs}"
    return PdfBuild(pdfs[0], pdfs[0].with_suffix(".log"), seconds)


def pytest_configure(config):
    for marker in ("pdf: builds and reads the PDF book (needs TeX Live and poppler)",
                   "browser: drives Debian's headless Chromium over the built site",
                   "binder: builds a fresh environment from binder/ and runs every chapter in it (slow)",
                   "smoke: runs every chapter's full profile on a few batches (DLBOOK_SMOKE=1; slow)"):
        config.addinivalue_line("markers", marker)
