"""Looking at a classifier's mistakes: confusion matrices and the errors worth showing."""

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
