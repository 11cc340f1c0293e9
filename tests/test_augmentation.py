"""Augmentation layers act only in training, and the legacy ImageDataGenerator arguments translate correctly."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from dlbook import augmentation


def _photo_batch(n: int = 4, side: int = 24) -> np.ndarray:
    """Images with no symmetry, so that any flip, rotation, zoom or shift changes some pixel."""
    rng = np.random.default_rng(0)
    return rng.uniform(0, 255, size=(n, side, side, 3)).astype("float32")


RANDOM_LAYERS = {
    "RandomFlip": lambda: keras.layers.RandomFlip("horizontal", seed=1),
    "RandomRotation": lambda: keras.layers.RandomRotation(0.1, seed=1),
    "RandomZoom": lambda: keras.layers.RandomZoom(0.2, seed=1),
    "RandomTranslation": lambda: keras.layers.RandomTranslation(0.2, 0.2, seed=1),
    "RandomContrast": lambda: keras.layers.RandomContrast(0.3, seed=1),
    "RandomShear": lambda: keras.layers.RandomShear(x_factor=0.3, seed=1),
}


@pytest.mark.parametrize("name", sorted(RANDOM_LAYERS))
def test_random_layers_are_inactive_at_inference_and_active_in_training(name):
    layer = RANDOM_LAYERS[name]()
    images = _photo_batch(8)
    unchanged = keras.ops.convert_to_numpy(layer(images, training=False))
    assert np.array_equal(unchanged, images), f"{name} changed an image with training=False"
    changed = keras.ops.convert_to_numpy(layer(images, training=True))
    assert changed.shape == images.shape
    assert not np.allclose(changed, images), f"{name} did nothing with training=True"


def test_an_augmented_model_predicts_deterministically_and_trains_on_variants():
    images = _photo_batch(8)
    model = keras.Sequential([
        keras.Input(shape=images.shape[1:]),
        augmentation.from_image_data_generator(rotation_range=30, zoom_range=0.2, horizontal_flip=True, seed=2),
        keras.layers.Rescaling(1 / 255),
        keras.layers.Flatten(),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    first = model.predict(images, verbose=0)
    assert np.array_equal(first, model.predict(images, verbose=0)), "predict is not deterministic: augmentation is on"
    in_training = keras.ops.convert_to_numpy(model(images, training=True))
    assert not np.allclose(in_training, first), "the augmentation block was not active in training mode"


def _config(layer: keras.layers.Layer) -> dict:
    return layer.get_config()


def test_the_course_settings_translate_argument_by_argument():
    block = augmentation.from_image_data_generator(
        rotation_range=40, width_shift_range=0.2, height_shift_range=0.1, shear_range=20,
        zoom_range=0.2, horizontal_flip=True, fill_mode="nearest")
    kinds = [type(layer).__name__ for layer in block.layers]
    assert kinds == ["RandomFlip", "RandomRotation", "RandomTranslation", "RandomShear", "RandomZoom"]
    flip, rotation, translation, shear, zoom = (_config(layer) for layer in block.layers)
    assert flip["mode"] == "horizontal"
    assert np.allclose(np.abs(rotation["factor"]), 40 / 360)  # degrees become fractions of a turn
    assert translation["height_factor"] == 0.1 and translation["width_factor"] == 0.2  # height first
    assert np.allclose(shear["x_factor"], (-math.tan(math.radians(20)), math.tan(math.radians(20))))
    assert tuple(zoom["height_factor"]) == (-0.2, 0.2) and tuple(zoom["width_factor"]) == (-0.2, 0.2)
    for config in (rotation, translation, shear, zoom):
        assert config["fill_mode"] == "nearest"  # the generator's default, passed on explicitly
    lines = augmentation.describe(block)
    assert lines[0] == "RandomFlip(mode='horizontal')" and "y_factor" not in lines[3]


def test_zoom_pairs_and_flips_follow_the_legacy_conventions():
    block = augmentation.from_image_data_generator(zoom_range=[0.5, 1.0], horizontal_flip=True, vertical_flip=True)
    flip, zoom = (_config(layer) for layer in block.layers)
    assert flip["mode"] == "horizontal_and_vertical"
    assert tuple(zoom["height_factor"]) == (-0.5, 0.0)  # scale factors below 1 zoom in: negative factors
    assert len(augmentation.from_image_data_generator().layers) == 0  # defaults: no augmentation at all


@pytest.mark.parametrize("arguments, message", [
    ({"width_shift_range": 12}, "fraction of the image side"),
    ({"rotation_range": 400}, "between 0 and 180"),
    ({"shear_range": 60}, "below 45"),
    ({"zoom_range": 1.5}, "between 0 and 1"),
    ({"zoom_range": [1.2, 0.8]}, "lower first"),
    ({"fill_mode": "mirror"}, "not one of"),
])
def test_settings_the_layers_cannot_express_are_clear_errors(arguments, message):
    with pytest.raises(ValueError, match=message):
        augmentation.from_image_data_generator(**arguments)


def _draws(layer: keras.layers.Layer, images: np.ndarray, key: str) -> np.ndarray:
    """The random numbers a layer draws for one batch (its transformation, not the images)."""
    transformation = layer.get_random_transformation(images, training=True)
    return keras.ops.convert_to_numpy(transformation[key]).ravel()


def test_every_random_layer_of_a_seeded_block_has_its_own_seed():
    block = augmentation.from_image_data_generator(
        rotation_range=40, width_shift_range=0.2, height_shift_range=0.2, shear_range=20, zoom_range=0.2,
        horizontal_flip=True, seed=3)
    seeds = [layer.get_config()["seed"] for layer in block.layers]
    assert seeds == [3, 4, 5, 6, 7]
    unseeded = augmentation.from_image_data_generator(rotation_range=40, zoom_range=0.2)
    assert [layer.get_config()["seed"] for layer in unseeded.layers] == [None, None]


def test_layers_of_one_block_draw_independent_random_numbers():
    """With one shared seed, rotation and zoom drew the same stream: every angle fixed its image's zoom."""
    images = _photo_batch(64)
    rotation, zoom = augmentation.from_image_data_generator(rotation_range=40, zoom_range=0.2, seed=3).layers
    angles, zooms = _draws(rotation, images, "angle"), _draws(zoom, images, "height_zoom")[:64]
    # Rank correlation: 1 (or -1) if one draw determines the other, near 0 if independent.
    ranks = [np.argsort(np.argsort(values)) for values in (angles, zooms)]
    assert abs(np.corrcoef(*ranks)[0, 1]) < 0.5
    # The failure this guards against, made on purpose: two layers given one seed.
    same_seed = (keras.layers.RandomRotation(40 / 360, seed=3), keras.layers.RandomZoom(0.2, seed=3))
    tied = [np.argsort(np.argsort(_draws(layer, images, key)[:64])) for layer, key in zip(same_seed, ("angle", "height_zoom"))]
    assert abs(np.corrcoef(*tied)[0, 1]) > 0.99


def test_a_seeded_block_is_reproducible():
    images = _photo_batch(8)
    first = augmentation.from_image_data_generator(rotation_range=30, zoom_range=0.2, horizontal_flip=True, seed=5)
    second = augmentation.from_image_data_generator(rotation_range=30, zoom_range=0.2, horizontal_flip=True, seed=5)
    assert np.allclose(keras.ops.convert_to_numpy(first(images, training=True)),
                       keras.ops.convert_to_numpy(second(images, training=True)))
