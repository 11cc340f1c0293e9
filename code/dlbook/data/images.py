"""Folders of images, as a reader's own photos come: checked, cleaned, and ready for Keras.

`keras.utils.image_dataset_from_directory` expects a tidy folder: one sub-folder per class, and
nothing but decodable JPEG, PNG, BMP or GIF files in them. Real folders are messier: a truncated
download, a `.DS_Store`, a CMYK JPEG from a scanner, a TIFF, an empty class. Such a file crashes the
pipeline in the middle of an epoch, or silently shifts the class labels.

`check_image_folder` looks at every file once (with Pillow) and builds a *usable copy* of the folder
in the data directory: links to the good files, RGB conversions of the ones Keras cannot decode
(CMYK, 16-bit, TIFF, WebP, …), and nothing else. It returns a report of what it kept, converted and
skipped, and why. Hand `report.usable_directory` to `image_dataset_from_directory`. The usable copy
is cached under a key made of the folder's listing (names, sizes, modification times) and the
options, so a rebuild of the book does not decode every photo again.

The reader's folder is only ever read: the usable copy is built in a staging folder of the cache,
converted images are new files created there (never opened through a link), names that would clash
(`x.png` beside `x.tif`) get distinct names, and links, special files, unreadable files and names
Keras cannot handle are skipped with a reason instead of stopping the check. One process at a time
builds a given usable copy (a lock per cache key), so two chapters checking the same folder at once
do not trip over each other.

    report = check_image_folder("my_photos", max_per_class=500)
    print(report.summary())
    dataset = keras.utils.image_dataset_from_directory(report.usable_directory, image_size=(180, 180))

`image_dataset` does that last step the way the book's chapters train on it: decoded and resized
once, kept in memory (`cache`), reshuffled every epoch, batched and prefetched.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dlbook.data.places import DataError, data_dir, folder_lock
from dlbook.data.store import locate

if TYPE_CHECKING:  # TensorFlow is imported only when a dataset is built
    import tensorflow as tf

# What `image_dataset_from_directory` picks up (by extension) and can decode.
KERAS_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
# Files that operating systems and tools leave in photo folders; never images.
SYSTEM_FILES = {".ds_store", "thumbs.db", "desktop.ini", "icon\r", ".localized"}
SYSTEM_FOLDERS = {"__macosx", ".ipynb_checkpoints", "@eadir", ".thumbnails"}
# Pillow modes TensorFlow's JPEG/PNG decoders read correctly as 3-channel images.
_KEEP = {"JPEG": {"RGB", "L"}, "PNG": {"RGB", "RGBA", "L", "LA", "P"}}
# Pillow modes with more than 8 bits per channel: scaled to 8 bits, never clipped.
_WIDE = {"I;16", "I;16B", "I;16L", "I;16N", "I", "F"}
CACHE_VERSION = 2


class ImageFolderError(DataError):
    """An image folder whose layout cannot be used; the message says how to fix it."""


@dataclasses.dataclass(frozen=True)
class ImageFolderReport:
    """What `check_image_folder` found in a folder of class sub-folders.

    `counts` holds the usable images per class (in label order); `converted` and `skipped` list
    `(path relative to the folder, reason)` pairs; `dropped_classes` are class folders left without
    a single usable image (they would otherwise shift the labels of the classes after them).
    """

    directory: Path
    usable_directory: Path
    class_names: tuple[str, ...]
    counts: dict[str, int]
    converted: tuple[tuple[str, str], ...]
    skipped: tuple[tuple[str, str], ...]
    dropped_classes: tuple[str, ...]

    @property
    def total(self) -> int:
        """Usable images over all classes."""
        return sum(self.counts.values())

    def summary(self) -> str:
        """A few readable lines: classes and counts, then what was converted or skipped and why."""
        lines = [f"{self.directory}: {self.total:,} usable images in {len(self.class_names)} classes ("
                 + ", ".join(f"{name}: {self.counts[name]:,}" for name in self.class_names) + ")"]
        if self.converted:
            lines.append(f"converted to RGB: {len(self.converted)}")
            lines += [f"  {path} ({why})" for path, why in self.converted[:10]]
        if self.skipped:
            lines.append(f"skipped: {len(self.skipped)}")
            lines += [f"  {path} ({why})" for path, why in self.skipped[:10]]
            if len(self.skipped) > 10:
                lines.append(f"  … and {len(self.skipped) - 10} more")
        if self.dropped_classes:
            lines.append("class folders without a usable image, left out: " + ", ".join(self.dropped_classes))
        return "\n".join(lines)


def natural_key(name: str) -> list:
    """Sort key that orders `cat.2.jpg` before `cat.10.jpg`."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def _is_system(path: Path) -> bool:
    return path.name.lower() in SYSTEM_FILES or path.name.startswith(("._", "~$"))


def _shown(text: str) -> str:
    """A path as it can be printed: bytes that are not UTF-8 appear as \\x escapes."""
    return os.fsencode(text).decode("utf-8", "backslashreplace")


def _text_name(name: str) -> bool:
    """True for a name that is valid text (Keras and TensorFlow handle paths as UTF-8)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not any(ord(c) < 32 for c in name)


def _class_files(folder: Path, problems: list[tuple[str, str]] | None = None) -> list[Path]:
    """Every file under a class folder (recursively, as Keras reads it), in natural order.

    Links to folders are not followed and unreadable folders are passed over; both are added to
    `problems` as (path, reason) when a list is given.
    """
    found = []

    def unreadable(error: OSError) -> None:
        if problems is not None:
            problems.append((error.filename, f"folder cannot be read ({error.strerror}), its files are left out"))

    for current, dirs, files in os.walk(folder, onerror=unreadable):
        kept = []
        for d in dirs:
            if d.lower() in SYSTEM_FOLDERS or d.startswith("."):
                continue
            if (Path(current) / d).is_symlink():
                if problems is not None:
                    problems.append((str(Path(current) / d), "link to a folder, not followed"))
                continue
            kept.append(d)
        dirs[:] = sorted(kept, key=natural_key)
        found += [Path(current) / f for f in files]
    return sorted(found, key=lambda p: natural_key(str(p.relative_to(folder))))


def _inspect(path: Path) -> tuple[str, str]:
    """Decide what to do with one file: ("keep" | "convert" | "skip", reason)."""
    from PIL import Image, UnidentifiedImageError

    if _is_system(path):
        return "skip", "system file, not an image"
    if not _text_name(path.name):
        return "skip", "file name is not valid text (undecodable bytes or control characters); rename the file"
    try:
        info = os.stat(path)  # follows a link: the file it points to is what counts
    except FileNotFoundError:
        return "skip", ("broken link: its target does not exist" if path.is_symlink()
                        else "disappeared while the folder was checked")
    except OSError as error:
        return "skip", f"cannot be read ({error.strerror})"
    if not stat.S_ISREG(info.st_mode):
        return "skip", "not a regular file (a pipe, socket or device)"
    if info.st_size == 0:
        return "skip", "empty file"
    try:
        with Image.open(path) as image:
            image_format, mode = image.format, image.mode
            image.load()  # decodes every pixel: catches truncated and corrupt files that verify() misses
    except UnidentifiedImageError:
        return "skip", "not an image Pillow can read"
    except PermissionError as error:
        return "skip", f"cannot be read ({error.strerror})"
    except Image.DecompressionBombError:
        return "skip", "image too large (decompression bomb guard)"
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        return "skip", f"corrupt or truncated image ({error})"
    if image_format in _KEEP and mode in _KEEP[image_format]:
        return "keep", f"{image_format} {mode}"
    return "convert", f"{image_format} {mode}"


def to_rgb(image) -> "Image.Image":
    """An RGB copy of a Pillow image; 16-bit and float images are scaled to 8 bits, never clipped."""
    from PIL import Image

    if image.mode not in _WIDE:
        return image.convert("RGB")
    pixels = np.asarray(image, dtype=np.float64)
    if image.mode.startswith("I;16"):
        scale = 65535.0
    elif image.mode == "F" and pixels.size and 0.0 <= pixels.min() and pixels.max() <= 1.0:
        scale = 1.0
    elif image.mode == "F":  # any other float range: stretch what is there
        low = pixels.min() if pixels.size else 0.0
        pixels, scale = pixels - low, max(float(pixels.max() - low) if pixels.size else 1.0, 1e-12)
    else:  # 32-bit integers: 16-bit data unless the values are all 8-bit
        scale = 65535.0 if pixels.size and pixels.max() > 255 else 255.0
    gray = np.clip(np.round(pixels / scale * 255.0), 0, 255).astype(np.uint8)
    return Image.fromarray(gray, mode="L").convert("RGB")


def _listing_key(classes: dict[str, list[Path]], options: dict) -> str:
    digest = hashlib.sha256(json.dumps({"version": CACHE_VERSION, "options": options}).encode())
    for name, files in classes.items():
        for path in files:
            try:
                info = os.stat(path)
            except OSError:  # a broken link or a file that vanished: its name still counts
                info = os.lstat(path) if os.path.lexists(path) else None
            size, mtime = (info.st_size, info.st_mtime_ns) if info else (-1, -1)
            digest.update(f"{name}/{_shown(str(path))}\0{size}\0{mtime}\n".encode())
    return digest.hexdigest()[:20]


def _report_from_json(payload: dict, usable: Path) -> ImageFolderReport:
    return ImageFolderReport(
        directory=Path(payload["directory"]), usable_directory=usable,
        class_names=tuple(payload["class_names"]), counts=dict(payload["counts"]),
        converted=tuple(map(tuple, payload["converted"])), skipped=tuple(map(tuple, payload["skipped"])),
        dropped_classes=tuple(payload["dropped_classes"]),
    )


def _read_report(report_file: Path, usable: Path) -> ImageFolderReport | None:
    try:
        return _report_from_json(json.loads(report_file.read_text(encoding="utf-8")), usable)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent or damaged: the usable copy is built again


def _unique(wanted: Path, original: Path, used: set[str]) -> Path:
    """A target name no other file of the usable copy has (compared without case, as some disks do)."""
    def candidates() -> Iterable[Path]:  # x.tif → x.png, else x.tif.png, else x-2.png, …
        yield wanted
        yield wanted.with_name(original.name + wanted.suffix)
        for n in range(2, 10_000):
            yield wanted.with_name(f"{original.stem}-{n}{wanted.suffix}")

    for candidate in candidates():
        if str(candidate).lower() not in used:
            used.add(str(candidate).lower())
            return candidate
    raise ImageFolderError(f"{original}: too many files with the same name")


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def check_image_folder(directory: str | os.PathLike, *, max_per_class: int | None = None,
                       skip_per_class: int = 0, min_classes: int = 2,
                       cache_dir: str | os.PathLike | None = None) -> ImageFolderReport:
    """Check a folder of class sub-folders and build its usable copy for Keras.

    `directory` holds one sub-folder per class (`directory/cats/…`, `directory/dogs/…`); images may
    sit deeper inside a class folder. Per class, files are taken in natural name order: the first
    `skip_per_class` usable images are passed over and at most `max_per_class` are kept, so two calls
    can split one folder into disjoint parts. Raises `ImageFolderError` when the layout is unusable:
    no such folder, no class sub-folders, or fewer than `min_classes` classes with usable images.
    Nothing is ever written into `directory`.
    """
    folder = Path(directory).expanduser()
    if not folder.is_dir():
        raise ImageFolderError(
            f"image folder {folder} does not exist or is not a folder. Pass the folder that holds one "
            "sub-folder per class, e.g. photos/ with photos/cats/*.jpg and photos/dogs/*.jpg.")
    if max_per_class is not None and max_per_class < 1:
        raise ValueError(f"max_per_class must be at least 1 or None, not {max_per_class}")
    if skip_per_class < 0:
        raise ValueError(f"skip_per_class must be 0 or more, not {skip_per_class}")
    cache = Path(cache_dir).expanduser() if cache_dir is not None else data_dir() / "image-folders"
    if _inside(cache, folder):
        raise ImageFolderError(
            f"the cache for checked copies, {cache}, lies inside the image folder {folder}; the check never writes "
            "into the folder it checks. Pass a cache_dir outside it (or set DLBOOK_DATA_DIR elsewhere).")

    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as error:
        raise ImageFolderError(f"image folder {folder} cannot be read ({error.strerror}); fix its permissions.") from None
    problems: list[tuple[str, str]] = []
    class_folders = []
    for p in entries:
        if not p.is_dir() or p.name.startswith(".") or p.name.lower() in SYSTEM_FOLDERS:
            continue
        if not _text_name(p.name):
            problems.append((_shown(p.name), "class folder name is not valid text; rename the folder to use it"))
            continue
        class_folders.append(p)
    loose = [p.name for p in entries if not p.is_dir() and not _is_system(p)]
    if not class_folders:
        raise ImageFolderError(
            f"image folder {folder} has no class sub-folders"
            + (f" (it holds {len(loose)} loose files, e.g. {_shown(loose[0])})" if loose else "")
            + ". Put each class's images in a sub-folder named after the class: "
              f"{folder}/<class name>/<image files>.")
    classes = {p.name: _class_files(p, problems) for p in class_folders}
    options = {"max_per_class": max_per_class, "skip_per_class": skip_per_class}
    key = _listing_key(classes, options)
    usable = cache / f"{folder.name}-{key}"
    report_file = usable / ".report.json"
    report = _read_report(report_file, usable) if report_file.is_file() else None
    if report is not None:
        return report

    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImageFolderError(f"cannot create the cache for checked copies, {cache} ({error.strerror}). Pass a "
                               "cache_dir you can write to, or set DLBOOK_DATA_DIR to such a folder.") from None
    with folder_lock(cache / ".locks" / f"{folder.name}-{key}.lock", f"the checked copy of {folder}"):
        report = _read_report(report_file, usable) if report_file.is_file() else None
        if report is not None:  # another process built it while this one waited
            return report
        for stale in cache.glob(f".{folder.name}-{key}.staging.*"):  # left by a check that was killed
            shutil.rmtree(stale, ignore_errors=True)
        return _build_usable_copy(folder, classes, loose, problems, usable, cache, key,
                                  max_per_class=max_per_class, skip_per_class=skip_per_class, min_classes=min_classes)


def _build_usable_copy(folder: Path, classes: dict[str, list[Path]], loose: list[str],
                       problems: list[tuple[str, str]], usable: Path, cache: Path, key: str, *,
                       max_per_class: int | None, skip_per_class: int, min_classes: int) -> ImageFolderReport:
    from PIL import Image

    staging = Path(tempfile.mkdtemp(dir=cache, prefix=f".{folder.name}-{key}.staging."))
    try:
        counts: dict[str, int] = {}
        converted: list[tuple[str, str]] = []
        skipped: list[tuple[str, str]] = [(_shown(name), "loose file outside any class folder") for name in loose]
        skipped += [(_shown(str(Path(path).relative_to(folder))) if Path(path).is_relative_to(folder) else _shown(path),
                     why) for path, why in problems]
        used: set[str] = set()
        for name, files in classes.items():
            kept = passed = 0
            for path in files:
                if max_per_class is not None and kept >= max_per_class:
                    break
                relative = path.relative_to(folder)
                action, why = _inspect(path)
                if action == "skip":
                    skipped.append((_shown(str(relative)), why))
                    continue
                if passed < skip_per_class:
                    passed += 1
                    continue
                inner = path.relative_to(folder / name)
                label = Path(name)
                if action == "keep":
                    extension = ".jpg" if why.startswith("JPEG") else ".png"
                    wanted = inner if path.suffix.lower() in KERAS_EXTENSIONS else inner.with_suffix(extension)
                    target = staging / _unique(label / wanted, label / inner, used)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.symlink_to(path.resolve())
                else:
                    target = staging / _unique(label / inner.with_suffix(".png"), label / inner, used)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    try:
                        with Image.open(path) as image, open(target, "xb") as out:  # "x": a new file, never a link
                            to_rgb(image).save(out, format="PNG")
                    except (OSError, ValueError) as error:
                        target.unlink(missing_ok=True)
                        skipped.append((_shown(str(relative)), f"could not be converted ({error})"))
                        continue
                    scaled = " (16-bit values scaled to 8 bits)" if why.split()[-1] in _WIDE else ""
                    converted.append((_shown(str(relative)), f"{why} → RGB PNG{scaled}"))
                kept += 1
            counts[name] = kept
        dropped = tuple(name for name, n in counts.items() if n == 0)
        for name in dropped:
            del counts[name]
            shutil.rmtree(staging / name, ignore_errors=True)
        if len(counts) < min_classes:
            raise ImageFolderError(
                f"image folder {folder} has {len(counts)} class folder(s) with usable images "
                f"({', '.join(counts) or 'none'}), {min_classes} are needed"
                + (f"; without a usable image: {', '.join(dropped)}" if dropped else "")
                + ". Add images to each class folder (JPEG or PNG files Pillow can open).")
        report = ImageFolderReport(
            directory=folder.resolve(), usable_directory=usable, class_names=tuple(counts),
            counts=counts, converted=tuple(converted), skipped=tuple(skipped), dropped_classes=dropped,
        )
        payload = dataclasses.asdict(report)
        payload.update(directory=str(report.directory), usable_directory=str(usable))
        (staging / ".report.json").write_text(json.dumps(payload, indent=1), encoding="utf-8")
        # Rename into place last: an interrupted check leaves only a staging folder, never a half copy.
        if usable.exists():
            shutil.rmtree(usable)
        os.replace(staging, usable)
        return report
    except OSError as error:
        raise ImageFolderError(f"building the checked copy of {folder} in {cache} failed ({error.strerror or error}); "
                               "the image folder itself is untouched. Check that disk (or pass another cache_dir).") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# --------------------------------------------------------------------------------------------------
# The book's Dogs-vs-Cats splits


def cats_and_dogs_folders(train_per_class: int | None = None, validation_per_class: int | None = None,
                          test_per_class: int | None = None) -> dict[str, ImageFolderReport]:
    """The `train`, `validation` and `test` splits of the small Dogs-vs-Cats set, checked.

    The prepared set has `train/` (cat/dog.0–999) and `validation/` (cat/dog.1000–1499). The course
    also needs a test set that no choice was made on, so `validation/` is cut in two: its first half
    per class (1000–1249) validates, its second half (1250–1499) tests. Each `*_per_class` takes at
    most that many images per class from its split (None: all of them).
    """
    root = locate("cats_and_dogs_small")
    half = _half_of(root / "validation")
    return {
        "train": check_image_folder(root / "train", max_per_class=train_per_class),
        "validation": check_image_folder(root / "validation", max_per_class=_at_most(validation_per_class, half)),
        "test": check_image_folder(root / "validation", skip_per_class=half,
                                   max_per_class=_at_most(test_per_class, half)),
    }


def _half_of(folder: Path) -> int:
    counts = [len(_class_files(p)) for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if not counts or min(counts) < 2:
        raise ImageFolderError(f"{folder}: needs at least two images per class to split into validation and test")
    return min(counts) // 2


def _at_most(requested: int | None, limit: int) -> int:
    return limit if requested is None else min(requested, limit)


def image_files(report: ImageFolderReport) -> Iterable[tuple[Path, str]]:
    """Every usable image of a checked folder as (path, class name), in label order."""
    for name in report.class_names:
        for path in _class_files(report.usable_directory / name):
            yield path, name


# --------------------------------------------------------------------------------------------------
# From a checked folder to a training pipeline


def image_dataset(report: ImageFolderReport, *, image_size: tuple[int, int], batch_size: int,
                  shuffle: bool, label_mode: str = "binary", seed: int | None = None,
                  cache_8_bit: bool = False) -> tf.data.Dataset:
    """A cached, batched, prefetched `tf.data` pipeline of a checked folder's images and labels.

    The images are read with `keras.utils.image_dataset_from_directory` in file order, decoded and
    resized once, and then kept in memory by `cache()`. Shuffling comes *after* the cache, so that
    every epoch sees the images in a new order and in new batches (shuffling before `cache()` would
    freeze the first epoch's order). The dataset keeps `class_names` and `file_paths` (in the order
    of an unshuffled pass) as attributes, like the one Keras returns. With `cache_8_bit`, the cache
    holds the resized pixels rounded to bytes, a quarter of the memory of float32 (for larger images
    or more photos); batches still come out as float32.
    """
    import keras
    import tensorflow as tf

    if label_mode == "binary" and len(report.class_names) != 2:
        raise ValueError(f"label_mode='binary' needs exactly two classes, {report.usable_directory} has "
                         f"{len(report.class_names)} ({', '.join(report.class_names)}); use 'int' or 'categorical'.")
    images = keras.utils.image_dataset_from_directory(
        report.usable_directory, label_mode=label_mode, image_size=image_size,
        batch_size=None, shuffle=False, verbose=False)
    if list(images.class_names) != list(report.class_names):
        raise ImageFolderError(f"{report.usable_directory}: Keras found classes {images.class_names}, the check "
                               f"found {list(report.class_names)}; run check_image_folder again to rebuild it.")
    file_paths, class_names = list(images.file_paths), list(images.class_names)
    if cache_8_bit:
        images = images.map(lambda image, label: (tf.cast(tf.round(image), tf.uint8), label))
    dataset = images.cache()
    if shuffle:
        dataset = dataset.shuffle(len(file_paths), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if cache_8_bit:
        dataset = dataset.map(lambda batch, labels: (tf.cast(batch, tf.float32), labels))
    dataset = dataset.prefetch(tf.data.AUTOTUNE)
    dataset.class_names = class_names
    dataset.file_paths = file_paths
    return dataset
