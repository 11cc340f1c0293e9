"""Chapters as .ipynb (dlbook.site.notebooks): the Colab install cell comes first and does the right thing."""

from __future__ import annotations

import subprocess
import sys
import types

import nbformat
import pytest

from bookpages import notebook_pages
from dlbook.site import notebooks

CHAPTER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter

Some prose with a {term}`Tensor`.

```{code-cell} ipython3
x = 1 + 1
```
"""


def run_install_cell(code: str, monkeypatch, on_colab: bool) -> list[list[str]]:
    """Execute the cell's code; return the commands it would have run."""
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: calls.append(command))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(code, "<install cell>", "exec"), {})
    return calls


def test_pins_come_from_the_requirements_file(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# comment\nkeras-tuner==1.4.8\ntf_keras_vis == 0.8.7  # why\nnumpy>=2\n")
    assert notebooks.requirement_pins(requirements, ["tf-keras-vis", "keras_tuner"]) == [
        "tf_keras_vis==0.8.7", "keras-tuner==1.4.8"]
    with pytest.raises(notebooks.NotebookError, match=r"requirements.txt.*numpy.*dlbook_colab_packages"):
        notebooks.requirement_pins(requirements, ["numpy"])


def test_the_install_cell_installs_on_colab_only(monkeypatch):
    packages = [notebooks.package_requirement("https://github.com/org/book", "main"), "keras-tuner==1.4.8"]
    code = notebooks.install_source(packages)
    assert run_install_cell(code, monkeypatch, on_colab=False) == []
    (command,) = run_install_cell(code, monkeypatch, on_colab=True)
    assert command[1:4] == ["-m", "pip", "install"]
    assert "dlbook @ git+https://github.com/org/book.git@main" in command
    assert "keras-tuner==1.4.8" in command
    with pytest.raises(notebooks.NotebookError, match="https"):
        notebooks.package_requirement("git@github.com:org/book", "main")


def test_a_chapter_notebook_starts_with_the_install_cell(tmp_path):
    source = tmp_path / "chapter.md"
    source.write_text(CHAPTER)
    target = notebooks.write_chapter_notebook(source, tmp_path / "out" / "chapter.ipynb", "print('install')")
    notebook = nbformat.read(target, as_version=4)
    nbformat.validate(notebook)
    first = notebook.cells[0]
    assert first.cell_type == "code" and first.source == "print('install')"
    assert notebooks.INSTALL_TAG in first.metadata["tags"]
    assert [cell.cell_type for cell in notebook.cells[1:]] == ["markdown", "code"]
    assert notebook.cells[2].source == "x = 1 + 1"
    assert notebook.metadata.kernelspec.name == "python3"
    assert "jupytext" not in notebook.metadata
    assert not list(tmp_path.glob("out/*.partial"))


def test_a_file_without_code_cells_is_refused_with_its_name(tmp_path):
    source = tmp_path / "prose.md"
    source.write_text("# Just prose\n")
    with pytest.raises(notebooks.NotebookError, match="prose.md"):
        notebooks.chapter_notebook(source, "pass")


@pytest.mark.parametrize("page", notebook_pages(), ids=lambda page: page.docname)
def test_every_chapter_converts(page):
    notebook = notebooks.chapter_notebook(page.source, "pass")
    assert notebook.cells[0].metadata["tags"] == [notebooks.INSTALL_TAG]
    assert sum(cell.cell_type == "code" for cell in notebook.cells) > 1
