"""The fixed IMDB split of Lessons 9 and 11, on the tiny archive of test_imdb, and Keras' validation_split."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from dlbook.data import imdb_review_split, load_imdb
from dlbook.data.review_split import ReviewSplit
from test_imdb import tiny_imdb  # noqa: F401  (the fixture)


def test_split_holds_training_then_validation_reviews_and_the_test_reviews(tiny_imdb):  # noqa: F811
    split = imdb_review_split(num_words=20, train_samples=3, validation_samples=1, test_samples=2)
    (x_train, y_train), (x_test, y_test) = load_imdb(num_words=20, train_samples=4, test_samples=2)
    assert split.train_samples == 3 and split.validation_samples == 1
    assert [s.tolist() for s in split.sequences] == [s.tolist() for s in x_train]
    assert np.array_equal(split.labels, y_train) and np.array_equal(split.test_labels, y_test)
    train, validation = split.part("train"), split.part("validation")
    assert len(train[0]) == 3 and len(validation[0]) == 1
    assert validation[0][0].tolist() == x_train[3].tolist()  # the validation reviews come last
    assert split.part("test")[0][1].tolist() == x_test[1].tolist()
    with pytest.raises(ValueError, match="'train', 'validation' or 'test'"):
        split.part("dev")


def test_same_arguments_give_the_same_reviews(tiny_imdb):  # noqa: F811
    first = imdb_review_split(num_words=20, train_samples=2, validation_samples=1, test_samples=None)
    second = imdb_review_split(num_words=20, train_samples=2, validation_samples=1, test_samples=None)
    assert [s.tolist() for s in first.sequences] == [s.tolist() for s in second.sequences]
    assert len(first.test_sequences) == 4


def test_all_training_reviews_with_none(tiny_imdb):  # noqa: F811
    split = imdb_review_split(num_words=20, train_samples=None, validation_samples=1, test_samples=1)
    assert len(split.sequences) == 4 and split.train_samples == 3


def test_too_many_reviews_is_a_clear_error(tiny_imdb):  # noqa: F811
    with pytest.raises(Exception, match="at most 4"):
        imdb_review_split(num_words=20, train_samples=4, validation_samples=1, test_samples=1)
    with pytest.raises(ValueError, match="at least one review"):
        imdb_review_split(num_words=20, train_samples=2, validation_samples=0, test_samples=1)


def _split(n: int, validation: int) -> ReviewSplit:
    sequences = np.empty(n, dtype=object)
    sequences[:] = [np.array([1, i], dtype=np.int32) for i in range(n)]
    return ReviewSplit(sequences=sequences, labels=np.arange(n) % 2, test_sequences=sequences[:1],
                       test_labels=np.zeros(1, dtype=np.int64), validation_samples=validation, num_words=10)


# (10, 8), (12, 5) and (14, 9) are among the many cases where floor(n * (1 - v / n)) falls one short.
@pytest.mark.parametrize("n, validation", [(12_500, 2_500), (25_000, 5_000), (7, 3), (10, 1), (10, 8), (12, 5),
                                           (14, 9), (1_000, 333), (12_345, 6_789)])
def test_validation_split_holds_out_exactly_the_validation_reviews(n, validation):
    split = _split(n, validation)
    # Keras keeps floor(n * (1 - validation_split)) samples for training (array_slicing.train_validation_split).
    assert math.floor(n * (1.0 - split.validation_split)) == n - validation


def test_keras_fit_validates_on_the_last_reviews():
    # What the chapters rely on: fit(validation_split=...) evaluates on exactly split.part("validation").
    split = _split(10, 3)
    x = keras.utils.pad_sequences(split.sequences, maxlen=2).astype("float32")
    y = split.labels.astype("float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.SGD(learning_rate=0.0))
    history = model.fit(x, y, validation_split=split.validation_split, epochs=1, batch_size=10, verbose=0)
    held_out = model.evaluate(x[split.train_samples:], y[split.train_samples:], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(held_out, rel=1e-5)
    trained_on = model.evaluate(x[:split.train_samples], y[:split.train_samples], verbose=0)
    assert trained_on != pytest.approx(held_out, rel=1e-3)  # the two parts differ, so the check means something


def test_inconsistent_split_is_refused():
    with pytest.raises(ValueError, match="validation_samples=5"):
        _split(5, 5)
    sequences = _split(4, 1).sequences
    with pytest.raises(ValueError, match="one label"):
        ReviewSplit(sequences=sequences, labels=np.zeros(3), test_sequences=sequences, test_labels=np.zeros(4),
                    validation_samples=1, num_words=10)
