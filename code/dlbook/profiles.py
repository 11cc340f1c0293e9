"""The quick/full switch and every lesson's budget, in one table.

`DLBOOK_PROFILE=quick` (the default) runs each chapter on a 2-core CPU in about a minute, on Binder and
in CI. `DLBOOK_PROFILE=full` uses the course's real sizes and epochs and wants a GPU. A chapter never
changes *what* it teaches between profiles, only how much data, how large the images and how many
epochs: every number it depends on comes from here so a reader can see all budgets in one place.

`DLBOOK_SMOKE=1` (with either profile, normally `full`) is a *smoke run*: the chapter takes every code
path of its profile (model sizes, image sizes, data items, branches) but on a few batches and for one
epoch, so that a crash in the full profile shows up on a CPU in CI. Its results mean nothing: the
chapter's claim guards (`dlbook.chapter.guard`) only report in a smoke run, and results are recorded
apart (`dlbook.results`).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

PROFILES = ("quick", "full")
DEFAULT_PROFILE = "quick"
SMOKE_VARIABLE = "DLBOOK_SMOKE"
# A smoke run uses at most this many batches of each split, and one epoch of every training stage.
SMOKE_BATCHES = 2


@dataclasses.dataclass(frozen=True)
class Budget:
    """How much work one lesson does in one profile.

    `None` for a sample count means "all of it"; `image_size` is `None` for non-image lessons.
    `extra` holds lesson-specific knobs (grid sizes, tuner trials, ...).
    """

    train_samples: int | None
    validation_samples: int | None
    test_samples: int | None
    epochs: int
    batch_size: int
    image_size: tuple[int, int] | None = None
    data: tuple[str, ...] = ()
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def describe(self) -> dict[str, str]:
        """Readable key/value pairs for the banner a chapter shows."""
        def count(n: int | None) -> str:
            return "all" if n is None else f"{n:,}"

        rows = {
            "training samples": count(self.train_samples),
            "validation samples": count(self.validation_samples),
            "test samples": count(self.test_samples),
            "epochs": str(self.epochs),
            "batch size": str(self.batch_size),
        }
        if self.image_size is not None:
            rows["image size"] = f"{self.image_size[0]}×{self.image_size[1]}"
        for key, value in self.extra.items():
            rows[key.replace("_", " ")] = str(value)
        return rows

    def for_smoke(self, overrides: dict[str, Any] | None = None) -> "Budget":
        """This budget cut down for a smoke run: a few batches per split, one epoch per stage.

        Sample counts become at most `SMOKE_BATCHES` batches (a count of 0 stays 0); `epochs` and
        every integer `extra` knob whose name ends in `_epochs` or `_trials` become at most 1.
        `overrides` (the lesson's `smoke` row) replaces further knobs, such as a grid or a step count.
        """
        cap = SMOKE_BATCHES * self.batch_size

        def samples(n: int | None) -> int | None:
            return cap if n is None else min(n, cap)

        extra = {key: (min(value, 1) if isinstance(value, int) and not isinstance(value, bool)
                       and key.endswith(("_epochs", "_trials")) else value)
                 for key, value in self.extra.items()}
        fields = dict(overrides or {})
        extra.update({key: fields.pop(key) for key in list(fields) if key in self.extra})
        unknown = set(fields) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ProfileError(f"smoke overrides name no budget field or extra knob: {', '.join(sorted(unknown))}")
        smoke = dataclasses.replace(
            self, train_samples=samples(self.train_samples), validation_samples=samples(self.validation_samples),
            test_samples=samples(self.test_samples), epochs=min(self.epochs, 1), extra=extra)
        return dataclasses.replace(smoke, **fields)


@dataclasses.dataclass(frozen=True)
class Lesson:
    number: int
    title: str
    slug: str
    quick: Budget
    full: Budget
    # Knobs a smoke run sets beyond the generic cut (see Budget.for_smoke), e.g. {"gan_steps": 2}.
    smoke: dict[str, Any] = dataclasses.field(default_factory=dict)


# One row per lesson. A lesson is added here when its chapter is written.
LESSONS: dict[int, Lesson] = {
    1: Lesson(
        number=1,
        title="Dense networks on MNIST",
        slug="01-dense-networks",
        # Quick: a third of the training images; twenty epochs so that overfitting shows plainly in
        # the curves; about 20 s of training on two CPU cores.
        quick=Budget(train_samples=20_000, validation_samples=5_000, test_samples=None,
                     epochs=20, batch_size=128, data=("mnist",),
                     extra={"hidden_units": 512}),
        # Full: the course's 60,000 images (10,000 held out for validation) and twenty epochs.
        full=Budget(train_samples=50_000, validation_samples=10_000, test_samples=None,
                    epochs=20, batch_size=128, data=("mnist",),
                    extra={"hidden_units": 512}),
    ),
    2: Lesson(
        number=2,
        title="Binary classification, hyperparameters and callbacks",
        slug="02-binary-classification",
        # Quick: 5,000 reviews to learn from and 2,500 to validate on (both from the training half),
        # 5,000 test reviews; a 2×2 grid and 3 tuner trials of 3 epochs each. About 40 s of CPU time,
        # much of it per-model start-up (tracing), so fewer samples would save little.
        quick=Budget(train_samples=5_000, validation_samples=2_500, test_samples=5_000,
                     epochs=20, batch_size=512, data=("imdb", "imdb_word_index"),
                     extra={"num_words": 10_000, "hidden_units": 16, "grid_units": (16, 64),
                            "grid_learning_rates": (1e-3, 1e-2), "search_epochs": 3, "tuner_trials": 3}),
        # Full: the course's split, 15,000 training and 10,000 validation reviews of the 25,000, all
        # 25,000 test reviews; a 3×3 grid and 10 tuner trials.
        full=Budget(train_samples=15_000, validation_samples=10_000, test_samples=None,
                    epochs=20, batch_size=512, data=("imdb", "imdb_word_index"),
                    extra={"num_words": 10_000, "hidden_units": 16, "grid_units": (16, 32, 64),
                           "grid_learning_rates": (1e-4, 1e-3, 1e-2), "search_epochs": 10, "tuner_trials": 10}),
    ),
    3: Lesson(
        number=3,
        title="Convnets on your own images",
        slug="03-convnets",
        # Quick: all 2,000 training photos, shrunk to 32×32 (more images at a small size learn more than
        # few large ones), a three-block convnet and a learning rate of 1e-3 so that fifteen epochs
        # get well above chance and into overfitting; three such runs (plain, dropout, L2).
        quick=Budget(train_samples=2_000, validation_samples=500, test_samples=500,
                     epochs=15, batch_size=32, image_size=(32, 32), data=("cats_and_dogs_small",),
                     extra={"filters": (16, 32, 64), "dense_units": 64, "learning_rate": 1e-3,
                            "dropout_rate": 0.5, "l2": 1e-3}),
        # Full: the course's 180×180 photos, four convolution blocks, a 512-unit classifier, RMSprop at
        # 1e-4 and thirty epochs.
        full=Budget(train_samples=2_000, validation_samples=500, test_samples=500,
                    epochs=30, batch_size=32, image_size=(180, 180), data=("cats_and_dogs_small",),
                    extra={"filters": (32, 64, 128, 128), "dense_units": 512, "learning_rate": 1e-4,
                           "dropout_rate": 0.5, "l2": 1e-3}),
    ),
    4: Lesson(
        number=4,
        title="Data augmentation and dropout",
        slug="04-augmentation",
        # Quick: Lesson 3's model on half of its training photos (regularization matters most when data
        # is scarce, and each of the five runs costs half); four runs (baseline, augmentation, dropout,
        # both) of twelve epochs, and the dropout rates of the tuning grid (a rate one of the four runs
        # used is reused, so the grid costs one more run). Too few epochs for the regularized runs to
        # reach their best: the chapter says so from the numbers.
        quick=Budget(train_samples=1_000, validation_samples=500, test_samples=500,
                     epochs=12, batch_size=32, image_size=(32, 32), data=("cats_and_dogs_small",),
                     extra={"filters": (16, 32, 64), "dense_units": 64, "learning_rate": 1e-3,
                            "dropout_rate": 0.5, "dropout_rates": (0.0, 0.25, 0.5)}),
        # Full: the course's 180×180 photos and a hundred epochs, which a regularized model needs.
        full=Budget(train_samples=2_000, validation_samples=500, test_samples=500,
                    epochs=100, batch_size=32, image_size=(180, 180), data=("cats_and_dogs_small",),
                    extra={"filters": (32, 64, 128, 128), "dense_units": 512, "learning_rate": 1e-4,
                           "dropout_rate": 0.5, "dropout_rates": (0.0, 0.25, 0.5, 0.75)}),
    ),
    5: Lesson(
        number=5,
        title="Transfer learning with a pretrained convnet",
        slug="05-pretrained-convnets",
        # Quick: MobileNet (alpha 0.25) instead of VGG16, which is far too slow for a CPU, on all 2,000
        # training photos at 96×96 (about 3.5 CPU-seconds per 1,000 photos through the base, decoding
        # included; the head on stored features measured 85.8 % test accuracy both at 96 and at 112 px,
        # and 112 px costs a third more per epoch). The head on stored features trains
        # until its validation loss stops falling (`patience`, at most `epochs`); then five augmented
        # epochs with the frozen base and three of fine-tuning, each stage keeping its best epoch.
        # These photo epochs cost 6-8 CPU-seconds each and dominate the run.
        # Sample counts are totals over both classes, split evenly; None is all of them.
        quick=Budget(train_samples=None, validation_samples=None, test_samples=None,
                     epochs=30, batch_size=32, image_size=(96, 96),
                     data=("cats_and_dogs_small", "mobilenet_025_notop"),
                     extra={"base": "mobilenet_025", "dropout": 0.5, "learning_rate": 1e-3, "patience": 5,
                            "augmented_epochs": 5, "augmented_learning_rate": 1e-4,
                            "fine_tune_epochs": 3, "fine_tune_learning_rate": 3e-5}),
        # Full: the course's VGG16 on all 2,000 training photos at 150×150, and its epochs: 50 with
        # augmentation and the base frozen, 30 of fine-tuning at a learning rate of 1e-5.
        full=Budget(train_samples=None, validation_samples=None, test_samples=None,
                    epochs=30, batch_size=20, image_size=(150, 150),
                    data=("cats_and_dogs_small", "vgg16_notop"),
                    extra={"base": "vgg16", "dropout": 0.5, "learning_rate": 1e-3, "patience": 5,
                           "augmented_epochs": 50, "augmented_learning_rate": 1e-4,
                           "fine_tune_epochs": 30, "fine_tune_learning_rate": 1e-5}),
    ),
    6: Lesson(
        number=6,
        title="Seeing what a convnet looks at",
        slug="06-visualizing-convnets",
        # Lesson 6 explains Lesson 5's saved classifier (Lesson 5's budget decides that model and its
        # image size) on Lesson 5's test photos (None: all of them, to pick the explained photos from
        # and to check the model's accuracy). Its own knobs: how many confidently right photos to
        # explain besides one error, how many test photos to score with deletion curves, Score-CAM's
        # channel limit, SmoothGrad's samples, and the deletion curve's steps and grid of cells.
        quick=Budget(train_samples=0, validation_samples=0, test_samples=None,
                     epochs=0, batch_size=32,
                     data=("cats_and_dogs_small", "mobilenet_025_notop"),
                     extra={"explained_right": 3, "scored_photos": 24, "scorecam_channels": 24,
                            "smoothgrad_samples": 16, "deletion_steps": 16, "deletion_grid": 16,
                            "imagenet_model": False}),
        # Full: VGG16 with its ImageNet classifier for the classic elephant example, more photos scored.
        full=Budget(train_samples=0, validation_samples=0, test_samples=None,
                    epochs=0, batch_size=32,
                    data=("cats_and_dogs_small", "vgg16_notop", "vgg16_top", "imagenet_class_index", "elephant"),
                    extra={"explained_right": 3, "scored_photos": 100, "scorecam_channels": 512,
                           "smoothgrad_samples": 50, "deletion_steps": 32, "deletion_grid": 16,
                           "imagenet_model": True}),
        # A smoke run of the full profile on a CPU: VGG16 at full size, but few photos and passes.
        smoke={"scored_photos": 4, "scorecam_channels": 8, "smoothgrad_samples": 2, "deletion_steps": 4},
    ),
}


class ProfileError(ValueError):
    """Raised for an unknown profile name or lesson number."""


def active_profile() -> str:
    """The profile named by `DLBOOK_PROFILE` (default `quick`)."""
    name = os.environ.get("DLBOOK_PROFILE", DEFAULT_PROFILE).strip().lower() or DEFAULT_PROFILE
    if name not in PROFILES:
        raise ProfileError(
            f"DLBOOK_PROFILE={name!r} is not a profile; use one of {', '.join(PROFILES)} "
            "(for example `export DLBOOK_PROFILE=quick`)."
        )
    return name


def smoke() -> bool:
    """True in a smoke run (`DLBOOK_SMOKE=1`): every code path of the profile, on a few batches."""
    value = os.environ.get(SMOKE_VARIABLE, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ProfileError(f"{SMOKE_VARIABLE}={value!r} is not understood; use {SMOKE_VARIABLE}=1 for a smoke run "
                       f"or leave it unset")


def lesson(number: int) -> Lesson:
    """The table row of lesson `number`."""
    try:
        return LESSONS[number]
    except KeyError:
        known = ", ".join(str(n) for n in sorted(LESSONS))
        raise ProfileError(f"lesson {number} has no budget in dlbook.profiles.LESSONS (known: {known})") from None


def budget(number: int, profile: str | None = None) -> Budget:
    """The budget of lesson `number` in `profile` (default: the active profile), cut down in a smoke run."""
    profile = profile or active_profile()
    if profile not in PROFILES:
        raise ProfileError(f"profile {profile!r} is not one of {', '.join(PROFILES)}")
    row = lesson(number)
    full_size = getattr(row, profile)
    return full_size.for_smoke(row.smoke) if smoke() else full_size


def data_items(profile: str | None = None, lessons: list[int] | None = None) -> list[str]:
    """Names of the registry items the given lessons (default: all in the table) need, in order."""
    names: list[str] = []
    for number in lessons or sorted(LESSONS):
        for item in budget(number, profile).data:
            if item not in names:
                names.append(item)
    return names
