"""Keeping executed chapters fresh: the execution cache is keyed by what the chapters depend on.

Jupyter Book's execution cache (jupyter-cache) re-executes a chapter only when the chapter's own
code cells change. The chapters also depend on the shared package `dlbook`, on the prepared data
they read and on the profile they run in; a change to any of these left stale results on the
page. So the build computes one digest of those inputs and stores it beside the cache. When the
digest differs from the stored one, the cache is emptied and every page is read again, so each
chapter is executed anew. A change to the glossary alone re-reads every page (term tooltips and
back-links) but keeps the executed notebooks.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

# The file beside the execution cache that records the digest of the inputs it was made with.
RECORD = "dlbook-inputs.json"
# Environment variables that change what a chapter computes.
ENVIRONMENT = ("DLBOOK_PROFILE", "DLBOOK_SMOKE")


def _files(paths: Iterable[Path], suffixes: tuple[str, ...], skip: tuple[str, ...] = ()) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found += [p for p in path.rglob("*") if p.is_file() and p.suffix in suffixes
                      and "__pycache__" not in p.parts and not any(part in skip for part in p.parts)]
    return sorted(found)


def digest_files(paths: Iterable[Path], *, root: Path | None = None, suffixes: tuple[str, ...] = (".py",),
                 skip: tuple[str, ...] = ()) -> str:
    """SHA-256 over the names and contents of the files under `paths` (folders are walked)."""
    digest = hashlib.sha256()
    for path in _files(paths, suffixes, skip):
        name = str(path.relative_to(root)) if root and path.is_relative_to(root) else path.name
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def execution_inputs(package: Path, data_markers: Path, environment: Mapping[str, str] | None = None) -> dict[str, str]:
    """The digests of what executed chapters depend on, by kind.

    `package` is the chapters' shared package (its build machinery under `site/` is left out: it
    shapes pages, not results); `data_markers` the folder of the data layer's records of prepared
    items; `environment` the variables that select a profile or a smoke run.
    """
    environment = os.environ if environment is None else environment
    return {
        "package": digest_files([package], root=package.parent, skip=("site",)),
        "data": digest_files([data_markers], root=data_markers, suffixes=(".json",)),
        "environment": json.dumps({key: environment.get(key, "") for key in ENVIRONMENT}, sort_keys=True),
    }


def stale(cache: Path, inputs: dict[str, str]) -> list[str]:
    """The kinds of input that changed since the cache at `cache` was made (all of them for a new cache).

    An empty or missing cache has nothing stale in it: it is simply filled.
    """
    record = cache / RECORD
    if not cache.is_dir() or not any(p.name != RECORD for p in cache.iterdir()):
        return []
    try:
        recorded = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return sorted(inputs)
    return sorted(kind for kind, value in inputs.items() if recorded.get(kind) != value)


def refresh(cache: Path, inputs: dict[str, str]) -> list[str]:
    """Empty the execution cache at `cache` if its inputs changed; record the current ones.

    Returns the kinds of input that changed (empty when the cache is still good).
    """
    changed = stale(cache, inputs)
    if changed:
        from jupyter_cache import get_cache

        get_cache(str(cache)).clear_cache()
    cache.mkdir(parents=True, exist_ok=True)
    (cache / RECORD).write_text(json.dumps(inputs, indent=1, sort_keys=True), encoding="utf-8")
    return changed
