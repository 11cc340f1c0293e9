"""The book's figures, in one consistent style.

Colours come from the Okabe-Ito palette (distinguishable with the common colour-vision
deficiencies); images and matrices use perceptually uniform colormaps. Every function returns the
Matplotlib figure, so a chapter can glue it or add a caption.
"""

from __future__ import annotations

import itertools
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
            extreme = "lowest" if "loss" in mark_best else "highest"
            ax.axvline(best_epoch, color="0.5", linestyle=":", label=f"{extreme} {mark_best.replace('_', ' ')}")
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


def image_rows(rows: Mapping[str, np.ndarray], size: float = 1.0, cmap: str = "gray_r",
               column_titles: Sequence[str] | None = None, vmin: float | None = 0.0,
               vmax: float | None = 1.0, gap: int = 2) -> plt.Figure:
    """Rows of same-sized images, each row named at its left: inputs above their reconstructions, samples over time.

    `rows` maps a row's label to its images: grayscale `(n, h, w)` or `(n, h, w, 1)`, or colour
    `(n, h, w, 3)` (uint8 0-255, or floats in 0-1); rows may differ in length (missing places stay
    blank). Grayscale images share one intensity scale, `vmin` to `vmax`, so rows can be compared
    pixel for pixel; colour images are shown as they are. Each row is drawn as one strip of images
    separated by `gap` blank pixels (one Matplotlib axes per row, not per image, which keeps large
    grids quick to draw).
    """
    def as_stack(images: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        if images.ndim == 4 and images.shape[-1] == 3:
            return images.astype(float) / 255.0 if images.dtype == np.uint8 else images.astype(float)
        return images.reshape(images.shape[:3]) if images.ndim == 4 else images

    stacks = {label: as_stack(images) for label, images in rows.items()}
    shapes = {images.shape[1:] for images in stacks.values() if len(images)}
    if len(shapes) > 1:
        raise ValueError(f"image_rows needs images of one size (and all grayscale or all colour), got {sorted(shapes)}")
    shape = shapes.pop() if shapes else (1, 1)
    height, width = shape[:2]
    colour = len(shape) == 3
    ncols = max([len(images) for images in stacks.values()] + [len(column_titles or [])] + [1])
    strip_width = ncols * width + (ncols - 1) * gap
    blank = vmin if vmin is not None else 0.0
    fig, axes = plt.subplots(len(rows), 1, figsize=(size * ncols + 1.2, size * len(rows) * (1.2 if column_titles else 1.05)),
                             squeeze=False)
    for ax, (label, images) in zip(axes[:, 0], stacks.items()):
        # Gaps and missing places are left out: masked (grayscale) or fully transparent (colour).
        shown = np.zeros((height, strip_width), dtype=bool)
        strip = np.zeros((height, strip_width, 4)) if colour else np.full((height, strip_width), blank, dtype=float)
        for c, image in enumerate(images[:ncols]):
            columns = slice(c * (width + gap), c * (width + gap) + width)
            shown[:, columns] = True
            if colour:
                strip[:, columns, :3] = np.clip(image, 0.0, 1.0)
            else:
                strip[:, columns] = image
        if colour:
            strip[..., 3] = shown
            ax.imshow(strip, interpolation="nearest")
        else:
            ax.imshow(np.ma.masked_array(strip, ~shown), cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    if column_titles is not None:
        top = axes[0, 0]
        for c, title in enumerate(column_titles[:ncols]):
            top.text(c * (width + gap) + width / 2, -1.5, title, ha="center", va="bottom", fontsize=8)
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


def probability_histogram(probabilities: np.ndarray, labels: np.ndarray,
                          class_names: Sequence[str] = ("negative", "positive"), bins: int = 20) -> plt.Figure:
    """Histograms of a binary classifier's predicted probability, one per true class, with the 0.5 threshold."""
    probabilities = np.asarray(probabilities, dtype=float).ravel()
    labels = np.asarray(labels).ravel()
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    edges = np.linspace(0, 1, bins + 1)
    for value, (name, hatch) in enumerate(zip(class_names, ("//", ""))):
        ax.hist(probabilities[labels == value], bins=edges, alpha=0.6, hatch=hatch, edgecolor="white",
                label=f"true class: {name}")
    ax.axvline(0.5, color="0.3", linestyle="--", label="threshold 0.5")
    ax.set_xlabel(f"predicted probability of '{class_names[1]}'")
    ax.set_ylabel("examples")
    ax.legend()
    fig.tight_layout()
    return fig


def callback_curves(history: Mapping[str, Sequence[float]], best_epoch: int | None = None) -> plt.Figure:
    """Loss per epoch (training and validation) beside the learning rate a callback set (log scale)."""
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (loss_ax, rate_ax) = plt.subplots(1, 2, figsize=(8.4, 3.4))
    loss_ax.plot(epochs, history["loss"], "-o", markersize=4, label="training")
    if "val_loss" in history:
        loss_ax.plot(epochs, history["val_loss"], "-s", markersize=4, label="validation")
    rate_ax.step(epochs, history["learning_rate"], where="mid", color=OKABE_ITO[2], marker="o", markersize=4)
    rate_ax.set_yscale("log")
    for ax in (loss_ax, rate_ax):
        if best_epoch is not None:
            ax.axvline(best_epoch, color="0.5", linestyle=":", label="weights restored from")
        ax.set_xlabel("epoch")
        ax.set_xticks(epochs)
    loss_ax.set_ylabel("loss")
    loss_ax.set_title("Loss")
    loss_ax.legend()
    rate_ax.set_ylabel("learning rate (log scale)")
    rate_ax.set_title("Learning rate")
    fig.tight_layout()
    return fig


def score_heatmap(table: np.ndarray, row_values: Sequence, column_values: Sequence, row_label: str,
                  column_label: str, score_label: str, fmt: str = ".3f", cmap: str = "viridis") -> plt.Figure:
    """A grid search's scores as a heatmap: one cell per combination, its score written in it."""
    fig, ax = plt.subplots(figsize=(1.3 * len(column_values) + 2.4, 0.9 * len(row_values) + 1.4))
    image = ax.imshow(table, cmap=cmap, aspect="auto")
    ax.grid(False)
    ax.set_xticks(range(len(column_values)), [f"{v:g}" if isinstance(v, float) else str(v) for v in column_values])
    ax.set_yticks(range(len(row_values)), [f"{v:g}" if isinstance(v, float) else str(v) for v in row_values])
    ax.set_xlabel(column_label)
    ax.set_ylabel(row_label)
    middle = np.nanmin(table) + (np.nanmax(table) - np.nanmin(table)) / 2
    for (row, col), value in np.ndenumerate(table):
        ax.text(col, row, format(value, fmt), ha="center", va="center", fontsize=9,
                color="black" if value > middle else "white")
    percent = mpl.ticker.PercentFormatter(xmax=1, decimals=1) if fmt.endswith("%") else None
    fig.colorbar(image, ax=ax, label=score_label, format=percent)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Transfer learning and heatmaps (Lessons 5 and 6)

HEATMAP_CMAP = "inferno"  # perceptually uniform, dark for "unimportant", bright for "important"


def stage_curves(stages: Sequence[tuple[str, Mapping[str, Sequence[float]]]],
                 metrics: Sequence[str] = ("loss", "accuracy"), smoothing: float | None = None) -> plt.Figure:
    """Learning curves of consecutive training stages on one epoch axis, a dashed line where each begins.

    `stages` is a list of (stage name, `fit(...).history`). With `smoothing`, the raw values are drawn
    faintly and their exponential moving average on top; the average runs across stage boundaries.
    """
    joined: dict[str, list[float]] = {}
    starts, offset = [], 0
    for name, history in stages:
        lengths = {len(values) for values in history.values()}
        if len(lengths) != 1 or (joined and set(history) != set(joined)):
            raise ValueError(f"stage {name!r}: every stage needs the same metrics, one value per epoch each")
        starts.append(offset)
        offset += lengths.pop()
        for key, values in history.items():
            joined.setdefault(key, []).extend(float(v) for v in values)
    figure = learning_curves(joined, metrics=metrics, smoothing=smoothing, mark_best=None)
    for ax in figure.axes:
        for (name, _), start in zip(stages, starts):
            if start:
                ax.axvline(start + 0.5, color="0.4", linestyle="--", linewidth=1)
            ax.annotate(name, xy=(start + 0.6, 1.0), xycoords=("data", "axes fraction"), fontsize=7,
                        va="top", color="0.3")
    return figure


def overlay_heatmap(ax: plt.Axes, image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.5,
                    cmap: str = HEATMAP_CMAP) -> mpl.image.AxesImage:
    """Draw a photo (RGB, 0-255 or 0-1) with a [0, 1] heatmap of the same size laid over it."""
    image = np.asarray(image, dtype=float)
    ax.imshow(image / 255.0 if image.max() > 1.0 else image)
    shown = ax.imshow(heatmap, cmap=cmap, alpha=alpha, vmin=0.0, vmax=1.0)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    return shown


def heatmap_grid(images: np.ndarray, maps: Mapping[str, np.ndarray], row_titles: Sequence[str] | None = None,
                 size: float = 1.9, alpha: float = 0.5, image_title: str = "photo") -> plt.Figure:
    """One row per photo: the photo, then each method's heatmap over it, with one shared colour bar.

    `maps` maps a method name to heatmaps of shape (photos, height, width), each scaled to [0, 1].
    """
    names = list(maps)
    fig, axes = plt.subplots(len(images), len(names) + 1, squeeze=False,
                             figsize=(size * (len(names) + 1) + 0.9, size * len(images) + 0.3))
    shown = None
    for row, image in enumerate(images):
        image = np.asarray(image, dtype=float)
        axes[row, 0].imshow(image / 255.0 if image.max() > 1.0 else image)
        axes[row, 0].set_xticks([])
        axes[row, 0].set_yticks([])
        axes[row, 0].grid(False)
        if row_titles is not None:
            axes[row, 0].set_ylabel(row_titles[row], fontsize=8)
        for col, name in enumerate(names, start=1):
            shown = overlay_heatmap(axes[row, col], image, maps[name][row], alpha=alpha)
    axes[0, 0].set_title(image_title, fontsize=9)
    for col, name in enumerate(names, start=1):
        axes[0, col].set_title(name, fontsize=9)
    fig.tight_layout()
    if shown is not None:
        bar = fig.colorbar(shown, ax=axes, fraction=0.025, pad=0.02)
        bar.set_label("importance (scaled per map)")
    return fig


def feature_map_grid(activations: Mapping[str, np.ndarray], channels: int = 8, size: float = 1.2,
                     cmap: str = "viridis") -> plt.Figure:
    """Feature maps of several layers for one image: one row per layer, `channels` channels each.

    `activations` maps a layer name to its output for the image, shape (height, width, channels).
    Each layer shows its most active channels (highest mean activation), each scaled to its own range.
    """
    fig, axes = plt.subplots(len(activations), channels, squeeze=False,
                             figsize=(size * channels, size * len(activations) * 1.12 + 0.2))
    for row, (name, maps) in enumerate(activations.items()):
        maps = np.asarray(maps, dtype=float)
        strongest = np.argsort(maps.mean(axis=(0, 1)))[::-1][:channels]
        for col, ax in enumerate(axes[row]):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            if col >= len(strongest):
                ax.axis("off")
                continue
            channel = maps[:, :, strongest[col]]
            ax.imshow(channel, cmap=cmap, vmin=channel.min(), vmax=channel.max() if channel.max() > channel.min() else channel.min() + 1)
            ax.set_title(f"channel {strongest[col]}", fontsize=6)
        axes[row, 0].set_ylabel(f"{name}\n{maps.shape[0]}×{maps.shape[1]}×{maps.shape[2]}", fontsize=7)
    fig.tight_layout()
    return fig


def search_space_plot(x_values: Sequence[float], y_values: Sequence[float], scores: Sequence[float],
                      groups: Sequence[str], x_label: str, y_label: str, score_label: str,
                      log_x: bool = True, log_y: bool = True, percent: bool = False,
                      cmap: str = "viridis") -> plt.Figure:
    """Configurations tried by several searches in a 2-D hyperparameter space, coloured by their score.

    Each group (e.g. "grid search", "random search") gets its own marker shape, so the groups stay
    apart without relying on colour; the colour shows the score on one shared scale.
    """
    x_values, y_values, scores = (np.asarray(v, dtype=float) for v in (x_values, y_values, scores))
    groups = np.asarray(groups)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    norm = mpl.colors.Normalize(vmin=scores.min(), vmax=scores.max())
    for group, marker in zip(dict.fromkeys(groups), ("s", "o", "^", "D")):
        chosen = groups == group
        ax.scatter(x_values[chosen], y_values[chosen], c=scores[chosen], cmap=cmap, norm=norm, marker=marker,
                   s=110, edgecolors="black", linewidths=0.6, label=group)
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log", base=2)
        powers = 2.0 ** np.arange(np.floor(np.log2(y_values.min())), np.ceil(np.log2(y_values.max())) + 1)
        ax.set_yticks(powers, [f"{p:g}" for p in powers])
        ax.yaxis.set_minor_locator(mpl.ticker.NullLocator())
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=score_label,
                 format=mpl.ticker.PercentFormatter(xmax=1, decimals=1) if percent else None)
    # Grey legend markers: in the plot, colour means score, not group.
    handles = [mpl.lines.Line2D([], [], marker=marker, linestyle="", markersize=10, markerfacecolor="0.85",
                                markeredgecolor="black", label=group)
               for group, marker in zip(dict.fromkeys(groups), ("s", "o", "^", "D"))]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0, -0.18), ncol=len(handles))
    fig.tight_layout()
    return fig


def compare_runs(histories: Mapping[str, Mapping[str, Sequence[float]]],
                 metrics: Sequence[str] = ("accuracy", "loss"), smoothing: float | None = None,
                 mark_best: str | None = None) -> plt.Figure:
    """Several training runs on shared axes: one panel per metric, one colour per run.

    `histories` maps a run's name to its `fit(...).history`. Validation curves are solid lines,
    training curves dashed lines in the same colour, so runs are told apart by colour and the two
    data sets by line style (and not by colour alone). With `smoothing`, every curve is drawn as its
    exponential moving average, and the raw validation values as faint dots behind it. `mark_best`
    (e.g. `"val_loss"`) draws a dotted vertical line in each run's colour at the epoch where that
    series is lowest (for a loss) or highest, and a larger marker on the curve there.
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
            if mark_best and mark_best in history:
                series = np.asarray(history[mark_best])
                best = int(np.argmin(series) if "loss" in mark_best else np.argmax(series))
                ax.axvline(best + 1, color=colour, linestyle=":", linewidth=1.2)
                if f"val_{metric}" in history:
                    ax.plot([best + 1], [history[f"val_{metric}"][best]], "D", color=colour, markersize=6,
                            markeredgecolor="black")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric.replace("_", " "))
        what = " (smoothed)" if smoothing else ""
        ax.set_title(f"{metric.replace('_', ' ').capitalize()}{what}: validation (solid), training (dashed)",
                     fontsize=9)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def deletion_curves(fractions: np.ndarray, curves: Mapping[str, np.ndarray],
                    areas: Mapping[str, float] | None = None) -> plt.Figure:
    """Mean deletion curves, one line per method: class probability against the fraction of the photo deleted.

    Curves whose name starts with "random" are references: drawn in grey, dashed, without markers.
    """
    fig, ax = plt.subplots(figsize=(6.4, 3.9))
    markers = itertools.cycle(["o", "s", "^", "D", "v", "x", "P", "*"])
    dashes = itertools.cycle(["--", ":", "-.", (0, (5, 1)), (0, (1, 3))])
    for name, curve in curves.items():
        label = f"{name} (area {areas[name]:.3f})" if areas else name
        if name.lower().startswith("random"):
            ax.plot(np.asarray(fractions) * 100, curve, linestyle=next(dashes), color="0.45", label=label)
        else:
            ax.plot(np.asarray(fractions) * 100, curve, "-", marker=next(markers), markersize=3, label=label)
    ax.set_xlabel("photo deleted, most salient first (%)")
    ax.set_ylabel("probability of the explained class")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


def grad_cam_steps(image: np.ndarray, raw_map: np.ndarray, upsampled: np.ndarray, title: str = "",
                   cmap: str = HEATMAP_CMAP, method: str = "Grad-CAM") -> plt.Figure:
    """A class heatmap in three panels: the photo, the map at its layer's resolution, the resized map over the photo.

    A raw map with negative values (a class activation map: evidence for and against the class) is
    drawn with a diverging colormap centred on zero; the overlay shows `upsampled`, scaled to [0, 1].
    """
    fig, axes = plt.subplots(1, 3, figsize=(9.0, 3.2))
    image = np.asarray(image, dtype=float)
    raw_map = np.asarray(raw_map, dtype=float)
    axes[0].imshow(image / 255.0 if image.max() > 1.0 else image)
    axes[0].set_title(title or "photo", fontsize=9)
    if raw_map.min() < 0:
        limit = float(np.abs(raw_map).max()) or 1.0
        shown = axes[1].imshow(raw_map, cmap="RdBu_r", vmin=-limit, vmax=limit)
        label = "evidence for (+) and against (−)"
    else:
        shown = axes[1].imshow(raw_map, cmap=cmap)
        label = "class evidence"
    axes[1].set_title(f"{method}, {raw_map.shape[0]}×{raw_map.shape[1]} grid", fontsize=9)
    fig.colorbar(shown, ax=axes[1], fraction=0.046, pad=0.04, label=label)
    overlay = overlay_heatmap(axes[2], image, upsampled, cmap=cmap)
    axes[2].set_title("positive part, resized, over the photo", fontsize=9)
    fig.colorbar(overlay, ax=axes[2], fraction=0.046, pad=0.04, label="scaled to [0, 1]")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    fig.tight_layout()
    return fig


def comparison_panels(rows: Sequence[Mapping], ncols: int = 4, size: tuple[float, float] = (3.0, 1.5)) -> plt.Figure:
    """One small panel per results-page row: this build's value against the value it is compared with.

    Each row is a mapping with `title`, `label` (the metric), `ours`, `compared`, `compared_label`
    (e.g. "Chollet 2nd ed." or "baseline") and `percent`. Each panel has its own scale, since the
    metrics differ (accuracy, loss, error in °C).
    """
    nrows = max(1, int(np.ceil(len(rows) / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False)
    for ax in axes.flat[len(rows):]:
        ax.set_visible(False)
    for ax, row in zip(axes.flat, rows):
        values = [row["ours"], row["compared"]]
        names = ["this build", row["compared_label"]]
        ax.barh([1, 0], values, color=[OKABE_ITO[0], OKABE_ITO[1]], height=0.6)
        ax.set_yticks([1, 0], names, fontsize=8)
        if row["percent"]:  # room for the value labels beyond 100 %
            ax.set_xlim(0, 1.25)
            ax.set_xticks([0, 0.5, 1.0], ["0%", "50%", "100%"])
        else:
            ax.set_xlim(0, max(values) * 1.4 if max(values) > 0 else 1.0)
        for y, value in zip([1, 0], values):
            ax.text(value, y, f" {value:.1%}" if row["percent"] else f" {value:.3g}", va="center", fontsize=8)
        ax.set_title(row["title"], fontsize=8, loc="left")
        ax.set_xlabel(row["label"], fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return fig


def unrolled_rnn(steps: int = 4) -> plt.Figure:
    """A recurrent layer drawn twice: as a loop (left) and unrolled over `steps` timesteps (right).

    Each copy of the cell reads the input $x_t$ and the previous state $h_{t-1}$ and passes $h_t$ on;
    all copies share one set of weights, which the figure says in words.
    """
    if steps < 2:
        raise ValueError(f"steps={steps}: unrolling needs at least two timesteps to show the chain")
    gap = 1.7  # distance between neighbouring cells
    xs = [3.7 + gap * t for t in range(steps)]
    fig, ax = plt.subplots(figsize=(0.95 * (xs[-1] + 1.2), 3.3))
    ax.set_xlim(-0.6, xs[-1] + 0.6)
    ax.set_ylim(-0.75, 3.35)
    ax.set_aspect("equal")
    ax.axis("off")
    arrow = dict(arrowstyle="-|>", color="0.25", linewidth=1.2, shrinkA=0, shrinkB=0, mutation_scale=12)

    def box(x: float, y: float, text: str, width: float, cell: bool = False) -> None:
        style = dict(facecolor="#cfe3f3", edgecolor=OKABE_ITO[0], linewidth=1.4) if cell else \
            dict(facecolor="white", edgecolor="0.4", linewidth=1.0)
        ax.add_patch(mpl.patches.FancyBboxPatch((x - width / 2, y - 0.25), width, 0.5,
                                                boxstyle="round,pad=0.05", **style))
        ax.text(x, y, text, ha="center", va="center", fontsize=11)

    def link(start: tuple[float, float], end: tuple[float, float], **extra) -> None:
        ax.annotate("", end, start, arrowprops={**arrow, **extra})

    # The folded view: one cell whose state feeds back into itself at the next step.
    box(0.4, 1.5, "RNN", 0.8, cell=True)
    box(0.4, 0.1, "$x_t$", 0.5)
    box(0.4, 2.9, "$h_t$", 0.5)
    link((0.4, 0.35), (0.4, 1.2))
    link((0.4, 1.8), (0.4, 2.65))
    link((0.85, 1.66), (0.85, 1.34), connectionstyle="arc3,rad=-2.6")
    ax.text(1.55, 1.5, "=", fontsize=20, ha="center", va="center")
    # The unrolled view: one copy of the cell per timestep, the state passed along the chain.
    box(xs[0] - 1.05, 1.5, "$h_0 = 0$", 0.8)
    link((xs[0] - 0.6, 1.5), (xs[0] - 0.45, 1.5))
    for t, x in enumerate(xs, start=1):
        box(x, 1.5, "RNN", 0.8, cell=True)
        box(x, 0.1, f"$x_{{{t}}}$", 0.5)
        box(x, 2.9, f"$h_{{{t}}}$", 0.5)
        link((x, 0.35), (x, 1.2))
        link((x, 1.8), (x, 2.65))
        if t < steps:
            link((x + 0.45, 1.5), (xs[t] - 0.45, 1.5))
            ax.text((x + xs[t]) / 2, 1.68, f"$h_{{{t}}}$", ha="center", fontsize=9, color="0.3")
    ax.text((xs[0] + xs[-1]) / 2, -0.6, "every copy is the same cell, with the same weights $W$, $U$, $b$",
            ha="center", fontsize=9, color="0.3")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Segmentation masks (Lesson 8)

# One colour per class of the pet trimaps, from the Okabe-Ito palette: pet, background, border.
MASK_COLORS = ("#E69F00", "#0072B2", "#F0E442")


def mask_to_rgb(mask: np.ndarray, colors: Sequence[str] = MASK_COLORS) -> np.ndarray:
    """An integer mask (height, width), classes 0..K-1, as an RGB image in [0, 1], one colour per class."""
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[-1] == 1:
        mask = mask[..., 0]
    if mask.ndim != 2:
        raise ValueError(f"a mask has shape (height, width) or (height, width, 1), not {mask.shape}")
    if mask.size and (mask.min() < 0 or mask.max() >= len(colors)):
        raise ValueError(f"mask classes run from {mask.min()} to {mask.max()}, but only {len(colors)} colours "
                         "are given; shift trimap values 1-3 to classes 0-2 first")
    palette = np.array([mpl.colors.to_rgb(c) for c in colors])
    return palette[mask.astype(int)]


def segmentation_grid(photos: Sequence[np.ndarray], masks: Mapping[str, Sequence[np.ndarray]],
                      class_names: Sequence[str], titles: Sequence[str] | None = None, alpha: float = 0.55,
                      colors: Sequence[str] = MASK_COLORS, size: float = 1.5) -> plt.Figure:
    """Photos in the top row, and below them one row per set of masks laid over the photos.

    `masks` maps a row label (e.g. "true mask", "predicted") to one integer mask per photo, of the
    photo's height and width. A legend names the class of each colour.
    """
    n = len(photos)
    for label, row in masks.items():
        if len(row) != n:
            raise ValueError(f"{len(row)} masks in row {label!r} for {n} photos")
    fig, axes = plt.subplots(len(masks) + 1, n, squeeze=False, figsize=(size * n + 0.6, size * (len(masks) + 1) + 0.5))
    for col, photo in enumerate(photos):
        photo = np.asarray(photo, dtype=float)
        photo = photo / 255.0 if photo.max() > 1.0 else photo
        axes[0, col].imshow(photo)
        if titles is not None:
            axes[0, col].set_title(titles[col], fontsize=7)
        for row, (label, row_masks) in enumerate(masks.items(), start=1):
            colored = mask_to_rgb(row_masks[col], colors)
            if colored.shape[:2] != photo.shape[:2]:
                raise ValueError(f"row {label!r}, photo {col}: mask is {colored.shape[:2]}, photo {photo.shape[:2]}")
            axes[row, col].imshow((1 - alpha) * photo + alpha * colored)
    for row, label in enumerate(["photo", *masks]):
        axes[row, 0].set_ylabel(label, fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    handles = [mpl.patches.Patch(color=color, label=name) for name, color in zip(class_names, colors)]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def attention_map(weights: np.ndarray, query_labels: Sequence[str], key_labels: Sequence[str],
                  ax: plt.Axes | None = None, title: str = "", cmap: str = "viridis",
                  annotate: bool = False, vmin: float | None = 0.0) -> plt.Figure:
    """Attention weights as a heatmap: one row per query token, one column per key token.

    Each row of `weights` (shape (queries, keys)) is a softmax, so it sums to one. With `annotate`
    every cell shows its weight (for small matrices). The colour scale starts at `vmin` (0 by
    default); `vmin=None` stretches it over the weights' own range, to show small differences.
    """
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (len(query_labels), len(key_labels)):
        raise ValueError(f"weights of shape {weights.shape} do not match {len(query_labels)} query and "
                         f"{len(key_labels)} key labels")
    if ax is None:
        size = min(0.32 * max(weights.shape) + 1.6, 9.0)
        fig, ax = plt.subplots(figsize=(size + 1.0, size))
    else:
        fig = ax.figure
    shown = ax.imshow(weights, cmap=cmap, vmin=vmin, aspect="auto")
    ax.grid(False)
    small = 8 if max(weights.shape) <= 20 else 6
    ax.set_xticks(range(len(key_labels)), key_labels, rotation=90, fontsize=small)
    ax.set_yticks(range(len(query_labels)), query_labels, fontsize=small)
    ax.set_xlabel("key (attended to)")
    ax.set_ylabel("query (attending)")
    if title:
        ax.set_title(title, fontsize=9)
    if annotate:
        for (row, col), value in np.ndenumerate(weights):
            ax.text(col, row, f"{value:.2f}", ha="center", va="center", fontsize=7,
                    color="black" if value > weights.max() / 2 else "white")
    fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.03, label="attention weight")
    return fig


def patch_grid(image: np.ndarray, patches: np.ndarray, cmap: str = "gray_r") -> plt.Figure:
    """An image with its patch boundaries drawn (left) and its patches as the sequence a ViT reads (right).

    `patches` has shape (rows, columns, patch height, patch width): the image cut into tiles, in
    place. The right panel shows every tile apart, numbered in reading order, which is the order of
    the tokens.
    """
    rows, cols, height, width = patches.shape
    image = np.asarray(image)
    if image.shape[:2] != (rows * height, cols * width):
        raise ValueError(f"an image of {image.shape[:2]} cannot hold {rows}×{cols} patches of {height}×{width}")
    fig = plt.figure(figsize=(3.0 + 0.75 * cols, 3.0))
    grid = fig.add_gridspec(rows, cols + 1 + cols, width_ratios=[1] * cols + [0.3] + [1] * cols)
    left = fig.add_subplot(grid[:, :cols])
    left.imshow(image, cmap=cmap)
    for k in range(1, rows):
        left.axhline(k * height - 0.5, color=OKABE_ITO[1], linewidth=1.5)
    for k in range(1, cols):
        left.axvline(k * width - 0.5, color=OKABE_ITO[1], linewidth=1.5)
    left.set_xticks([])
    left.set_yticks([])
    left.grid(False)
    left.set_title(f"{image.shape[0]}×{image.shape[1]} image, {height}×{width} patches", fontsize=9)
    for r in range(rows):
        for c in range(cols):
            ax = fig.add_subplot(grid[r, cols + 1 + c])
            ax.imshow(patches[r, c], cmap=cmap, vmin=image.min(), vmax=image.max())
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            for spine in ax.spines.values():
                spine.set_visible(True)
                spine.set_color("0.6")
            ax.set_title(str(r * cols + c + 1), fontsize=7, pad=2)
    return fig


def channel_grid(maps: np.ndarray, ncols: int = 16, size: float = 0.55, marked: Sequence[int] = (),
                 cmap: str = "viridis") -> plt.Figure:
    """Every channel of one layer's output for one image, in channel order, each on its own colour scale.

    `maps` has shape (height, width, channels). Channels that are zero everywhere are drawn blank
    (white) and titled "0"; the channels listed in `marked` get a coloured frame.
    """
    maps = np.asarray(maps, dtype=float)
    channels = maps.shape[-1]
    nrows = int(np.ceil(channels / ncols))
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, figsize=(size * ncols, size * nrows * 1.15 + 0.1))
    marked = set(int(c) for c in marked)
    for index, ax in enumerate(axes.ravel()):
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        if index >= channels:
            ax.axis("off")
            continue
        channel = maps[:, :, index]
        if channel.max() > channel.min():
            ax.imshow(channel, cmap=cmap, vmin=channel.min(), vmax=channel.max())
        else:
            ax.imshow(np.ones_like(channel), cmap="gray", vmin=0, vmax=1)
        ax.set_title(str(index) if channel.max() > 0 else f"{index}: 0", fontsize=5, pad=1)
        for spine in ax.spines.values():
            spine.set_visible(index in marked)
            spine.set_color(OKABE_ITO[3])
            spine.set_linewidth(1.5)
    fig.tight_layout(pad=0.2, h_pad=0.2, w_pad=0.1)
    return fig
