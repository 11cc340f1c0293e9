"""The one call every chapter makes first: quiet logs, seeds, plot style, and the profile banner."""

from __future__ import annotations

import ctypes
import os
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from IPython.display import Markdown

# Before TensorFlow is imported anywhere: keep its C++ start-up chatter out of the pages.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# TensorFlow uses its oneDNN CPU kernels by default only on processors with AVX-512-class features;
# on the AVX2 processors of most laptops, of Binder and of our 2-core test machine they stay off, and
# there convolutions and attention ran 1.3-2.5 times slower (three seeds each, off -> on: Lesson 7
# 87-95 -> 72 s, Lesson 8 77-87 -> 45-50 s, Lesson 3 68-79 -> 50-65 s; Lesson 11: 112 -> 68 s in one
# run); recurrent layers gained nothing. They change results only by round-off. A reader who sets
# the variable keeps their choice.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas (as `MALLOC_ARENA_MAX` would), before TensorFlow starts its threads.

    glibc gives busy threads arenas of their own, and TensorFlow's thread pools free tensors into them
    in a pattern that leaves much of the memory free but unreturned: a few minutes of training on
    photos grew a kernel by hundreds of megabytes (Lesson 5: from 1.0 to 1.6 GB), against a chapter
    budget of 1.5 GB. Two arenas keep that growth small at no measurable cost in time. Does nothing
    off Linux, without glibc, or when `MALLOC_ARENA_MAX` is set already; returns whether it applied.
    """
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_arena_max = -8  # glibc's mallopt parameter number for M_ARENA_MAX
    return bool(libc.mallopt(m_arena_max, arenas))


limit_malloc_arenas()

from dlbook import plots, profiles  # noqa: E402

_STARTED: dict[str, float] = {}
_SEED: dict[str, int] = {}
# Set by the book's Sphinx extension for the kernels the build starts (they inherit its environment).
BOOK_BUILD_VARIABLE = "DLBOOK_BOOK_BUILD"
# Overrides the seed a chapter passes to `setup_chapter` (tools/spread.py sets it).
SEED_VARIABLE = "DLBOOK_SEED"


def setup_chapter(lesson: int, seed: int = 42) -> profiles.Budget:
    """Prepare a chapter's kernel and show which profile runs it, with its budget.

    Seeds Python, NumPy and the Keras backend so reruns start from the same weights (`DLBOOK_SEED`
    overrides `seed`, to measure the spread over seeds), sets the book's
    plot style, glues `profile` (and `budget_*` values) for the prose, and returns the lesson's budget.
    """
    import keras
    from IPython.display import Markdown, display

    # `make spread` (tools/spread.py) reruns chapters with other seeds to measure the run-to-run spread.
    seed = int(os.environ.get(SEED_VARIABLE) or seed)
    keras.utils.set_random_seed(seed)
    _SEED["chapter"] = seed
    plots.use_book_style()
    profile = profiles.active_profile()
    budget = profiles.budget(lesson, profile)
    rows = "\n".join(f"| {key} | {value} |" for key, value in budget.describe().items())
    other = "full" if profile == "quick" else "quick"
    smoke = ""
    if profiles.smoke():
        smoke = (f"\n\n**Smoke run** (`{profiles.SMOKE_VARIABLE}=1`): the {profile} profile's code paths on a "
                 "few batches and one epoch. Its numbers mean nothing and the claims are not checked.")
    display(Markdown(
        f"**Profile: {profile}** (set `DLBOOK_PROFILE={other}` to run the {other} profile).{smoke}\n\n"
        f"| budget | value |\n|---|---|\n{rows}\n"
    ))
    glue("profile", profile)
    _STARTED["chapter"] = time.perf_counter()
    return budget


def chapter_seed() -> int:
    """The seed `setup_chapter` started this run from: its `seed` argument unless `DLBOOK_SEED` set another.

    A cell that reseeds (so that rerunning it rebuilds the same model) derives its seed from this
    one, as `chapter_seed() + 1` and so on: then a run with another `DLBOOK_SEED` varies every model
    of the chapter, not only the first, and the measured spread over seeds means what it says.
    """
    if "chapter" not in _SEED:
        raise RuntimeError("chapter_seed() needs setup_chapter(lesson=...) to have run first in this kernel; "
                           "run the chapter's first cell")
    return _SEED["chapter"]


class ClaimError(AssertionError):
    """A claim the chapter's prose makes about its run is false for this run."""


def guard(condition: bool, claim: str) -> bool:
    """Check a claim the prose makes about this run (the lesson's point), failing the build if it is false.

    Use it for what the text says the run *shows* (the baseline's validation loss turns upward; the
    regularized model's best validation loss is lower), and a plain `assert` for what the code must
    be (shapes, parameter counts). In a smoke run (`DLBOOK_SMOKE=1`: a few batches, one epoch) no
    claim can hold, so a false one is reported and the chapter goes on. Returns `condition`.
    """
    condition = bool(condition)
    if condition:
        return True
    if profiles.smoke():
        print(f"smoke run: claim not checked: {claim}")
        return False
    raise ClaimError(f"the run contradicts the chapter's claim: {claim}")


def about_duration(seconds: float) -> str:
    """A rough duration for prose: "about 40 seconds", "about 3 minutes" (never "0 minute(s)")."""
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: {seconds!r} seconds")
    if seconds < 1.5:
        return "about 1 second"
    if seconds < 90:
        return f"about {round(seconds)} seconds"
    return f"about {round(seconds / 60)} minutes"


def runs_left_to_the_reader(runs: str, how: str, extra_seconds: float | None = None) -> Markdown:
    """What a page says where its profile leaves an exercise's training runs to the reader.

    `runs` names them ("these two runs"); `how` tells the reader what to set to make them ("Set
    `small_epochs = 4` in the cell above and run it."); `extra_seconds` is what making them would add to the
    chapter, when the page can estimate it from its own timings.
    """
    from IPython.display import Markdown

    if extra_seconds is None:
        cost = ", to stay within its time budget"
    else:
        cost = f": that would add {about_duration(extra_seconds)} to the chapter"
    return Markdown(f"The profile this page ran in does not make {runs}{cost}. {how}")


def elapsed() -> float:
    """Seconds since `setup_chapter` ran (for a chapter's closing figures)."""
    return time.perf_counter() - _STARTED.get("chapter", time.perf_counter())


def in_book_build() -> bool:
    """True inside a kernel that the book's build started (`dlbook.site.sphinxext` marks the environment)."""
    return os.environ.get(BOOK_BUILD_VARIABLE) == "1"


def glue(name: str, value, display: bool = False) -> None:
    """Glue a value for `{glue:text}`; outside a notebook build (plain Python), do nothing.

    NumPy scalars become plain Python numbers first: their repr (`np.float64(0.9)`) cannot be
    formatted with a spec such as `:.1%` in the prose. A Matplotlib figure is closed once glued, so
    the inline backend does not show it a second time at the end of the cell. In the book a glued
    figure appears where the page's `{glue:figure}` puts it; a reader running the chapter live (on
    Binder, or in Jupyter) has no such page, so there the figure is shown in the cell instead.
    """
    try:
        from myst_nb import glue as nb_glue
    except ImportError:  # running the package without the book toolchain
        return
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    nb_glue(name, value, display=display)
    if type(value).__name__ == "Figure" and type(value).__module__.startswith("matplotlib"):
        import matplotlib.pyplot as plt

        if not display and not in_book_build():
            from IPython.display import display as show

            show(value)
        plt.close(value)
