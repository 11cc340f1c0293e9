"""Looking at a classifier's mistakes: confusion matrices, the errors worth showing, and IoU for segmentation."""

from __future__ import annotations

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts of (true class, predicted class) pairs; rows are true classes."""
    y_true = np.asarray(y_true).astype(int).ravel()
    y_pred = np.asarray(y_pred).astype(int).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels but y_pred has {y_pred.size}")
    return np.bincount(num_classes * y_true + y_pred, minlength=num_classes**2).reshape(num_classes, num_classes)


def most_confused_pairs(matrix: np.ndarray, top: int = 3) -> list[tuple[int, int, int]]:
    """The `top` off-diagonal cells as (true class, predicted class, count), largest first."""
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:top]
    return [(int(r), int(c), int(off[r, c])) for r, c in zip(*np.unravel_index(order, off.shape))]


def most_confident_mistakes(probabilities: np.ndarray, y_true: np.ndarray, top: int = 16) -> np.ndarray:
    """Indices of wrong predictions, the most confident first."""
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != y_true)
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(confidence)[::-1][:top]]


# --------------------------------------------------------------------------------------------------
# Segmentation (Lesson 8): every pixel is a classification


def intersection_over_union(matrix: np.ndarray) -> np.ndarray:
    """Per-class IoU from a confusion matrix (rows true, columns predicted): TP / (TP + FP + FN).

    A class that is neither present nor predicted has no union; its IoU is NaN, not 0 or 1.
    """
    matrix = np.asarray(matrix, dtype=float)
    true_positives = np.diag(matrix)
    union = matrix.sum(axis=0) + matrix.sum(axis=1) - true_positives
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, true_positives / union, np.nan)


def iou_per_image(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """IoU of every class in every image, shape (images, classes); NaN where an image has no union.

    `y_true` and `y_pred` are integer masks of the same shape, (images, height, width) or with a
    trailing axis of 1. `np.nanmean(..., axis=1)` gives each image's mean IoU, for ranking images.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred {y_pred.shape}: masks must match pixel for pixel")
    flat_true = y_true.reshape(len(y_true), -1).astype(int)
    flat_pred = y_pred.reshape(len(y_pred), -1).astype(int)
    for name, values in (("y_true", flat_true), ("y_pred", flat_pred)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f"{name} holds classes outside 0..{num_classes - 1} "
                             f"(from {values.min()} to {values.max()}); shift the labels first")
    return np.stack([intersection_over_union(confusion_matrix(t, p, num_classes))
                     for t, p in zip(flat_true, flat_pred)])
