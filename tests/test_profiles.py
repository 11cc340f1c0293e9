"""Profiles, and Lesson 1's model against the parameter formula its chapter states."""

from __future__ import annotations

import ast

import jupytext
import pytest

from dlbook import profiles
from dlbook.data import registry


def test_quick_is_the_default_and_full_is_selectable(monkeypatch):
    monkeypatch.delenv("DLBOOK_PROFILE", raising=False)
    assert profiles.active_profile() == "quick"
    monkeypatch.setenv("DLBOOK_PROFILE", "FULL")
    assert profiles.active_profile() == "full"
    assert profiles.budget(1) == profiles.LESSONS[1].full


def test_an_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("DLBOOK_PROFILE", "fast")
    with pytest.raises(profiles.ProfileError, match=r"DLBOOK_PROFILE='fast' is not a profile; use one of quick, full"):
        profiles.active_profile()
    with pytest.raises(profiles.ProfileError, match="lesson 99 has no budget"):
        profiles.budget(99, "quick")


@pytest.mark.parametrize("number", sorted(profiles.LESSONS))
def test_quick_budget_is_no_larger_than_full(number):
    quick, full = profiles.LESSONS[number].quick, profiles.LESSONS[number].full
    def size(n):
        return float("inf") if n is None else n
    assert size(quick.train_samples) <= size(full.train_samples)
    assert quick.epochs <= full.epochs
    assert set(quick.data) <= set(registry.ITEMS) and set(full.data) <= set(registry.ITEMS)
    assert quick.describe()["epochs"] == str(quick.epochs)


def test_every_chapter_has_a_budget(root):
    numbers = {int(p.name[:2]) for p in (root / "book" / "lessons").glob("[0-9][0-9]-*.md")}
    assert numbers and numbers <= set(profiles.LESSONS)
    for number in numbers:
        assert (root / "book" / "lessons" / f"{profiles.LESSONS[number].slug}.md").is_file()


def chapter_functions(path, names):
    """The functions called `names` as the chapter's code cells define them (only the definitions run)."""
    notebook = jupytext.read(path)
    namespace: dict = {}
    exec("import numpy as np\nimport keras", namespace)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        tree.body = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in names]
        exec(compile(tree, str(path), "exec"), namespace)
    missing = [name for name in names if name not in namespace]
    assert not missing, f"the chapter no longer defines {missing}"
    return [namespace[name] for name in names]


@pytest.mark.parametrize("hidden_units", [512, 64, 1])
def test_lesson_1_model_has_the_parameter_count_the_chapter_states(root, hidden_units):
    build_model, dense_parameters = chapter_functions(
        root / "book" / "lessons" / "01-dense-networks.md", ["build_model", "dense_parameters"])
    model = build_model(hidden_units)
    # The chapter's formula: n_in * n_out + n_out per Dense layer.
    assert dense_parameters(784, hidden_units) == 784 * hidden_units + hidden_units
    assert model.count_params() == dense_parameters(784, hidden_units) + dense_parameters(hidden_units, 10)
    assert model.output_shape == (None, 10)
    assert [layer.activation.__name__ for layer in model.layers] == ["relu", "softmax"]


def test_a_smoke_run_cuts_every_budget_to_a_few_batches_and_one_epoch(monkeypatch):
    monkeypatch.setenv("DLBOOK_PROFILE", "full")
    monkeypatch.setenv("DLBOOK_SMOKE", "1")
    assert profiles.smoke()
    for number, row in profiles.LESSONS.items():
        full, smoke = row.full, profiles.budget(number)
        cap = profiles.SMOKE_BATCHES * full.batch_size
        for field in ("train_samples", "validation_samples", "test_samples"):
            count, original = getattr(smoke, field), getattr(full, field)
            assert count is not None and count <= cap and count <= (original if original is not None else cap)
        assert smoke.epochs == min(full.epochs, 1)
        # The full profile's code paths: the same image size, data items and model knobs.
        assert smoke.image_size == full.image_size and smoke.data == full.data
        for key, value in smoke.extra.items():
            if key.endswith(("_epochs", "_trials")) and isinstance(value, int):
                assert value <= 1, (number, key)
            elif key not in row.smoke:
                assert value == full.extra[key], (number, key)
    monkeypatch.setenv("DLBOOK_SMOKE", "0")
    assert not profiles.smoke() and profiles.budget(1) == profiles.LESSONS[1].full


def test_smoke_overrides_replace_knobs_and_reject_unknown_names():
    full = profiles.Budget(train_samples=None, validation_samples=100, test_samples=0, epochs=30,
                           batch_size=16, extra={"gan_steps": 700, "fine_tune_epochs": 5, "grid": (1, 2, 3)})
    smoke = full.for_smoke({"gan_steps": 3, "grid": (1,)})
    assert (smoke.train_samples, smoke.validation_samples, smoke.test_samples) == (32, 32, 0)
    assert smoke.extra == {"gan_steps": 3, "fine_tune_epochs": 1, "grid": (1,)} and smoke.epochs == 1
    with pytest.raises(profiles.ProfileError, match="no_such_knob"):
        full.for_smoke({"no_such_knob": 1})


def test_an_unclear_smoke_setting_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("DLBOOK_SMOKE", "maybe")
    with pytest.raises(profiles.ProfileError, match="DLBOOK_SMOKE='maybe' is not understood"):
        profiles.smoke()
