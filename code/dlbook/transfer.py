"""Transfer learning plumbing shared by Lessons 5 and 6: which base, its weights, the data, the hand-off.

Lesson 5 teaches the recipe in its own cells (the `keras.applications` call, the functional-API
head, the feature-extraction loop, freezing and unfreezing); this module holds what those cells
and Lesson 6 need around it:

- `BASES`, `base_for_profile`: the ImageNet-pretrained base a profile uses (VGG16 in the full
  profile, MobileNet with alpha 0.25 in the quick one) and the names of its layers that matter;
- `imagenet_weights`: the verified weight file, resolved by the data layer (`dlbook.data.locate`:
  prepared copy, local mirror or a verified download); in a smoke run without it, `None`, which
  `keras.applications` takes as "random weights", and the chapter says so;
- `ImageNetPreprocessing`: the pixel scaling a base was trained with, as a layer of the model;
- `cats_and_dogs_datasets`: the Dogs-vs-Cats splits as `tf.data` pipelines;

Lesson 5 hands its final model to Lesson 6 through `dlbook.trained_models`, like every chapter that
hands a model on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import keras

from dlbook import profiles
from dlbook.data import DataError, locate

# --------------------------------------------------------------------------------------------------
# The pretrained bases


@dataclasses.dataclass(frozen=True)
class BaseSpec:
    """One pretrained convolutional base, as the book uses it.

    `top_block` lists the name prefixes of the layers fine-tuning unfreezes; `cam_layer` is the base's
    last layer, whose feature maps the classifier's global average pooling averages (class activation
    maps are exact there); `heatmap_layer` names a slightly earlier layer with a finer grid for
    Grad-CAM and its relatives; `layers_by_depth` names an early, a middle and a late layer for
    showing feature maps.
    """

    name: str
    title: str
    notop_item: str
    preprocessing: str  # "caffe" (VGG16: BGR, mean-centred) or "tf" (MobileNet: scaled to [-1, 1])
    top_block: tuple[str, ...]
    cam_layer: str
    heatmap_layer: str
    layers_by_depth: tuple[str, str, str]
    top_item: str | None = None  # the weights with the ImageNet classifier, where the book uses them
    reason: str = ""


BASES: dict[str, BaseSpec] = {
    "vgg16": BaseSpec(
        name="vgg16", title="VGG16", notop_item="vgg16_notop", top_item="vgg16_top", preprocessing="caffe",
        top_block=("block5_conv",), cam_layer="block5_pool", heatmap_layer="block5_conv3",
        layers_by_depth=("block1_conv2", "block3_conv3", "block5_conv3"),
        reason="the course's base: 13 convolution layers with 14.7 million ImageNet-trained weights, "
               "meant for a GPU",
    ),
    "mobilenet_025": BaseSpec(
        name="mobilenet_025", title="MobileNet (alpha 0.25)", notop_item="mobilenet_025_notop",
        # At the quick profile's 96×96 photos the last two blocks work on a 3×3 grid; block 11 is the
        # last with a 6×6 grid, fine enough for Grad-CAM to localise (Lesson 6 compares the two).
        preprocessing="tf", top_block=("conv_dw_13", "conv_pw_13"), cam_layer="conv_pw_13_relu",
        heatmap_layer="conv_pw_11_relu",
        layers_by_depth=("conv_pw_1_relu", "conv_pw_5_relu", "conv_pw_13_relu"),
        reason="VGG16 is far too slow to train on a CPU within a minute, so the quick profile uses a small "
               "ImageNet-pretrained base with the same role: about 0.2 million weights",
    ),
}

# ImageNet's mean pixel in BGR order, as VGG16's "caffe" preprocessing subtracts it.
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="dlbook")
class ImageNetPreprocessing(keras.layers.Layer):
    """Turn raw RGB pixels (0-255) into the input a `keras.applications` base was trained on.

    Inside the model rather than in the data pipeline, so the model takes ordinary photos and every
    tool that feeds it images (Lesson 6's heatmaps, the deletion curve) needs to know nothing more.
    `mode="tf"` scales to [-1, 1] (MobileNet); `mode="caffe"` flips RGB to BGR and subtracts
    ImageNet's mean pixel (VGG16). Both equal the application's own `preprocess_input`.
    """

    def __init__(self, mode: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if mode not in ("tf", "caffe"):
            raise ValueError(f"ImageNetPreprocessing mode must be 'tf' or 'caffe', not {mode!r}")
        self.mode = mode

    def call(self, images):
        images = keras.ops.cast(images, self.compute_dtype)
        if self.mode == "tf":
            return images / 127.5 - 1.0
        bgr = keras.ops.flip(images, axis=-1)
        return bgr - keras.ops.convert_to_tensor(_CAFFE_MEAN_BGR, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode}


def base_for_profile(profile: str | None = None) -> BaseSpec:
    """The base Lesson 5 uses in `profile` (default: the active one), as its budget names it."""
    return BASES[profiles.budget(5, profile).extra["base"]]


def imagenet_weights(item: str) -> str | None:
    """The path of a verified ImageNet weight file (a data-layer item such as `"vgg16_notop"`).

    Pass it to `keras.applications` as `weights=`. The file comes from the data directory, a local
    mirror or a verified download, never from Keras' own unchecked cache. When it cannot be had, a
    real run stops with the data layer's error, which says where to put the file. A smoke run
    (`DLBOOK_SMOKE=1`) goes on with `None`: `keras.applications` then initialises the weights at
    random, the chapter says so on its page, and its numbers mean nothing anyway.
    """
    try:
        return str(locate(item, progress=False))
    except DataError as error:
        if not profiles.smoke():
            raise
        print(f"smoke run: {item} cannot be had here ({str(error).splitlines()[0]}); "
              "the model gets randomly initialised weights")
        return None


@contextlib.contextmanager
def architecture_only() -> Iterator[None]:
    """Build Keras models inside this block to look at their layers without allocating their weights.

    VGG16 with its classifier has 138 million weights, half a gigabyte of memory before training
    starts. Inside a `keras.StatelessScope(initialize_variables=False)` Keras creates every variable
    with its shape but without a value, which is all `summary()` and `count_params()` need. Such a
    model cannot be run. On leaving the block the session is cleared, so that no later Keras call fills
    in the postponed weights.
    """
    with keras.StatelessScope(initialize_variables=False):
        yield
    keras.backend.clear_session()


# --------------------------------------------------------------------------------------------------
# Data


def cats_and_dogs_datasets(budget: profiles.Budget, seed: int = 42) -> tuple[dict, dict]:
    """The Dogs-vs-Cats `train`, `validation` and `test` splits as batched `tf.data` pipelines.

    Returns `(datasets, reports)`: the datasets yield `(images, labels)` batches, images as float32
    RGB pixels 0-255 of `budget.image_size`, labels 0.0 (cat) or 1.0 (dog) of shape `(batch, 1)`;
    the reports (`dlbook.data.images.ImageFolderReport`) say how many photos each split holds. Each
    photo is decoded once and kept in memory as 8-bit pixels; the training split is reshuffled
    every epoch.
    """
    from dlbook.data.images import cats_and_dogs_folders, image_dataset

    def per_class(total: int | None) -> int | None:
        return None if total is None else total // 2

    reports = cats_and_dogs_folders(per_class(budget.train_samples), per_class(budget.validation_samples),
                                    per_class(budget.test_samples))
    # 8-bit pixels in the cache take a quarter of the memory of the decoded float32 images.
    datasets = {split: image_dataset(report, image_size=budget.image_size, batch_size=budget.batch_size,
                                     shuffle=split == "train", seed=seed, cache_8_bit=True)
                for split, report in reports.items()}
    return datasets, reports


# --------------------------------------------------------------------------------------------------
# ImageNet class names


def imagenet_class_names() -> list[tuple[str, str]]:
    """The 1,000 ImageNet classes as (WordNet id, name), in the order of the classifier's outputs."""
    index = json.loads(locate("imagenet_class_index").read_text())
    return [tuple(index[str(i)]) for i in range(len(index))]
