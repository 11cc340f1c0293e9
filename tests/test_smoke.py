"""The full profile, known to run: every chapter executed as a smoke run (`DLBOOK_SMOKE=1`).

A smoke run takes every code path of the full profile (its model sizes, image sizes, data items and
branches) on a few batches and one epoch, with randomly initialized weights where pretrained ones
cannot be had. Nothing here is rendered into the site; a crash in the full profile fails the test.
Each chapter's time and peak memory are printed (the cost of this check in CI).
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from bookpages import chapter_pages
from conftest import ROOT

pytestmark = pytest.mark.smoke

_spec = importlib.util.spec_from_file_location("benchmark_chapters", ROOT / "tools" / "benchmark_chapters.py")
benchmark = importlib.util.module_from_spec(_spec)
sys.modules["benchmark_chapters"] = benchmark
_spec.loader.exec_module(benchmark)


@pytest.mark.parametrize("chapter", chapter_pages(),
                         ids=lambda p: p.docname.split("/")[-1][:2])
def test_chapter_runs_the_full_profile_as_a_smoke_run(chapter, monkeypatch, tmp_path):
    # The kernel inherits this environment. Results go to a scratch folder, never the reader's.
    monkeypatch.setenv("DLBOOK_PROFILE", "full")
    monkeypatch.setenv("DLBOOK_SMOKE", "1")
    monkeypatch.setenv("DLBOOK_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.delenv("DLBOOK_BOOK_BUILD", raising=False)
    seconds, peak = benchmark.run(chapter.source)
    print(f"\nsmoke run of {chapter.docname}: {seconds:.1f} s, peak {peak:.0f} MB")
    recorded = list((tmp_path / "results").glob("full-smoke/lesson-*.json"))
    assert recorded, f"{chapter.docname}: the smoke run recorded no results (dlbook.results.record)"
