"""The image-folder loader against a real messy folder: every kind of bad file, counted, and no crash.

Every call of `check_image_folder` in this file (also the ones `cats_and_dogs_folders` makes) goes
through a wrapper that hashes the whole source tree before and after: names, types, link targets,
permissions and every byte. The check must leave it identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dlbook.data import images


def tree_digest(root: Path) -> str:
    """A digest of everything under `root`, without following links or opening special files."""
    digest = hashlib.sha256()
    if not os.path.lexists(root):
        return "absent"
    for current, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(dirs) + sorted(files):
            path = Path(current) / name
            info = os.lstat(path)
            digest.update(os.fsencode(str(path.relative_to(root))) + b"\0" + str(info.st_mode).encode())
            if stat.S_ISLNK(info.st_mode):
                digest.update(os.fsencode(os.readlink(path)))
            elif stat.S_ISREG(info.st_mode):
                digest.update(path.read_bytes())
    return digest.hexdigest()


CHECKED: list[Path] = []


@pytest.fixture(autouse=True)
def source_tree_is_never_written(monkeypatch):
    real = images.check_image_folder

    def checked(directory, **kwargs):
        before = tree_digest(Path(directory))
        try:
            return real(directory, **kwargs)
        finally:
            assert tree_digest(Path(directory)) == before, f"check_image_folder changed the source tree {directory}"
            CHECKED.append(Path(directory))

    monkeypatch.setattr(images, "check_image_folder", checked)


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


# --------------------------------------------------------------------------------------------------
# Issue 14, defect 1: the check never writes into the reader's folder, whatever it holds


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def test_a_converted_file_never_overwrites_a_kept_one_with_the_same_name(tmp_path):
    root = tmp_path / "photos"
    _photo(root / "cats" / "x.png", value=10)
    _photo(root / "cats" / "x.tif", fmt="TIFF", value=200)          # converted to PNG: same name as x.png
    _photo(root / "cats" / "y.jpg", mode="CMYK", fmt="JPEG")       # converted to PNG beside a y.png
    _photo(root / "cats" / "y.png", value=60)
    for i in range(2):
        _photo(root / "dogs" / f"dog.{i}.jpg")
    original = (root / "cats" / "x.png").read_bytes()
    report = images.check_image_folder(root, cache_dir=tmp_path / "cache")
    assert (root / "cats" / "x.png").read_bytes() == original
    assert report.counts == {"cats": 4, "dogs": 2}
    assert dict(report.converted).keys() == {"cats/x.tif", "cats/y.jpg"}
    usable = sorted(p.name for p in (report.usable_directory / "cats").iterdir())
    # Natural order: y.jpg's conversion comes first and takes y.png; the kept y.png becomes y.png.png.
    assert usable == ["x.png", "x.tif.png", "y.png", "y.png.png"]
    assert (_pixels(report.usable_directory / "cats" / "x.png") == 10).all()
    assert (_pixels(report.usable_directory / "cats" / "x.tif.png") == 200).all()
    assert (_pixels(report.usable_directory / "cats" / "y.png.png") == 60).all()
    assert (report.usable_directory / "cats" / "y.png.png").resolve() == (root / "cats" / "y.png").resolve()
    files = [path for path, _ in images.image_files(report)]
    assert len(files) == report.total == 6


@pytest.mark.parametrize("fmt, suffix", [("PNG", ".png"), ("TIFF", ".tif")])
def test_16_bit_images_are_scaled_to_8_bits_not_clipped(tmp_path, fmt, suffix):
    root = tmp_path / "photos"
    gradient = np.tile(np.linspace(0, 65535, 64).round().astype(np.uint16), (8, 1))
    (root / "scans").mkdir(parents=True)
    Image.fromarray(gradient).save(root / "scans" / f"wide{suffix}", format=fmt)
    _photo(root / "other" / "a.jpg")
    report = images.check_image_folder(root, cache_dir=tmp_path / "cache")
    assert "16-bit values scaled to 8 bits" in dict(report.converted)[f"scans/wide{suffix}"]
    converted = _pixels(report.usable_directory / "scans" / "wide.png")[0, :, 0]
    expected = np.round(np.linspace(0, 65535, 64).round() / 65535 * 255)
    np.testing.assert_array_equal(converted, expected)   # a full-range gradient stays one
    assert converted.min() == 0 and converted.max() == 255 and np.median(converted) < 160


def test_unusual_names_links_and_special_files_are_skipped_with_a_reason(tmp_path):
    import keras

    root, outside = tmp_path / "photos", tmp_path / "elsewhere"
    for i in range(2):
        _photo(root / "cats" / f"cat.{i}.jpg")
        _photo(root / "dogs" / f"dog.{i}.jpg")
    _photo(root / "cats" / "ünïcode kitten 🐱.jpg")                          # valid text: kept
    _photo(root / "cats" / "line\nbreak.jpg")                                 # a control character
    bad = os.fsencode(str(root / "cats")) + b"/latin1-\xe9t\xe9.jpg"          # not UTF-8
    _photo(Path(os.fsdecode(bad)))
    _photo(outside / "far.jpg", value=99)
    (root / "dogs" / "link-to-far.jpg").symlink_to(outside / "far.jpg")       # a link to a photo: kept
    (root / "dogs" / "dangling.jpg").symlink_to(tmp_path / "gone.jpg")        # broken link
    (root / "dogs" / "loop.jpg").symlink_to(root / "dogs" / "loop.jpg")       # a link to itself
    (root / "dogs" / "more").symlink_to(outside, target_is_directory=True)    # a link to a folder
    os.mkfifo(root / "dogs" / "pipe.jpg")                                     # would block a reader
    (root / os.fsdecode(b"cl\xe4ss")).mkdir()                                 # a class name that is not text
    _photo(Path(os.fsdecode(os.fsencode(str(root)) + b"/cl\xe4ss/a.jpg")))
    report = images.check_image_folder(root, cache_dir=tmp_path / "cache")
    skipped = dict(report.skipped)
    assert report.counts == {"cats": 3, "dogs": 3}
    assert "not valid text" in skipped["cats/line\nbreak.jpg"]
    assert "not valid text" in skipped["cats/latin1-\\xe9t\\xe9.jpg"]
    assert "broken link" in skipped["dogs/dangling.jpg"]
    assert "cannot be read" in skipped["dogs/loop.jpg"] or "broken link" in skipped["dogs/loop.jpg"]
    assert "not a regular file" in skipped["dogs/pipe.jpg"]
    assert "link to a folder" in skipped["dogs/more"]
    assert "class folder name is not valid text" in skipped["cl\\xe4ss"]
    json.dumps(report.skipped)  # printable and storable
    assert report.summary()
    dataset = keras.utils.image_dataset_from_directory(report.usable_directory, image_size=(8, 8), batch_size=8,
                                                       shuffle=False, verbose=False)
    assert sum(len(labels) for _, labels in dataset) == 6  # every kept file decodes


def test_a_cache_inside_the_image_folder_is_refused(tmp_path):
    root = tmp_path / "photos"
    _photo(root / "cats" / "a.jpg")
    _photo(root / "dogs" / "b.jpg")
    with pytest.raises(images.ImageFolderError, match="lies inside the image folder"):
        images.check_image_folder(root, cache_dir=root / "checked")
    assert not (root / "checked").exists()


CHECKER = """
import sys
from dlbook.data import images
report = images.check_image_folder(sys.argv[1], cache_dir=sys.argv[2])
print(report.usable_directory, report.total)
"""


def test_two_processes_checking_one_folder_at_once_agree(tmp_path):
    root = tmp_path / "photos"
    for i in range(40):
        _photo(root / "cats" / f"cat.{i}.png", mode="RGBA")
        _photo(root / "dogs" / f"dog.{i}.tiff", fmt="TIFF")   # conversions: slow enough to overlap
    script = tmp_path / "check.py"
    script.write_text(CHECKER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    before = tree_digest(root)
    children = [subprocess.Popen([sys.executable, str(script), str(root), str(tmp_path / "cache")], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [child.communicate(timeout=300) for child in children]
    assert [child.returncode for child in children] == [0, 0, 0], [err for _, err in outputs]
    assert len({out for out, _ in outputs}) == 1 and outputs[0][0].split()[1] == "80"
    assert tree_digest(root) == before
    assert not [p for p in (tmp_path / "cache").iterdir() if ".staging." in p.name]


def test_a_check_killed_midway_leaves_a_staging_folder_the_next_check_removes(tmp_path):
    root = tmp_path / "photos"
    for i in range(3):
        _photo(root / "cats" / f"cat.{i}.jpg")
        _photo(root / "dogs" / f"dog.{i}.jpg")
    cache = tmp_path / "cache"
    first = images.check_image_folder(root, cache_dir=cache)
    name = first.usable_directory.name
    import shutil

    shutil.rmtree(first.usable_directory)
    stale = cache / f".{name}.staging.killed"
    (stale / "cats").mkdir(parents=True)
    again = images.check_image_folder(root, cache_dir=cache)
    assert again.usable_directory == first.usable_directory and again.total == 6
    assert not stale.exists()


def test_every_check_in_this_file_was_watched():
    assert CHECKED, "the source-tree wrapper never ran"
