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
- `save_trained_classifier`, `load_trained_classifier`: Lesson 5's final model as a visible `.keras`
  file in the data directory (`trained_model_path`), which Lesson 6 loads.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras

from dlbook import profiles
from dlbook.data import DataError, data_dir, locate
from dlbook.data.store import atomic_path, write_json_atomic

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


# --------------------------------------------------------------------------------------------------
# Lesson 5's final model, handed to Lesson 6 as a file

# Bump when the way Lesson 5 builds or trains its classifier changes; Lesson 6 then says the file is old.
MODEL_VERSION = 2


def _tag(profile: str | None) -> str:
    profile = profile or profiles.active_profile()
    return f"{profile}-smoke" if profiles.smoke() else profile


def trained_model_path(profile: str | None = None) -> Path:
    """Where Lesson 5 saves its final classifier: `<data dir>/trained-models/lesson05-<profile>.keras`.

    A smoke run saves under `lesson05-<profile>-smoke.keras`, so its meaningless model never takes a
    real run's place. Next to the model, a `.json` file says how and with which budget it was made.
    """
    return data_dir() / "trained-models" / f"lesson05-{_tag(profile)}.keras"


def _made_by(profile: str | None) -> dict:
    budget = profiles.budget(5, profile or profiles.active_profile())
    return json.loads(json.dumps({"model_version": MODEL_VERSION, "budget": dataclasses.asdict(budget),
                                  "keras": keras.__version__}, default=list))


def save_trained_classifier(model: keras.Model, info: dict, profile: str | None = None) -> Path:
    """Save Lesson 5's classifier for Lesson 6, with `info` (how it was trained, its accuracy); returns the path.

    Both files are written under temporary names and renamed into place, the info file last, after
    the old one is removed: a crash never leaves an info file vouching for another model.
    """
    model_path = trained_model_path(profile)
    info_path = model_path.with_suffix(".json")
    model_path.parent.mkdir(parents=True, exist_ok=True)
    info_path.unlink(missing_ok=True)
    with atomic_path(model_path) as tmp:
        model.save(tmp)
    payload = {**info, "made_by": _made_by(profile), "saved": time.strftime("%Y-%m-%dT%H:%M:%S")}
    write_json_atomic(info_path, payload, indent=1, default=float)
    return model_path


class MissingModelError(DataError):
    """Lesson 5's model file is not there (or unreadable); the message says how to make it."""


def load_trained_classifier(profile: str | None = None) -> tuple[keras.Model, dict]:
    """Lesson 5's saved classifier and its info, as `keras.saving.load_model` gives it back.

    Raises `MissingModelError` when the file is missing or cannot be read, saying how to make it:
    run Lesson 5 with the same profile. A model saved with another budget or code version is
    used, with a printed note that it is out of date.
    """
    model_path = trained_model_path(profile)
    info_path = model_path.with_suffix(".json")
    how = (f"Run Lesson 5 (book/lessons/05-pretrained-convnets.md) with the same profile first "
           f"(DLBOOK_PROFILE={(profile or profiles.active_profile())}): its last cells train the classifier "
           f"and save it there. From the repository root: python tools/benchmark_chapters.py 05")
    if not (model_path.is_file() and info_path.is_file()):
        raise MissingModelError(f"Lesson 5's trained model is not at {model_path}. {how}")
    try:
        info = json.loads(info_path.read_text())
        model = keras.saving.load_model(model_path)
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as error:
        raise MissingModelError(f"Lesson 5's trained model at {model_path} cannot be read ({error}). {how}") from error
    if info.get("made_by") != _made_by(profile):
        print(f"note: {model_path.name} was saved with another budget or code version than Lesson 5 has now; "
              f"rerun Lesson 5 to bring it up to date")
    return model, info
