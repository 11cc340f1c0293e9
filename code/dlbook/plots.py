"""The book's figures, in one consistent style.

Colours come from the Okabe-Ito palette (distinguishable with the common colour-vision
deficiencies); images and matrices use perceptually uniform colormaps. Every function returns the
Matplotlib figure, so a chapter can glue it or add a caption.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def use_book_style() -> None:
    """Set Matplotlib defaults shared by every chapter."""
    mpl.rcParams.update({
        "figure.dpi": 110,
        "savefig.dpi": 150,
        "figure.figsize": (6.4, 3.6),
        "axes.prop_cycle": mpl.cycler(color=OKABE_ITO),
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "image.cmap": "viridis",
        "font.size": 10,
        "legend.frameon": False,
    })


def smooth(values: Sequence[float], factor: float = 0.8) -> np.ndarray:
    """Exponential moving average: each point is `factor` × the previous smoothed point + the rest × itself."""
    values = np.asarray(values, dtype=float)
    out = np.empty_like(values)
    running = values[0] if len(values) else 0.0
    for i, value in enumerate(values):
        running = factor * running + (1 - factor) * value if i else value
        out[i] = running
    return out


def learning_curves(history: Mapping[str, Sequence[float]], metrics: Sequence[str] = ("loss", "accuracy"),
                    smoothing: float | None = None, mark_best: str | None = "val_loss") -> plt.Figure:
    """Training and validation curves, one panel per metric, epochs on the x-axis (from 1).

    `history` is `model.fit(...).history`. With `smoothing`, the raw curves are drawn faintly and
    their exponential moving average on top. `mark_best` draws a vertical line at the epoch where that
    series is lowest (for a loss) or highest (for anything else).
    """
    metrics = [m for m in metrics if m in history]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4), squeeze=False)
    epochs = np.arange(1, len(history[metrics[0]]) + 1)
    best_epoch = None
    if mark_best and mark_best in history:
        series = np.asarray(history[mark_best])
        best_epoch = int(epochs[np.argmin(series) if "loss" in mark_best else np.argmax(series)])
    for ax, metric in zip(axes[0], metrics):
        for key, label, style in ((metric, "training", "-o"), (f"val_{metric}", "validation", "-s")):
            if key not in history:
                continue
            values = np.asarray(history[key])
            if smoothing:
                line, = ax.plot(epochs, values, style, alpha=0.25, markersize=3)
                ax.plot(epochs, smooth(values, smoothing), "-", color=line.get_color(), label=f"{label} (smoothed)")
            else:
                ax.plot(epochs, values, style, markersize=4, label=label)
        if best_epoch is not None:
            ax.axvline(best_epoch, color="0.5", linestyle=":", label=f"lowest {mark_best.replace('_', ' ')}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric.replace("_", " "))
        ax.set_title(metric.replace("_", " ").capitalize())
        ax.legend()
    fig.tight_layout()
    return fig


def image_grid(images: np.ndarray, titles: Sequence[str] | None = None, ncols: int = 8,
               cmap: str = "gray_r", size: float = 1.3, title_colors: Sequence[str] | None = None) -> plt.Figure:
    """A grid of images (grayscale `(n, h, w)` or colour `(n, h, w, 3)`) with optional titles."""
    n = len(images)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * 1.15), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i], cmap=cmap if np.ndim(images[i]) == 2 else None)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8, color=title_colors[i] if title_colors else "black")
    fig.tight_layout()
    return fig


def confusion_matrix_plot(matrix: np.ndarray, class_names: Sequence[str], normalize: bool = False,
                          cmap: str = "cividis") -> plt.Figure:
    """A confusion matrix, true classes as rows and predicted classes as columns, counts annotated."""
    shown = matrix / matrix.sum(axis=1, keepdims=True) if normalize else matrix
    fig, ax = plt.subplots(figsize=(0.55 * len(class_names) + 1.8, 0.5 * len(class_names) + 1.2))
    image = ax.imshow(np.log1p(shown) if not normalize else shown, cmap=cmap)
    ax.grid(False)
    ax.set_xticks(range(len(class_names)), class_names)
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    threshold = (np.log1p(shown) if not normalize else shown).max() / 2
    for (row, col), value in np.ndenumerate(matrix):
        shade = np.log1p(shown[row, col]) if not normalize else shown[row, col]
        ax.text(col, row, f"{value}", ha="center", va="center", fontsize=7,
                color="black" if shade > threshold else "white")
    fig.colorbar(image, ax=ax, label="fraction of row" if normalize else "count (log scale)")
    fig.tight_layout()
    return fig


def compare_runs(histories: Mapping[str, Mapping[str, Sequence[float]]],
                 metrics: Sequence[str] = ("accuracy", "loss"), smoothing: float | None = None) -> plt.Figure:
    """Several training runs on shared axes: one panel per metric, one colour per run.

    `histories` maps a run's name to its `fit(...).history`. Validation curves are solid lines,
    training curves dashed lines in the same colour, so runs are told apart by colour and the two
    data sets by line style (and not by colour alone). With `smoothing`, every curve is drawn as its
    exponential moving average, and the raw validation values as faint dots behind it.
    """
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.6 * len(metrics), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for (name, history), colour in zip(histories.items(), OKABE_ITO):
            epochs = np.arange(1, len(history[metric]) + 1)
            shown = (lambda v: smooth(v, smoothing)) if smoothing else np.asarray
            ax.plot(epochs, shown(history[metric]), "--", color=colour, alpha=0.6, linewidth=1)
            if f"val_{metric}" in history:
                values = history[f"val_{metric}"]
                if smoothing:
                    ax.plot(epochs, values, "o", color=colour, markersize=2.5, alpha=0.35)
                    ax.plot(epochs, shown(values), "-", color=colour, linewidth=1.8, label=name)
                else:
                    ax.plot(epochs, values, "-o", color=colour, markersize=3, label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric.replace("_", " "))
        what = " (smoothed)" if smoothing else ""
        ax.set_title(f"{metric.replace('_', ' ').capitalize()}{what}: validation (solid), training (dashed)",
                     fontsize=9)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    return fig
