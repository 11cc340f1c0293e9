"""Transfer learning: a pretrained convolutional base, chosen by profile, frozen and partly unfrozen.

Lesson 5 teaches the recipe and Lesson 6 explains the classifier it trains, so this module holds
what both need, in one place:

- `BASES` and `pretrained_base`: the ImageNet-pretrained base a profile uses (VGG16 in the full
  profile, MobileNet with alpha 0.25 in the quick one), with its weights resolved by the data layer
  (`dlbook.data.locate`: prepared copy, local mirror or a verified download, never a hidden one);
- `cats_and_dogs_datasets`, `extract_features`, `classifier_head_layers`, `weight_counts`,
  `unfreeze_top_block`: the pieces of feature extraction and fine-tuning;
- the *trained-model cache*: Lesson 5 saves its final classifier with `save_trained_classifier`,
  Lesson 6 gets it back with `trained_classifier`, which rebuilds a cheaper one (feature extraction
  only) when the cache holds none for this profile and code version. See `trained_classifier`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np

from dlbook import profiles
from dlbook.data import DataError, data_dir, locate
from dlbook.data.store import atomic_path, write_json_atomic

# --------------------------------------------------------------------------------------------------
# The pretrained bases


@dataclasses.dataclass(frozen=True)
class BaseSpec:
    """One pretrained convolutional base, as the book uses it.

    `top_block` lists the name prefixes of the layers fine-tuning unfreezes; `heatmap_layer` names the
    layer whose feature maps class heatmaps use (late, but with a grid fine enough to localise);
    `layers_by_depth` names an early, a middle and a late layer for showing feature maps.
    """

    name: str
    title: str
    notop_item: str
    preprocessing: str  # "caffe" (VGG16: BGR, mean-centred) or "tf" (MobileNet: scaled to [-1, 1])
    top_block: tuple[str, ...]
    heatmap_layer: str
    layers_by_depth: tuple[str, str, str]
    top_item: str | None = None  # the weights with the ImageNet classifier, where the book uses them
    reason: str = ""


BASES: dict[str, BaseSpec] = {
    "vgg16": BaseSpec(
        name="vgg16", title="VGG16", notop_item="vgg16_notop", top_item="vgg16_top", preprocessing="caffe",
        top_block=("block5_conv",), heatmap_layer="block5_conv3",
        layers_by_depth=("block1_conv2", "block3_conv3", "block5_conv3"),
        reason="the course's base: 13 convolution layers with 14.7 million ImageNet-trained weights, "
               "meant for a GPU",
    ),
    "mobilenet_025": BaseSpec(
        name="mobilenet_025", title="MobileNet (alpha 0.25)", notop_item="mobilenet_025_notop",
        # Heatmaps use block 11, the last with an 8×8 grid at the quick profile's 128×128 photos: the
        # last two blocks work on a 4×4 grid, and Grad-CAM on the very last one, which feeds the
        # Flatten classifier directly, localises poorly (Lesson 6's exercise on layers measures it).
        preprocessing="tf", top_block=("conv_dw_13", "conv_pw_13"), heatmap_layer="conv_pw_11_relu",
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


def weights_file(spec: BaseSpec, include_top: bool = False) -> Path:
    """The verified ImageNet weight file of a base, resolved through the data layer's registry."""
    item = spec.top_item if include_top else spec.notop_item
    if item is None:
        raise DataError(f"the book registers no weights with the ImageNet classifier for {spec.title}; "
                        "use include_top=False")
    return locate(item)


def pretrained_base(spec: BaseSpec, image_size: tuple[int, int], include_top: bool = False) -> keras.Model:
    """An ImageNet-pretrained `keras.applications` model that takes raw RGB photos of `image_size`.

    Without its classifier (`include_top=False`) it is a convolutional base: photos in, feature maps
    out. The weights come from the data layer, so they are checksum-verified and found offline in a
    mirror; Keras' own download (`weights="imagenet"`) would bypass both. The preprocessing is the
    model's first layer, so every layer of the base lives in one flat graph with the photo as input.
    """
    if include_top and tuple(image_size) != (224, 224):
        raise ValueError(f"{spec.title} with its ImageNet classifier needs 224×224 images, not {image_size}")
    images = keras.Input(shape=(*image_size, 3), name="image")
    preprocessed = ImageNetPreprocessing(spec.preprocessing, name="imagenet_preprocessing")(images)
    weights = str(weights_file(spec, include_top))
    if spec.name == "vgg16":
        application = keras.applications.VGG16(include_top=include_top, weights=weights, input_tensor=preprocessed)
    else:
        application = keras.applications.MobileNet(alpha=0.25, include_top=include_top, weights=weights,
                                                   input_tensor=preprocessed)
    # The application lists its inputs; one input tensor makes `base.input` the photo itself.
    return keras.Model(images, application.output, name=application.name)


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
# Data, features, the new classifier, freezing


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


def extract_features(conv_base: keras.Model, dataset) -> tuple[np.ndarray, np.ndarray]:
    """Run the convolutional base once over a dataset: its feature maps, and the labels in the same order."""
    features, labels = [], []
    for images, batch_labels in dataset:
        features.append(conv_base.predict_on_batch(images))
        labels.append(np.asarray(batch_labels))
    return np.concatenate(features), np.concatenate(labels)


def classifier_head_layers(units: int = 256, dropout: float = 0.5) -> list[keras.layers.Layer]:
    """The layers of the new densely-connected classifier for a base's feature maps: cat (0) or dog (1)."""
    return [
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(units, activation="relu", name="dense_hidden"),
        keras.layers.Dropout(dropout, name="dropout"),
        keras.layers.Dense(1, activation="sigmoid", name="dog_probability"),
    ]


def apply_layers(layers: list[keras.layers.Layer], inputs):
    """Call `layers` one after the other on a symbolic tensor (functional API) and return the result.

    Applying the *same* layer objects to a second input shares their weights: a head trained on
    stored features can be put on top of the convolutional base as it is.
    """
    x = inputs
    for layer in layers:
        x = layer(x)
    return x


def weight_counts(model: keras.Model) -> tuple[int, int]:
    """(trainable, non-trainable) parameter counts: what the optimizer may change, and what it may not."""
    def count(weights) -> int:
        return int(sum(np.prod(w.shape) for w in weights))

    return count(model.trainable_weights), count(model.non_trainable_weights)


def unfreeze_top_block(conv_base: keras.Model, spec: BaseSpec) -> list[str]:
    """Make the layers of the base's top block trainable and keep every other layer frozen.

    Batch-normalization layers stay frozen even in the top block: a frozen one normalises with the
    statistics learned on ImageNet, whereas a trainable one would re-estimate them from our small
    batches and disturb the features it feeds. Returns the names of the layers now trainable.
    """
    conv_base.trainable = True
    unfrozen = []
    for layer in conv_base.layers:
        in_top_block = layer.name.startswith(spec.top_block)
        layer.trainable = in_top_block and not isinstance(layer, keras.layers.BatchNormalization)
        if layer.trainable and layer.weights:
            unfrozen.append(layer.name)
    if not unfrozen:
        raise ValueError(f"no layer of {conv_base.name} starts with {spec.top_block}: nothing to unfreeze")
    return unfrozen


# --------------------------------------------------------------------------------------------------
# ImageNet class names


def imagenet_class_names() -> list[tuple[str, str]]:
    """The 1,000 ImageNet classes as (WordNet id, name), in the order of the classifier's outputs."""
    index = json.loads(locate("imagenet_class_index").read_text())
    return [tuple(index[str(i)]) for i in range(len(index))]


# --------------------------------------------------------------------------------------------------
# The trained-model cache: Lesson 5 → Lesson 6

# Bump when the way Lesson 5 builds or trains its classifier changes, so older cached models are ignored.
CACHE_VERSION = 1


def cache_key(profile: str | None = None) -> str:
    """The cache's name for the Lesson 5 classifier of `profile`: profile, base, and a hash of what made it.

    The hash covers `CACHE_VERSION`, Lesson 5's budget (samples, image size, epochs, base) and the
    Keras version, so a changed budget or code version never picks up an old model.
    """
    profile = profile or profiles.active_profile()
    budget = profiles.budget(5, profile)
    made_by = {"cache_version": CACHE_VERSION, "budget": dataclasses.asdict(budget), "keras": keras.__version__}
    digest = hashlib.sha256(json.dumps(made_by, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return f"lesson5-{profile}-{budget.extra['base']}-{digest}"


def cache_paths(profile: str | None = None) -> tuple[Path, Path]:
    """(model file, info file) of the cached Lesson 5 classifier, under `<data dir>/trained-models/`."""
    folder = data_dir() / "trained-models"
    key = cache_key(profile)
    return folder / f"{key}.keras", folder / f"{key}.json"


def save_trained_classifier(model: keras.Model, info: dict, profile: str | None = None) -> Path:
    """Store Lesson 5's trained classifier for Lesson 6, with `info` (how it was trained, its accuracy).

    Both files are written under temporary names and renamed into place, the info file last: a
    crash never leaves a half-written model where `trained_classifier` looks. Older models of the
    same profile (saved under another budget or code version) are removed.
    """
    model_path, info_path = cache_paths(profile)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    info_path.unlink(missing_ok=True)  # the old info must not vouch for a model being replaced
    with atomic_path(model_path) as tmp:
        model.save(tmp)
    payload = {**info, "key": model_path.stem, "saved": time.strftime("%Y-%m-%dT%H:%M:%S")}
    write_json_atomic(info_path, payload, indent=1, default=float)
    # Models of this profile saved under older keys (another budget or code version) are never read again.
    profile = profile or profiles.active_profile()
    for stale in model_path.parent.glob(f"lesson5-{profile}-*"):
        if stale.stem != model_path.stem:
            stale.unlink(missing_ok=True)
    return model_path


def load_trained_classifier(profile: str | None = None) -> tuple[keras.Model, dict] | None:
    """The cached Lesson 5 classifier and its info, or None when there is none usable.

    A cached model that fails to load or does not fit this profile's budget is deleted (and None
    returned), so that the caller rebuilds it instead of using a damaged file.
    """
    profile = profile or profiles.active_profile()
    model_path, info_path = cache_paths(profile)
    if not (model_path.is_file() and info_path.is_file()):
        return None
    budget = profiles.budget(5, profile)
    try:
        info = json.loads(info_path.read_text())
        model = keras.saving.load_model(model_path, compile=False)
        if tuple(model.input_shape) != (None, *budget.image_size, 3) or tuple(model.output_shape) != (None, 1):
            raise ValueError(f"model of shape {model.input_shape} → {model.output_shape} does not fit the budget")
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as error:
        print(f"note: the cached Lesson 5 model {model_path.name} is unusable ({error}); it is rebuilt")
        model_path.unlink(missing_ok=True)
        info_path.unlink(missing_ok=True)
        return None
    return model, info


def trained_classifier(profile: str | None = None) -> tuple[keras.Model, dict]:
    """Lesson 5's trained cat-vs-dog classifier for `profile`, from the cache or rebuilt.

    When Lesson 5 has run with this profile and code version, its fine-tuned model comes from the
    cache. Otherwise (a reader opens Lesson 6 first, or the cache was cleared) a cheaper classifier is
    trained here, by feature extraction only: the same base and head, the head trained on features
    computed once, without augmentation or fine-tuning. It is saved to the cache and read back, so
    the caller always gets a model as loaded from disk; `info["how"]` says which of the two it is.
    """
    profile = profile or profiles.active_profile()
    cached = load_trained_classifier(profile)
    if cached is None:
        model, info = train_by_feature_extraction(profiles.budget(5, profile))
        save_trained_classifier(model, info, profile)
        cached = load_trained_classifier(profile)
        if cached is None:
            raise DataError(f"the rebuilt Lesson 5 model could not be read back from {cache_paths(profile)[0]}")
    return cached


def train_by_feature_extraction(budget: profiles.Budget, seed: int = 42) -> tuple[keras.Model, dict]:
    """Lesson 5's cheaper recipe: a frozen base, a new head trained on stored features; one flat model.

    The returned model takes photos and ends in the head's sigmoid, like Lesson 5's fine-tuned one.
    """
    keras.utils.set_random_seed(seed)
    spec = BASES[budget.extra["base"]]
    datasets, _ = cats_and_dogs_datasets(budget, seed=seed)
    conv_base = pretrained_base(spec, budget.image_size)
    conv_base.trainable = False
    train_features, train_labels = extract_features(conv_base, datasets["train"])
    validation_features, validation_labels = extract_features(conv_base, datasets["validation"])

    head_layers = classifier_head_layers()
    feature_input = keras.Input(shape=train_features.shape[1:])
    head = keras.Model(feature_input, apply_layers(head_layers, feature_input))
    head.compile(optimizer=keras.optimizers.RMSprop(budget.extra["learning_rate"]),
                 loss="binary_crossentropy", metrics=["accuracy"])
    head.fit(train_features, train_labels, epochs=budget.epochs, batch_size=budget.batch_size, verbose=0)
    _, validation_accuracy = head.evaluate(validation_features, validation_labels, verbose=0)

    model = keras.Model(conv_base.input, apply_layers(head_layers, conv_base.output), name=f"{spec.name}_cats_vs_dogs")
    info = {"how": "feature extraction only (rebuilt because Lesson 5's model was not in the cache)",
            "base": spec.name, "validation_accuracy": float(validation_accuracy)}
    return model, info
