"""The Oxford-IIIT Pet data set as the segmentation lesson uses it: photos paired with their trimaps.

The prepared copy (`locate("oxford_pets")`) holds `images/NAME.jpg` and `annotations/trimaps/NAME.png`,
whether it is the whole data set or the offline 300-pair subset. `image_trimap_pairs` lists the pairs
in name order and says what it left out and why, so a chapter can report how much data it used:

    pairs = image_trimap_pairs()
    print(pairs.summary())
    input_img_paths, target_img_paths = pairs.image_paths, pairs.trimap_paths

The archives carry things that are not pairs: macOS `._NAME.png` resource files beside the trimaps,
a few `.mat` files among the photos, and (in other copies) a photo without its trimap. Those are
skipped and reported. Only file headers are read here; decoding happens batch by batch in the
chapter's `DataGen`.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from pathlib import Path

from dlbook.data.store import DataError, locate

# What the canonical archives hold: 7,390 photos with a trimap each, of 37 breeds (the paper counts
# the 7,349 listed in annotations/list.txt). Used only to say whether a copy is complete.
FULL_DATASET_PAIRS = 7_390
FULL_DATASET_BREEDS = 37
# Trimap pixel values as stored in the PNGs, and the class each stands for.
TRIMAP_VALUES = {1: "pet", 2: "background", 3: "border"}
PHOTO_SUFFIXES = (".jpg", ".jpeg")


@dataclasses.dataclass(frozen=True)
class PetPairs:
    """Photo/trimap pairs in name order, with what was left out.

    `skipped` holds `(path relative to the data set's folder, reason)` for every file that is not
    part of a usable pair.
    """

    root: Path
    image_paths: tuple[Path, ...]
    trimap_paths: tuple[Path, ...]
    skipped: tuple[tuple[str, str], ...]

    def __len__(self) -> int:
        return len(self.image_paths)

    @property
    def names(self) -> tuple[str, ...]:
        """The pairs' names (file names without suffix), e.g. `Abyssinian_1`."""
        return tuple(path.stem for path in self.image_paths)

    @property
    def breeds(self) -> Counter:
        """Pairs per breed. The breed is the name without its number; cats' breeds are capitalised."""
        return Counter(breed_of(name) for name in self.names)

    @property
    def is_complete(self) -> bool:
        """True when this is (close to) the whole data set: all 37 breeds and at least 7,349 pairs."""
        return len(self.breeds) >= FULL_DATASET_BREEDS and len(self) >= 7_349

    def describe(self) -> str:
        """One phrase for a page: which data and how many pairs, e.g. `the offline subset: 300 pairs, 3 breeds`."""
        which = "the whole data set" if self.is_complete else "a subset of the data set"
        return f"{which}: {len(self):,} pairs, {len(self.breeds)} breeds"

    def summary(self) -> str:
        """A few readable lines: counts, breeds, and every skipped file with its reason."""
        breeds = ", ".join(f"{breed}: {count}" for breed, count in sorted(self.breeds.items()))
        lines = [f"{self.root}: {len(self):,} photo/trimap pairs of {len(self.breeds)} breeds "
                 f"(the full data set: {FULL_DATASET_PAIRS:,} pairs of {FULL_DATASET_BREEDS} breeds)",
                 f"  {breeds}"]
        if self.skipped:
            lines.append(f"  skipped {len(self.skipped)} file(s):")
            lines += [f"    {path}: {reason}" for path, reason in self.skipped[:20]]
            if len(self.skipped) > 20:
                lines.append(f"    … and {len(self.skipped) - 20} more")
        return "\n".join(lines)


def breed_of(name: str) -> str:
    """`american_bulldog_12` → `american_bulldog`: the name without its trailing number."""
    match = re.fullmatch(r"(.+)_\d+", name)
    return match.group(1) if match else name


def _image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the file's header, or None when Pillow cannot identify it as an image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.size
    except (UnidentifiedImageError, OSError):
        return None


def image_trimap_pairs(root: Path | str | None = None, *, check_headers: bool = True) -> PetPairs:
    """Every photo of `root/images` that has a trimap in `root/annotations/trimaps`, in name order.

    `root` defaults to the prepared copy of the registry item `oxford_pets`. A file is skipped, with
    its reason, when it is hidden (a name starting with "."), not a JPEG photo or PNG trimap by its
    name, without its partner, or (with `check_headers`) not an image Pillow can identify, or of a
    different size than its partner. Raises `DataError` when the folders are missing or no pair is
    left.
    """
    root = Path(root) if root is not None else locate("oxford_pets")
    image_dir, trimap_dir = root / "images", root / "annotations" / "trimaps"
    for folder in (image_dir, trimap_dir):
        if not folder.is_dir():
            raise DataError(f"{root} has no {folder.relative_to(root)}/ folder: not an Oxford-IIIT Pet copy. "
                            "Point the call at the folder holding images/ and annotations/trimaps/, or run "
                            "`python -m dlbook.data fetch oxford_pets`.")
    skipped: list[tuple[str, str]] = []

    def usable(folder: Path, suffixes: tuple[str, ...], kind: str) -> dict[str, Path]:
        found = {}
        for path in sorted(folder.iterdir()):
            relative = str(path.relative_to(root))
            if path.name.startswith("."):
                skipped.append((relative, "hidden file (e.g. a macOS ._ resource file), not an image"))
            elif not path.is_file():
                skipped.append((relative, "not a file"))
            elif path.suffix.lower() not in suffixes:
                skipped.append((relative, f"not a {kind} by its name"))
            else:
                found[path.stem] = path
        return found

    photos = usable(image_dir, PHOTO_SUFFIXES, "JPEG photo")
    trimaps = usable(trimap_dir, (".png",), "PNG trimap")
    for name in sorted(photos.keys() - trimaps.keys()):
        skipped.append((str(photos[name].relative_to(root)), "no trimap with the same name"))
    for name in sorted(trimaps.keys() - photos.keys()):
        skipped.append((str(trimaps[name].relative_to(root)), "no photo with the same name"))

    image_paths, trimap_paths = [], []
    for name in sorted(photos.keys() & trimaps.keys()):
        photo, trimap = photos[name], trimaps[name]
        if check_headers:
            photo_size, trimap_size = _image_size(photo), _image_size(trimap)
            if photo_size is None or trimap_size is None:
                bad = photo if photo_size is None else trimap
                skipped.append((str(bad.relative_to(root)), "not an image Pillow can read"))
                continue
            if photo_size != trimap_size:
                skipped.append((str(photo.relative_to(root)),
                                f"photo is {photo_size[0]}×{photo_size[1]} but its trimap {trimap_size[0]}×{trimap_size[1]}"))
                continue
        image_paths.append(photo)
        trimap_paths.append(trimap)
    if not image_paths:
        raise DataError(f"{root}: no photo in images/ has a trimap of the same name in annotations/trimaps/ "
                        f"({len(photos)} photos, {len(trimaps)} trimaps). Is this an Oxford-IIIT Pet copy?")
    return PetPairs(root=root, image_paths=tuple(image_paths), trimap_paths=tuple(trimap_paths),
                    skipped=tuple(sorted(skipped)))
