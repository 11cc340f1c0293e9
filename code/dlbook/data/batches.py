"""Batches of 8-bit images for `model.fit`, scaled to floats one batch at a time.

MNIST's 60,000 training images take 47 MB as `uint8`, and four times as much as `float32`. A float
copy of every image (and a second one as an autoencoder's target) pushed one chapter's run to
1.6 GB, so the images stay `uint8` and `ImageBatches` converts each batch when `fit` asks for it.
It is a `keras.utils.PyDataset`, so it works with any Keras backend.
"""

from __future__ import annotations

import math
from typing import Literal

import keras
import numpy as np

Targets = Literal["images"] | np.ndarray | None


class ImageBatches(keras.utils.PyDataset):
    """`uint8` images of shape (n, height, width) or (n, height, width, channels) as float batches in [0, 1].

    `targets` says what each batch pairs the images with:

    - `"images"`: the images themselves, `(x, x)`, for an autoencoder;
    - an array of n labels: `(x, labels)`, for a classifier;
    - `None`: the images alone, `x`, for a model with its own `train_step`, such as a GAN.

    A grayscale image gets a channel axis, so `x` has shape (batch, height, width, channels).
    With `shuffle=True` the order is drawn from `seed` and redrawn after every epoch; otherwise the
    batches follow the order of `images` (use that for prediction and evaluation).
    """

    def __init__(self, images: np.ndarray, targets: Targets = None, *, batch_size: int,
                 shuffle: bool = False, seed: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        images = np.asarray(images)
        if images.dtype != np.uint8:
            raise TypeError(f"ImageBatches expects uint8 images (0-255), got {images.dtype}; "
                            "pass the images as loaded, before any scaling")
        if images.ndim not in (3, 4) or len(images) == 0:
            raise ValueError(f"ImageBatches expects a non-empty array of shape (n, height, width[, channels]), "
                             f"got shape {images.shape}")
        if isinstance(targets, str) and targets != "images":
            raise ValueError(f"targets={targets!r}: use 'images' (an autoencoder), an array of labels, or None")
        if targets is not None and not isinstance(targets, str):
            targets = np.asarray(targets)
            if len(targets) != len(images):
                raise ValueError(f"{len(images):,} images but {len(targets):,} targets")
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size}: must be at least 1")
        self.images = images
        self.targets = targets
        self.batch_size = batch_size
        self.shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(len(images)) if shuffle else np.arange(len(images))

    def __len__(self) -> int:
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        # Sorted indices read the uint8 array in memory order; the batch's content is the same.
        rows = np.sort(self._order[index * self.batch_size:(index + 1) * self.batch_size])
        x = self.images[rows].astype("float32") / 255.0
        if x.ndim == 3:
            x = x[..., np.newaxis]
        if self.targets is None:
            return x
        if isinstance(self.targets, str):
            return x, x
        return x, self.targets[rows]

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._order = self._rng.permutation(len(self.images))
