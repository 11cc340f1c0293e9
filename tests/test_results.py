"""Recording a chapter's headline results for the results page."""

from __future__ import annotations

import json
import re

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


def fake_record(folder, lesson, **metrics):
    path = folder / "quick" / f"lesson-{lesson:02d}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"lesson": lesson, "profile": "quick", "machine": "2 CPU cores (x86_64), no GPU",
                                "metrics": metrics}))


def test_the_results_page_rows_compare_each_written_lesson_and_name_one_that_recorded_nothing(results_dir):
    fake_record(results_dir, 1, test_accuracy=0.97)
    fake_record(results_dir, 6, deletion_area_gradcam=0.4, deletion_area_random=0.6)
    rows = results.comparisons(results.load(), [1, 6], "quick")
    assert [(r["reference"].lesson, r["compared"]) for r in rows] == [(1, 0.978), (6, 0.6)]
    assert rows[0]["better"] is False and rows[1]["better"] is True  # a lower deletion area is better
    with pytest.raises(results.ResultsError, match=r"Lesson 3 \(03-convnets\) recorded no results"):
        results.comparisons(results.load(), [1, 3, 6], "quick")
    fake_record(results_dir, 3, best_epoch=4)
    with pytest.raises(results.ResultsError, match="Lesson 3 recorded no 'test_accuracy'"):
        results.comparisons(results.load(), [1, 3], "quick")


def test_rows_follow_the_data_a_lesson_ran_on(results_dir):
    fake_record(results_dir, 10, dataset="NYC airports 2013 (fallback)", persistence_test_mae=3.4, gru_test_mae=2.9)
    rows = results.comparisons(results.load(), [10], "quick")
    assert [r["reference"].metric for r in rows] == ["gru_test_mae"] and rows[0]["compared"] == 3.4
    fake_record(results_dir, 10, dataset="Jena 2009-2016", persistence_test_mae=2.6, stacked_gru_test_mae=2.4)
    assert [r["reference"].metric for r in results.comparisons(results.load(), [10], "quick")] == \
        ["persistence_test_mae", "stacked_gru_test_mae"]


def test_written_lessons_come_from_the_table_of_contents(tmp_path, root):
    assert results.written_lessons(root / "book" / "_toc.yml")[:2] == [1, 2]
    toc = tmp_path / "_toc.yml"
    toc.write_text("root: intro\nparts:\n  - chapters:\n      - file: lessons/07-autoencoders\n      - file: results\n")
    assert results.written_lessons(toc) == [7]


def test_every_reference_names_a_known_lesson_and_a_gap_for_both_profiles():
    for reference in results.REFERENCES:
        profiles.lesson(reference.lesson)
        assert (reference.value is None) != (reference.baseline is None), reference.task
        assert set(reference.gap) == {"quick", "full"} and reference.source and reference.conditions


def test_a_spread_measurement_is_used_only_for_its_own_profile(tmp_path):
    path = tmp_path / "results-spread.json"
    assert results.load_spread(path, "quick") is None
    path.write_text(json.dumps({"profile": "quick", "seeds": [42, 43], "metrics": {}}))
    assert results.load_spread(path, "quick")["seeds"] == [42, 43]
    assert results.load_spread(path, "full") is None
    path.write_text("{broken")
    with pytest.raises(results.ResultsError, match="not a readable spread measurement"):
        results.load_spread(path, "quick")


def spread_report(lessons: dict, commit: str, measured: str, seeds=(42, 43, 44)) -> dict:
    return {"measured": measured, "commit": commit, "uncommitted_changes": False, "machine": "test",
            "profile": "quick", "seeds": list(seeds),
            "metrics": {lesson: {"test_accuracy": {"mean": value}} for lesson, value in lessons.items()},
            "chapters": {f"{int(lesson):02d}-chapter": [] for lesson in lessons}}


def spread_tool():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "tools" / "spread.py"
    spec = importlib.util.spec_from_file_location("spread_tool", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_updating_a_spread_keeps_the_other_lessons_with_their_own_commit():
    old = spread_report({"1": 0.97, "4": 0.70}, commit="aaaaaaa", measured="2026-11-29T23:00:00")
    new = spread_report({"4": 0.72, "7": 0.5}, commit="bbbbbbb", measured="2026-11-30T03:00:00")
    merged = spread_tool().merge_reports(old, new)
    assert {lesson: m["test_accuracy"]["mean"] for lesson, m in merged["metrics"].items()} == {
        "1": 0.97, "4": 0.72, "7": 0.5}
    provenance = results.spread_provenance(merged)
    assert provenance["1"]["commit"] == "aaaaaaa" and provenance["1"]["measured"].startswith("2026-11-29")
    assert provenance["4"]["commit"] == provenance["7"]["commit"] == "bbbbbbb"
    assert sorted(merged["chapters"]) == ["01-chapter", "04-chapter", "07-chapter"]
    # A file written in one run (no per-lesson record) was measured at its own commit.
    assert results.spread_provenance(old) == {lesson: {"measured": "2026-11-29T23:00:00", "commit": "aaaaaaa",
                                                       "uncommitted_changes": False} for lesson in ("1", "4")}
    with pytest.raises(ValueError, match="seeds"):
        spread_tool().merge_reports(old, spread_report({"7": 0.5}, "ccccccc", "2026-11-30", seeds=(1, 2)))


def test_an_update_with_other_seeds_stops_before_running_any_chapter(tmp_path, monkeypatch, capsys):
    tool = spread_tool()
    path = tmp_path / "results-spread.json"
    path.write_text(json.dumps(spread_report({"1": 0.97}, "aaaaaaa", "2026-11-29")))
    monkeypatch.setenv("DLBOOK_PROFILE", "quick")
    monkeypatch.setattr(tool.benchmark, "measure", lambda chapter: pytest.fail("a chapter ran"))
    with pytest.raises(SystemExit):
        tool.main(["--seeds", "2", "--update", "--output", str(path), "01"])
    assert "seeds [42, 43, 44]" in capsys.readouterr().err
    assert json.loads(path.read_text())["seeds"] == [42, 43, 44]  # the file is untouched


def test_image_sizes_named_in_a_gap_are_the_profiles_own():
    # A gap that names an image size must follow the profile when its budget changes.
    for reference in results.REFERENCES:
        for profile, text in reference.gap.items():
            for named in re.findall(r"(\d+)×(\d+)", text):
                budget = getattr(profiles.lesson(reference.lesson), profile)
                assert tuple(int(n) for n in named) == tuple(budget.image_size), (reference.task, profile, text)


def test_a_spread_is_credited_to_the_tree_it_started_from(tmp_path, monkeypatch):
    tool = spread_tool()
    tree = {"head": "aaaaaaa", "dirty": ""}

    def git(*args):
        return tree["head"] if args[0] == "rev-parse" else tree["dirty"]

    def measure(chapter):  # someone commits, and edits a file, while the chapter runs
        tree.update(head="bbbbbbb", dirty=" M code/dlbook/plots.py")
        return 1.0, 100.0, 1.0

    monkeypatch.setenv("DLBOOK_PROFILE", "quick")
    for variable in ("DLBOOK_SEED", "DLBOOK_RESULTS_DIR"):  # the tool sets them; restore them afterwards
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(tool, "git", git)
    monkeypatch.setattr(tool.benchmark, "measure", measure)
    output = tmp_path / "results-spread.json"
    tool.main(["--seeds", "2", "--output", str(output), "01"])
    report = json.loads(output.read_text())
    assert report["commit"] == "aaaaaaa" and report["uncommitted_changes"] is False
