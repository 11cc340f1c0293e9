"""Recording a chapter's headline results for the results page."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dlbook import profiles, results


@pytest.fixture
def results_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DLBOOK_RESULTS_DIR", str(tmp_path))
    monkeypatch.setenv("DLBOOK_PROFILE", "quick")
    return tmp_path


def test_record_writes_one_json_per_lesson_and_profile(results_dir):
    path = results.record(2, test_accuracy=np.float32(0.875), test_reviews=5000)
    assert path == results_dir / "quick" / "lesson-02.json"
    payload = json.loads(path.read_text())
    assert payload["lesson"] == 2 and payload["profile"] == "quick"
    assert payload["metrics"] == {"test_accuracy": 0.875, "test_reviews": 5000}
    results.record(2, test_accuracy=0.9)  # a rebuild replaces the record
    assert results.load()[2]["metrics"] == {"test_accuracy": 0.9}
    assert not [p for p in results_dir.rglob("*") if p.name.endswith(".tmp")]
    assert results.load("full") == {}


def test_record_refuses_what_a_run_cannot_have_produced(results_dir):
    with pytest.raises(ValueError, match="test_accuracy=nan is not a finite number"):
        results.record(2, test_accuracy=float("nan"))
    with pytest.raises(ValueError, match="record numbers or strings"):
        results.record(2, history=[0.1, 0.2])
    with pytest.raises(ValueError, match="needs at least one metric"):
        results.record(2)
    with pytest.raises(profiles.ProfileError, match="lesson 99 has no budget"):
        results.record(99, test_accuracy=0.5)
    assert not list(results_dir.rglob("*.json"))


def test_a_smoke_run_records_apart_from_real_runs(results_dir, monkeypatch):
    monkeypatch.setenv("DLBOOK_PROFILE", "full")
    monkeypatch.setenv("DLBOOK_SMOKE", "1")
    path = results.record(1, test_accuracy=0.1)
    assert path.parent.name == "full-smoke" and json.loads(path.read_text())["smoke"] is True
    assert 1 in results.load()
    monkeypatch.delenv("DLBOOK_SMOKE")
    assert results.load() == {}, "a smoke run's numbers must never stand for the full profile's"
