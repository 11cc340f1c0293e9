"""The book's figures (dlbook.plots): runs in their own colours, true moving averages, channel grids, deletion references."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from dlbook import plots  # noqa: E402


def _history(offset: float) -> dict[str, list[float]]:
    epochs = np.arange(6)
    return {"accuracy": list(0.5 + 0.05 * epochs + offset), "val_accuracy": list(0.5 + 0.02 * epochs + offset),
            "loss": list(0.7 - 0.05 * epochs), "val_loss": list(0.7 - 0.01 * epochs)}


def test_compare_runs_draws_every_run_in_its_own_colour():
    histories = {"baseline": _history(0.0), "dropout": _history(0.01)}
    figure = plots.compare_runs(histories, metrics=("accuracy", "loss"))
    axes = figure.axes
    assert len(axes) == 2 and axes[0].get_xlabel() == "epoch"
    labels = [text.get_text() for text in axes[0].get_legend().get_texts()]
    assert labels == ["baseline", "dropout"]
    colours = {line.get_color() for line in axes[0].lines}
    assert colours == {plots.OKABE_ITO[0], plots.OKABE_ITO[1]}
    validation = [line for line in axes[0].lines if line.get_label() == "dropout"][0]
    assert np.allclose(validation.get_ydata(), histories["dropout"]["val_accuracy"])


def test_compare_runs_smoothing_plots_the_moving_average_over_the_raw_values():
    noisy = {"accuracy": [0.5, 0.9, 0.5, 0.9], "val_accuracy": [0.5, 0.7, 0.5, 0.7]}
    figure = plots.compare_runs({"run": noisy}, metrics=("accuracy",), smoothing=0.5)
    lines = figure.axes[0].lines
    smoothed = [line for line in lines if line.get_label() == "run"][0]
    assert np.allclose(smoothed.get_ydata(), plots.smooth(noisy["val_accuracy"], 0.5))
    assert np.allclose(plots.smooth([0.5, 0.7], 0.5), [0.5, 0.6])
    raw = [line for line in lines if line.get_linestyle() == "None"]
    assert len(raw) == 1 and np.allclose(raw[0].get_ydata(), noisy["val_accuracy"])
    assert "smoothed" in figure.axes[0].get_title()


def test_channel_grid_shows_every_channel_marks_the_chosen_and_blanks_the_empty():
    maps = np.random.default_rng(0).random((6, 6, 10))
    maps[:, :, 3] = 0.0  # a channel whose pattern does not occur
    figure = plots.channel_grid(maps, ncols=4, marked=[1, 7])
    shown = [ax for ax in figure.axes if ax.images]
    assert len(shown) == 10 and len(figure.axes) == 12  # three rows of four, two left empty
    assert [ax.get_title() for ax in shown][:4] == ["0", "1", "2", "3: 0"]
    framed = [int(ax.get_title().split(":")[0]) for ax in shown if ax.spines["left"].get_visible()]
    assert framed == [1, 7]


def test_deletion_curves_draw_random_references_grey_and_dashed():
    fractions = np.linspace(0, 1, 5)
    curves = {"Grad-CAM": np.linspace(0.9, 0.1, 5), "random 7×7 map": np.linspace(0.9, 0.4, 5),
              "random cells": np.linspace(0.9, 0.3, 5)}
    figure = plots.deletion_curves(fractions, curves, {name: 0.5 for name in curves})
    lines = {line.get_label().split(" (")[0]: line for line in figure.axes[0].lines}
    assert lines["Grad-CAM"].get_linestyle() == "-" and lines["Grad-CAM"].get_marker() == "o"
    for name in ("random 7×7 map", "random cells"):
        assert lines[name].get_color() == "0.45" and lines[name].get_linestyle() != "-"
    assert lines["random 7×7 map"].get_linestyle() != lines["random cells"].get_linestyle()
