"""Self-hosted web assets, so that the HTML book reads offline (also from `file://`).

Out of the box, the book's pages would load MathJax from jsDelivr and popper/tippy (the glossary
tooltips) from unpkg. Instead, the build copies pinned copies into `_static/vendor/` and points
the pages at them:

- popper 2.11.8 and tippy.js 6.3.7: the two minified files that unpkg serves for them, vendored
  unchanged from the npm registry under `book/_vendor/` (with their MIT licences);
- MathJax 3.2.2: taken from the pinned PyPI package `django-static-mathjax` (a repackaging of the
  MathJax distribution), of which only the combined `tex-mml-chtml.js`, its web fonts, the TeX
  extensions it loads on demand and its UI components are copied (about 2.6 MB, not 24 MB).

Every file is checked against the SHA-256 recorded here before it is copied: a changed or
truncated copy fails the build, naming the file.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

VENDOR = "vendor"  # below the HTML output's `_static/`


class SelfHostError(RuntimeError):
    """A web asset is missing or is not the pinned copy."""


@dataclass(frozen=True)
class Asset:
    """One pinned file the pages load; `source` is relative to `book/_vendor/`."""

    source: str
    sha256: str

    @property
    def static_path(self) -> str:
        """Its path below `_static/`, as `add_js_file` and the `tippy_js` setting expect it."""
        return f"{VENDOR}/{self.source}"


POPPER = Asset("popper-2.11.8/popper.min.js",
               "c212f4b505a86352aed62b24a8f16f999f821ecbe6456c7f3c8a04bc87968782")
TIPPY = Asset("tippy-6.3.7/tippy-bundle.umd.min.js",
              "3f0fe70eb26ccf28f6887a192e29d38dd7ef7c2f079a73304ad42ddc7bed37de")
VENDORED = (POPPER, TIPPY)

MATHJAX_VERSION = "3.2.2"
MATHJAX_ENTRY = "tex-mml-chtml.js"
MATHJAX_ENTRY_SHA256 = "8aacaa13814e2dd77de7b5f10a7c0cda3a0bcd0af3a2129f8aa7a794f607fd55"
# What `tex-mml-chtml.js` loads: its CHTML fonts, and (on demand) TeX extensions and UI parts.
MATHJAX_FOLDERS = ("output/chtml/fonts/woff-v2", "input/tex/extensions", "ui")
MATHJAX_STATIC = f"{VENDOR}/mathjax-{MATHJAX_VERSION}"
MATHJAX_PATH = f"{MATHJAX_STATIC}/{MATHJAX_ENTRY}"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check(path: Path, expected: str) -> None:
    """Fail unless `path` exists and has the pinned checksum."""
    if not path.is_file():
        raise SelfHostError(f"self-hosted asset missing: {path}")
    found = sha256(path)
    if found != expected:
        raise SelfHostError(
            f"self-hosted asset {path} has SHA-256 {found}, expected {expected}. "
            "Restore the pinned copy (git checkout / the pinned package), or update the pin in "
            "dlbook/site/selfhost.py together with the file."
        )


def mathjax_dir() -> Path:
    """The `es5` folder of the pinned MathJax distribution (the `mathjax` module of django-static-mathjax)."""
    try:
        import mathjax  # provided by django-static-mathjax
    except ImportError as error:
        raise SelfHostError(
            "MathJax for the offline book comes from the package django-static-mathjax, which is "
            "not installed: run `make install` (it is pinned in requirements.txt)."
        ) from error
    folder = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    check(folder / MATHJAX_ENTRY, MATHJAX_ENTRY_SHA256)
    return folder


def copy_assets(vendor_dir: Path, static_dir: Path) -> list[Path]:
    """Copy the pinned assets into an HTML build's `_static/` folder; return the files written."""
    written = []
    for asset in VENDORED:
        source = vendor_dir / asset.source
        check(source, asset.sha256)
        target = static_dir / asset.static_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        written.append(target)
    es5 = mathjax_dir()
    target_root = static_dir / MATHJAX_STATIC
    target_root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(es5 / MATHJAX_ENTRY, target_root / MATHJAX_ENTRY)
    written.append(target_root / MATHJAX_ENTRY)
    for folder in MATHJAX_FOLDERS:
        if not (es5 / folder).is_dir():
            raise SelfHostError(f"MathJax folder missing from the installed package: {es5 / folder}")
        shutil.copytree(es5 / folder, target_root / folder, dirs_exist_ok=True)
        written.extend(p for p in (target_root / folder).rglob("*") if p.is_file())
    return written
