"""Choosing hyperparameters on a validation set: a plain grid search, and KerasTuner runs checked for failures.

KerasTuner records a trial whose model could not be built or trained as failed and carries on; the
search can then "finish" with a best model chosen from the few trials that ran, or from none.
`run_search` turns any failed trial into an error that names it and shows its message.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
import numpy as np


class TunerError(RuntimeError):
    """A hyperparameter search in which some trials did not complete."""


@dataclasses.dataclass(frozen=True)
class SearchResult:
    """One configuration tried: its hyperparameters, its best objective value and the epoch it came at."""

    hyperparameters: dict[str, Any]
    score: float
    best_epoch: int  # counted from 1
    source: str  # "grid" or "tuner"


def minimises(objective: str) -> bool:
    """True for objectives to make small (losses, errors); accuracies and the like are made large."""
    return "loss" in objective or "error" in objective


def best_result(results: Sequence[SearchResult], objective: str) -> SearchResult:
    """The result with the best score for `objective`."""
    if not results:
        raise ValueError("no results to choose from")
    return (min if minimises(objective) else max)(results, key=lambda r: r.score)


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the values in `grid`, the last name varying fastest."""
    empty = [name for name, values in grid.items() if len(values) == 0]
    if not grid or empty:
        raise ValueError(f"the grid needs at least one value for each hyperparameter (empty: {empty or 'all'})")
    names = list(grid)
    return [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]


def grid_search(build_model: Callable[..., keras.Model], grid: Mapping[str, Sequence[Any]], x: Any, y: Any, *,
                validation_data: tuple[Any, Any], epochs: int, batch_size: int, objective: str = "val_accuracy",
                seed: int = 0) -> list[SearchResult]:
    """Train one model per point of `grid` and score each by its best `objective` over the epochs.

    `build_model(**point)` must return a compiled model. Every model starts from the same random seed,
    so the runs differ only in their hyperparameters. Results come back in grid order.
    """
    results = []
    for point in grid_points(grid):
        keras.utils.set_random_seed(seed)
        try:
            model = build_model(**point)
            history = model.fit(x, y, validation_data=validation_data, epochs=epochs, batch_size=batch_size,
                                verbose=0).history
        except Exception as error:
            raise RuntimeError(f"grid search: the model for {point} failed to build or train: {error}") from error
        if objective not in history:
            raise ValueError(f"objective {objective!r} is not in the training history "
                             f"(it has {sorted(history)}); compile the model with that metric")
        values = np.asarray(history[objective], dtype=float)
        best = int(np.argmin(values) if minimises(objective) else np.argmax(values))
        results.append(SearchResult(dict(point), float(values[best]), best + 1, "grid"))
        keras.backend.clear_session()  # free the finished model's graph before the next one
    return results


def score_table(results: Sequence[SearchResult], rows: str, columns: str) -> tuple[np.ndarray, list, list]:
    """Scores of a two-hyperparameter grid as a matrix, with its row and column values (sorted)."""
    row_values = sorted({r.hyperparameters[rows] for r in results})
    column_values = sorted({r.hyperparameters[columns] for r in results})
    table = np.full((len(row_values), len(column_values)), np.nan)
    for r in results:
        table[row_values.index(r.hyperparameters[rows]), column_values.index(r.hyperparameters[columns])] = r.score
    return table, row_values, column_values


def markdown_table(results: Sequence[SearchResult], objective: str,
                   formats: Mapping[str, str] | None = None) -> str:
    """A Markdown table of results, best first (for `IPython.display.Markdown`)."""
    formats = dict(formats or {})
    ordered = sorted(results, key=lambda r: r.score, reverse=not minimises(objective))
    names = list(ordered[0].hyperparameters) if ordered else []
    headers = ["rank", *(n.replace("_", " ") for n in names), objective.replace("_", " "), "at epoch"]
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "---|" * (len(names) + 3)]
    for rank, r in enumerate(ordered, start=1):
        cells = [format(r.hyperparameters[n], formats.get(n, "")) for n in names]
        lines.append("| " + " | ".join([str(rank), *cells, format(r.score, formats.get(objective, ".4f")),
                                         str(r.best_epoch)]) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# KerasTuner


def check_trials(tuner: Any) -> list[Any]:
    """The tuner's trials, best first, after checking that every one of them completed.

    Raises `TunerError` naming each trial that failed (or never finished), with its hyperparameters
    and the last line of its error, or when no trial ran at all.
    """
    trials = list(tuner.oracle.trials.values())
    broken = [t for t in trials if t.status != "COMPLETED"]
    if broken:
        lines = []
        for t in broken:
            last = (t.message or "no message").strip().splitlines()[-1]
            lines.append(f"trial {t.trial_id} ({t.status}) with {t.hyperparameters.values}: {last}")
        raise TunerError(f"{len(broken)} of {len(trials)} trials did not complete, so the search's best model "
                         "cannot be trusted:\n  " + "\n  ".join(lines)
                         + "\nFix the error (a missing package such as tensorboard fails every trial) and search again.")
    if not trials:
        raise TunerError("the search ran no trials: check max_trials and the search space")
    return sorted(trials, key=lambda t: t.score, reverse=tuner.oracle.objective.direction == "max")


def run_search(tuner: Any, *fit_args: Any, **fit_kwargs: Any) -> list[Any]:
    """`tuner.search(...)`, then `check_trials`: the completed trials, best first, or a `TunerError`."""
    try:
        tuner.search(*fit_args, **fit_kwargs)
    except RuntimeError as error:
        # KerasTuner stops after several consecutive failed trials; report every failure, not only the last.
        try:
            check_trials(tuner)
        except TunerError as failures:
            raise failures from error
        raise
    return check_trials(tuner)


def trial_results(trials: Sequence[Any]) -> list[SearchResult]:
    """KerasTuner trials as `SearchResult`s (score: the best objective value; epoch: where it came)."""
    return [SearchResult(dict(t.hyperparameters.values), float(t.score), int(t.best_step) + 1, "tuner")
            for t in trials]
