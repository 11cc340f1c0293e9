"""Lesson 3's convnet against the shape and parameter formulas its chapter states."""

from __future__ import annotations

import pytest

from test_profiles import chapter_functions

CHAPTER = "03-convnets.md"
NAMES = ["build_convnet", "expected_layers", "conv2d_output_side", "pooled_side", "conv2d_parameters",
         "dense_parameters"]


@pytest.fixture(scope="module")
def chapter(root):
    return dict(zip(NAMES, chapter_functions(root / "book" / "lessons" / CHAPTER, NAMES)))


def test_the_formulas_on_known_values(chapter):
    assert chapter["conv2d_output_side"](150) == 148 and chapter["pooled_side"](148) == 74
    assert chapter["pooled_side"](87) == 43  # an odd side: the last row is dropped
    assert chapter["conv2d_parameters"](3, 3, 32) == 896  # 3·3·3·32 weights + 32 biases


@pytest.mark.parametrize("image_size, filters, dense_units", [
    ((32, 32), (16, 32, 64), 64),             # the quick profile
    ((180, 180), (32, 64, 128, 128), 512),    # the full profile
    ((50, 40), (8,), 4),                      # not square, one block
])
def test_every_layer_has_the_shape_and_parameters_the_chapter_derives(chapter, image_size, filters, dense_units):
    model = chapter["build_convnet"](image_size, filters, dense_units)
    expected = chapter["expected_layers"](image_size, filters, dense_units)
    assert len(model.layers) == len(expected)
    for layer, (kind, shape, parameters) in zip(model.layers, expected):
        assert type(layer).__name__ == kind
        assert tuple(layer.output.shape[1:]) == shape
        assert layer.count_params() == parameters
    assert model.output_shape == (None, 1) and model.layers[-1].activation.__name__ == "sigmoid"


def test_the_regularized_variants_add_what_they_say(chapter):
    plain = chapter["build_convnet"]((32, 32), (8, 16), 8)
    dropout = chapter["build_convnet"]((32, 32), (8, 16), 8, dropout_rate=0.5)
    l2 = chapter["build_convnet"]((32, 32), (8, 16), 8, l2=1e-3)
    assert [type(layer).__name__ for layer in dropout.layers].count("Dropout") == 1
    assert dropout.count_params() == plain.count_params()  # dropout has no weights
    penalized = [layer for layer in l2.layers if getattr(layer, "kernel_regularizer", None) is not None]
    # Both convolutions and the hidden Dense layer are penalized, not the output unit.
    assert [type(layer).__name__ for layer in penalized] == ["Conv2D", "Conv2D", "Dense"]
