"""MNIST as NumPy arrays, from Keras' `mnist.npz` or from the four canonical IDX files."""

from __future__ import annotations

import gzip
import struct
import zipfile
from pathlib import Path

import numpy as np

from dlbook.data.store import DataError, locate

# IDX magic numbers: 0x0803 = unsigned bytes, 3 dimensions (images); 0x0801 = 1 dimension (labels).
_IDX_MAGIC = {3: 0x00000803, 1: 0x00000801}


def read_idx(path: Path, dims: int) -> np.ndarray:
    """Read a gzip-compressed IDX file of unsigned bytes with `dims` dimensions."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            header = handle.read(4 + 4 * dims)
            if len(header) < 4 + 4 * dims:
                raise DataError(f"{path}: too short for an IDX header")
            magic, *shape = struct.unpack(f">I{dims}I", header)
            if magic != _IDX_MAGIC[dims]:
                raise DataError(f"{path}: not an IDX file with {dims} dimension(s) (magic {magic:#010x})")
            data = np.frombuffer(handle.read(), dtype=np.uint8)
    except (OSError, EOFError) as error:  # gzip raises these on truncated or non-gzip input
        raise DataError(f"{path}: cannot be read ({error}); run `python -m dlbook.data fetch --force mnist` "
                        "to prepare MNIST again") from None
    expected = int(np.prod(shape))
    if data.size != expected:
        raise DataError(f"{path}: holds {data.size:,} bytes of data, its header promises {expected:,} (truncated?)")
    return data.reshape(shape)


def load_mnist() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """`((x_train, y_train), (x_test, y_test))` as uint8 arrays, like `keras.datasets.mnist.load_data()`.

    Images have shape (n, 28, 28) and values 0-255; labels are digits 0-9.
    """
    folder = locate("mnist")
    npz = folder / "mnist.npz"
    if npz.is_file():
        if not zipfile.is_zipfile(npz):
            raise DataError(f"{npz}: not Keras' mnist.npz (an .npz is a zip archive; this is {npz.stat().st_size:,} "
                            "bytes of something else); run `python -m dlbook.data fetch --force mnist` to prepare "
                            "MNIST again")
        try:
            with np.load(npz, allow_pickle=False) as f:
                return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
            raise DataError(f"{npz}: cannot be read as Keras' mnist.npz ({error}); run "
                            "`python -m dlbook.data fetch --force mnist` to prepare MNIST again") from None
    x_train = read_idx(folder / "train-images-idx3-ubyte.gz", 3)
    y_train = read_idx(folder / "train-labels-idx1-ubyte.gz", 1)
    x_test = read_idx(folder / "t10k-images-idx3-ubyte.gz", 3)
    y_test = read_idx(folder / "t10k-labels-idx1-ubyte.gz", 1)
    for images, labels, split in ((x_train, y_train, "training"), (x_test, y_test, "test")):
        if len(images) != len(labels):
            raise DataError(f"MNIST {split} set: {len(images):,} images but {len(labels):,} labels")
    return (x_train, y_train), (x_test, y_test)
