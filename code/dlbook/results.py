"""Each chapter's headline results, recorded for a results page that compares them across lessons.

A chapter calls `record(lesson, test_accuracy=..., ...)` after its final test. That writes one JSON
file per lesson and profile, `<results dir>/<profile>/lesson-NN.json`:

    {"lesson": 2, "profile": "quick", "recorded": "2026-11-26T10:00:00", "keras": "3.15.1",
     "metrics": {"test_accuracy": 0.87, "test_loss": 0.31}}

The results directory is `DLBOOK_RESULTS_DIR`, or `results/` in the data directory
(`~/.cache/dlbook/results`); a build that wants its own copy sets the variable. Files are written
atomically, and `load` reads them back. A smoke run (`DLBOOK_SMOKE=1`) records under
`<profile>-smoke/`, so its meaningless numbers never stand in for a real run's.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import time
from pathlib import Path

from dlbook import profiles
from dlbook.data.store import data_dir, write_json_atomic


def results_dir() -> Path:
    """Where results go: `DLBOOK_RESULTS_DIR`, or `results/` in the data directory."""
    return Path(os.environ.get("DLBOOK_RESULTS_DIR") or data_dir() / "results").expanduser()


def _folder(profile: str | None) -> str:
    profile = profile or profiles.active_profile()
    return f"{profile}-smoke" if profiles.smoke() else profile


def record(lesson: int, profile: str | None = None, **metrics: float | int | str) -> Path:
    """Write the headline `metrics` of `lesson` (numbers or short strings); returns the file written."""
    profiles.lesson(lesson)  # an unknown lesson is an error, not a stray file
    profile = profile or profiles.active_profile()
    if not metrics:
        raise ValueError("record() needs at least one metric, e.g. record(2, test_accuracy=0.87)")
    clean: dict[str, float | int | str] = {}
    for name, value in metrics.items():
        if hasattr(value, "item"):  # NumPy scalars
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(f"metric {name}={value!r}: record numbers or strings")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"metric {name}={value!r} is not a finite number; the run did not produce it")
        clean[name] = value
    import keras

    from dlbook import chapter

    payload = {"lesson": lesson, "profile": profile, "smoke": profiles.smoke(),
               "recorded": time.strftime("%Y-%m-%dT%H:%M:%S"), "keras": keras.__version__,
               "backend": keras.backend.backend(), "machine": machine(),
               "seconds": round(chapter.elapsed(), 1), "metrics": clean}
    path = results_dir() / _folder(profile) / f"lesson-{lesson:02d}.json"
    write_json_atomic(path, payload)
    return path


def machine() -> str:
    """The hardware a result was measured on, in words: CPU cores, and the accelerators Keras sees."""
    cores = os.cpu_count() or 1
    description = f"{cores} CPU core{'s' if cores != 1 else ''} ({platform.machine()})"
    accelerators: list[str] = []
    try:
        import keras

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            accelerators = [d.name for d in tf.config.list_physical_devices("GPU")]
        elif keras.backend.backend() == "jax":
            import jax

            accelerators = [str(d) for d in jax.devices() if d.platform != "cpu"]
        elif keras.backend.backend() == "torch":
            import torch

            accelerators = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception:  # a missing or broken backend must not stop a chapter from recording
        accelerators = []
    return description + (f", {len(accelerators)} GPU" if accelerators else ", no GPU")


def load(profile: str | None = None) -> dict[int, dict]:
    """Every recorded lesson of `profile` (default: the active one): lesson number → its record."""
    folder = results_dir() / _folder(profile)
    records = {}
    for path in sorted(folder.glob("lesson-[0-9][0-9].json")):
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"{path}: not a readable results file ({error}); delete it and rebuild its chapter") from error
        records[int(payload["lesson"])] = payload
    return records


# --------------------------------------------------------------------------------------------------
# The published numbers each lesson's headline result is compared with (the results page).


@dataclasses.dataclass(frozen=True)
class Reference:
    """One row of the results page: a headline number of a lesson next to what it is compared with.

    The comparison is a published value (`value`, with its `source` and `conditions`) or, where the
    lesson has no published counterpart or runs on other data than the publication, a baseline the
    same build measured (`baseline`: a metric of this lesson's record, or `(lesson, metric)` of
    another lesson's). `when` restricts a row to records whose metrics contain those key/value
    prefixes (e.g. which dataset the run used). `gap` says in one line, per profile, how this
    build's conditions differ from the reference's.
    """

    lesson: int
    task: str
    metric: str
    label: str
    source: str
    conditions: str
    gap: dict[str, str]
    value: float | None = None
    baseline: str | tuple[int, str] | None = None
    higher_is_better: bool = True
    percent: bool = True
    when: dict[str, str] = dataclasses.field(default_factory=dict)

    def applies(self, metrics: dict) -> bool:
        return all(str(metrics.get(key, "")).lower().startswith(prefix.lower()) for key, prefix in self.when.items())


_SAME_MODEL = "the same network"
REFERENCES: tuple[Reference, ...] = (
    Reference(1, "MNIST digits, dense network", "test_accuracy", "test accuracy", value=0.978,
              source="Chollet, Deep Learning with Python, 2nd ed., ch. 2, listing 2.7",
              conditions="60,000 training images, 5 epochs, 512 hidden units, a GPU",
              gap={"quick": "fewer training images, more epochs, the best epoch by validation loss",
                   "full": "10,000 of the 60,000 images held out for validation"}),
    Reference(2, "IMDB reviews, dense network on multi-hot words", "test_accuracy", "test accuracy", value=0.88,
              source="Chollet, Deep Learning with Python, 2nd ed., ch. 4, after listing 4.10",
              conditions="25,000 training reviews, 4 epochs, 10,000 words, 25,000 test reviews",
              gap={"quick": "5,000 training and 5,000 test reviews", "full": "15,000 training reviews"}),
    Reference(3, "Dogs vs. cats, convnet from scratch", "test_accuracy", "test accuracy", value=0.695,
              source="Chollet, Deep Learning with Python, 2nd ed., ch. 8, listing 8.13",
              conditions="2,000 photos at 180×180, 30 epochs, the best epoch by validation loss",
              gap={"quick": "smaller photos, a smaller convnet, fewer epochs", "full": _SAME_MODEL}),
    Reference(4, "Dogs vs. cats, augmentation and dropout", "test_accuracy", "test accuracy", value=0.835,
              source="Chollet, Deep Learning with Python, 2nd ed., ch. 8, listing 8.18",
              conditions="2,000 photos at 180×180, 100 epochs, the best epoch by validation loss",
              gap={"quick": "smaller photos, a smaller convnet, fewer epochs", "full": _SAME_MODEL}),
    Reference(5, "Dogs vs. cats, frozen pretrained base + augmentation", "feature_extraction_test_accuracy",
              "test accuracy", value=0.975,
              source="Chollet, Deep Learning with Python, 2nd ed., ch. 8, listing 8.26",
              conditions="VGG16 (ImageNet), 2,000 photos at 180×180, 50 epochs",
              gap={"quick": "MobileNet (α 0.25) at 96×96 instead of VGG16, few epochs on a CPU",
                   "full": "VGG16 at 150×150 as the course uses it"}),
    Reference(5, "Dogs vs. cats, fine-tuning the top of the base", "test_accuracy", "test accuracy", value=0.985,
              source="Chollet, Deep Learning with Python, 2nd ed., ch. 8, after listing 8.28",
              conditions="VGG16's last block unfrozen, 30 epochs at a learning rate of 1e-5",
              gap={"quick": "MobileNet (α 0.25), its last block, few epochs", "full": "VGG16 at 150×150"}),
    Reference(6, "Grad-CAM faithfulness: area under the deletion curve", "deletion_area_gradcam",
              "deletion area (lower is better)", baseline="deletion_area_random", higher_is_better=False,
              percent=False, source="this build: the same photos deleted in the order of a random map on Grad-CAM's grid",
              conditions="no published counterpart; a random heatmap as coarse as Grad-CAM's is the baseline",
              gap={"quick": "Lesson 5's MobileNet classifier", "full": "Lesson 5's VGG16 classifier"}),
    Reference(7, "MNIST, convolutional autoencoder", "autoencoder_test_bce", "test reconstruction BCE",
              value=0.0622, higher_is_better=False, percent=False,
              source="keras.io, Convolutional autoencoder for image denoising (vision/autoencoder)",
              conditions="60,000 training images, 50 epochs, 32/32 filters, validation on the test digits",
              gap={"quick": "fewer images, filters and epochs", "full": _SAME_MODEL}),
    Reference(7, "MNIST GAN: samples in the three most frequent classes", "gan_top3_class_share",
              "share of samples", value=0.3, higher_is_better=False,
              source="a generator that draws all ten digits evenly (3 of 10 classes)",
              conditions="the chapter's MNIST classifier labels the generated digits",
              gap={"quick": "a short training run", "full": "the course's number of steps"}),
    Reference(8, "Oxford-IIIT Pet, U-Net: pixel accuracy", "pixel_accuracy", "pixel accuracy", value=0.8163,
              source="keras.io, Image segmentation with a U-Net-like architecture (KerasCV version)",
              conditions="7,390 pets, 160×160, 50 epochs, validation split",
              gap={"quick": "a smaller U-Net and images", "full": "the course's U-Net"}, when={"dataset": "full"}),
    Reference(8, "Oxford-IIIT Pet subset, U-Net: pixel accuracy", "pixel_accuracy", "pixel accuracy",
              baseline="majority_pixel_accuracy",
              source="this build: always predicting the most common class (background)",
              conditions="the offline 300-image, 3-breed subset",
              gap={"quick": "the subset, a smaller U-Net and images", "full": "the subset, the course's U-Net"},
              when={"dataset": "subset"}),
    Reference(8, "Oxford-IIIT Pet, U-Net: mean IoU over the three classes", "mean_iou", "mean IoU", percent=False,
              baseline="majority_mean_iou", source="this build: always predicting the most common class",
              conditions="the same held-out images",
              gap={"quick": "a smaller U-Net and images", "full": "the course's U-Net"}),
    Reference(9, "IMDB, bag of words (same split as the RNNs)", "bag_of_words_test_accuracy", "test accuracy",
              value=0.884, source="Chollet, Deep Learning with Python, 3rd ed., listing 14.16",
              conditions="20,000 training reviews, bigrams, a GPU",
              gap={"quick": "fewer reviews, single words", "full": "single words"}),
    Reference(9, "IMDB, SimpleRNN", "simple_rnn_validation_accuracy", "validation accuracy", value=0.85,
              source="Chollet, Deep Learning with Python, 1st ed., notebook 6.2",
              conditions="20,000 training reviews, 500 words each, 10 epochs",
              gap={"quick": "fewer and shorter reviews, fewer epochs", "full": _SAME_MODEL}),
    Reference(9, "IMDB, LSTM", "lstm_validation_accuracy", "validation accuracy", value=0.89,
              source="Chollet, Deep Learning with Python, 1st ed., notebook 6.2",
              conditions="20,000 training reviews, 500 words each, 10 epochs",
              gap={"quick": "fewer and shorter reviews, fewer epochs", "full": _SAME_MODEL}),
    Reference(10, "Jena temperature in 24 h: persistence baseline", "persistence_test_mae", "test MAE (°C)",
              value=2.62, higher_is_better=False, percent=False,
              source="Chollet, Deep Learning with Python, 3rd ed., listing 13.9",
              conditions="Jena 2009–2016, hourly samples, 5 days of history",
              gap={"quick": "the same rule on the same test period", "full": "the same rule on the same test period"},
              when={"dataset": "jena"}),
    Reference(10, "Jena temperature in 24 h: stacked GRU with dropout", "stacked_gru_test_mae", "test MAE (°C)",
              value=2.39, higher_is_better=False, percent=False,
              source="Chollet, Deep Learning with Python, 3rd ed., listing 13.23",
              conditions="Jena 2009–2016, 50 epochs", gap={"quick": "fewer epochs", "full": _SAME_MODEL},
              when={"dataset": "jena"}),
    Reference(10, "NYC weather in 24 h: GRU against persistence", "gru_test_mae", "test MAE (°C)",
              baseline="persistence_test_mae", higher_is_better=False, percent=False,
              source="this build: tomorrow's temperature is today's (persistence)",
              conditions="New York (JFK) hourly weather of 2013, the offline fallback for Jena",
              gap={"quick": "one year of data instead of eight", "full": "one year of data instead of eight"},
              when={"dataset": "nyc"}),
    Reference(11, "IMDB, Transformer encoder", "transformer_test_accuracy", "test accuracy", value=0.8745,
              source="keras.io, Text classification with Transformer",
              conditions="25,000 training reviews, 200 words, 2 epochs, evaluated on the 25,000 test reviews",
              gap={"quick": "fewer training reviews", "full": _SAME_MODEL}),
    Reference(11, "MNIST, Vision Transformer against Lesson 1's dense network", "vit_test_accuracy",
              "test accuracy", baseline=(1, "test_accuracy"),
              source="this build: Lesson 1's dense network on the same test digits",
              conditions="no published MNIST ViT in the course's sources",
              gap={"quick": "a small ViT, few epochs", "full": "the chapter's full-size ViT"}),
)


class ResultsError(ValueError):
    """A written lesson recorded nothing, or recorded less than the results page compares."""


def comparisons(records: dict[int, dict], written: list[int], profile: str) -> list[dict]:
    """The results page's rows: every reference whose lesson is written, with this build's value.

    Raises `ResultsError` naming the lesson when a written lesson recorded nothing, or lacks a
    metric a row needs (its chapter must record it).
    """
    missing = [lesson for lesson in written if lesson not in records]
    if missing:
        names = ", ".join(f"Lesson {n} ({profiles.lesson(n).slug})" for n in missing)
        raise ResultsError(f"{names} recorded no results in {results_dir() / _folder(profile)}: its chapter must "
                           "call dlbook.results.record(...), and the chapter must run before this page")
    rows = []
    for reference in REFERENCES:
        if reference.lesson not in written:
            continue
        metrics = records[reference.lesson]["metrics"]
        if not reference.applies(metrics):
            continue
        if reference.metric not in metrics:
            raise ResultsError(f"Lesson {reference.lesson} recorded no {reference.metric!r} (it recorded "
                               f"{', '.join(sorted(metrics))}); the results page compares it ({reference.task})")
        compared = reference.value
        if reference.baseline is not None:
            lesson, key = (reference.lesson, reference.baseline) if isinstance(reference.baseline, str) \
                else reference.baseline
            baseline_metrics = records.get(lesson, {}).get("metrics", {})
            if key not in baseline_metrics:
                raise ResultsError(f"Lesson {lesson} recorded no {key!r}, the baseline of {reference.task}")
            compared = baseline_metrics[key]
        ours = float(metrics[reference.metric])
        better = ours > compared if reference.higher_is_better else ours < compared
        rows.append({"reference": reference, "ours": ours, "compared": float(compared), "better": better,
                     "machine": records[reference.lesson].get("machine", ""),
                     "recorded": records[reference.lesson].get("recorded", "")})
    return rows


def format_value(value: float, percent: bool) -> str:
    return f"{value:.1%}" if percent else f"{value:.4g}"


def written_lessons(toc: Path) -> list[int]:
    """The lesson numbers whose chapters are in the book's table of contents (`lessons/NN-...`)."""
    import re

    import yaml

    text = yaml.safe_load(toc.read_text(encoding="utf-8"))
    found: list[int] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            match = re.match(r"lessons/(\d\d)-", str(node.get("file", "")))
            if match:
                found.append(int(match.group(1)))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(text)
    return sorted(set(found))


def spread_provenance(spread: dict) -> dict[str, dict]:
    """When and at which commit each lesson of a spread measurement was made.

    `tools/spread.py --update` reruns some chapters and keeps the others, so a file can hold lessons
    measured at different commits (`provenance`); a file without it was measured in one run.
    """
    stamp = {key: spread.get(key) for key in ("measured", "commit", "uncommitted_changes")}
    return {lesson: dict(spread.get("provenance", {}).get(lesson, stamp)) for lesson in spread.get("metrics", {})}


def load_spread(path: Path, profile: str) -> dict | None:
    """The last `make spread` measurement (tools/spread.py) if it exists and is of `profile`, else None."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise ResultsError(f"{path}: not a readable spread measurement ({error}); run `make spread` again "
                           "or delete the file") from error
    return report if report.get("profile") == profile else None
