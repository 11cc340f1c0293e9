"""Handing a trained model from one chapter to a later one as a `.keras` file (dlbook.trained_models)."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from dlbook import profiles, trained_models


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DLBOOK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DLBOOK_SMOKE", raising=False)
    monkeypatch.setenv("DLBOOK_PROFILE", "quick")
    return tmp_path


def small_model(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="relu"), keras.layers.Dense(1)])


def test_a_saved_model_loads_back_with_its_info_and_weights(data_dir):
    model = small_model()
    path = trained_models.save_model(model, 2, "dense", {"test_accuracy": 0.75})
    assert path.parent == data_dir / "trained-models" and path.suffix == ".keras"
    assert path.name.startswith("lesson02-quick-dense-")
    loaded, info = trained_models.load_model(2, "dense")
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert info["test_accuracy"] == 0.75 and info["lesson"] == 2 and info["file"] == path.name
    # Nothing but the model and its info lands in the folder (no temporary files left behind).
    assert sorted(p.suffix for p in path.parent.iterdir()) == [".json", ".keras"]


def test_nothing_saved_means_none(data_dir):
    assert trained_models.load_model(2, "dense") is None


def test_another_budget_profile_version_or_a_smoke_run_never_finds_the_model(data_dir, monkeypatch):
    trained_models.save_model(small_model(), 2, "dense", {})
    assert trained_models.load_model(2, "dense", profile="full") is None
    assert trained_models.load_model(2, "dense", version=2) is None
    quick = profiles.LESSONS[2].quick
    changed = profiles.Lesson(**{**profiles.LESSONS[2].__dict__,
                                 "quick": profiles.Budget(**{**quick.__dict__, "epochs": quick.epochs + 1})})
    monkeypatch.setitem(profiles.LESSONS, 2, changed)
    assert trained_models.load_model(2, "dense") is None
    monkeypatch.setitem(profiles.LESSONS, 2, profiles.LESSONS[2])
    monkeypatch.setenv("DLBOOK_SMOKE", "1")
    assert trained_models.model_paths(2, "dense")[0].name.startswith("lesson02-quick-smoke-dense-")


def test_a_smoke_run_leaves_the_real_model_alone(data_dir, monkeypatch):
    real = trained_models.save_model(small_model(), 2, "dense", {})
    monkeypatch.setenv("DLBOOK_SMOKE", "1")
    smoke = trained_models.save_model(small_model(1), 2, "dense", {})
    assert real.is_file() and smoke.is_file() and real != smoke


def test_saving_again_under_a_new_key_removes_the_old_files(data_dir):
    old = trained_models.save_model(small_model(), 2, "dense", {}, version=1)
    new = trained_models.save_model(small_model(), 2, "dense", {}, version=2)
    assert not old.exists() and not old.with_suffix(".json").exists() and new.is_file()
    other = trained_models.save_model(small_model(), 2, "dense-wide", {}, version=1)
    assert new.is_file() and other.is_file()  # another model of the same lesson stays


def test_a_damaged_model_is_reported_deleted_and_not_returned(data_dir, capsys):
    path = trained_models.save_model(small_model(), 2, "dense", {})
    path.write_bytes(b"not a zip file")
    assert trained_models.load_model(2, "dense") is None
    assert "cannot be read" in capsys.readouterr().out and not path.exists()
    path = trained_models.save_model(small_model(), 2, "dense", {})
    path.with_suffix(".json").write_text("{broken")
    assert trained_models.load_model(2, "dense") is None and not path.exists()


def test_bad_names_are_refused(data_dir):
    for name in ("", "../escape", "a b"):
        with pytest.raises(ValueError, match="model name"):
            trained_models.model_paths(2, name)


def test_info_is_plain_json(data_dir):
    path = trained_models.save_model(small_model(), 2, "dense", {"accuracy": np.float32(0.5)})
    assert json.loads(path.with_suffix(".json").read_text())["accuracy"] == 0.5


def test_a_model_with_a_dlbook_layer_comes_back(data_dir):
    # Lesson 5's classifier starts with dlbook's ImageNetPreprocessing layer; Lesson 6 loads it back.
    from dlbook import transfer

    photos = keras.Input(shape=(32, 32, 3))
    x = transfer.ImageNetPreprocessing("tf")(photos)
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(2, 3, strides=8)(x))
    model = keras.Model(photos, keras.layers.Dense(1, activation="sigmoid")(x))
    trained_models.save_model(model, 5, "classifier", {"how": "test"})
    loaded, info = trained_models.require_model(5, "classifier")
    assert info["how"] == "test" and [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), rtol=1e-6)


def test_a_required_model_that_is_missing_says_which_chapter_to_run(data_dir, monkeypatch):
    with pytest.raises(trained_models.MissingModelError,
                       match=r"Lesson 5's trained model 'classifier'.*Run Lesson 5 \(book/lessons/05-pretrained-convnets\.md\)"):
        trained_models.require_model(5, "classifier")
    # A model saved under another budget is not taken for the current one.
    trained_models.save_model(small_model(), 5, "classifier", {})
    quick = profiles.LESSONS[5].quick
    changed = profiles.Lesson(**{**profiles.LESSONS[5].__dict__,
                                 "quick": profiles.Budget(**{**quick.__dict__, "epochs": quick.epochs + 1})})
    monkeypatch.setitem(profiles.LESSONS, 5, changed)
    with pytest.raises(trained_models.MissingModelError, match="DLBOOK_PROFILE=quick"):
        trained_models.require_model(5, "classifier")
