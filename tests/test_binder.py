"""Binder: the repository launches on mybinder.org as it is (repo2docker reads binder/).

The slow test runs tools/check_binder.py: a fresh environment from the Binder files only, their
postBuild, and every chapter converted with jupytext and executed with nbclient in it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from bookpages import notebook_pages


def test_binder_files_follow_repo2docker_conventions(root):
    binder = root / "binder"
    runtime = (binder / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.\d+", runtime), runtime
    requires = re.search(r'requires-python\s*=\s*">=3\.(\d+)"', (root / "pyproject.toml").read_text())
    assert int(runtime.split(".")[1]) >= int(requires.group(1)), "runtime.txt below the package's requires-python"
    # repo2docker reads only binder/ once it exists, so the pins must be reachable from there.
    lines = [line for line in (binder / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines == ["-r ../requirements.txt"], lines
    post_build = binder / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"
    script = post_build.read_text()
    for needed in ("pip install", "-e .", "jupytext-config set-default-viewer", "dlbook.data fetch --book book"):
        assert needed in script, f"postBuild does not run {needed!r}"
    assert "jupytext==" in (root / "requirements.txt").read_text(), "jupytext must be pinned (it opens .md chapters)"


@pytest.mark.binder
def test_every_chapter_runs_in_an_environment_built_from_the_binder_files(root):
    result = subprocess.run([sys.executable, str(root / "tools" / "check_binder.py")],
                            capture_output=True, text=True, env={**os.environ, "DLBOOK_PROFILE": "quick"})
    print("\n" + result.stdout)
    report = json.loads((root / "test-output" / "binder" / "report.json").read_text())
    assert result.returncode == 0 and report["ok"], result.stdout[-3000:] + result.stderr[-6000:]
    executed = {chapter["chapter"] for chapter in report["chapters"]}
    assert executed == {page.docname for page in notebook_pages()}
