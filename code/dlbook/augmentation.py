"""Data augmentation: the legacy `ImageDataGenerator` arguments, translated into Keras 3 layers.

Keras 2 augmented images with `ImageDataGenerator(rotation_range=40, width_shift_range=0.2, ...)`.
That class is gone from Keras 3; random preprocessing layers do the same job, inside the model or in
a `tf.data` pipeline. The units differ (degrees versus fractions of a turn, zoom factors versus
signed percentages, shear angles versus shear fractions), so old settings cannot be copied over
number for number. `from_image_data_generator` does the translation, one layer per argument.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence

import keras

FILL_MODES = ("constant", "nearest", "reflect", "wrap")


def layer_seeds(seed: int | None) -> Iterator[int | None]:
    """Seeds for the random layers of one augmentation block: `seed`, `seed + 1`, `seed + 2`, ...

    Each random layer needs a seed of its own. Layers given the same seed draw the same random
    numbers, so, for example, the rotation angle and the zoom factor of every image would move
    together instead of independently. `None` (no seed) stays `None` for every layer.
    """
    return itertools.repeat(None) if seed is None else itertools.count(seed)


def _fraction(name: str, value: float) -> float:
    """A shift range as a fraction of the image side; pixel counts (>= 1) need the image size."""
    if not 0 <= value < 1:
        raise ValueError(
            f"{name}={value}: a value of 1 or more is a number of pixels in ImageDataGenerator; give it as a "
            f"fraction of the image side instead (e.g. {name}=0.1 for 10%), since the layers take fractions.")
    return float(value)


def from_image_data_generator(*, rotation_range: float = 0, width_shift_range: float = 0.0,
                              height_shift_range: float = 0.0, shear_range: float = 0.0,
                              zoom_range: float | Sequence[float] = 0.0, horizontal_flip: bool = False,
                              vertical_flip: bool = False, fill_mode: str = "nearest",
                              cval: float = 0.0, seed: int | None = None) -> keras.Sequential:
    """The Keras 3 layers that do what `ImageDataGenerator(**same arguments)` did.

    Each argument maps to one layer (arguments left at their defaults add none):

    - `rotation_range` (degrees, angle drawn from ±range) → `RandomRotation(range / 360)`, since the
      layer's factor is a fraction of a full turn;
    - `width_shift_range`, `height_shift_range` (fractions of the side) →
      `RandomTranslation(height_factor, width_factor)`;
    - `shear_range` (an angle in degrees, ±range) → `RandomShear(x_factor=tan(angle))`: the layer
      takes the horizontal displacement per unit of height, and tan(angle) is exactly that;
    - `zoom_range` (z, or [lower, upper]: scale factors 1 - z to 1 + z, drawn separately for the
      two axes, below 1 zooming in) → `RandomZoom(height_factor, width_factor)` with factors
      lower - 1 to upper - 1, drawn separately too (negative zooms in, as before);
    - `horizontal_flip`, `vertical_flip` → `RandomFlip("horizontal" | "vertical" | both)`;
    - `fill_mode`, `cval` → the `fill_mode` and `fill_value` of every geometric layer. The
      generator's default was `"nearest"`; the layers default to `"reflect"`, so it is always passed.

    `rescale` has no place here: it is `keras.layers.Rescaling`, and belongs in every model, not
    only in the augmented training path. `seed` makes the block reproducible: its layers get the
    seeds `seed`, `seed + 1`, ... (`layer_seeds`), one each.
    """
    if fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode={fill_mode!r} is not one of {', '.join(FILL_MODES)}")
    fill = {"fill_mode": fill_mode, "fill_value": float(cval)}
    seeds = layer_seeds(seed)
    layers: list[keras.layers.Layer] = []
    if horizontal_flip or vertical_flip:
        mode = "horizontal_and_vertical" if horizontal_flip and vertical_flip else (
            "horizontal" if horizontal_flip else "vertical")
        layers.append(keras.layers.RandomFlip(mode, seed=next(seeds)))
    if rotation_range:
        if not 0 < rotation_range <= 180:
            raise ValueError(f"rotation_range={rotation_range} must be a number of degrees between 0 and 180")
        layers.append(keras.layers.RandomRotation(rotation_range / 360, seed=next(seeds), **fill))
    if width_shift_range or height_shift_range:
        layers.append(keras.layers.RandomTranslation(
            _fraction("height_shift_range", height_shift_range), _fraction("width_shift_range", width_shift_range),
            seed=next(seeds), **fill))
    if shear_range:
        if not 0 < shear_range < 45:
            raise ValueError(f"shear_range={shear_range} is an angle in degrees; RandomShear covers angles "
                             "below 45 (a shear of more than the image's own height)")
        layers.append(keras.layers.RandomShear(x_factor=math.tan(math.radians(shear_range)), seed=next(seeds),
                                                 **fill))
    if isinstance(zoom_range, (int, float)):
        if not 0 <= zoom_range < 1:
            raise ValueError(f"zoom_range={zoom_range} must be between 0 and 1 (scale factors 1 - z to 1 + z)")
        zoom = (-float(zoom_range), float(zoom_range)) if zoom_range else None
    else:
        lower, upper = (float(z) for z in zoom_range)
        if not 0 < lower <= upper:
            raise ValueError(f"zoom_range={list(zoom_range)} must be two positive scale factors, lower first")
        zoom = (lower - 1, upper - 1) if (lower, upper) != (1.0, 1.0) else None
    if zoom is not None:
        layers.append(keras.layers.RandomZoom(height_factor=zoom, width_factor=zoom, seed=next(seeds), **fill))
    return keras.Sequential(layers, name="augmentation")


def describe(augmentation: keras.Sequential) -> list[str]:
    """One line per layer: its class and the arguments that matter, for printing in a chapter."""
    keys = ("mode", "factor", "height_factor", "width_factor", "x_factor", "y_factor", "value_range",
            "fill_mode", "fill_value")
    lines = []
    for layer in augmentation.layers:
        config = layer.get_config()
        shown = []
        for key in keys:
            value = config.get(key)
            if value is None or (key == "fill_value" and config.get("fill_mode") != "constant"):
                continue
            if isinstance(value, (list, tuple)) and not any(value) and key.endswith("_factor"):
                continue  # an axis the layer leaves alone
            if isinstance(value, (list, tuple)):
                value = "(" + ", ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in value) + ")"
            elif isinstance(value, float):
                value = f"{value:.3g}"
            shown.append(f"{key}={value!r}" if isinstance(value, str) and key in ("mode", "fill_mode") else f"{key}={value}")
        lines.append(f"{type(layer).__name__}({', '.join(shown)})")
    return lines
