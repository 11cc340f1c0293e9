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

import json
import math
import os
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

    payload = {"lesson": lesson, "profile": profile, "smoke": profiles.smoke(),
               "recorded": time.strftime("%Y-%m-%dT%H:%M:%S"), "keras": keras.__version__, "metrics": clean}
    path = results_dir() / _folder(profile) / f"lesson-{lesson:02d}.json"
    write_json_atomic(path, payload)
    return path


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
