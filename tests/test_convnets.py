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


def _recipe(root) -> str:
    """The code block of the solution of ex-3-own-folder: the whole own-folder recipe."""
    text = (root / "book" / "lessons" / CHAPTER).read_text(encoding="utf-8")
    solution = text.split(":::{solution} ex-3-own-folder", 1)[1].split("\n:::\n", 1)[0]
    blocks = solution.split("```python\n")
    assert len(blocks) == 2, "the solution should hold exactly one code block, the recipe"
    return blocks[1].split("\n```", 1)[0]


def _replace_line(code: str, name: str, value: str) -> str:
    lines = code.splitlines()
    matches = [i for i, line in enumerate(lines) if line.startswith(f"{name} = ")]
    assert len(matches) == 1, f"the recipe should set {name} once, at the top"
    lines[matches[0]] = f"{name} = {value}"
    return "\n".join(lines)


def test_the_own_folder_recipe_runs_on_its_own_on_a_new_folder(root, tmp_path, monkeypatch):
    """A reader copies only the recipe (plus dlbook) and points it at a folder of three classes."""
    from PIL import Image
    import numpy as np

    monkeypatch.setenv("DLBOOK_DATA_DIR", str(tmp_path / "data"))  # the checked copy goes here
    folder = tmp_path / "my photos"
    rng = np.random.default_rng(0)
    for index, name in enumerate(["maple", "oak", "pine"]):
        (folder / name).mkdir(parents=True)
        for i in range(10):
            pixels = rng.integers(0, 80, size=(40, 50, 3), dtype=np.uint8)
            pixels[..., index] += 150  # each class has its own dominant colour
            Image.fromarray(pixels).save(folder / name / f"{name}_{i}.jpg")
    (folder / "oak" / "notes.txt").write_text("not a photo")
    before = sorted(path.name for path in folder.rglob("*"))

    code = _replace_line(_recipe(root), "directory", f"Path({str(folder)!r})")
    code = _replace_line(code, "image_size", "(24, 24)")
    code = _replace_line(code, "epochs", "2")
    namespace: dict = {}
    exec(compile(code, "ex-3-own-folder recipe", "exec"), namespace)

    assert namespace["class_names"] == ["maple", "oak", "pine"]
    assert namespace["model"].output_shape == (None, 3)
    assert 1 <= len(namespace["history"].history["loss"]) <= 2
    assert 0.0 <= namespace["validation_accuracy"] <= 1.0
    assert sorted(path.name for path in folder.rglob("*")) == before  # nothing written into the reader's folder
