"""IMDB movie reviews as integer sequences, encoded exactly as `keras.datasets.imdb` encodes them.

Keras ships the reviews already encoded (`imdb.npz`). The book builds the same encoding from the raw
text of the Large Movie Review Dataset (`data.locate("imdb")`) and Keras' own word index
(`data.locate("imdb_word_index")`), so the chapters can show the text behind the numbers.

The encoding, as in `keras.datasets.imdb.load_data`:

- the word index maps each word of the 25,000 training reviews to its frequency rank (1 = "the");
- a word becomes `rank + index_from` (3 by default), so indices 0 (padding), 1 (start of a review,
  `start_char`) and 2 (out of vocabulary, `oov_char`) stay reserved and 3 is never used;
- with `num_words`, every index of `num_words` or more becomes `oov_char`.

Tokenisation reproduces the one that built the word index (Keras' first `text_to_word_sequence`):
ASCII letters are lowercased, each character of `FILTERS` becomes a space, and the text is split at
spaces. Apostrophes stay, so "don't" is one word, and the `<br />` line breaks of the raw reviews
become the word "br" (rank 7), as in Keras' own data. Applied to the 25,000 training reviews it
yields exactly the 88,584 words of the word index, in an order consistent with their counts.

Reading 25,000 small files takes a while, so the encoded reviews are cached in the data directory
(an `.npz` per selection of files, written atomically). Sequences come back as object arrays of
int32 arrays (Keras gives lists of Python ints, which take about seven times the memory).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from dlbook.data.store import DataError, atomic_path, data_dir, file_digest, locate

# The characters Keras' text_to_word_sequence replaced by spaces (its `filters` default). "'" is not one.
FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
# Only A-Z are lowercased: the word index was built from byte strings, and holds "Álex", not "álex".
_TABLE = str.maketrans({**{c: " " for c in FILTERS}, **{chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)}})

SPLITS = ("train", "test")
LABELS = {"neg": 0, "pos": 1}
RESERVED = {0: "<pad>", 1: "<start>", 2: "<oov>", 3: "<unused>"}
# Part of the cache key: change it when the tokenisation or the cache layout changes.
_CACHE_VERSION = 1
_REVIEW_NAME = re.compile(r"^(\d+)_(\d+)\.txt$")


def tokenize(text: str) -> list[str]:
    """The words of `text`, split as the IMDB word index was built (see the module docstring)."""
    return [word for word in text.translate(_TABLE).split(" ") if word]


def imdb_word_index() -> dict[str, int]:
    """Keras' IMDB word index: word → frequency rank in the training reviews (1 = most frequent)."""
    path = locate("imdb_word_index")
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"{path}: not a readable JSON word index ({error}); run "
                        "`python -m dlbook.data fetch --force imdb_word_index` to prepare it again") from None
    if not isinstance(index, dict) or not all(isinstance(r, int) for r in index.values()):
        raise DataError(f"{path}: expected a JSON object of word → integer rank; run "
                        "`python -m dlbook.data fetch --force imdb_word_index` to prepare it again")
    return index


def _check_options(num_words: int | None, start_char: int, oov_char: int, index_from: int) -> None:
    if index_from < 1 or not (0 <= start_char < index_from and 0 <= oov_char < index_from):
        raise ValueError(f"start_char={start_char} and oov_char={oov_char} must lie below index_from={index_from}")
    if num_words is not None and num_words <= index_from:
        raise ValueError(f"num_words={num_words} keeps no word: it must exceed index_from={index_from} "
                         "(the course uses num_words=10000)")


def encode(ranks: np.ndarray, num_words: int | None = None, start_char: int = 1, oov_char: int = 2,
           index_from: int = 3) -> np.ndarray:
    """Word-index ranks (0 for a word not in the index) → the Keras token indices of one review."""
    _check_options(num_words, start_char, oov_char, index_from)
    ranks = np.asarray(ranks, dtype=np.int64)
    indices = np.where(ranks > 0, ranks + index_from, oov_char)
    if num_words is not None:
        indices = np.where(indices < num_words, indices, oov_char)
    return np.concatenate([[start_char], indices]).astype(np.int32)


def encode_review(text: str, word_index: Mapping[str, int], num_words: int | None = None, start_char: int = 1,
                  oov_char: int = 2, index_from: int = 3) -> np.ndarray:
    """A review written as text → its token indices, as `load_imdb` encodes the dataset's reviews."""
    ranks = np.array([word_index.get(word, 0) for word in tokenize(text)], dtype=np.int64)
    return encode(ranks, num_words, start_char, oov_char, index_from)


def decode_review(indices: Iterable[int], word_index: Mapping[str, int], index_from: int = 3) -> str:
    """Token indices → words, with the reserved indices shown as <pad>, <start>, <oov> and <unused>."""
    words = {rank + index_from: word for word, rank in word_index.items()}
    return " ".join(words.get(int(i), RESERVED.get(int(i), "<oov>")) for i in indices)


# --------------------------------------------------------------------------------------------------
# Files, selection and the cache


def review_files(folder: Path, split: str) -> list[tuple[Path, int]]:
    """Every review of `split` under an aclImdb folder as (file, label), negatives first, by review id."""
    if split not in SPLITS:
        raise ValueError(f"split={split!r}: use one of {', '.join(SPLITS)}")
    files = []
    for name, label in LABELS.items():
        sub = folder / split / name
        if not sub.is_dir():
            raise DataError(f"{sub} is missing: an IMDB folder holds train/pos, train/neg, test/pos and test/neg. "
                            "Run `python -m dlbook.data fetch --force imdb` to prepare it again.")
        numbered = [(int(m.group(1)), p) for p in sub.iterdir() if (m := _REVIEW_NAME.match(p.name))]
        files += [(p, label) for _, p in sorted(numbered)]
    return files


def _select(folder: Path, split: str, samples: int | None, seed: int, argument: str) -> list[tuple[Path, int]]:
    """The reviews `load_imdb` uses: all of `split`, shuffled with `seed`, the first `samples` of them."""
    files = review_files(folder, split)
    if not files:
        raise DataError(f"{folder / split} holds no reviews (files named ID_RATING.txt)")
    if samples is not None and not 0 < samples <= len(files):
        raise DataError(f"{argument}={samples:,} but {folder / split} holds {len(files):,} reviews: "
                        f"ask for at most {len(files):,} (or None for all)")
    order = np.random.RandomState(seed).permutation(len(files))
    return [files[i] for i in order[:samples]]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: cannot read this review ({error}); run "
                        "`python -m dlbook.data fetch --force imdb` to prepare IMDB again") from None


def _cache_path(split: str, files: Sequence[tuple[Path, int]], folder: Path, word_index_path: Path) -> Path:
    # Keyed by the files (names and sizes), their folder and the word index: any change makes a new entry.
    names = [(f"{p.parent.name}/{p.name}", p.stat().st_size) for p, _ in files]
    key = hashlib.sha256(json.dumps({
        "version": _CACHE_VERSION, "folder": str(folder.resolve()), "split": split, "files": names,
        "word_index": file_digest(word_index_path),
    }).encode()).hexdigest()[:16]
    return data_dir() / "cache" / "imdb" / f"{split}-{len(files)}-{key}.npz"


def _load_cache(path: Path, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(ranks, offsets, labels) from a cache file, or None when it is absent or not sound."""
    try:
        with np.load(path, allow_pickle=False) as f:
            ranks, offsets, labels = f["ranks"], f["offsets"], f["labels"]
    except (OSError, KeyError, ValueError):
        return None
    sound = (len(offsets) == count + 1 and len(labels) == count and offsets[0] == 0
             and offsets[-1] == len(ranks) and np.all(np.diff(offsets) >= 0))
    return (ranks, offsets, labels) if sound else None


def _save_cache(path: Path, ranks: np.ndarray, offsets: np.ndarray, labels: np.ndarray) -> None:
    """Write atomically: a reader sees the old file, the new one, or none; never half of one."""
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, ranks=ranks, offsets=offsets, labels=labels)
    except OSError:
        return  # a read-only data directory: work without the cache


def _ranks(split: str, files: Sequence[tuple[Path, int]], folder: Path, word_index_path: Path,
           word_index: Mapping[str, int], use_cache: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Word-index ranks of the selected reviews, concatenated, with offsets and labels (cached)."""
    path = _cache_path(split, files, folder, word_index_path)
    cached = _load_cache(path, len(files)) if use_cache else None
    if cached is not None:
        return cached
    pieces = [np.array([word_index.get(w, 0) for w in tokenize(_read(p))], dtype=np.int32) for p, _ in files]
    offsets = np.concatenate([[0], np.cumsum([len(piece) for piece in pieces])]).astype(np.int64)
    ranks = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int32)
    labels = np.array([label for _, label in files], dtype=np.int64)
    if use_cache:
        _save_cache(path, ranks, offsets, labels)
    return ranks, offsets, labels


def load_imdb(num_words: int | None = None, *, train_samples: int | None = None, test_samples: int | None = None,
              seed: int = 113, start_char: int = 1, oov_char: int = 2, index_from: int = 3,
              use_cache: bool = True) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """`((x_train, y_train), (x_test, y_test))`, encoded like `keras.datasets.imdb.load_data`.

    Each `x` is an object array of int32 arrays, one review each, starting with `start_char`; each
    `y` holds 0 (negative) or 1 (positive). Each split is shuffled with `seed`; `train_samples` and
    `test_samples` keep the first reviews of that order (None: all 25,000).
    """
    _check_options(num_words, start_char, oov_char, index_from)
    folder = locate("imdb")
    word_index_path = locate("imdb_word_index")
    word_index = imdb_word_index()
    out = []
    for split, samples, argument in (("train", train_samples, "train_samples"), ("test", test_samples, "test_samples")):
        files = _select(folder, split, samples, seed, argument)
        ranks, offsets, labels = _ranks(split, files, folder, word_index_path, word_index, use_cache)
        tokens = encode(ranks, num_words, start_char, oov_char, index_from)[1:]
        # One flat array, cut into per-review views with the start token in front of each.
        starts = offsets[:-1] + np.arange(len(files))
        flat = np.insert(tokens, offsets[:-1], start_char)
        sequences = np.empty(len(files), dtype=object)
        sequences[:] = np.split(flat, starts[1:])
        out.append((sequences, labels))
    return out[0], out[1]


def imdb_texts(split: str, samples: int | None = None, seed: int = 113) -> tuple[list[str], np.ndarray]:
    """The raw texts and labels of the reviews `load_imdb` returns for `split`, in the same order."""
    files = _select(locate("imdb"), split, samples, seed, "samples")
    return [_read(p) for p, _ in files], np.array([label for _, label in files], dtype=np.int64)
