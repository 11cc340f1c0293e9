"""`dlbook.chapter.glue`: glued figures show in a live notebook, and only on the page in the book's build."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlbook import chapter  # noqa: E402


@pytest.fixture()
def shown(monkeypatch) -> list:
    import IPython.display

    calls: list = []
    monkeypatch.setattr(IPython.display, "display", lambda value, **_: calls.append(value))
    return calls


@pytest.mark.parametrize("in_build", [True, False])
def test_a_glued_figure_is_shown_only_outside_the_book_build(monkeypatch, shown, in_build):
    if in_build:
        monkeypatch.setenv(chapter.BOOK_BUILD_VARIABLE, "1")
    else:
        monkeypatch.delenv(chapter.BOOK_BUILD_VARIABLE, raising=False)
    figure, axes = plt.subplots()
    axes.plot([0, 1], [1, 0])
    chapter.glue("a_figure", figure, display=False)
    assert (figure in shown) is (not in_build)
    assert not plt.fignum_exists(figure.number), "a glued figure stays open and would show twice"


def test_numpy_scalars_are_glued_as_plain_numbers(monkeypatch):
    import myst_nb

    glued = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=True: glued.update({name: value}))
    chapter.glue("accuracy", np.float32(0.875))
    assert type(glued["accuracy"]) is float and glued["accuracy"] == 0.875


def test_the_build_extension_marks_the_kernels_environment(monkeypatch):
    monkeypatch.setenv(chapter.BOOK_BUILD_VARIABLE, "0")  # and restored after the test
    assert not chapter.in_book_build()
    from dlbook.site import sphinxext

    class App:  # records what setup() registers; only the environment matters here
        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    sphinxext.setup(App())
    assert chapter.in_book_build()


def test_a_false_claim_fails_a_real_run_and_is_reported_in_a_smoke_run(monkeypatch, capsys):
    from dlbook.chapter import ClaimError, guard

    monkeypatch.delenv("DLBOOK_SMOKE", raising=False)
    assert guard(True, "holds")
    with pytest.raises(ClaimError, match="the run contradicts the chapter's claim: the loss turns upward"):
        guard(False, "the loss turns upward")
    monkeypatch.setenv("DLBOOK_SMOKE", "1")
    assert guard(False, "the loss turns upward") is False
    assert "claim not checked: the loss turns upward" in capsys.readouterr().out


def test_malloc_arenas_are_capped_on_linux_unless_the_environment_already_says(monkeypatch):
    import sys

    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert chapter.limit_malloc_arenas() is sys.platform.startswith("linux")
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert chapter.limit_malloc_arenas() is False


@pytest.mark.parametrize("readers_setting, expected", [(None, "1"), ("0", "0")])
def test_onednn_kernels_are_switched_on_before_tensorflow_starts_unless_the_reader_chose(readers_setting, expected):
    import os
    import subprocess
    import sys

    environment = {key: value for key, value in os.environ.items() if key != "TF_ENABLE_ONEDNN_OPTS"}
    if readers_setting is not None:
        environment["TF_ENABLE_ONEDNN_OPTS"] = readers_setting
    # A fresh interpreter: the variable only counts if it is set before TensorFlow's first import.
    script = ("import sys, os, dlbook.chapter; assert 'tensorflow' not in sys.modules, 'TensorFlow came first'; "
              "print(os.environ['TF_ENABLE_ONEDNN_OPTS'])")
    result = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == expected


@pytest.mark.parametrize("seconds, words", [(0.4, "about 1 second"), (42.4, "about 42 seconds"),
                                            (89, "about 89 seconds"), (95, "about 2 minutes"),
                                            (610, "about 10 minutes")])
def test_durations_in_prose_read_as_seconds_or_minutes_never_as_zero_minutes(seconds, words):
    assert chapter.about_duration(seconds) == words


def test_a_negative_duration_is_refused():
    with pytest.raises(ValueError, match="cannot be negative"):
        chapter.about_duration(-1.0)


def test_a_page_says_which_runs_it_left_to_the_reader_and_what_they_would_cost():
    note = chapter.runs_left_to_the_reader("these two runs", "Set `small_epochs = 4` in the cell above and run it.",
                                           extra_seconds=130)
    assert note.data == ("The profile this page ran in does not make these two runs: that would add about 2 minutes "
                         "to the chapter. Set `small_epochs = 4` in the cell above and run it.")
    unknown_cost = chapter.runs_left_to_the_reader("this run", "Set `x = 1`.")
    assert "does not make this run, to stay within its time budget. Set `x = 1`." in unknown_cost.data


def test_cells_that_reseed_follow_the_seed_the_chapter_started_from(monkeypatch, shown):
    import keras

    monkeypatch.setattr(chapter, "_SEED", {})
    with pytest.raises(RuntimeError, match="setup_chapter"):
        chapter.chapter_seed()
    monkeypatch.setenv(chapter.SEED_VARIABLE, "43")  # as tools/spread.py sets it
    chapter.setup_chapter(lesson=1)
    assert chapter.chapter_seed() == 43
    first = keras.random.uniform((3,), seed=None)
    keras.utils.set_random_seed(chapter.chapter_seed())
    assert np.allclose(keras.random.uniform((3,)), first)  # the same stream setup_chapter started
    monkeypatch.delenv(chapter.SEED_VARIABLE)
    chapter.setup_chapter(lesson=1, seed=7)
    assert chapter.chapter_seed() == 7
