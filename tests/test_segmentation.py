"""Segmentation helpers (Lesson 8): IoU from confusion matrices and per image, and mask overlays."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors
import numpy as np
import pytest

from dlbook import evaluation, plots


def test_iou_by_hand_on_a_tiny_mask():
    # 2 classes, 6 pixels: class 1 is true at 3 pixels, predicted at 2 of them and at 1 other.
    y_true = np.array([0, 0, 0, 1, 1, 1])
    y_pred = np.array([0, 0, 1, 1, 1, 0])
    matrix = evaluation.confusion_matrix(y_true, y_pred, 2)
    iou = evaluation.intersection_over_union(matrix)
    # class 0: TP 2, FP 1 (the last pixel), FN 1 → 2/4; class 1 the same by symmetry.
    np.testing.assert_allclose(iou, [0.5, 0.5])


def test_iou_of_an_absent_class_is_nan_and_of_a_missed_class_zero():
    matrix = np.array([[5, 0, 0], [2, 0, 0], [0, 0, 0]])  # class 1 never predicted, class 2 nowhere
    iou = evaluation.intersection_over_union(matrix)
    assert iou[0] == pytest.approx(5 / 7) and iou[1] == 0.0 and np.isnan(iou[2])


def test_the_majority_baseline_has_iou_equal_to_the_majority_share():
    rng = np.random.default_rng(0)
    y_true = rng.choice(3, size=(4, 8, 8), p=[0.3, 0.6, 0.1])
    always = np.ones_like(y_true)
    iou = evaluation.intersection_over_union(evaluation.confusion_matrix(y_true, always, 3))
    share = (y_true == 1).mean()
    np.testing.assert_allclose(iou, [0.0, share, 0.0])


def test_iou_per_image_agrees_with_a_pixel_loop_and_checks_its_input():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 3, size=(5, 6, 7, 1))
    y_pred = rng.integers(0, 3, size=(5, 6, 7, 1))
    y_pred[2] = y_true[2]                      # one perfect image
    y_true[3][y_true[3] == 2] = 0              # an image without class 2 ...
    y_pred[3][y_pred[3] == 2] = 1              # ... and no prediction of it: NaN there
    table = evaluation.iou_per_image(y_true, y_pred, 3)
    assert table.shape == (5, 3)
    for i in range(5):
        for k in range(3):
            t, p = y_true[i] == k, y_pred[i] == k
            union = (t | p).sum()
            if union:
                assert table[i, k] == pytest.approx((t & p).sum() / union)
            else:
                assert np.isnan(table[i, k])
    np.testing.assert_allclose(table[2], 1.0)
    assert np.isnan(table[3, 2]) and not np.isnan(np.nanmean(table[3]))
    with pytest.raises(ValueError, match="must match pixel for pixel"):
        evaluation.iou_per_image(y_true, y_pred[:, :5], 3)
    with pytest.raises(ValueError, match="shift the labels"):
        evaluation.iou_per_image(y_true + 1, y_pred, 3)


def test_mask_to_rgb_gives_each_class_its_colour():
    mask = np.array([[0, 1], [2, 0]])
    rgb = plots.mask_to_rgb(mask[..., None])
    assert rgb.shape == (2, 2, 3)
    for (row, col), value in np.ndenumerate(mask):
        np.testing.assert_allclose(rgb[row, col], matplotlib.colors.to_rgb(plots.MASK_COLORS[value]))
    with pytest.raises(ValueError, match="shift trimap values"):
        plots.mask_to_rgb(mask + 1)
    with pytest.raises(ValueError, match="shape"):
        plots.mask_to_rgb(np.zeros((2, 2, 2), dtype=int))


def test_segmentation_grid_lays_masks_over_photos_with_a_legend():
    photos = [np.full((6, 8, 3), 200, dtype=np.uint8) for _ in range(3)]
    truth = [np.zeros((6, 8), dtype=int), np.ones((6, 8), dtype=int), np.full((6, 8), 2)]
    predicted = [np.ones((6, 8), dtype=int)] * 3
    figure = plots.segmentation_grid(photos, {"true mask": truth, "predicted": predicted},
                                     class_names=["pet", "background", "border"], titles=["a", "b", "c"], alpha=0.5)
    axes = np.array(figure.axes).reshape(3, 3)
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["photo", "true mask", "predicted"]
    assert [ax.get_title() for ax in axes[0]] == ["a", "b", "c"]
    # The overlay is an even mix of the photo and the class colour.
    shown = axes[1, 0].get_images()[0].get_array()
    expected = 0.5 * 200 / 255 + 0.5 * np.array(matplotlib.colors.to_rgb(plots.MASK_COLORS[0]))
    np.testing.assert_allclose(shown[0, 0], expected)
    legend = figure.legends[0]
    assert [text.get_text() for text in legend.get_texts()] == ["pet", "background", "border"]
    with pytest.raises(ValueError, match="2 masks in row 'predicted' for 3 photos"):
        plots.segmentation_grid(photos, {"predicted": predicted[:2]}, class_names=["pet", "background", "border"])
    with pytest.raises(ValueError, match="mask is"):
        plots.segmentation_grid(photos[:1], {"predicted": [np.zeros((3, 3), dtype=int)]}, class_names=["pet"])
    matplotlib.pyplot.close("all")


def test_learning_curves_mark_the_highest_score_and_the_lowest_loss():
    history = {"loss": [1.0, 0.5, 0.7], "val_loss": [1.1, 0.6, 0.9],
               "mean_iou": [0.2, 0.4, 0.5], "val_mean_iou": [0.2, 0.45, 0.4]}
    for mark, epoch, word in (("val_mean_iou", 2, "highest"), ("val_loss", 2, "lowest")):
        figure = plots.learning_curves(history, metrics=("loss", "mean_iou"), mark_best=mark)
        lines = [line for line in figure.axes[0].get_lines() if line.get_linestyle() == ":"]
        assert len(lines) == 1 and lines[0].get_xdata()[0] == epoch
        assert lines[0].get_label() == f"{word} {mark.replace('_', ' ')}"
    history["val_mean_iou"] = [0.2, 0.3, 0.45]
    figure = plots.learning_curves(history, metrics=("mean_iou",), mark_best="val_mean_iou")
    assert [line.get_xdata()[0] for line in figure.axes[0].get_lines() if line.get_linestyle() == ":"] == [3]
    matplotlib.pyplot.close("all")
