"""The data layer, with small files the tests make: no network, no real datasets."""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dlbook.data import registry, store
from dlbook.data.mnist import load_mnist, read_idx
from dlbook.data.registry import Item, RemoteFile, Source
from dlbook.data.store import DataError


@pytest.fixture
def places(tmp_path, monkeypatch):
    """An empty data dir and an empty mirror, named by the environment variables."""
    data_dir, mirror = tmp_path / "data", tmp_path / "mirror"
    data_dir.mkdir()
    mirror.mkdir()
    monkeypatch.setenv("DLBOOK_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DLBOOK_DATA_MIRROR", str(mirror))
    return data_dir, mirror


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def register(monkeypatch, item: Item) -> Item:
    monkeypatch.setitem(registry.ITEMS, item.name, item)
    return item


def file_item(name: str, content: bytes, urls: tuple[str, ...] = ()) -> Item:
    return Item(name=name, title=f"test file {name}", target=f"files/{name}.bin",
                sources=(Source(files=(RemoteFile(f"{name}.bin", urls, sha256=sha256(content)),),
                                unpack="copy", provides=("",), note="test"),),
                size_note="", citation="", license="")


def archive_item(name: str, archive: bytes, urls: tuple[str, ...] = ()) -> Item:
    return Item(name=name, title=f"test archive {name}", target=name,
                sources=(Source(files=(RemoteFile(f"{name}.zip", urls, sha256=sha256(archive)),),
                                unpack="zip", root="toy", provides=("train/a", "train/b"), note="test"),),
                size_note="", citation="", license="")


TOY_FILES = {"toy/train/a/1.txt": b"one", "toy/train/b/2.txt": b"two", "toy/README": b"toy"}


def no_leftovers(folder: Path) -> list[Path]:
    """Temporary or partial files that must never stay behind."""
    return [p for p in folder.rglob("*") if ".staging." in p.name or p.name.endswith((".part", ".tmp"))]


# --------------------------------------------------------------------------------------------------


def test_registry_covers_every_item_the_course_uses():
    expected = {"mnist", "imdb", "imdb_word_index", "cats_and_dogs_small", "oxford_pets", "jena_climate",
                "vgg16_notop", "mobilenet_025_notop", "imagenet_class_index", "elephant"}
    assert expected <= set(registry.ITEMS)
    for entry in registry.ITEMS.values():
        canonical = entry.sources[0].files
        assert all(f.urls for f in canonical), f"{entry.name}: the canonical source needs origin URLs"
        for source in entry.sources:
            assert source.unpack in {"copy", "zip", "tar"}
            for f in source.files:
                if f.sha256:
                    assert len(f.sha256) == 64 and int(f.sha256, 16) >= 0
                if f.md5:
                    assert len(f.md5) == 32 and int(f.md5, 16) >= 0
    # MNIST accepts both Keras' npz and the four IDX files.
    mnist_files = [{f.filename for f in s.files} for s in registry.ITEMS["mnist"].sources]
    assert {"mnist.npz"} in mnist_files
    assert {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} in mnist_files


def test_mirror_holding_the_canonical_file_is_verified_and_prepared(places, monkeypatch):
    data_dir, mirror = places
    content = b"weights" * 100
    register(monkeypatch, file_item("toyfile", content))
    (mirror / "toyfile.bin").write_bytes(content)
    path = store.locate("toyfile", progress=False)
    assert path == data_dir / "files" / "toyfile.bin"
    assert path.read_bytes() == content
    assert store.verify("toyfile") == []
    # Now it resolves from the data dir even with the mirror gone.
    (mirror / "toyfile.bin").unlink()
    assert store.locate("toyfile", download_missing=False) == path


def test_mirror_archive_is_unpacked_atomically(places, monkeypatch):
    data_dir, mirror = places
    archive = make_zip(TOY_FILES)
    register(monkeypatch, archive_item("toyset", archive))
    (mirror / "toyset.zip").write_bytes(archive)
    path = store.locate("toyset", progress=False)
    assert path == data_dir / "toyset"
    assert (path / "train" / "a" / "1.txt").read_bytes() == b"one"
    assert (data_dir / ".dlbook" / "toyset.json").is_file()
    assert no_leftovers(data_dir) == []


def test_mirror_holding_a_prepared_copy_is_used_in_place(places, monkeypatch):
    data_dir, mirror = places
    register(monkeypatch, archive_item("toyset", make_zip(TOY_FILES)))
    for rel, content in TOY_FILES.items():
        target = mirror / "toyset" / Path(rel).relative_to("toy")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    path = store.locate("toyset", download_missing=False)
    assert path == mirror / "toyset"
    assert not (data_dir / "toyset").exists()
    assert store.status("toyset").startswith("mirror")


def test_checksum_mismatch_is_rejected_and_nothing_is_cached(places, monkeypatch):
    data_dir, mirror = places
    register(monkeypatch, file_item("toyfile", b"the real content"))
    (mirror / "toyfile.bin").write_bytes(b"something else")
    with pytest.raises(DataError, match=r"toyfile\.bin .*failed its SHA256 check"):
        store.locate("toyfile", download_missing=False)
    assert not (data_dir / "files" / "toyfile.bin").exists()
    assert not (data_dir / ".dlbook" / "toyfile.json").exists()
    assert store.prepared_path("toyfile") is None


def test_truncated_archive_fails_clearly_and_leaves_nothing(places, monkeypatch):
    data_dir, mirror = places
    truncated = make_zip(TOY_FILES)[:-40]
    # The checksum matches the truncated bytes, so it is the unpacking that must catch it.
    register(monkeypatch, archive_item("toyset", truncated))
    (mirror / "toyset.zip").write_bytes(truncated)
    with pytest.raises(DataError, match="corrupt or truncated"):
        store.locate("toyset", download_missing=False)
    assert not (data_dir / "toyset").exists()
    assert no_leftovers(data_dir) == []


def test_corrupt_archive_member_is_detected(places, monkeypatch):
    data_dir, mirror = places
    archive = bytearray(make_zip({"toy/train/a/1.txt": b"x" * 5000, "toy/train/b/2.txt": b"y" * 5000}))
    # Flip bytes inside the first member's compressed data: the CRC check must fail.
    archive[60:64] = b"\x00\xff\x00\xff"
    register(monkeypatch, archive_item("toyset", bytes(archive)))
    (mirror / "toyset.zip").write_bytes(bytes(archive))
    with pytest.raises(DataError, match="corrupt"):
        store.locate("toyset", download_missing=False)
    assert not (data_dir / "toyset").exists()


def test_unsafe_archive_paths_are_refused(places, monkeypatch):
    data_dir, mirror = places
    archive = make_zip({"toy/train/a/1.txt": b"1", "toy/train/b/2.txt": b"2", "../escape.txt": b"!"})
    register(monkeypatch, archive_item("toyset", archive))
    (mirror / "toyset.zip").write_bytes(archive)
    with pytest.raises(DataError, match="unsafe member path"):
        store.locate("toyset", download_missing=False)
    assert not (data_dir.parent / "escape.txt").exists()


def test_missing_item_offline_names_every_place_and_the_fix(places, monkeypatch):
    data_dir, _ = places
    monkeypatch.delenv("DLBOOK_DATA_MIRROR")
    register(monkeypatch, file_item("toyfile", b"abc", urls=((data_dir / "nowhere.bin").as_uri(),)))
    with pytest.raises(DataError) as error:
        store.locate("toyfile", progress=False)
    message = str(error.value)
    assert "cannot find toyfile" in message
    assert str(data_dir / "files" / "toyfile.bin") in message  # the data dir looked in
    assert "DLBOOK_DATA_MIRROR is not set" in message
    assert "nowhere.bin" in message  # the download tried
    assert "python -m dlbook.data fetch toyfile" in message  # how to fix it


def test_download_is_verified_and_written_atomically(places, monkeypatch, tmp_path):
    data_dir, _ = places
    origin = tmp_path / "origin"
    origin.mkdir()
    archive = make_zip(TOY_FILES)
    (origin / "toyset.zip").write_bytes(archive)
    register(monkeypatch, archive_item("toyset", archive, urls=((origin / "toyset.zip").as_uri(),)))
    path = store.locate("toyset", progress=False)
    assert (path / "train" / "b" / "2.txt").read_bytes() == b"two"
    # The downloaded archive is removed once unpacked; nothing partial remains.
    assert not (data_dir / ".downloads" / "toyset.zip").exists()
    assert no_leftovers(data_dir) == []


def test_download_with_wrong_checksum_leaves_no_file(places, monkeypatch, tmp_path):
    data_dir, _ = places
    (tmp_path / "toyfile.bin").write_bytes(b"tampered")
    remote = RemoteFile("toyfile.bin", ((tmp_path / "toyfile.bin").as_uri(),), sha256=sha256(b"genuine"))
    dest = data_dir / "files" / "toyfile.bin"
    with pytest.raises(DataError, match="failed its SHA256 check"):
        store.download(remote, dest, progress=False)
    assert not dest.exists()
    assert no_leftovers(data_dir) == []


def test_interrupted_download_leaves_no_partial_file(places, monkeypatch):
    data_dir, _ = places

    class BrokenResponse(io.BytesIO):
        headers = {"Content-Length": str(3 * store.CHUNK)}

        def read(self, size=-1):
            if self.tell() >= store.CHUNK:
                raise ConnectionResetError("connection lost")
            return super().read(size)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(store.urllib.request, "urlopen",
                        lambda url, timeout: BrokenResponse(b"x" * (3 * store.CHUNK)))
    remote = RemoteFile("big.bin", ("https://example.invalid/big.bin",), sha256="0" * 64)
    dest = data_dir / "big.bin"
    with pytest.raises(DataError, match="connection lost"):
        store.download(remote, dest, progress=False)
    assert not dest.exists()
    assert no_leftovers(data_dir) == []


def test_md5_only_origin_is_checked_with_md5(places, monkeypatch):
    data_dir, mirror = places
    content = b"vgg weights stand-in"
    item = Item(name="toymd5", title="md5-only", target="models/toy.h5",
                sources=(Source(files=(RemoteFile("toy.h5", ("https://example.invalid/toy.h5",),
                                                  md5=hashlib.md5(content).hexdigest()),),
                                unpack="copy", provides=("",), note="test"),),
                size_note="", citation="", license="")
    register(monkeypatch, item)
    (mirror / "toy.h5").write_bytes(b"not the weights")
    with pytest.raises(DataError, match="MD5 check"):
        store.locate("toymd5", download_missing=False)
    (mirror / "toy.h5").write_bytes(content)
    assert store.locate("toymd5", download_missing=False).read_bytes() == content


# --------------------------------------------------------------------------------------------------
# MNIST


def idx_bytes(array: np.ndarray) -> bytes:
    magic = 0x0803 if array.ndim == 3 else 0x0801
    return gzip.compress(struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes())


def tiny_mnist():
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, size=(6, 28, 28), dtype=np.uint8)
    y_train = np.array([5, 0, 4, 1, 9, 2], dtype=np.uint8)
    x_test = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    y_test = np.array([7, 2, 1], dtype=np.uint8)
    return x_train, y_train, x_test, y_test


def register_tiny_mnist(monkeypatch, files: dict[str, bytes]):
    """The real MNIST registry entry, with the checksums of the test's tiny files."""
    real = registry.ITEMS["mnist"]
    sources = []
    for source in real.sources:
        remotes = tuple(RemoteFile(f.filename, f.urls, sha256=sha256(files[f.filename]), mirror_paths=f.mirror_paths)
                        if f.filename in files else f for f in source.files)
        sources.append(Source(files=remotes, unpack=source.unpack, provides=source.provides, note=source.note))
    monkeypatch.setitem(registry.ITEMS, "mnist", Item(**{**real.__dict__, "sources": tuple(sources)}))


def test_mnist_loads_from_the_four_idx_files(places, monkeypatch):
    _, mirror = places
    x_train, y_train, x_test, y_test = tiny_mnist()
    files = {"train-images-idx3-ubyte.gz": idx_bytes(x_train), "train-labels-idx1-ubyte.gz": idx_bytes(y_train),
             "t10k-images-idx3-ubyte.gz": idx_bytes(x_test), "t10k-labels-idx1-ubyte.gz": idx_bytes(y_test)}
    (mirror / "mnist").mkdir()
    for name, content in files.items():
        (mirror / "mnist" / name).write_bytes(content)  # the layout of the shared mirror
    register_tiny_mnist(monkeypatch, files)
    (a, b), (c, d) = load_mnist()
    np.testing.assert_array_equal(a, x_train)
    np.testing.assert_array_equal(b, y_train)
    np.testing.assert_array_equal(c, x_test)
    np.testing.assert_array_equal(d, y_test)


def test_mnist_prefers_keras_npz_when_present(places, monkeypatch):
    _, mirror = places
    x_train, y_train, x_test, y_test = tiny_mnist()
    buffer = io.BytesIO()
    np.savez(buffer, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    files = {"mnist.npz": buffer.getvalue()}
    (mirror / "mnist.npz").write_bytes(files["mnist.npz"])
    register_tiny_mnist(monkeypatch, files)
    (a, b), (c, d) = load_mnist()
    assert a.shape == (6, 28, 28) and list(d) == [7, 2, 1]


def test_read_idx_rejects_truncated_and_wrong_files(tmp_path):
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    good = idx_bytes(images)
    raw = gzip.decompress(good)
    (tmp_path / "short.gz").write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(DataError, match="header promises"):
        read_idx(tmp_path / "short.gz", 3)
    (tmp_path / "labels.gz").write_bytes(idx_bytes(np.zeros(100, dtype=np.uint8)))
    with pytest.raises(DataError, match="not an IDX file with 3"):
        read_idx(tmp_path / "labels.gz", 3)
    (tmp_path / "notgzip.gz").write_bytes(b"plain text, not gzip")
    with pytest.raises(DataError, match="cannot be read"):
        read_idx(tmp_path / "notgzip.gz", 3)


def test_dogs_vs_cats_split_from_kaggle_train_zip(places, monkeypatch):
    _, mirror = places
    names = {f"train/{animal}.{n}.jpg": f"{animal}{n}".encode() for animal in ("cat", "dog") for n in (0, 999, 1000, 1499, 1500)}
    archive = make_zip(names)
    real = registry.ITEMS["cats_and_dogs_small"]
    kaggle = real.sources[0]
    source = Source(files=(RemoteFile("train.zip", kaggle.files[0].urls, sha256=sha256(archive)),),
                    unpack="zip", prepare=kaggle.prepare, provides=kaggle.provides, note=kaggle.note)
    monkeypatch.setitem(registry.ITEMS, "cats_and_dogs_small", Item(**{**real.__dict__, "sources": (source,)}))
    (mirror / "train.zip").write_bytes(archive)
    path = store.locate("cats_and_dogs_small", download_missing=False)
    assert sorted(p.name for p in (path / "train" / "cats").iterdir()) == ["cat.0.jpg", "cat.999.jpg"]
    assert sorted(p.name for p in (path / "validation" / "dogs").iterdir()) == ["dog.1000.jpg", "dog.1499.jpg"]
    assert not any(p.name.endswith(".1500.jpg") for p in path.rglob("*"))


def test_cli_list_and_failing_fetch(places):
    env_python = sys.executable
    listing = subprocess.run([env_python, "-m", "dlbook.data", "list"], capture_output=True, text=True, check=True)
    for name in ("mnist", "imdb", "oxford_pets", "vgg16_notop"):
        assert name in listing.stdout
    failed = subprocess.run([env_python, "-m", "dlbook.data", "fetch", "no_such_item"], capture_output=True, text=True)
    assert failed.returncode == 1
    assert "no dataset or model file called 'no_such_item'" in failed.stderr
