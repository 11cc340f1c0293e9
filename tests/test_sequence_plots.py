"""The figures of Lessons 9 and 11: the unrolled RNN, attention maps and an image cut into patches."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlbook import plots  # noqa: E402


def test_unrolled_rnn_draws_one_cell_per_step_and_the_loop():
    figure = plots.unrolled_rnn(steps=5)
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert texts.count("RNN") == 6  # the folded cell and five copies
    assert [f"$x_{{{t}}}$" in texts for t in range(1, 6)] == [True] * 5
    assert "$x_{6}$" not in texts and "$h_0 = 0$" in texts
    assert any("same weights" in t for t in texts)
    with pytest.raises(ValueError, match="at least two"):
        plots.unrolled_rnn(steps=1)


def test_attention_map_shows_the_weights_with_token_labels():
    weights = np.array([[0.7, 0.2, 0.1], [0.0, 1.0, 0.0]])
    figure = plots.attention_map(weights, ["a", "b"], ["x", "y", "z"], title="head 1")
    ax = figure.axes[0]
    assert np.array_equal(ax.images[0].get_array(), weights)
    assert [label.get_text() for label in ax.get_xticklabels()] == ["x", "y", "z"]
    assert [label.get_text() for label in ax.get_yticklabels()] == ["a", "b"]
    assert ax.get_title() == "head 1" and ax.get_xlabel().startswith("key")
    assert figure.axes[1].get_ylabel() == "attention weight"  # the colour bar says what colour means
    assert ax.images[0].get_clim()[0] == 0.0
    stretched = plots.attention_map(weights + 0.5, ["a", "b"], ["x", "y", "z"], vmin=None)
    assert stretched.axes[0].images[0].get_clim() == (0.5, 1.5)  # the weights' own range
    annotated = plots.attention_map(weights, ["a", "b"], ["x", "y", "z"], annotate=True)
    assert sorted(t.get_text() for t in annotated.axes[0].texts) == sorted(f"{w:.2f}" for w in weights.ravel())


def test_attention_map_draws_into_a_given_axis_and_checks_the_labels():
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2)
    assert plots.attention_map(np.eye(2), ["a", "b"], ["a", "b"], ax=axes[1]) is figure
    assert len(axes[1].images) == 1 and not axes[0].images
    with pytest.raises(ValueError, match="do not match"):
        plots.attention_map(np.eye(3), ["a", "b"], ["a", "b", "c"])


def test_patch_grid_shows_the_image_and_each_patch_in_reading_order():
    image = np.arange(16 * 12, dtype=float).reshape(16, 12)
    tiles = image.reshape(2, 8, 3, 4).transpose(0, 2, 1, 3)  # 2×3 patches of 8×4 pixels
    figure = plots.patch_grid(image, tiles)
    left, *patch_axes = figure.axes
    assert np.array_equal(left.images[0].get_array(), image)
    assert len(left.lines) == (2 - 1) + (3 - 1)  # the patch boundaries
    assert [ax.get_title() for ax in patch_axes] == [str(i) for i in range(1, 7)]
    assert np.array_equal(patch_axes[4].images[0].get_array(), image[8:16, 4:8])  # patch 5: second row, second column
    with pytest.raises(ValueError, match="cannot hold"):
        plots.patch_grid(image[:15], tiles)
