"""Transfer learning (dlbook.transfer): weights through the registry, freezing, the trained-model cache.

No real weights or photos: the tests write stand-in weight files in Keras' HDF5 layout and tiny JPEGs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os

import h5py
import keras
import numpy as np
import psutil
import pytest
from PIL import Image

from dlbook import profiles, transfer
from dlbook.data import DataError, registry, store


def write_keras_h5_weights(path, model: keras.Model, fill=None) -> bytes:
    """Write `model`'s weights as `keras.applications` publishes them (Keras' HDF5 weights layout).

    With `fill`, weight number i of the file is set to the constant `fill(i)` instead, so a test can
    tell which file a model's weights came from. Returns the file's bytes.
    """
    layers = [layer for layer in model.layers if not isinstance(layer, transfer.ImageNetPreprocessing)]
    number = 0
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [layer.name.encode() for layer in layers]
        for layer in layers:
            group = f.create_group(layer.name)
            names = [f"{layer.name}/weight_{i}:0" for i in range(len(layer.weights))]
            group.attrs["weight_names"] = [name.encode() for name in names]
            for name, value in zip(names, layer.get_weights()):
                group.create_dataset(name, data=value if fill is None else np.full_like(value, fill(number)))
                number += 1
    return path.read_bytes()


@pytest.fixture
def places(tmp_path, monkeypatch):
    data_dir, mirror = tmp_path / "data", tmp_path / "mirror"
    data_dir.mkdir()
    (mirror / "keras-models").mkdir(parents=True)
    monkeypatch.setenv("DLBOOK_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DLBOOK_DATA_MIRROR", str(mirror))
    return data_dir, mirror


def stand_in(monkeypatch, mirror, item_name: str, content: bytes, md5: str | None = None) -> None:
    """Put `content` in the mirror under the item's file name and make the registry publish its MD5."""
    entry = registry.ITEMS[item_name]
    source = entry.sources[0]
    remote = dataclasses.replace(source.files[0], md5=md5 or hashlib.md5(content).hexdigest(), sha256=None, urls=())
    (mirror / "keras-models" / remote.filename).write_bytes(content)
    patched = dataclasses.replace(entry, sources=(dataclasses.replace(source, files=(remote,)),))
    monkeypatch.setitem(registry.ITEMS, item_name, patched)


def test_vgg16_weight_files_resolve_through_the_registry(places, monkeypatch):
    data_dir, mirror = places
    stand_in(monkeypatch, mirror, "vgg16_notop", b"stand-in for the VGG16 base" * 50)
    stand_in(monkeypatch, mirror, "vgg16_top", b"stand-in for VGG16 with its classifier" * 50)
    spec = transfer.BASES["vgg16"]
    base_path = transfer.weights_file(spec)
    top_path = transfer.weights_file(spec, include_top=True)
    # Verified against the published MD5, then prepared in the data directory under Keras' file names.
    assert base_path == data_dir / "models" / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert top_path == data_dir / "models" / "vgg16_weights_tf_dim_ordering_tf_kernels.h5"
    assert base_path.read_bytes() == b"stand-in for the VGG16 base" * 50
    with pytest.raises(DataError, match="MobileNet"):
        transfer.weights_file(transfer.BASES["mobilenet_025"], include_top=True)


def test_a_weight_file_with_the_wrong_checksum_is_refused(places, monkeypatch):
    data_dir, mirror = places
    stand_in(monkeypatch, mirror, "vgg16_notop", b"corrupted download", md5="0" * 32)
    with pytest.raises(DataError, match="MD5 check"):
        transfer.weights_file(transfer.BASES["vgg16"])
    assert not (data_dir / "models" / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5").exists()


def test_the_registry_names_keras_published_vgg16_checksums():
    # The MD5 values keras.applications.vgg16 passes to get_file as file_hash.
    assert registry.ITEMS["vgg16_top"].sources[0].files[0].md5 == "64373286793e3c8b2b4e3219cbf3544b"
    assert registry.ITEMS["vgg16_notop"].sources[0].files[0].md5 == "6d6bbae143d832006294945121d1f1fc"
    assert registry.ITEMS["vgg16_top"].sources[0].files[0].urls[0].endswith(
        "keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5")


@pytest.mark.parametrize("name", ["vgg16", "mobilenet_025"])
def test_pretrained_base_loads_the_registry_weights(places, monkeypatch, tmp_path, name):
    _, mirror = places
    spec = transfer.BASES[name]
    keras.utils.set_random_seed(0)
    if name == "vgg16":
        application = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    else:
        application = keras.applications.MobileNet(alpha=0.25, include_top=False, weights=None, input_shape=(32, 32, 3))
    content = write_keras_h5_weights(tmp_path / "weights.h5", application, fill=lambda i: (i % 7) / 10)
    stand_in(monkeypatch, mirror, spec.notop_item, content)

    base = transfer.pretrained_base(spec, (32, 32))
    values = [w.numpy() for layer in base.layers if not isinstance(layer, transfer.ImageNetPreprocessing)
              for w in layer.weights]
    assert len(values) == len(application.weights)
    assert all(np.all(v == np.float32((i % 7) / 10)) for i, v in enumerate(values))
    # One flat graph: photo in, the base's layers addressable by name.
    assert base.input.shape == (None, 32, 32, 3)
    assert isinstance(base.layers[1], transfer.ImageNetPreprocessing)
    assert base.get_layer(spec.heatmap_layer) is not None
    assert all(base.get_layer(n) is not None for n in spec.layers_by_depth)


def test_the_vgg16_classifier_needs_224_pixels():
    with pytest.raises(ValueError, match="224×224"):
        transfer.pretrained_base(transfer.BASES["vgg16"], (150, 150), include_top=True)


@pytest.mark.parametrize("mode, reference", [
    ("caffe", keras.applications.vgg16.preprocess_input),
    ("tf", keras.applications.mobilenet.preprocess_input),
])
def test_preprocessing_layer_equals_the_applications_preprocess_input(mode, reference):
    photos = np.random.default_rng(0).uniform(0, 255, size=(2, 8, 8, 3)).astype("float32")
    ours = transfer.ImageNetPreprocessing(mode)(photos)
    np.testing.assert_allclose(np.asarray(ours), reference(photos.copy()), rtol=1e-5, atol=1e-4)
    with pytest.raises(ValueError, match="'tf' or 'caffe'"):
        transfer.ImageNetPreprocessing("torch")


def flat_classifier(places, monkeypatch, tmp_path):
    """A MobileNet base with stand-in weights and the book's head, as one flat model."""
    _, mirror = places
    spec = transfer.BASES["mobilenet_025"]
    application = keras.applications.MobileNet(alpha=0.25, include_top=False, weights=None, input_shape=(32, 32, 3))
    stand_in(monkeypatch, mirror, spec.notop_item, write_keras_h5_weights(tmp_path / "w.h5", application))
    base = transfer.pretrained_base(spec, (32, 32))
    head_layers = transfer.classifier_head_layers(units=8)
    model = keras.Model(base.input, transfer.apply_layers(head_layers, base.output))
    return spec, base, head_layers, model


def test_freezing_and_unfreezing_change_the_trainable_counts_as_claimed(places, monkeypatch, tmp_path):
    spec, base, head_layers, model = flat_classifier(places, monkeypatch, tmp_path)
    head_parameters = sum(layer.count_params() for layer in head_layers)
    base_parameters = base.count_params()
    # Before freezing, only batch normalization's moving statistics are non-trainable.
    statistics = sum(2 * layer.moving_mean.shape[0] for layer in base.layers
                     if isinstance(layer, keras.layers.BatchNormalization))
    assert transfer.weight_counts(model) == (model.count_params() - statistics, statistics)

    base.trainable = False
    assert transfer.weight_counts(model) == (head_parameters, base_parameters)

    unfrozen = transfer.unfreeze_top_block(base, spec)
    assert unfrozen == ["conv_dw_13", "conv_pw_13"]
    block = sum(base.get_layer(name).count_params() for name in unfrozen)
    assert transfer.weight_counts(model) == (head_parameters + block, base_parameters - block)
    # Batch normalization stays frozen inside the top block.
    assert not base.get_layer("conv_pw_13_bn").trainable and not base.get_layer("conv_dw_12").trainable

    # The optimizer sees exactly the head and the top block's convolutions ...
    trainable_layers = {w.path.split("/")[0] for w in model.trainable_weights}
    assert trainable_layers == {"conv_dw_13", "conv_pw_13", "dense_hidden", "dog_probability"}
    # ... and a training step leaves every other weight, batch-normalization statistics included, unchanged.
    before = {w.path: w.numpy().copy() for w in model.weights}
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    rng = np.random.default_rng(0)
    model.fit(rng.uniform(0, 255, (8, 32, 32, 3)), rng.integers(0, 2, (8, 1)).astype("float32"), epochs=1, verbose=0)
    changed = {w.path.split("/")[0] for w in model.weights if not np.array_equal(before[w.path], w.numpy())}
    assert {"dense_hidden", "dog_probability"} <= changed <= trainable_layers


def test_unfreezing_a_block_that_does_not_exist_is_an_error(places, monkeypatch, tmp_path):
    spec, base, _, _ = flat_classifier(places, monkeypatch, tmp_path)
    with pytest.raises(ValueError, match="nothing to unfreeze"):
        transfer.unfreeze_top_block(base, dataclasses.replace(spec, top_block=("block5_conv",)))


def test_architecture_only_builds_a_model_without_allocating_its_weights():
    process = psutil.Process()
    before = process.memory_info().rss
    with transfer.architecture_only():
        big = keras.Sequential([keras.Input((20_000,)), keras.layers.Dense(5_000)])  # 100 million weights, 400 MB
    assert big.count_params() == 20_000 * 5_000 + 5_000
    # Later Keras work (building and fitting another model) must not fill in the postponed weights either.
    small = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    small.compile(optimizer="sgd", loss="mse")
    small.fit(np.zeros((4, 4)), np.zeros((4, 1)), verbose=0)
    assert process.memory_info().rss - before < 200 * 2**20


# --------------------------------------------------------------------------------------------------
# The trained-model cache


def tiny_lesson5_model(size=(128, 128)) -> keras.Model:
    photos = keras.Input(shape=(*size, 3))
    x = transfer.ImageNetPreprocessing("tf")(photos)
    x = keras.layers.Conv2D(2, 3, strides=16, name="conv")(x)
    return keras.Model(photos, transfer.apply_layers(transfer.classifier_head_layers(units=4), x))


def test_the_cache_returns_the_saved_model_and_its_info(places, monkeypatch):
    data_dir, _ = places
    model = tiny_lesson5_model(profiles.budget(5, "quick").image_size)
    saved = transfer.save_trained_classifier(model, {"how": "test", "test_accuracy": 0.5}, "quick")
    assert saved.parent == data_dir / "trained-models" and saved.name.startswith("lesson5-quick-mobilenet_025-")
    assert not [p for p in saved.parent.iterdir() if p.name.startswith(".")], "temporary files left behind"

    loaded, info = transfer.load_trained_classifier("quick")
    assert info["how"] == "test" and info["key"] == saved.stem
    photos = np.random.default_rng(0).uniform(0, 255, (2, *model.input_shape[1:])).astype("float32")
    np.testing.assert_allclose(loaded.predict(photos, verbose=0), model.predict(photos, verbose=0), rtol=1e-6)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]


def test_a_new_code_version_or_profile_does_not_see_an_old_model(places, monkeypatch):
    transfer.save_trained_classifier(tiny_lesson5_model(), {"how": "test"}, "quick")
    key = transfer.cache_key("quick")
    assert transfer.cache_key("full") != key and "full-vgg16" in transfer.cache_key("full")
    monkeypatch.setattr(transfer, "CACHE_VERSION", transfer.CACHE_VERSION + 1)
    assert transfer.cache_key("quick") != key
    assert transfer.load_trained_classifier("quick") is None
    # Saving under the new key removes the quick profile's old model, and leaves other profiles' alone.
    full_model = transfer.save_trained_classifier(tiny_lesson5_model((150, 150)), {"how": "test"}, "full")
    transfer.save_trained_classifier(tiny_lesson5_model(), {"how": "test"}, "quick")
    names = sorted(p.name for p in transfer.cache_paths("quick")[0].parent.iterdir())
    assert names == sorted([full_model.name, full_model.with_suffix(".json").name,
                            *(path.name for path in transfer.cache_paths("quick"))])


def test_a_damaged_cached_model_is_removed_and_not_used(places, capsys):
    path = transfer.save_trained_classifier(tiny_lesson5_model(), {"how": "test"}, "quick")
    path.write_bytes(path.read_bytes()[:100])  # a truncated file
    assert transfer.load_trained_classifier("quick") is None
    assert "unusable" in capsys.readouterr().out
    assert not path.exists() and not path.with_suffix(".json").exists()


def test_a_cached_model_of_the_wrong_size_is_not_used(places):
    transfer.save_trained_classifier(tiny_lesson5_model((64, 64)), {"how": "test"}, "quick")
    assert transfer.load_trained_classifier("quick") is None


def test_trained_classifier_rebuilds_once_when_the_cache_is_empty(places, monkeypatch):
    calls = []

    def cheap_rebuild(budget, seed=42):
        calls.append(budget)
        return tiny_lesson5_model(budget.image_size), {"how": "rebuilt", "base": budget.extra["base"]}

    monkeypatch.setattr(transfer, "train_by_feature_extraction", cheap_rebuild)
    model, info = transfer.trained_classifier("quick")
    assert info["how"] == "rebuilt" and calls == [profiles.budget(5, "quick")]
    again, info_again = transfer.trained_classifier("quick")
    assert len(calls) == 1 and info_again["key"] == info["key"]
    assert json.loads(transfer.cache_paths("quick")[1].read_text())["how"] == "rebuilt"


# --------------------------------------------------------------------------------------------------
# Data


def test_cats_and_dogs_datasets_are_batched_labelled_photos(tmp_path, monkeypatch):
    from dlbook.data import images

    root = tmp_path / "cats_and_dogs_small"
    rng = np.random.default_rng(0)
    for split, numbers in (("train", range(0, 6)), ("validation", range(6, 14))):
        for animal, value in (("cat", 40), ("dog", 200)):
            for i in numbers:
                folder = root / split / f"{animal}s"
                folder.mkdir(parents=True, exist_ok=True)
                pixels = np.clip(rng.normal(value, 5, (30, 40, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{animal}.{i}.jpg", quality=95)
    monkeypatch.setattr(images, "locate", lambda name: root)
    monkeypatch.setenv("DLBOOK_DATA_DIR", str(tmp_path / "data"))
    budget = dataclasses.replace(profiles.budget(5, "quick"), train_samples=8, validation_samples=4,
                                 test_samples=None, image_size=(16, 16), batch_size=3)
    datasets, reports = transfer.cats_and_dogs_datasets(budget)
    assert {split: report.total for split, report in reports.items()} == {"train": 8, "validation": 4, "test": 8}
    for split, dataset in datasets.items():
        photos, labels = zip(*[(x.numpy(), y.numpy()) for x, y in dataset])
        photos, labels = np.concatenate(photos), np.concatenate(labels)
        assert photos.shape == (reports[split].total, 16, 16, 3) and photos.dtype == np.float32
        assert labels.shape == (reports[split].total, 1)
        # Label 1 is "dogs" (the bright photos), and pixels keep their 0-255 scale.
        assert np.all((photos.mean(axis=(1, 2, 3)) > 120) == (labels[:, 0] == 1))
    # The training split is reshuffled every epoch; the others keep their order.
    orders = {tuple(sum(([int(v) for v in batch] for batch in epoch), [])) for epoch in
              [[y.numpy().ravel() for _, y in datasets["train"]] for _ in range(6)]}
    assert len(orders) > 1
    assert os.path.commonpath([reports["train"].usable_directory, tmp_path / "data"]) == str(tmp_path / "data")
