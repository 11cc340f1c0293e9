"""Measure the run-to-run spread of every chapter's headline numbers: rerun the chapters with N seeds.

    python tools/spread.py                  # every chapter, 3 seeds, the active profile (quick)
    python tools/spread.py --seeds 5 03 04  # chapters whose file names start with 03 or 04
    make spread                             # the same as the first line

Each seed runs every chosen chapter in order, in a fresh kernel (Lesson 6 reads the model Lesson 5
saved, Lesson 11 the model Lesson 9 saved), with `DLBOOK_SEED` set and the results recorded in a
scratch folder. Then, for every metric a chapter recorded, the mean, minimum and maximum over the
seeds are written to `book/results-spread.json` with the date, the commit and the machine; the
results page shows that file, marked as a separate measurement, next to the numbers of its own
build. Each chapter's wall time, CPU seconds and peak memory are kept too.

    python tools/spread.py --update 07 09   # rerun two chapters, keep the other lessons' measurement

With `--update`, the lessons rerun replace theirs in the existing file and the others are kept; the
file records for every lesson when, and at which commit, it was measured (`provenance`).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "book" / "results-spread.json"
FIRST_SEED = 42  # the seed the chapters use by default: the book's own build is one of the runs

_spec = importlib.util.spec_from_file_location("benchmark_chapters", ROOT / "tools" / "benchmark_chapters.py")
benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(benchmark)


def git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def summarise(values: list[float]) -> dict[str, float | list[float]]:
    return {"mean": statistics.fmean(values), "min": min(values), "max": max(values), "values": values}


def merge_reports(old: dict, new: dict) -> dict:
    """`new`'s lessons and chapters over `old`'s, for an update that reran only some chapters.

    Both must be of the same profile and seeds: a spread over other seeds is not the same measurement.
    """
    for key in ("profile", "seeds"):
        if old.get(key) != new.get(key):
            raise ValueError(f"cannot update a spread of {key} {old.get(key)!r} with one of {new.get(key)!r}: "
                             "rerun every chapter without --update")
    from dlbook import results

    provenance = {**results.spread_provenance(old), **results.spread_provenance(new)}
    metrics = {**old.get("metrics", {}), **new["metrics"]}
    merged = dict(new)
    merged["metrics"] = dict(sorted(metrics.items(), key=lambda item: int(item[0])))
    merged["chapters"] = dict(sorted({**old.get("chapters", {}), **new["chapters"]}.items()))
    merged["provenance"] = {lesson: provenance[lesson] for lesson in merged["metrics"]}
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prefixes", nargs="*", help="chapter file-name prefixes (default: all chapters)")
    parser.add_argument("--seeds", type=int, default=3, help="how many seeds (default 3: 42, 43, 44)")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"where to write (default {OUTPUT})")
    parser.add_argument("--update", action="store_true",
                        help="keep the lessons of the existing output that this run does not rerun")
    args = parser.parse_args(argv)
    if args.update and not args.output.is_file():
        parser.error(f"--update: {args.output} does not exist yet; run without --update first")
    if args.seeds < 2:
        parser.error("--seeds must be at least 2: one run has no spread")
    chapters = benchmark.chapters(args.prefixes)
    if not chapters:
        parser.error(f"no chapter under book/lessons starts with {' or '.join(args.prefixes)}")
    from dlbook import profiles, results

    profile = profiles.active_profile()
    seeds = list(range(FIRST_SEED, FIRST_SEED + args.seeds))
    previous = None
    if args.update:
        # Checked before the runs, not after them: an update with other seeds or another profile would
        # only fail once every chapter had run.
        previous = json.loads(args.output.read_text(encoding="utf-8"))
        if (previous.get("profile"), previous.get("seeds")) != (profile, seeds):
            parser.error(f"--update: {args.output} holds the {previous.get('profile')} profile with seeds "
                         f"{previous.get('seeds')}, this run would be the {profile} profile with seeds {seeds}; "
                         "use the same --seeds and profile, or rerun every chapter without --update")
    # What is measured is the tree as it stands now: an edit made while the chapters run must not
    # be credited to this run (nor mark it as uncommitted).
    commit = git("rev-parse", "--short", "HEAD")
    uncommitted = bool(git("status", "--porcelain", "--untracked-files=no"))
    scratch = Path(tempfile.mkdtemp(prefix="dlbook-spread-"))
    runs: dict[str, list[dict]] = {}
    for seed in seeds:
        os.environ.update(DLBOOK_SEED=str(seed), DLBOOK_RESULTS_DIR=str(scratch / f"seed-{seed}"))
        for chapter in chapters:
            seconds, peak, cpu = benchmark.measure(chapter)
            print(f"seed {seed}  {chapter.stem:32} {seconds:7.1f} s {peak:7.0f} MB {cpu:7.1f} CPU s", flush=True)
            runs.setdefault(chapter.stem, []).append({"seed": seed, "seconds": round(seconds, 1),
                                                      "peak_mb": round(peak), "cpu_seconds": round(cpu, 1)})
    lessons: dict[str, dict] = {}
    for seed in seeds:
        os.environ["DLBOOK_RESULTS_DIR"] = str(scratch / f"seed-{seed}")
        for lesson, record in results.load(profile).items():
            for name, value in record["metrics"].items():
                if isinstance(value, (int, float)):
                    lessons.setdefault(str(lesson), {}).setdefault(name, []).append(float(value))
    report = {
        "measured": datetime.datetime.now().isoformat(timespec="seconds"),
        "commit": commit,
        "uncommitted_changes": uncommitted,
        "machine": results.machine(),
        "profile": profile,
        "seeds": seeds,
        "metrics": {lesson: {name: summarise(values) for name, values in metrics.items() if len(values) == len(seeds)}
                    for lesson, metrics in sorted(lessons.items(), key=lambda item: int(item[0]))},
        "chapters": runs,
    }
    report["provenance"] = results.spread_provenance(report)
    if previous is not None:
        report = merge_reports(previous, report)
    args.output.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
