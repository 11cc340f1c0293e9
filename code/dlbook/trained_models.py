"""Trained models that one chapter hands to a later one, as visible `.keras` files in the data directory.

Lesson 5 saves its fine-tuned classifier, which Lesson 6 explains; Lesson 9 saves its LSTM and its
bag-of-words model, which Lesson 11 compares with its transformer on the same test reviews. A model
travels as a file a reader can see, copy or delete, never as hidden state:

    <data dir>/trained-models/lesson09-quick-lstm-<key>.keras    the model (architecture and weights)
    <data dir>/trained-models/lesson09-quick-lstm-<key>.json     how it was made and how well it did

`<key>` is a hash of what made the model: the lesson's budget in that profile (samples, epochs,
sizes), the Keras version and the caller's `version` (bumped when the chapter's model code changes).
A later chapter computes the same key from the same budget, so it never picks up a model trained
under another budget, profile or smoke run; it finds nothing instead. `load_model` then returns
None (Lesson 11 trains the model itself); `require_model` stops with an error that says which
chapter to run (Lesson 6 cannot do without Lesson 5's model).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import keras

from dlbook import profiles
from dlbook.data import DataError
from dlbook.data.store import atomic_path, data_dir, write_json_atomic

FOLDER = "trained-models"


def _prefix(lesson: int, name: str, profile: str) -> str:
    smoke = "-smoke" if profiles.smoke() else ""
    return f"lesson{lesson:02d}-{profile}{smoke}-{name}"


def model_paths(lesson: int, name: str, version: int = 1, profile: str | None = None) -> tuple[Path, Path]:
    """(model file, info file) of the model `name` that `lesson` trains in `profile` (default: the active one)."""
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"model name {name!r}: use letters, digits, '-' and '_' only")
    profile = profile or profiles.active_profile()
    budget = profiles.budget(lesson, profile)
    made_by = {"budget": dataclasses.asdict(budget), "keras": keras.__version__, "version": version}
    digest = hashlib.sha256(json.dumps(made_by, sort_keys=True, default=str).encode()).hexdigest()[:12]
    stem = f"{_prefix(lesson, name, profile)}-{digest}"
    folder = data_dir() / FOLDER
    return folder / f"{stem}.keras", folder / f"{stem}.json"


def save_model(model: keras.Model, lesson: int, name: str, info: dict[str, Any], version: int = 1,
               profile: str | None = None) -> Path:
    """Save `model` with `info` (how it was trained, its scores) for later chapters; returns the model file.

    Both files are written under temporary names and renamed into place, the info file last, so a
    crash never leaves a half-written model where `load_model` looks. Files of the same lesson,
    name and profile saved under another key (an older budget or code version) are removed.
    """
    profile = profile or profiles.active_profile()
    model_path, info_path = model_paths(lesson, name, version, profile)
    info_path.unlink(missing_ok=True)  # an old info file must not vouch for a model being replaced
    with atomic_path(model_path) as tmp:
        model.save(tmp)
    payload = {**info, "lesson": lesson, "name": name, "file": model_path.name,
               "saved": time.strftime("%Y-%m-%dT%H:%M:%S")}
    write_json_atomic(info_path, payload, indent=1, default=float)
    for stale in model_path.parent.glob(f"{_prefix(lesson, name, profile)}-*"):
        if stale.stem != model_path.stem:
            stale.unlink(missing_ok=True)
    return model_path


def load_model(lesson: int, name: str, version: int = 1,
               profile: str | None = None) -> tuple[keras.Model, dict[str, Any]] | None:
    """The saved model and its info, or None when `lesson` has not saved one for this budget.

    A saved model that cannot be read back is reported and deleted, so that the caller trains a new
    one instead of failing on a damaged file.
    """
    model_path, info_path = model_paths(lesson, name, version, profile)
    if not (model_path.is_file() and info_path.is_file()):
        return None
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        model = keras.saving.load_model(model_path)
    except (OSError, ValueError, KeyError, TypeError) as error:  # JSONDecodeError is a ValueError
        print(f"note: the saved model {model_path} cannot be read ({error}); it is deleted and trained again")
        model_path.unlink(missing_ok=True)
        info_path.unlink(missing_ok=True)
        return None
    return model, info


class MissingModelError(DataError):
    """A model that a chapter needs from an earlier one is not saved for this budget; the message says how to make it."""


def require_model(lesson: int, name: str, version: int = 1,
                  profile: str | None = None) -> tuple[keras.Model, dict[str, Any]]:
    """`load_model`, or a `MissingModelError` that names the chapter to run first, with the same profile."""
    saved = load_model(lesson, name, version, profile)
    if saved is None:
        profile = profile or profiles.active_profile()
        model_path, _ = model_paths(lesson, name, version, profile)
        slug = profiles.lesson(lesson).slug
        raise MissingModelError(
            f"Lesson {lesson}'s trained model {name!r} for the {profile} profile and its current budget is not at "
            f"{model_path}. Run Lesson {lesson} (book/lessons/{slug}.md) with the same profile first "
            f"(DLBOOK_PROFILE={profile}): it trains the model and saves it there. From the repository root: "
            f"python tools/benchmark_chapters.py {lesson:02d}")
    return saved
