"""ImageBatches: uint8 images scaled one batch at a time, for autoencoders, classifiers and GANs."""

from __future__ import annotations

import numpy as np
import pytest

from dlbook.data.batches import ImageBatches


def digits(n: int = 10, size: int = 4) -> np.ndarray:
    """n small uint8 'images'; image i is filled with the value 10 * i, so a batch tells which rows it holds."""
    return (np.arange(n, dtype=np.uint8)[:, None, None] * 10 * np.ones((1, size, size), dtype=np.uint8))


def rows_of(x: np.ndarray) -> list[int]:
    return [int(round(v * 255 / 10)) for v in x[:, 0, 0, 0]]


def test_batches_are_scaled_floats_with_a_channel_axis_and_cover_every_image_once():
    images = digits(10)
    batches = ImageBatches(images, batch_size=4)
    assert len(batches) == 3
    shapes = [batches[i].shape for i in range(len(batches))]
    assert shapes == [(4, 4, 4, 1), (4, 4, 4, 1), (2, 4, 4, 1)]  # the last batch is short
    x = batches[0]
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    assert np.allclose(x[..., 0], images[:4] / 255.0)
    assert sum((rows_of(batches[i]) for i in range(len(batches))), []) == list(range(10))
    with pytest.raises(IndexError):
        batches[3]


def test_targets_pair_images_with_themselves_with_labels_or_with_nothing():
    images, labels = digits(6), np.array([5, 4, 3, 2, 1, 0])
    x, y = ImageBatches(images, "images", batch_size=3)[1]
    assert x is y and rows_of(x) == [3, 4, 5]
    x, y = ImageBatches(images, labels, batch_size=3, shuffle=True, seed=1)[0]
    assert [labels[row] for row in rows_of(x)] == list(y)  # every label stays with its image
    assert isinstance(ImageBatches(images, None, batch_size=3)[0], np.ndarray)
    rgb = np.zeros((2, 4, 4, 3), dtype=np.uint8)
    assert ImageBatches(rgb, batch_size=2)[0].shape == (2, 4, 4, 3)


def test_shuffling_is_seeded_and_redrawn_after_every_epoch():
    images = digits(12)

    def epoch(batches: ImageBatches) -> list[int]:
        return sum((rows_of(batches[i]) for i in range(len(batches))), [])

    first, again = ImageBatches(images, batch_size=4, shuffle=True, seed=3), ImageBatches(images, batch_size=4, shuffle=True, seed=3)
    order = epoch(first)
    assert order == epoch(again)                 # the same seed, the same batches
    assert sorted(order) == list(range(12))      # each image once per epoch
    assert order != list(range(12))
    first.on_epoch_end()
    second = epoch(first)
    assert sorted(second) == list(range(12)) and second != order
    plain = ImageBatches(images, batch_size=4)
    plain.on_epoch_end()
    assert epoch(plain) == list(range(12))       # without shuffle the order never changes


@pytest.mark.parametrize("images, targets, message", [
    (np.zeros((3, 4, 4), dtype=np.float32), None, "expects uint8 images"),
    (np.zeros((3, 4), dtype=np.uint8), None, "shape"),
    (np.zeros((0, 4, 4), dtype=np.uint8), None, "non-empty"),
    (np.zeros((3, 4, 4), dtype=np.uint8), np.arange(2), "3 images but 2 targets"),
    (np.zeros((3, 4, 4), dtype=np.uint8), "labels", "targets='labels'"),
])
def test_bad_input_is_a_clear_error(images, targets, message):
    with pytest.raises((TypeError, ValueError), match=message):
        ImageBatches(images, targets, batch_size=2)


def test_keras_fits_and_predicts_with_it():
    import keras

    keras.utils.set_random_seed(0)
    images = np.random.default_rng(0).integers(0, 256, size=(20, 8, 8), dtype=np.uint8)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(64, activation="sigmoid"),
                              keras.layers.Reshape((8, 8, 1))])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(ImageBatches(images, "images", batch_size=8, shuffle=True), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    predictions = model.predict(ImageBatches(images, batch_size=8), verbose=0)
    assert predictions.shape == (20, 8, 8, 1)
