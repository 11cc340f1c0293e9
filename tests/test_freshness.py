"""The execution cache is keyed by the package, the prepared data and the profile (dlbook.site.freshness).

The unit tests check the digest and the cache record; the last test builds a one-page book twice
with Jupyter Book and shows that editing the package the page imports re-executes the page, which a
plain `jupyter-book build` (whose cache hashes only code cells) did not do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dlbook.site import freshness


def make_package(folder: Path, value: int) -> Path:
    package = folder / "pkg"
    (package / "site").mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "numbers.py").write_text(f"VALUE = {value}\n")
    (package / "site" / "build.py").write_text("# build machinery\n")
    return package


def test_the_digest_follows_the_package_the_data_records_and_the_profile(tmp_path):
    package = make_package(tmp_path, 1)
    markers = tmp_path / "markers"
    markers.mkdir()
    (markers / "mnist.json").write_text('{"source": "idx"}')
    env = {"DLBOOK_PROFILE": "quick"}
    first = freshness.execution_inputs(package, markers, env)
    assert freshness.execution_inputs(package, markers, env) == first
    # Build machinery (site/) and byte-code do not change what a chapter computes.
    (package / "site" / "build.py").write_text("# other build machinery\n")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "numbers.cpython-311.pyc").write_bytes(b"\0")
    assert freshness.execution_inputs(package, markers, env) == first
    (package / "numbers.py").write_text("VALUE = 2\n")
    second = freshness.execution_inputs(package, markers, env)
    assert second["package"] != first["package"] and second["data"] == first["data"]
    (markers / "mnist.json").write_text('{"source": "npz"}')
    third = freshness.execution_inputs(package, markers, env)
    assert third["data"] != second["data"]
    assert freshness.execution_inputs(package, markers, {"DLBOOK_PROFILE": "full"})["environment"] != third["environment"]


def test_a_cache_made_with_other_inputs_is_emptied_and_a_good_one_kept(tmp_path):
    cache = tmp_path / "cache"
    inputs = {"package": "a", "data": "b", "environment": "{}"}
    assert freshness.refresh(cache, inputs) == []  # a new cache: nothing stale
    (cache / "executed").mkdir()
    (cache / "executed" / "base.ipynb").write_text("{}")
    assert freshness.refresh(cache, inputs) == [] and (cache / "executed").is_dir()
    assert freshness.refresh(cache, {**inputs, "package": "changed"}) == ["package"]
    assert not (cache / "executed").exists()
    assert json.loads((cache / freshness.RECORD).read_text())["package"] == "changed"
    # A cache with executed notebooks but no readable record is treated as stale, not trusted.
    (cache / "executed").mkdir()
    (cache / freshness.RECORD).write_text("not json")
    assert freshness.refresh(cache, inputs) == sorted(inputs)


@pytest.mark.book
def test_editing_the_package_re_executes_the_chapter_that_imports_it(tmp_path, root):
    package = make_package(tmp_path, 41)
    book = tmp_path / "book"
    (book / "glossary").mkdir(parents=True)
    (book / "_config.yml").write_text(textwrap.dedent(f"""\
        title: freshness check
        only_build_toc_files: true
        execute:
          execute_notebooks: cache
        sphinx:
          extra_extensions: [dlbook.site.sphinxext]
          config:
            dlbook_glossary_dir: {root / 'glossary'}
            dlbook_glossary_page: glossary
            dlbook_requirements: {root / 'requirements.txt'}
            dlbook_vendor_dir: {root / 'book' / '_vendor'}
            dlbook_execution_package: {package}
        """))
    (book / "_toc.yml").write_text("format: jb-book\nroot: page\nchapters:\n  - file: glossary\n")
    (book / "page.md").write_text(textwrap.dedent("""\
        ---
        jupytext:
          text_representation: {extension: .md, format_name: myst}
        kernelspec: {display_name: Python 3, language: python, name: python3}
        ---
        # Page

        ```{code-cell} ipython3
        from pkg import numbers
        print("value is", numbers.VALUE)
        ```
        """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
           "DLBOOK_DATA_DIR": str(tmp_path / "data")}
    jupyter_book = Path(sys.executable).with_name("jupyter-book")

    def build() -> str:
        result = subprocess.run([str(jupyter_book), "build", str(book)], capture_output=True, text=True, env=env)
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
        return (book / "_build" / "html" / "page.html").read_text(encoding="utf-8")

    assert "value is 41" in build()
    (package / "numbers.py").write_text("VALUE = 42\n")
    assert "value is 42" in build(), "the page still shows the output of the old package"
