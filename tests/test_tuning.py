"""The grid-search helper on a toy model, and KerasTuner searches whose failed trials become errors."""

from __future__ import annotations

import keras
import keras_tuner
import numpy as np
import pytest

from dlbook import tuning
from dlbook.tuning import SearchResult, TunerError


@pytest.fixture(scope="module")
def toy_data():
    """Two well separated clusters: any model that learns reaches accuracy 1."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-2, 0.5, (64, 4)), rng.normal(2, 0.5, (64, 4))]).astype("float32")
    y = np.repeat([0.0, 1.0], 64).astype("float32")
    order = rng.permutation(len(x))
    return x[order], y[order]


def build_toy(units: int, learning_rate: float) -> keras.Model:
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def test_grid_points_cover_every_combination_in_order():
    assert tuning.grid_points({"a": [1, 2], "b": ["x", "y", "z"]}) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"},
        {"a": 2, "b": "x"}, {"a": 2, "b": "y"}, {"a": 2, "b": "z"}]
    with pytest.raises(ValueError, match=r"empty: \['b'\]"):
        tuning.grid_points({"a": [1], "b": []})


def test_grid_search_scores_each_point_and_finds_the_learner(toy_data):
    x, y = toy_data
    results = tuning.grid_search(build_toy, {"units": [2, 8], "learning_rate": [0.0, 0.5]}, x, y,
                                 validation_data=(x, y), epochs=4, batch_size=32)
    assert [r.hyperparameters for r in results] == tuning.grid_points({"units": [2, 8], "learning_rate": [0.0, 0.5]})
    assert all(r.source == "grid" and 1 <= r.best_epoch <= 4 and 0 <= r.score <= 1 for r in results)
    frozen = [r.score for r in results if r.hyperparameters["learning_rate"] == 0.0]
    learning = [r.score for r in results if r.hyperparameters["learning_rate"] == 0.5]
    assert min(learning) > max(frozen)  # a learning rate of 0 never changes the weights
    best = tuning.best_result(results, "val_accuracy")
    assert best.hyperparameters["learning_rate"] == 0.5 and best.score == max(r.score for r in results)
    table, rows, columns = tuning.score_table(results, rows="units", columns="learning_rate")
    assert rows == [2, 8] and columns == [0.0, 0.5] and table.shape == (2, 2)
    assert table[1, 1] == next(r.score for r in results if r.hyperparameters == {"units": 8, "learning_rate": 0.5})


def test_grid_search_minimises_losses_and_reports_bad_objectives(toy_data):
    x, y = toy_data
    results = tuning.grid_search(build_toy, {"units": [4], "learning_rate": [0.0, 0.5]}, x, y,
                                 validation_data=(x, y), epochs=3, batch_size=32, objective="val_loss")
    assert tuning.best_result(results, "val_loss").hyperparameters["learning_rate"] == 0.5
    with pytest.raises(ValueError, match="objective 'val_auc' is not in the training history"):
        tuning.grid_search(build_toy, {"units": [4], "learning_rate": [0.1]}, x, y, validation_data=(x, y),
                           epochs=1, batch_size=32, objective="val_auc")


def test_grid_search_names_the_point_whose_model_fails(toy_data):
    x, y = toy_data

    def build(units: int, learning_rate: float) -> keras.Model:
        if units == 3:
            raise ValueError("three units are not allowed")
        return build_toy(units, learning_rate)

    with pytest.raises(RuntimeError, match=r"\{'units': 3, 'learning_rate': 0.1\} failed .* three units are not allowed"):
        tuning.grid_search(build, {"units": [2, 3], "learning_rate": [0.1]}, x, y, validation_data=(x, y),
                           epochs=1, batch_size=32)


def test_markdown_table_ranks_best_first():
    results = [SearchResult({"units": 16, "learning_rate": 0.01}, 0.8, 2, "grid"),
               SearchResult({"units": 64, "learning_rate": 0.001}, 0.9, 3, "grid")]
    lines = tuning.markdown_table(results, "val_accuracy", {"val_accuracy": ".1%"}).splitlines()
    assert lines[0] == "| rank | units | learning rate | val accuracy | at epoch |"
    assert lines[2] == "| 1 | 64 | 0.001 | 90.0% | 3 |"
    assert lines[3] == "| 2 | 16 | 0.01 | 80.0% | 2 |"


def make_tuner(tmp_path, build, max_trials: int) -> keras_tuner.Tuner:
    return keras_tuner.GridSearch(build, objective="val_accuracy", max_trials=max_trials,
                                  directory=str(tmp_path), project_name="toy", overwrite=True)


def tunable(fail_on: set[int]):
    def build(hp: keras_tuner.HyperParameters) -> keras.Model:
        units = hp.Choice("units", [2, 4, 8])
        if units in fail_on:
            raise ValueError(f"a model of {units} units cannot be built here")
        return build_toy(units, 0.5)
    return build


def test_run_search_returns_completed_trials_best_first(tmp_path, toy_data):
    x, y = toy_data
    tuner = make_tuner(tmp_path, tunable(set()), max_trials=3)
    trials = tuning.run_search(tuner, x, y, validation_data=(x, y), epochs=2, batch_size=32, verbose=0)
    assert len(trials) == 3 and all(t.status == "COMPLETED" for t in trials)
    scores = [t.score for t in trials]
    assert scores == sorted(scores, reverse=True)
    results = tuning.trial_results(trials)
    assert {r.hyperparameters["units"] for r in results} == {2, 4, 8}
    assert all(r.source == "tuner" and 1 <= r.best_epoch <= 2 for r in results)


def test_a_failed_trial_is_an_error_that_names_it(tmp_path, toy_data):
    x, y = toy_data
    tuner = make_tuner(tmp_path, tunable({4}), max_trials=3)
    with pytest.raises(TunerError) as error:
        tuning.run_search(tuner, x, y, validation_data=(x, y), epochs=1, batch_size=32, verbose=0)
    message = str(error.value)
    assert "1 of 3 trials did not complete" in message
    assert "{'units': 4}" in message and "a model of 4 units cannot be built here" in message


def test_a_search_where_every_trial_fails_is_an_error(tmp_path, toy_data):
    x, y = toy_data

    def broken_loss(y_true, y_pred):
        raise ValueError("this loss cannot be computed")

    def build(hp: keras_tuner.HyperParameters) -> keras.Model:
        # Builds fine, fails in fit: like the trials that fail when tensorboard is missing.
        model = build_toy(hp.Choice("units", [2, 4, 8]), 0.5)
        model.compile(optimizer="sgd", loss=broken_loss, metrics=["accuracy"])
        return model

    # KerasTuner itself gives up after three consecutive failures; the error still lists them all.
    tuner = make_tuner(tmp_path, build, max_trials=3)
    with pytest.raises(TunerError, match=r"3 of 3 trials did not complete") as error:
        tuning.run_search(tuner, x, y, validation_data=(x, y), epochs=1, batch_size=32, verbose=0)
    assert str(error.value).count("this loss cannot be computed") == 3
