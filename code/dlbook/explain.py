"""Seeing what a convnet looks at: feature maps, class heatmaps, and a check of the heatmaps.

- `activation_model`: the feature maps of chosen layers for an image (intermediate activations);
- `logit_model`, `class_probabilities`: the class scores methods explain, and the probabilities;
- `upsample_maps`: a map at a layer's resolution brought to the photo's size exactly as tf-keras-vis
  does, so that a map computed by hand (Lesson 6 writes CAM and Grad-CAM in its cells) compares
  with the library's value by value;
- `heatmaps`: Grad-CAM, Grad-CAM++, Score-CAM, vanilla saliency and SmoothGrad from tf-keras-vis,
  one call;
- `deletion_curves`, `deletion_area`: delete the most salient pixels first and watch the class score
  fall (Petsiuk et al., 2018), a number that says how faithful a heatmap is.

Every function takes a *functional* Keras model whose layers sit in one flat graph (photo in,
prediction out), such as Lesson 5's classifier or a `keras.applications` model: layer names then
resolve with `model.get_layer`, which tf-keras-vis needs as well.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Mapping, Sequence

import keras
import numpy as np

METHODS = ("Grad-CAM", "Grad-CAM++", "Score-CAM", "Saliency", "SmoothGrad")


# --------------------------------------------------------------------------------------------------
# Intermediate activations


def activation_model(model: keras.Model, layer_names: Sequence[str]) -> keras.Model:
    """A model that shares `model`'s layers and returns the outputs of `layer_names` for an input."""
    outputs = [model.get_layer(name).output for name in layer_names]
    return keras.Model(model.inputs[0], outputs, name=f"{model.name}_activations")


# --------------------------------------------------------------------------------------------------
# Class scores


def logit_model(model: keras.Model) -> keras.Model:
    """The same classifier with its last activation removed: one raw score (logit) per class.

    Heatmap methods explain the score before softmax or sigmoid, since those squash it: a confident
    class barely moves its probability and so gets tiny gradients. The last Dense layer is replaced by
    a copy without activation; every other layer is shared, so no weights are duplicated and layer
    names stay the same. A binary classifier with one sigmoid unit (logit $z$) becomes one with two
    logits, $(-z/2, z/2)$: their softmax is $(1 - \\sigma(z), \\sigma(z))$, the model's own two
    probabilities, so class 0 ("cat") can be explained as well as class 1 ("dog").

    Only public Keras API is used: the layer that produces the model's output, and that layer's
    `input`. Both name the tensors of the layer's first call, so the last layer must belong to this
    model alone (as in a model loaded with `keras.saving.load_model`); a layer shared with another
    model is refused with an error that says so.
    """
    output = model.outputs[0]
    last = next((layer for layer in reversed(model.layers) if layer.output is output), None)
    if last is None:
        raise ValueError(
            f"{model.name}: the layer that produces the output was first called in another model (a layer "
            "shared between models). Save the model and load it back (keras.saving.load_model), or build "
            "it with layers of its own, then call logit_model on that.")
    if not isinstance(last, keras.layers.Dense):
        raise ValueError(f"{model.name}: the last layer must be Dense to expose its logits, not {type(last).__name__}")
    kernel, bias = last.get_weights()
    features = last.input
    if last.units == 1:
        scores = keras.layers.Dense(2, name=f"{last.name}_logits")
        outputs = scores(features)
        scores.set_weights([np.concatenate([-kernel / 2, kernel / 2], axis=1), np.concatenate([-bias / 2, bias / 2])])
    else:
        scores = keras.layers.Dense(last.units, name=f"{last.name}_logits")
        outputs = scores(features)
        scores.set_weights([kernel, bias])
    return keras.Model(model.inputs[0], outputs, name=f"{model.name}_logits")


def class_probabilities(model: keras.Model, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Probabilities of every class, shape (images, classes); a single sigmoid unit gives two columns."""
    outputs = model.predict(np.asarray(images, dtype="float32"), batch_size=batch_size, verbose=0)
    if outputs.shape[-1] == 1:
        return np.concatenate([1.0 - outputs, outputs], axis=-1)
    return outputs


def _class_indices(class_index: int | Sequence[int], n: int) -> np.ndarray:
    indices = np.broadcast_to(np.asarray(class_index, dtype=int), (n,))
    return np.array(indices)


# --------------------------------------------------------------------------------------------------
# Maps at the photo's size


def upsample_maps(maps: np.ndarray, size: tuple[int, int], normalize: bool = True) -> np.ndarray:
    """Resize (images, h, w) maps to (images, *size) by bilinear interpolation; optionally scale each to [0, 1].

    The interpolation (`scipy.ndimage.zoom`, order 1) and the min-max scaling are the ones tf-keras-vis
    applies to its maps, so a map made here compares with theirs value by value.
    """
    from scipy.ndimage import zoom

    maps = np.asarray(maps, dtype="float32")
    factors = (1.0, size[0] / maps.shape[1], size[1] / maps.shape[2])
    resized = zoom(maps, factors, order=1)
    if not normalize:
        return resized
    low = resized.min(axis=(1, 2), keepdims=True)
    high = resized.max(axis=(1, 2), keepdims=True)
    return (resized - low) / (high - low + keras.config.epsilon())


# --------------------------------------------------------------------------------------------------
# tf-keras-vis


def heatmaps(model: keras.Model, images: np.ndarray, class_index: int | Sequence[int], layer_name: str,
             methods: Sequence[str] = METHODS, scorecam_channels: int | None = 64,
             smoothgrad_samples: int = 20, smoothgrad_noise: float = 0.2) -> dict[str, np.ndarray]:
    """Heatmaps from tf-keras-vis, each of shape (images, height, width) in [0, 1], keyed by method.

    `model` returns class scores before softmax (`logit_model`). The three CAM methods use the
    feature maps of `layer_name` exactly (tf-keras-vis would otherwise step back to the nearest
    convolution); Score-CAM masks the photo with at most `scorecam_channels` of them, the most
    varied ones (Faster Score-CAM), since it costs one forward pass per channel. "Saliency" is the
    vanilla gradient of the score with respect to the pixels (largest absolute value over the
    colour channels); SmoothGrad averages `smoothgrad_samples` such maps of noisy copies, with noise
    of `smoothgrad_noise` times the image's value range.
    """
    from tf_keras_vis.gradcam import Gradcam
    from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus
    from tf_keras_vis.saliency import Saliency
    from tf_keras_vis.scorecam import Scorecam
    from tf_keras_vis.utils.scores import CategoricalScore

    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown heatmap method(s) {unknown}; choose from {', '.join(METHODS)}")
    images = np.asarray(images, dtype="float32")
    indices = _class_indices(class_index, len(images))
    where = {"penultimate_layer": layer_name, "seek_penultimate_conv_layer": False}
    channels = model.get_layer(layer_name).output.shape[-1]
    limit = None if scorecam_channels is None or scorecam_channels >= channels else scorecam_channels
    results = {}
    with _quiet():
        for method in methods:
            score = CategoricalScore(list(indices))
            if method == "Grad-CAM":
                maps = Gradcam(model, clone=False)(score, images, **where)
            elif method == "Grad-CAM++":
                maps = GradcamPlusPlus(model, clone=False)(score, images, **where)
            elif method == "Score-CAM":
                # One photo at a time: for a batch, tf-keras-vis masks every photo with the union of all
                # photos' chosen channels, which multiplies the cost by the batch size.
                scorecam = Scorecam(model, clone=False)
                maps = np.stack([scorecam(CategoricalScore([int(i)]), image[None], max_N=limit, batch_size=64,
                                          **where).reshape(image.shape[:2])
                                 for image, i in zip(images, indices)])
            elif method == "Saliency":
                maps = Saliency(model, clone=False)(score, images)
            else:
                maps = Saliency(model, clone=False)(score, images, smooth_samples=smoothgrad_samples,
                                                    smooth_noise=smoothgrad_noise)
            results[method] = np.asarray(maps, dtype="float32").reshape(images.shape[:3])
    return results


@contextlib.contextmanager
def _quiet():
    """Keep tf-keras-vis' progress bars and Keras' input-structure warnings out of a chapter's output."""
    keras.config.disable_interactive_logging()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"(?s).*[Ee]xpected.*", category=UserWarning)
            yield
    finally:
        keras.config.enable_interactive_logging()


# --------------------------------------------------------------------------------------------------
# The deletion curve


def deletion_curves(model: keras.Model, image: np.ndarray, saliencies: Mapping[str, np.ndarray], class_index: int,
                    steps: int = 16, grid: int | None = None, fill_value: float = 127.5,
                    seed: int = 0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Deletion curves of one photo for several saliency maps: (fractions deleted, {name: class probabilities}).

    `image` is one photo (height, width, 3) as the model takes it; each map in `saliencies` has the
    same height and width (any scale: only the order of its values counts). The photo is cut into a
    `grid` × `grid` grid of cells (None: single pixels), the cells are ranked by their mean saliency,
    ties in random order, and deleted in `steps` equal steps, most salient first, by setting them to
    `fill_value` (mid-grey, which the book's models map to about zero after preprocessing), until none
    of the photo is left. Deleting compact cells rather than scattered pixels keeps the comparison
    fair between smooth maps and speckled ones: thousands of scattered grey pixels disturb a convnet
    more than one grey region of the same size. `model` returns probabilities; each curve follows
    the probability of `class_index`. All the masked photos go through the model in one batch.
    """
    image = np.asarray(image, dtype="float32")
    height, width = image.shape[:2]
    if steps < 1:
        raise ValueError(f"steps must be at least 1, not {steps}")
    rows, cols = (height, width) if grid is None else (grid, grid)
    if not (1 <= rows <= height and 1 <= cols <= width):
        raise ValueError(f"grid={grid} must be between 1 and the image's size {(height, width)}")
    # The cell of every pixel, numbered row by row.
    cell = (np.arange(height)[:, None] * rows // height) * cols + np.arange(width)[None, :] * cols // width
    pixels_per_cell = np.bincount(cell.ravel(), minlength=rows * cols)
    tie_breaker = np.random.default_rng(seed).random(rows * cols)
    fractions = np.linspace(0.0, 1.0, steps + 1)
    counts = np.round(fractions * rows * cols).astype(int)
    batch = np.repeat(image[None], len(saliencies) * (steps + 1), axis=0)
    for m, (name, saliency) in enumerate(saliencies.items()):
        saliency = np.asarray(saliency, dtype="float64")
        if saliency.shape != (height, width):
            raise ValueError(f"saliency map {name!r} of shape {saliency.shape} does not match the image's {(height, width)}")
        cell_saliency = np.bincount(cell.ravel(), weights=saliency.ravel(), minlength=rows * cols) / pixels_per_cell
        order = np.lexsort((tie_breaker, -cell_saliency))  # most salient first
        rank = np.empty(rows * cols, int)
        rank[order] = np.arange(rows * cols)
        pixel_rank = rank[cell]
        for step, count in enumerate(counts):
            batch[m * (steps + 1) + step][pixel_rank < count] = fill_value
    probabilities = class_probabilities(model, batch)[:, class_index].reshape(len(saliencies), steps + 1)
    return fractions, dict(zip(saliencies, probabilities))


def deletion_curve(model: keras.Model, image: np.ndarray, saliency: np.ndarray, class_index: int,
                   steps: int = 16, grid: int | None = None, fill_value: float = 127.5,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The deletion curve of one photo and one saliency map: (fractions deleted, class probabilities).

    See `deletion_curves`, which computes several at once.
    """
    fractions, curves = deletion_curves(model, image, {"map": saliency}, class_index, steps, grid, fill_value, seed)
    return fractions, curves["map"]


def deletion_area(fractions: np.ndarray, probabilities: np.ndarray) -> float:
    """Area under a deletion curve (trapezoidal rule): smaller means the map found what the model uses."""
    return float(np.trapezoid(probabilities, fractions))


def random_saliency(shape: tuple[int, int], seed: int = 0, grid: int | None = None) -> np.ndarray:
    """A map of random values: deleting in its order is the reference a real heatmap must beat.

    With `grid`, the random values lie on a `grid` × `grid` grid and are resized to `shape` the way
    layer heatmaps are (`upsample_maps`), so the map is as smooth as a heatmap from a layer with that
    grid. That is the fair reference for such a heatmap: deleting scattered random cells destroys a
    convnet's local evidence everywhere at once, which a smooth map, deleting one connected region at
    a time, can hardly beat even when it marks the right region.
    """
    rng = np.random.default_rng(seed)
    if grid is None:
        return rng.random(shape)
    if grid < 1:
        raise ValueError(f"grid must be at least 1, not {grid}")
    return upsample_maps(rng.random((1, grid, grid)), shape)[0]
