"""Chapters as `.ipynb` notebooks, for download and for Google Colab.

A chapter is a MyST markdown notebook. Jupyter (with jupytext, as on Binder) opens it as it is, but
Colab opens only `.ipynb`. So the build converts every chapter with jupytext and puts the notebook
first of all a cell that installs, on Colab only, what the chapter needs beyond Colab's own
packages: the book's package `dlbook` (from the repository) and a few pinned libraries. The cell
exists only in the notebook; the HTML page never shows it. Anywhere else it does nothing, so the
same file also runs on a reader's machine or on Binder.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jupytext
import nbformat

INSTALL_TAG = "colab-install"

_INSTALL_TEMPLATE = '''\
# Google Colab: install the book's package `dlbook` and the pinned libraries this course uses
# beyond Colab's own (a minute). Anywhere else (your machine, Binder) this cell does nothing.
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet",
{requirements}],
        check=True,
    )
'''


class NotebookError(ValueError):
    """A chapter cannot be turned into a notebook as configured."""


def requirement_pins(requirements: Path, names: list[str]) -> list[str]:
    """The exact pins (`name==version`) of `names` in a requirements file, in the order given."""
    pins = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s#;]+)", line)
        if match:
            pins[_canonical(match.group(1))] = f"{match.group(1)}=={match.group(2)}"
    missing = [name for name in names if _canonical(name) not in pins]
    if missing:
        raise NotebookError(
            f"{requirements}: no exact pin (name==version) for {', '.join(missing)}, which the Colab "
            "install cell installs (dlbook_colab_packages in book/_config.yml). Pin it there, or "
            "remove it from that list."
        )
    return [pins[_canonical(name)] for name in names]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def package_requirement(repository_url: str, branch: str) -> str:
    """A pip requirement that installs `dlbook` from the book's git repository."""
    if not repository_url.startswith("https://"):
        raise NotebookError(f"repository url must be an https URL, got {repository_url!r} "
                            "(repository.url in book/_config.yml)")
    return f"dlbook @ git+{repository_url.rstrip('/')}.git@{branch}"


def install_source(requirements: list[str]) -> str:
    """The code of the Colab install cell for these pip requirements."""
    lines = "".join(f"         {json.dumps(requirement)},\n" for requirement in requirements)
    return _INSTALL_TEMPLATE.format(requirements=lines.rstrip(",\n"))


def chapter_notebook(source: Path, install_code: str) -> nbformat.NotebookNode:
    """The chapter at `source` (MyST markdown) as a notebook whose first cell is `install_code`."""
    try:
        notebook = jupytext.read(source, fmt="md:myst")
    except Exception as error:  # jupytext raises several types for a malformed file
        raise NotebookError(f"{source}: jupytext cannot read it as a MyST notebook: {error}") from error
    if not any(cell.cell_type == "code" for cell in notebook.cells):
        raise NotebookError(f"{source}: no code cells; is its jupytext header missing?")
    cell = nbformat.v4.new_code_cell(install_code, metadata={"tags": [INSTALL_TAG]})
    notebook.cells.insert(0, cell)
    # The text representation's metadata would make Jupyter pair the file with a missing .md.
    notebook.metadata.pop("jupytext", None)
    notebook.metadata["colab"] = {"provenance": [], "toc_visible": True}
    nbformat.validate(notebook)
    return notebook


def write_chapter_notebook(source: Path, target: Path, install_code: str) -> Path:
    """Write `chapter_notebook(source, install_code)` to `target` (atomically)."""
    notebook = chapter_notebook(source, install_code)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    nbformat.write(notebook, partial)
    partial.replace(target)
    return target
