"""The data layer: a registry of every dataset and weight file, resolved locally or downloaded.

    from dlbook import data
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    (x_train, y_train), (x_test, y_test) = data.load_imdb(num_words=10000)
    split = data.imdb_review_split(10000, train_samples=10000, validation_samples=2500, test_samples=5000)
    path = data.locate("cats_and_dogs_small")

    print(data.provenance("cats_and_dogs_small"))  # the source the prepared copy came from, with counts

Command line: `python -m dlbook.data list | fetch NAME... | fetch --all | fetch --book | verify`.
"""

from dlbook.data.imdb import decode_review, encode_review, imdb_texts, imdb_word_index, load_imdb, tokenize
from dlbook.data.mnist import load_mnist, read_idx
from dlbook.data.registry import ITEMS, Item, RemoteFile, Source
from dlbook.data.review_split import ReviewSplit, imdb_review_split
from dlbook.data.store import (
    DataError,
    count_files,
    data_dir,
    download,
    fetch,
    file_digest,
    item,
    locate,
    mirror_dirs,
    provenance,
    status,
    verify,
)

__all__ = [
    "ITEMS", "Item", "RemoteFile", "Source", "DataError", "count_files", "data_dir", "decode_review", "download",
    "encode_review", "fetch", "file_digest", "imdb_review_split", "imdb_texts", "imdb_word_index", "item",
    "load_imdb", "load_mnist", "locate", "mirror_dirs", "provenance", "read_idx", "ReviewSplit", "status",
    "tokenize", "verify",
]
