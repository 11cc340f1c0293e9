"""The IMDB loader and multi-hot vectors, on a tiny archive the tests make: two reviews per class and split."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import numpy as np
import pytest

from dlbook.data import imdb, registry
from dlbook.data.registry import Item, RemoteFile, Source
from dlbook.data.store import DataError
from dlbook.encoding import multi_hot

WORD_INDEX = {"the": 1, "movie": 2, "great": 3, "bad": 4, "don't": 5, "br": 6, "plot": 7, "film": 8}
REVIEWS = {
    "aclImdb/train/pos/0_9.txt": "The movie is GREAT!<br /><br />Don't miss it.",
    "aclImdb/train/pos/7_10.txt": "Great film, great plot.",
    "aclImdb/train/neg/3_1.txt": "Bad, bad movie. The plot? Bad.",
    "aclImdb/train/neg/12_2.txt": "The film is bad (don't watch)",
    "aclImdb/test/pos/1_8.txt": "A great film",
    "aclImdb/test/pos/2_7.txt": "Great movie, great",
    "aclImdb/test/neg/1_3.txt": "bad plot",
    "aclImdb/test/neg/5_4.txt": "Bad film: unwatchable",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def tiny_imdb(tmp_path, monkeypatch):
    """A mirror holding a tiny aclImdb zip and word index, registered in place of the real items."""
    data_dir, mirror = tmp_path / "data", tmp_path / "mirror"
    data_dir.mkdir()
    mirror.mkdir()
    monkeypatch.setenv("DLBOOK_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DLBOOK_DATA_MIRROR", str(mirror))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in REVIEWS.items():
            zf.writestr(name, text.encode("utf-8"))
        zf.writestr("aclImdb/README", b"tiny")
    archive = buffer.getvalue()
    index = json.dumps(WORD_INDEX).encode()
    (mirror / "aclImdb_v1_labeled.zip").write_bytes(archive)
    (mirror / "imdb_word_index.json").write_bytes(index)
    real, real_index = registry.ITEMS["imdb"], registry.ITEMS["imdb_word_index"]
    monkeypatch.setitem(registry.ITEMS, "imdb", Item(**{**real.__dict__, "sources": (Source(
        files=(RemoteFile("aclImdb_v1_labeled.zip", sha256=sha256(archive)),), unpack="zip", root="aclImdb",
        provides=real.sources[1].provides, note="test"),)}))
    monkeypatch.setitem(registry.ITEMS, "imdb_word_index", Item(**{**real_index.__dict__, "sources": (Source(
        files=(RemoteFile("imdb_word_index.json", sha256=sha256(index)),), unpack="copy", provides=("",),
        note="test"),)}))
    return data_dir


def test_tokenize_splits_like_the_keras_word_index():
    # A-Z lowercased only (the index holds "Álex"), apostrophes kept, <br /> becomes "br".
    assert imdb.tokenize('Don\'t <br />STOP-motion:  Álex\'s "film"') == ["don't", "br", "stop", "motion", "Álex's", "film"]
    assert imdb.tokenize("") == []


def test_loader_gives_labels_and_keras_indices(tiny_imdb):
    (x_train, y_train), (x_test, y_test) = imdb.load_imdb()
    assert len(x_train) == len(y_train) == 4 and len(x_test) == len(y_test) == 4
    assert sorted(y_train.tolist()) == [0, 0, 1, 1] and sorted(y_test.tolist()) == [0, 0, 1, 1]
    texts, labels = imdb.imdb_texts("train")
    assert np.array_equal(labels, y_train)  # the same order as load_imdb
    first = texts.index(REVIEWS["aclImdb/train/pos/0_9.txt"])
    # the=1 movie=2 is=? great=3 br=6 br=6 don't=5 miss=? it=?, each rank + 3, unknown words 2, start 1.
    assert x_train[first].tolist() == [1, 4, 5, 2, 6, 9, 9, 8, 2, 2]
    assert y_train[first] == 1
    negative = texts.index(REVIEWS["aclImdb/train/neg/3_1.txt"])
    assert x_train[negative].tolist() == [1, 7, 7, 5, 4, 10, 7] and y_train[negative] == 0
    assert all(seq.dtype == np.int32 for seq in x_train)


def test_num_words_turns_rare_words_into_oov(tiny_imdb):
    (x_train, _), _ = imdb.load_imdb(num_words=8)
    texts, _ = imdb.imdb_texts("train")
    first = texts.index(REVIEWS["aclImdb/train/pos/0_9.txt"])
    # "br" (6 + 3 = 9) and "don't" (5 + 3 = 8) are at or above num_words=8.
    assert x_train[first].tolist() == [1, 4, 5, 2, 6, 2, 2, 2, 2, 2]
    assert max(int(seq.max()) for seq in x_train) < 8


def test_encode_and_decode_round_trip(tiny_imdb):
    (x_train, _), _ = imdb.load_imdb()
    texts, _ = imdb.imdb_texts("train")
    word_index = imdb.imdb_word_index()
    for text, sequence in zip(texts, x_train):
        assert np.array_equal(imdb.encode_review(text, word_index), sequence)
    assert imdb.decode_review([1, 4, 5, 2, 0, 3, 11], word_index) == "<start> the movie <oov> <pad> <unused> film"


def test_subsets_shuffle_with_the_seed(tiny_imdb):
    (x_a, y_a), (x_test, _) = imdb.load_imdb(train_samples=3, test_samples=2, seed=1)
    (x_b, y_b), _ = imdb.load_imdb(train_samples=3, test_samples=2, seed=1)
    assert len(x_a) == 3 and len(x_test) == 2
    assert all(np.array_equal(a, b) for a, b in zip(x_a, x_b)) and np.array_equal(y_a, y_b)
    orders = {tuple(imdb.imdb_texts("train", seed=seed)[0]) for seed in range(10)}
    assert len(orders) > 1


def test_encoded_reviews_are_cached_and_a_bad_cache_is_rebuilt(tiny_imdb, monkeypatch):
    (x_first, y_first), _ = imdb.load_imdb(num_words=9)
    cached = sorted((tiny_imdb / "cache" / "imdb").glob("*.npz"))
    assert [p.name.split("-")[0] for p in cached] == ["test", "train"]
    assert not list((tiny_imdb / "cache" / "imdb").glob("*.tmp"))

    def no_reading(path):
        raise AssertionError(f"read {path} although its encoding is cached")

    # A second load, with other options, reads no review file.
    read = imdb._read
    monkeypatch.setattr(imdb, "_read", no_reading)
    (x_cached, y_cached), _ = imdb.load_imdb(num_words=None)
    assert np.array_equal(y_cached, y_first)
    assert all(np.array_equal(np.where(c >= 9, 2, c), f) for c, f in zip(x_cached, x_first))

    monkeypatch.setattr(imdb, "_read", read)
    train_cache = next(p for p in cached if p.name.startswith("train"))
    train_cache.write_bytes(b"not an npz file")
    (x_rebuilt, _), _ = imdb.load_imdb(num_words=9)
    assert all(np.array_equal(a, b) for a, b in zip(x_rebuilt, x_first))
    with np.load(train_cache) as f:  # rewritten with sound content
        assert len(f["labels"]) == 4


def test_bad_arguments_and_data_are_clear_errors(tiny_imdb):
    with pytest.raises(ValueError, match="num_words=3 keeps no word"):
        imdb.load_imdb(num_words=3)
    with pytest.raises(DataError, match=r"train_samples=10 but .* holds 4 reviews"):
        imdb.load_imdb(train_samples=10)
    with pytest.raises(ValueError, match="split='dev'"):
        imdb.review_files(tiny_imdb / "aclImdb", "dev")
    (tiny_imdb / "imdb_word_index.json").write_text("{not json")
    with pytest.raises(DataError, match=r"imdb_word_index\.json: not a readable JSON word index"):
        imdb.imdb_word_index()
    for review in (tiny_imdb / "aclImdb" / "test" / "neg").iterdir():
        review.unlink()
    (tiny_imdb / "aclImdb" / "test" / "neg").rmdir()
    with pytest.raises(DataError, match=r"test/neg is missing"):
        imdb.review_files(tiny_imdb / "aclImdb", "test")


def test_multi_hot_marks_each_word_once():
    sequences = [np.array([1, 4, 4, 9], dtype=np.int32), np.array([], dtype=np.int32), [0, 2]]
    vectors = multi_hot(sequences, 10)
    assert vectors.shape == (3, 10) and vectors.dtype == np.uint8
    assert np.flatnonzero(vectors[0]).tolist() == [1, 4, 9]  # repeated 4 counts once
    assert vectors[1].sum() == 0
    assert np.flatnonzero(vectors[2]).tolist() == [0, 2]
    assert multi_hot(sequences, 10, dtype="float32").dtype == np.float32
    with pytest.raises(ValueError, match="index 10 does not fit num_words=10"):
        multi_hot([[3, 10]], 10)


def test_multi_hot_matches_keras_category_encoding():
    import keras

    rng = np.random.default_rng(0)
    sequences = [rng.integers(1, 50, size=n) for n in (5, 17, 1, 30)]
    padded = keras.utils.pad_sequences(sequences, padding="post")
    layer = keras.layers.CategoryEncoding(num_tokens=50, output_mode="multi_hot")
    expected = keras.ops.convert_to_numpy(layer(padded))
    # Padding fills index 0 in Keras' vectors; no word has index 0.
    assert np.array_equal(multi_hot(sequences, 50)[:, 1:], expected[:, 1:])
