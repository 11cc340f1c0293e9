"""Transfer learning (dlbook.transfer): weights through the registry, the recipe Lesson 5 teaches, the model hand-off.

No real weights or photos: the tests write stand-in weight files in Keras' HDF5 layout and tiny JPEGs.
"""

from __future__ import annotations

import dataclasses
import hashlib
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
    base_path = transfer.imagenet_weights(spec.notop_item)
    top_path = transfer.imagenet_weights(spec.top_item)
    # Verified against the published MD5, then prepared in the data directory under Keras' file names.
    assert base_path == str(data_dir / "models" / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")
    assert top_path == str(data_dir / "models" / "vgg16_weights_tf_dim_ordering_tf_kernels.h5")
    assert open(base_path, "rb").read() == b"stand-in for the VGG16 base" * 50


def test_a_weight_file_with_the_wrong_checksum_is_refused(places, monkeypatch):
    data_dir, mirror = places
    stand_in(monkeypatch, mirror, "vgg16_notop", b"corrupted download", md5="0" * 32)
    with pytest.raises(DataError, match="MD5 check"):
        transfer.imagenet_weights("vgg16_notop")
    assert not (data_dir / "models" / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5").exists()


def test_missing_weights_stop_a_real_run_and_mean_random_weights_in_a_smoke_run(places, monkeypatch, capsys):
    monkeypatch.setattr(store, "download", lambda *args, **kwargs: (_ for _ in ()).throw(DataError("offline")))
    with pytest.raises(DataError, match="vgg16_notop"):
        transfer.imagenet_weights("vgg16_notop")
    monkeypatch.setenv("DLBOOK_SMOKE", "1")
    assert transfer.imagenet_weights("vgg16_notop") is None
    assert "randomly initialised weights" in capsys.readouterr().out


def test_the_registry_names_keras_published_vgg16_checksums():
    # The MD5 values keras.applications.vgg16 passes to get_file as file_hash.
    assert registry.ITEMS["vgg16_top"].sources[0].files[0].md5 == "64373286793e3c8b2b4e3219cbf3544b"
    assert registry.ITEMS["vgg16_notop"].sources[0].files[0].md5 == "6d6bbae143d832006294945121d1f1fc"
    assert registry.ITEMS["vgg16_top"].sources[0].files[0].urls[0].endswith(
        "keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5")


def lesson5_base(spec: transfer.BaseSpec, size=(32, 32), weights=None) -> tuple[keras.KerasTensor, keras.Model]:
    """The base as Lesson 5's cell builds it: photo input, preprocessing layer, `keras.applications`."""
    photos = keras.Input(shape=(*size, 3), name="photo")
    scaled = transfer.ImageNetPreprocessing(spec.preprocessing)(photos)
    if spec.name == "vgg16":
        return photos, keras.applications.VGG16(include_top=False, weights=weights, input_tensor=scaled)
    return photos, keras.applications.MobileNet(alpha=0.25, include_top=False, weights=weights, input_tensor=scaled)


@pytest.mark.parametrize("name", ["vgg16", "mobilenet_025"])
def test_lesson5s_keras_applications_call_loads_the_registry_weights(places, monkeypatch, tmp_path, name):
    _, mirror = places
    spec = transfer.BASES[name]
    keras.utils.set_random_seed(0)
    if name == "vgg16":
        application = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    else:
        application = keras.applications.MobileNet(alpha=0.25, include_top=False, weights=None, input_shape=(32, 32, 3))
    content = write_keras_h5_weights(tmp_path / "weights.h5", application, fill=lambda i: (i % 7) / 10)
    stand_in(monkeypatch, mirror, spec.notop_item, content)

    photos, base = lesson5_base(spec, weights=transfer.imagenet_weights(spec.notop_item))
    values = [w.numpy() for layer in base.layers if not isinstance(layer, transfer.ImageNetPreprocessing)
              for w in layer.weights]
    assert len(values) == len(application.weights)
    assert all(np.all(v == np.float32((i % 7) / 10)) for i, v in enumerate(values))
    # One flat graph from the photo: the layers the lessons name exist, and the last is the CAM layer.
    assert base.layers[0].output is photos and isinstance(base.layers[1], transfer.ImageNetPreprocessing)
    assert base.get_layer(spec.cam_layer).output is base.output
    assert all(base.get_layer(n) is not None for n in (spec.heatmap_layer, *spec.layers_by_depth))
    assert any(layer.name.startswith(spec.top_block) for layer in base.layers)


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
