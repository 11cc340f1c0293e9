"""Turning sequences of token indices into the fixed-size vectors a dense network reads."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def multi_hot(sequences: Sequence[Sequence[int]], num_words: int, dtype: str = "uint8") -> np.ndarray:
    """One row per sequence, with a 1 in column `i` when index `i` occurs in it and 0 elsewhere.

    Word order and repetitions are lost: a review becomes the set of its words. The default dtype
    stores each 0/1 in one byte, a quarter of float32; Keras casts each batch to float32 as it enters
    the first layer.
    """
    if num_words < 1:
        raise ValueError(f"num_words={num_words}: the vectors need at least one column")
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    columns = np.concatenate([np.asarray(s, dtype=np.int64) for s in sequences]) if lengths.sum() else np.zeros(0, np.int64)
    if columns.size and (columns.min() < 0 or columns.max() >= num_words):
        bad = int(columns.max() if columns.max() >= num_words else columns.min())
        raise ValueError(f"index {bad} does not fit num_words={num_words}: load the data with the same "
                         f"num_words, or pass num_words larger than every index")
    vectors = np.zeros((len(sequences), num_words), dtype=dtype)
    vectors[np.repeat(np.arange(len(sequences)), lengths), columns] = 1
    return vectors
