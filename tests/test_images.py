"""The image-folder loader against a real messy folder: every kind of bad file, counted, and no crash."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dlbook.data import images


def _photo(path: Path, mode: str = "RGB", size=(24, 20), fmt: str | None = None, value: int = 120) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    channels = {"RGB": 3, "RGBA": 4, "CMYK": 4, "L": 1}[mode]
    pixels = np.full((size[1], size[0], channels), value, dtype=np.uint8).squeeze()
    Image.fromarray(pixels, mode=mode).save(path, format=fmt)
    return path


@pytest.fixture()
def messy(tmp_path) -> Path:
    root = tmp_path / "photos"
    for i in range(3):
        _photo(root / "cats" / f"cat.{i}.jpg")
    _photo(root / "cats" / "gray.png", mode="L")
    _photo(root / "cats" / "alpha.png", mode="RGBA")
    _photo(root / "cats" / "scan.jpg", mode="CMYK", fmt="JPEG")          # Keras cannot decode CMYK
    _photo(root / "cats" / "old.tiff", fmt="TIFF")                        # not a Keras format
    _photo(root / "cats" / "holiday" / "cat.9.jpg")                        # nested: Keras reads it too
    (root / "cats" / "notes.txt").write_text("not an image")
    (root / "cats" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "cats" / "empty.jpg").write_bytes(b"")
    good = _photo(root / "cats" / "cut.jpg", size=(64, 64))
    good.write_bytes(good.read_bytes()[:200])                              # a truncated download
    for i in range(4):
        _photo(root / "dogs" / f"dog.{i}.jpg", value=30)
    (root / "dogs" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (root / "dogs" / "fake.png").write_text("<html>404</html>")            # a web page saved as .png
    (root / "birds").mkdir()                                               # an empty class folder
    (root / "birds" / ".DS_Store").write_bytes(b"x")
    (root / "__MACOSX").mkdir()
    (root / "__MACOSX" / "._cat.0.jpg").write_bytes(b"junk")
    (root / "README.txt").write_text("my photos")
    return root


def test_a_messy_folder_is_cleaned_and_every_problem_counted(messy, tmp_path):
    report = images.check_image_folder(messy, cache_dir=tmp_path / "cache")
    assert report.class_names == ("cats", "dogs")
    assert report.dropped_classes == ("birds",)
    assert report.counts == {"cats": 8, "dogs": 4}  # 3 + gray + alpha + CMYK + TIFF + nested
    converted = dict(report.converted)
    assert set(converted) == {"cats/scan.jpg", "cats/old.tiff"}
    skipped = dict(report.skipped)
    assert set(skipped) == {"README.txt", "cats/notes.txt", "cats/.DS_Store", "cats/empty.jpg",
                            "cats/cut.jpg", "dogs/Thumbs.db", "birds/.DS_Store", "dogs/fake.png"}
    assert "truncated" in skipped["cats/cut.jpg"] and "system file" in skipped["cats/.DS_Store"]
    summary = report.summary()
    assert "12 usable images in 2 classes" in summary and "birds" in summary and "skipped: 8" in summary


def test_keras_reads_the_usable_copy_without_a_crash(messy, tmp_path):
    import keras

    report = images.check_image_folder(messy, cache_dir=tmp_path / "cache")
    dataset = keras.utils.image_dataset_from_directory(
        report.usable_directory, image_size=(16, 16), batch_size=4, label_mode="binary", shuffle=False,
        verbose=False)
    assert dataset.class_names == ["cats", "dogs"]
    batches = list(dataset)  # decodes every image: a bad file would raise here
    labels = np.concatenate([y.numpy().ravel() for _, y in batches])
    assert len(labels) == report.total == 12
    assert labels.sum() == report.counts["dogs"]
    assert all(x.shape[1:] == (16, 16, 3) for x, _ in batches)


def test_the_usable_copy_is_cached_and_rebuilt_when_the_folder_changes(messy, tmp_path):
    cache = tmp_path / "cache"
    first = images.check_image_folder(messy, cache_dir=cache)
    assert images.check_image_folder(messy, cache_dir=cache).usable_directory == first.usable_directory
    _photo(messy / "dogs" / "dog.99.jpg")
    changed = images.check_image_folder(messy, cache_dir=cache)
    assert changed.usable_directory != first.usable_directory and changed.counts["dogs"] == 5
    assert not [p for p in cache.iterdir() if ".staging." in p.name], "a staging folder was left behind"


def test_limits_and_skips_split_a_folder_into_disjoint_parts(tmp_path):
    root = tmp_path / "set"
    for animal in ("cat", "dog"):
        for i in (2, 10, 1, 0, 3, 11):  # natural order: 0, 1, 2, 3, 10, 11
            _photo(root / f"{animal}s" / f"{animal}.{i}.jpg")
    first = images.check_image_folder(root, max_per_class=3, cache_dir=tmp_path / "c")
    second = images.check_image_folder(root, skip_per_class=3, max_per_class=3, cache_dir=tmp_path / "c")
    names = lambda report: {p.name for p, _ in images.image_files(report)}  # noqa: E731
    assert names(first) == {f"{a}.{i}.jpg" for a in ("cat", "dog") for i in (0, 1, 2)}
    assert names(second) == {f"{a}.{i}.jpg" for a in ("cat", "dog") for i in (3, 10, 11)}


@pytest.mark.parametrize("layout, message", [
    ("missing", "does not exist"),
    ("flat", "no class sub-folders"),
    ("one_class", r"1 class folder\(s\) with usable images"),
    ("all_bad", r"0 class folder\(s\)"),
])
def test_an_unusable_layout_is_a_clear_error(tmp_path, layout, message):
    root = tmp_path / "photos"
    if layout == "flat":
        for i in range(3):
            _photo(root / f"img{i}.jpg")
    elif layout == "one_class":
        _photo(root / "cats" / "a.jpg")
        (root / "dogs").mkdir()
    elif layout == "all_bad":
        (root / "cats").mkdir(parents=True)
        (root / "cats" / "a.jpg").write_text("nope")
    with pytest.raises(images.ImageFolderError, match=message) as caught:
        images.check_image_folder(root, cache_dir=tmp_path / "cache")
    assert str(root) in str(caught.value)
    assert not (tmp_path / "cache").exists() or not [
        p for p in (tmp_path / "cache").iterdir() if not p.name.startswith(".")], "a failed check left a copy"


def test_cats_and_dogs_splits_are_disjoint(tmp_path, monkeypatch):
    root = tmp_path / "cats_and_dogs_small"
    for split, numbers in (("train", range(0, 4)), ("validation", range(4, 10))):
        for animal in ("cat", "dog"):
            for i in numbers:
                _photo(root / split / f"{animal}s" / f"{animal}.{i}.jpg")
    monkeypatch.setattr(images, "locate", lambda name: root)
    monkeypatch.setenv("DLBOOK_DATA_DIR", str(tmp_path / "data"))
    splits = images.cats_and_dogs_folders(train_per_class=2)
    files = {split: {p.name for p, _ in images.image_files(r)} for split, r in splits.items()}
    assert files["train"] == {f"{a}.{i}.jpg" for a in ("cat", "dog") for i in (0, 1)}
    assert files["validation"] == {f"{a}.{i}.jpg" for a in ("cat", "dog") for i in (4, 5, 6)}
    assert files["test"] == {f"{a}.{i}.jpg" for a in ("cat", "dog") for i in (7, 8, 9)}
    assert os.path.commonpath([splits["test"].usable_directory, tmp_path / "data"]) == str(tmp_path / "data")


def test_image_dataset_is_batched_labelled_and_reshuffled_every_epoch(tmp_path):
    root = tmp_path / "pets"
    for i in range(6):
        _photo(root / "cats" / f"cat.{i}.jpg", value=20 + i)
        _photo(root / "dogs" / f"dog.{i}.jpg", value=200 + i)
    report = images.check_image_folder(root, cache_dir=tmp_path / "cache")
    dataset = images.image_dataset(report, image_size=(8, 8), batch_size=5, shuffle=True, seed=3)
    assert dataset.class_names == ["cats", "dogs"] and len(dataset.file_paths) == 12
    epochs = [[(x.numpy(), y.numpy()) for x, y in dataset] for _ in range(2)]
    assert [len(y) for _, y in epochs[0]] == [5, 5, 2]
    for batches in epochs:
        pixels = np.concatenate([x[:, 0, 0, 0] for x, _ in batches])
        labels = np.concatenate([y.ravel() for _, y in batches])
        assert np.array_equal(labels, (pixels > 100).astype("float32")), "labels and images out of step"
    order = [np.concatenate([x[:, 0, 0, 0] for x, _ in batches]) for batches in epochs]
    assert sorted(order[0]) == sorted(order[1]) and not np.array_equal(order[0], order[1]), \
        "the training order is the same in both epochs: shuffling before cache() froze it"
    plain = images.image_dataset(report, image_size=(8, 8), batch_size=32, shuffle=False)
    labels = np.concatenate([y.numpy().ravel() for _, y in plain])
    assert labels.tolist() == [0.0] * 6 + [1.0] * 6  # unshuffled: file order, as in file_paths
    assert all("/cats/" in p for p in plain.file_paths[:6])


def test_image_dataset_refuses_binary_labels_for_three_classes(tmp_path):
    root = tmp_path / "three"
    for animal in ("cats", "dogs", "birds"):
        _photo(root / animal / "a.jpg")
    report = images.check_image_folder(root, cache_dir=tmp_path / "cache")
    with pytest.raises(ValueError, match="exactly two classes.*'int' or 'categorical'"):
        images.image_dataset(report, image_size=(8, 8), batch_size=2, shuffle=False)
    three = images.image_dataset(report, image_size=(8, 8), batch_size=3, shuffle=False, label_mode="int")
    assert sorted(np.concatenate([y.numpy() for _, y in three]).tolist()) == [0, 1, 2]


def test_image_dataset_can_cache_8_bit_pixels_and_still_yield_float32(messy, tmp_path):
    report = images.check_image_folder(messy, cache_dir=tmp_path / "cache")
    plain = images.image_dataset(report, image_size=(16, 16), batch_size=32, shuffle=False)
    compact = images.image_dataset(report, image_size=(16, 16), batch_size=32, shuffle=False, cache_8_bit=True)
    (x_plain, y_plain), = list(plain)
    (x_compact, y_compact), = list(compact)
    assert x_compact.dtype.name == "float32" and x_compact.shape == x_plain.shape == (12, 16, 16, 3)
    np.testing.assert_array_equal(y_compact.numpy(), y_plain.numpy())
    np.testing.assert_array_equal(x_compact.numpy(), np.round(x_plain.numpy()))
    assert compact.class_names == ["cats", "dogs"] and len(compact.file_paths) == 12
