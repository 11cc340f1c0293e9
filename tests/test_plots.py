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


def test_comparison_panels_draw_one_labelled_panel_per_row():
    rows = [{"title": "L1: MNIST", "label": "test accuracy", "ours": 0.97, "compared": 0.978, "percent": True,
             "compared_label": "published"},
            {"title": "L10: weather", "label": "test MAE (°C)", "ours": 2.9, "compared": 3.4, "percent": False,
             "compared_label": "baseline"}]
    figure = plots.comparison_panels(rows, ncols=4)
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert len(visible) == 2
    labels = [text.get_text() for text in visible[1].texts]
    assert labels == [" 2.9", " 3.4"] and visible[1].get_xlabel() == "test MAE (°C)"
    assert [t.get_text() for t in visible[0].texts] == [" 97.0%", " 97.8%"]


def test_compare_runs_marks_each_runs_best_epoch_in_its_colour():
    falling = {"loss": [0.7, 0.5, 0.4, 0.3], "val_loss": [0.7, 0.6, 0.55, 0.5]}
    turning = {"loss": [0.7, 0.5, 0.3, 0.1], "val_loss": [0.7, 0.5, 0.6, 0.9]}
    figure = plots.compare_runs({"regularized": falling, "baseline": turning}, metrics=("loss",),
                                mark_best="val_loss")
    ax = figure.axes[0]
    marks = {(line.get_color(), float(line.get_xdata()[0])) for line in ax.lines if line.get_linestyle() == ":"}
    assert marks == {(plots.OKABE_ITO[0], 4.0), (plots.OKABE_ITO[1], 2.0)}  # epochs count from 1
    diamonds = [line for line in ax.lines if line.get_marker() == "D"]
    assert sorted(float(line.get_ydata()[0]) for line in diamonds) == [0.5, 0.5]


def test_image_rows_draws_one_strip_per_row_on_one_intensity_scale():
    rows = {"input": np.zeros((4, 5, 5, 1)), "reconstruction": np.ones((3, 5, 5)), "missing": np.zeros((0, 5, 5))}
    figure = plots.image_rows(rows, column_titles=["a", "b", "c", "d"], gap=2)
    axes = figure.axes
    assert [ax.get_ylabel() for ax in axes] == ["input", "reconstruction", "missing"]
    assert [text.get_text() for text in axes[0].texts] == ["a", "b", "c", "d"]
    strip = axes[1].images[0].get_array()
    assert strip.shape == (5, 4 * 5 + 3 * 2) and axes[1].images[0].get_clim() == (0.0, 1.0)
    # Three images of ones, then a blank (masked) place where the fourth would be; gaps are masked too.
    assert strip[:, :5].min() == 1.0 and strip.mask[:, 5:7].all() and strip.mask[:, 21:].all()
    assert strip.mask[:, :5].sum() == 0
    assert axes[2].images[0].get_array().mask.all()  # an empty row stays blank


def test_image_rows_rejects_images_of_different_sizes():
    import pytest

    with pytest.raises(ValueError, match="one size"):
        plots.image_rows({"a": np.zeros((2, 5, 5)), "b": np.zeros((2, 6, 6))})


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


def test_image_rows_shows_colour_images_as_they_are_with_transparent_gaps():
    photo = np.zeros((2, 4, 4, 3), dtype="uint8")
    photo[..., 0] = 255  # pure red
    figure = plots.image_rows({"original": photo[:1], "variants": photo}, gap=1)
    strip = figure.axes[1].images[0].get_array()
    assert strip.shape == (4, 2 * 4 + 1, 4)  # RGBA: two photos and one gap
    assert np.allclose(strip[:, :4, :3], [1.0, 0.0, 0.0]) and (strip[:, :4, 3] == 1).all()
    assert (strip[:, 4, 3] == 0).all()  # the gap is transparent
    first = figure.axes[0].images[0].get_array()
    assert (first[:, 5:, 3] == 0).all()  # a row with fewer images leaves the rest blank


def test_image_rows_rejects_grayscale_and_colour_together():
    import pytest

    with pytest.raises(ValueError, match="all colour"):
        plots.image_rows({"a": np.zeros((2, 5, 5)), "b": np.zeros((2, 5, 5, 3))})
