"""Lesson 8's taught code, taken from the chapter's cells and run on small data the tests make.

Only the chapter's function and class definitions are executed (not its training), so a change to
`get_model`, the parameter formulas or `DataGen` in the chapter is checked here in seconds.
"""

from __future__ import annotations

import ast
from pathlib import Path

import jupytext
import numpy as np
import pytest
from PIL import Image

from conftest import ROOT

CHAPTER = ROOT / "book" / "lessons" / "08-unet-segmentation.md"
TAUGHT = ["double_conv_block", "downsample_block", "upsample_block", "get_model", "conv_parameters",
          "double_conv_parameters", "upsample_parameters", "unet_parameters", "DataGen"]


@pytest.fixture(scope="module")
def taught() -> dict:
    """The chapter's definitions, executed with the imports they need."""
    namespace: dict = {}
    exec("import math\nimport numpy as np\nimport keras", namespace)
    for cell in jupytext.read(CHAPTER).cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        tree.body = [node for node in tree.body
                     if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in TAUGHT]
        exec(compile(tree, str(CHAPTER), "exec"), namespace)
    missing = [name for name in TAUGHT if name not in namespace]
    assert not missing, f"the chapter no longer defines {missing}"
    return namespace


@pytest.mark.parametrize("base_filters, depth, size", [(16, 3, 96), (8, 2, 32), (4, 4, 64)])
def test_get_model_is_a_u_net_whose_parameters_the_formula_counts(taught, base_filters, depth, size):
    import keras

    model = taught["get_model"]((size, size), 3, base_filters=base_filters, depth=depth)
    assert model.output_shape == (None, size, size, 3)
    assert model.count_params() == taught["unet_parameters"](3, base_filters, depth)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("MaxPooling2D") == kinds.count("Conv2DTranspose") == kinds.count("Concatenate") == depth
    assert kinds.count("Conv2D") == 2 * (2 * depth + 1) + 1  # two per level and bottleneck, one 1×1 output
    # Each concatenation joins the upsampled maps with encoder features of the same height and width.
    for layer in model.layers:
        if isinstance(layer, keras.layers.Concatenate):
            first, second = (tuple(t.shape) for t in layer.input)
            assert first == second


def test_the_quick_and_course_sizes_of_the_issue(taught):
    # 536 k parameters for base 16, depth 3 (the quick budget); 34.5 M for the course's U-Net.
    assert taught["unet_parameters"](3, 16, 3) == 535_827
    assert round(taught["unet_parameters"](3) / 1e5) == 345
    assert taught["double_conv_parameters"](512, 1024) == 14_157_824
    assert taught["upsample_parameters"](1024, 512) == 11_798_016


def _pet_copy(root: Path, n: int) -> tuple[list[str], list[str]]:
    """Photos whose red channel encodes their index i, trimaps whose every pixel is class i % 3 (+1)."""
    (root / "images").mkdir(parents=True)
    (root / "trimaps").mkdir()
    photos, trimaps = [], []
    for i in range(n):
        size = (40 + 3 * i, 30 + 2 * i)  # every pair its own size, as in the real data
        pixels = np.zeros((size[1], size[0], 3), dtype=np.uint8)
        pixels[..., 0] = 20 * i
        Image.fromarray(pixels).save(root / "images" / f"pet_{i}.png")  # PNG: exact pixel values
        trimap = np.full((size[1], size[0]), i % 3 + 1, dtype=np.uint8)
        trimap[0, 0] = 3  # one odd pixel that nearest-neighbour resizing may drop but never invent
        Image.fromarray(trimap, mode="L").save(root / "trimaps" / f"pet_{i}.png")
        photos.append(str(root / "images" / f"pet_{i}.png"))
        trimaps.append(str(root / "trimaps" / f"pet_{i}.png"))
    return photos, trimaps


def test_datagen_batches_stay_paired_through_reshuffling(taught, tmp_path):
    photos, trimaps = _pet_copy(tmp_path, 7)
    generator = taught["DataGen"](3, (16, 16), photos, trimaps, shuffle=True, seed=1)
    assert len(generator) == 3  # 3 + 3 + 1
    orders = []
    for _ in range(3):
        seen = []
        for idx in range(len(generator)):
            x, y = generator[idx]
            assert x.dtype == np.float32 and x.shape[1:] == (16, 16, 3) and y.shape == (*x.shape[:3], 1)
            assert y.dtype == np.uint8 and set(np.unique(y)) <= {0, 1, 2}
            index = np.rint(x[:, 8, 8, 0] / 20).astype(int)
            np.testing.assert_array_equal(y[:, 8, 8, 0], index % 3)  # each photo with its own mask
            seen += index.tolist()
        assert sorted(seen) == list(range(7))  # every pair once per epoch
        orders.append(seen)
        generator.on_epoch_end()
    assert orders[0] != orders[1] or orders[1] != orders[2]  # reshuffled between epochs


def test_datagen_without_shuffle_keeps_file_order_and_rejects_unpaired_lists(taught, tmp_path):
    photos, trimaps = _pet_copy(tmp_path, 5)
    generator = taught["DataGen"](2, (8, 12), photos, trimaps)
    x = np.concatenate([generator[i][0] for i in range(len(generator))])
    assert x.shape == (5, 8, 12, 3)
    np.testing.assert_array_equal(np.rint(x[:, 4, 6, 0] / 20), np.arange(5))
    with pytest.raises(ValueError, match="5 photos but 4 trimaps"):
        taught["DataGen"](2, (8, 8), photos, trimaps[:4])


def test_datagen_passes_loading_options_to_pydataset(taught, tmp_path):
    import keras

    photos, trimaps = _pet_copy(tmp_path, 2)
    generator = taught["DataGen"](2, (8, 8), photos, trimaps, workers=2, max_queue_size=4)
    assert isinstance(generator, keras.utils.PyDataset)
    assert generator.workers == 2 and generator.max_queue_size == 4
