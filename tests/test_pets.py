"""The Oxford-IIIT Pet pair loader on small copies the tests make, with the oddities the real archives have."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dlbook.data import DataError, pets


def _photo(path: Path, size=(30, 20)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), 90, dtype=np.uint8)).save(path, format="JPEG")


def _trimap(path: Path, size=(30, 20)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    values = np.full((size[1], size[0]), 2, dtype=np.uint8)
    values[5:15, 10:20] = 1
    Image.fromarray(values, mode="L").save(path, format="PNG")


@pytest.fixture()
def pet_folder(tmp_path) -> Path:
    root = tmp_path / "oxford_pets"
    for name in ("Abyssinian_1", "Abyssinian_2", "american_bulldog_10", "great_pyrenees_3"):
        _photo(root / "images" / f"{name}.jpg")
        _trimap(root / "annotations" / "trimaps" / f"{name}.png")
    (root / "annotations" / "trimaps" / "._Abyssinian_1.png").write_bytes(b"\0\5\26\7AppleDouble")
    (root / "images" / "Abyssinian_100.mat").write_bytes(b"MATLAB 5.0")
    _photo(root / "images" / "Bengal_5.jpg")                                   # no trimap
    _trimap(root / "annotations" / "trimaps" / "Bengal_6.png")                 # no photo
    _photo(root / "images" / "Bengal_7.jpg", size=(30, 20))
    _trimap(root / "annotations" / "trimaps" / "Bengal_7.png", size=(20, 30))  # turned sideways
    (root / "images" / "Bengal_8.jpg").write_text("<html>404</html>")         # not an image at all
    _trimap(root / "annotations" / "trimaps" / "Bengal_8.png")
    return root


def test_pairs_are_matched_by_name_in_order_and_every_leftover_is_reported(pet_folder):
    pairs = pets.image_trimap_pairs(pet_folder)
    assert pairs.names == ("Abyssinian_1", "Abyssinian_2", "american_bulldog_10", "great_pyrenees_3")
    assert [p.stem for p in pairs.trimap_paths] == list(pairs.names)
    assert all(p.parent.name == "trimaps" for p in pairs.trimap_paths)
    skipped = dict(pairs.skipped)
    assert set(skipped) == {
        "annotations/trimaps/._Abyssinian_1.png", "images/Abyssinian_100.mat", "images/Bengal_5.jpg",
        "annotations/trimaps/Bengal_6.png", "images/Bengal_7.jpg", "images/Bengal_8.jpg"}
    assert "hidden" in skipped["annotations/trimaps/._Abyssinian_1.png"]
    assert "no trimap" in skipped["images/Bengal_5.jpg"] and "no photo" in skipped["annotations/trimaps/Bengal_6.png"]
    assert "30×20" in skipped["images/Bengal_7.jpg"] and "20×30" in skipped["images/Bengal_7.jpg"]
    assert "Pillow" in skipped["images/Bengal_8.jpg"]
    summary = pairs.summary()
    assert "4 photo/trimap pairs of 3 breeds" in summary and "Bengal_8.jpg" in summary


def test_without_header_checks_only_names_decide(pet_folder):
    pairs = pets.image_trimap_pairs(pet_folder, check_headers=False)
    assert "Bengal_7" in pairs.names and "Bengal_8" in pairs.names and len(pairs) == 6


def test_breeds_and_the_report_of_a_subset(pet_folder):
    pairs = pets.image_trimap_pairs(pet_folder)
    assert pairs.breeds == {"Abyssinian": 2, "american_bulldog": 1, "great_pyrenees": 1}
    assert not pairs.is_complete
    assert pairs.describe() == "a subset of the data set: 4 pairs, 3 breeds"
    assert pets.breed_of("staffordshire_bull_terrier_114") == "staffordshire_bull_terrier"
    assert pets.breed_of("noNumber") == "noNumber"


def test_a_folder_of_the_wrong_layout_gets_a_clear_error(tmp_path):
    (tmp_path / "images").mkdir()
    with pytest.raises(DataError, match=r"annotations/trimaps/ folder.*fetch oxford_pets"):
        pets.image_trimap_pairs(tmp_path)
    (tmp_path / "annotations" / "trimaps").mkdir(parents=True)
    _photo(tmp_path / "images" / "Bengal_1.jpg")
    _trimap(tmp_path / "annotations" / "trimaps" / "Bengal_2.png")
    with pytest.raises(DataError, match=r"no photo in images/ has a trimap.*1 photos, 1 trimaps"):
        pets.image_trimap_pairs(tmp_path)


def test_the_default_folder_is_the_registry_item(monkeypatch, pet_folder):
    seen = []
    monkeypatch.setattr(pets, "locate", lambda name: seen.append(name) or pet_folder)
    assert len(pets.image_trimap_pairs()) == 4 and seen == ["oxford_pets"]
