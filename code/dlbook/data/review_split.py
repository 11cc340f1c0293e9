"""A fixed split of the IMDB reviews into training, validation and test, shared by Lessons 9 and 11.

Lesson 9 trains recurrent networks and Lesson 11 a transformer; to compare them fairly, every model
must learn from the same training reviews, be chosen on the same validation reviews and be measured
on the same test reviews. `imdb_review_split` loads them once, as integer sequences (see
`dlbook.data.imdb`), in the layout `model.fit(..., validation_split=...)` expects: the training
reviews first, the validation reviews last, so that Keras, which holds out the *last* fraction of
the arrays it is given, holds out exactly the validation reviews.

    split = imdb_review_split(num_words=10_000, train_samples=10_000, validation_samples=2_500,
                              test_samples=5_000)
    x = keras.utils.pad_sequences(split.sequences, maxlen=200)
    model.fit(x, split.labels, validation_split=split.validation_split)
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from dlbook.data.imdb import load_imdb


@dataclasses.dataclass(frozen=True)
class ReviewSplit:
    """IMDB reviews as integer sequences: training and validation reviews together, then the test reviews.

    `sequences` and `labels` hold the `train_samples` training reviews followed by the
    `validation_samples` validation reviews (all drawn from the dataset's training half);
    `test_sequences` and `test_labels` come from its test half. Sequences are object arrays of int32
    arrays, each starting with the start token 1.
    """

    sequences: np.ndarray
    labels: np.ndarray
    test_sequences: np.ndarray
    test_labels: np.ndarray
    validation_samples: int
    num_words: int

    def __post_init__(self) -> None:
        if len(self.sequences) != len(self.labels) or len(self.test_sequences) != len(self.test_labels):
            raise ValueError("every review needs one label: the sequences and labels differ in length")
        if not 0 < self.validation_samples < len(self.sequences):
            raise ValueError(f"validation_samples={self.validation_samples} must lie between 0 and the "
                             f"{len(self.sequences)} reviews loaded for training and validation")

    @property
    def train_samples(self) -> int:
        return len(self.sequences) - self.validation_samples

    @property
    def validation_split(self) -> float:
        """The `validation_split` for `model.fit` that holds out exactly the last `validation_samples`.

        Keras keeps the first `floor(n * (1 - validation_split))` samples for training. The plain
        fraction `validation_samples / n` can land a hair below a whole number after rounding (and
        floor to one review too few), so the fraction returned aims half a review inside.
        """
        n = len(self.sequences)
        fraction = self.validation_samples / n
        if math.floor(n * (1.0 - fraction)) != self.train_samples:
            fraction = (self.validation_samples - 0.5) / n
        return fraction

    def part(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(sequences, labels) of `"train"`, `"validation"` or `"test"`."""
        if name == "train":
            return self.sequences[: self.train_samples], self.labels[: self.train_samples]
        if name == "validation":
            return self.sequences[self.train_samples:], self.labels[self.train_samples:]
        if name == "test":
            return self.test_sequences, self.test_labels
        raise ValueError(f"part {name!r}: use 'train', 'validation' or 'test'")


def imdb_review_split(num_words: int, train_samples: int | None, validation_samples: int,
                      test_samples: int | None, seed: int = 113) -> ReviewSplit:
    """The IMDB reviews for training (then validation) and testing, always the same for the same arguments.

    `train_samples=None` uses every training review not held out for validation (25,000 in all);
    `test_samples=None` every test review. The reviews are `load_imdb`'s, shuffled with `seed`.
    """
    if validation_samples < 1:
        raise ValueError(f"validation_samples={validation_samples}: hold out at least one review for validation")
    total = None if train_samples is None else train_samples + validation_samples
    (sequences, labels), (test_sequences, test_labels) = load_imdb(
        num_words=num_words, train_samples=total, test_samples=test_samples, seed=seed)
    return ReviewSplit(sequences=sequences, labels=labels, test_sequences=test_sequences, test_labels=test_labels,
                       validation_samples=validation_samples, num_words=num_words)
