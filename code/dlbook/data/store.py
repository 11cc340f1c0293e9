"""Finding, fetching, verifying and preparing registry items.

Resolution order for an item:

1. its prepared copy in the data directory (`DLBOOK_DATA_DIR`, default `~/.cache/dlbook`);
2. each local mirror folder in `DLBOOK_DATA_MIRROR` (several may be joined with `os.pathsep`):
   a prepared copy there is used in place; a source file there is verified and prepared;
3. a download from the canonical origin, verified after it completes.

Nothing unverified or half-written ever lands where step 1 looks: downloads go to a temporary name
and are renamed only after their checksum matches; archives are unpacked into a temporary folder that
is renamed into place only when complete, and a marker file is written last.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from dlbook.data.registry import ITEMS, Item, RemoteFile, Source

MARKER_DIR = ".dlbook"
CHUNK = 1 << 20


class DataError(RuntimeError):
    """A dataset or weight file could not be found, verified or prepared; the message says how to fix it."""


# --------------------------------------------------------------------------------------------------
# Places


def data_dir() -> Path:
    """The data directory: `DLBOOK_DATA_DIR`, or `~/.cache/dlbook`."""
    return Path(os.environ.get("DLBOOK_DATA_DIR") or Path.home() / ".cache" / "dlbook").expanduser()


def mirror_dirs() -> list[Path]:
    """The local mirror folders named by `DLBOOK_DATA_MIRROR` (joined with `os.pathsep`)."""
    value = os.environ.get("DLBOOK_DATA_MIRROR", "")
    return [Path(p).expanduser() for p in value.split(os.pathsep) if p.strip()]


def item(name: str) -> Item:
    """The registry entry called `name`."""
    try:
        return ITEMS[name]
    except KeyError:
        raise DataError(f"no dataset or model file called {name!r}; known: {', '.join(sorted(ITEMS))}") from None


def _marker(name: str, root: Path | None = None) -> Path:
    return (root or data_dir()) / MARKER_DIR / f"{name}.json"


def _complete(path: Path, source: Source) -> bool:
    """True when `path` holds everything `source` provides."""
    if source.provides == ("",):
        return path.is_file()
    return path.is_dir() and all((path / p).exists() for p in source.provides)


def prepared_path(name: str) -> Path | None:
    """The prepared copy in the data directory, if it is complete, else None."""
    entry = item(name)
    path = data_dir() / entry.target
    if not _marker(name).is_file():
        return None
    return path if any(_complete(path, s) for s in entry.sources) else None


def mirror_prepared_path(name: str) -> Path | None:
    """A prepared (unpacked) copy inside a local mirror, used in place, if one is complete.

    Only items that come from archives qualify: files used as they are (MNIST's, weights) are
    always found as source files and verified against their checksums instead.
    """
    entry = item(name)
    archive_sources = [s for s in entry.sources if s.unpack != "copy"]
    if not archive_sources:
        return None
    for mirror in mirror_dirs():
        for candidate in (mirror / entry.target, mirror / Path(entry.target).name):
            if any(_complete(candidate, s) for s in archive_sources):
                return candidate
    return None


def _in_mirror(remote: RemoteFile) -> Path | None:
    for mirror in mirror_dirs():
        for rel in (remote.filename, *remote.mirror_paths):
            candidate = mirror / rel
            if candidate.is_file():
                return candidate
    return None


# --------------------------------------------------------------------------------------------------
# Checksums and atomic writes


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path, remote: RemoteFile, origin: str) -> str:
    """Check `path` against the published checksum of `remote`; return its SHA-256.

    `origin` says where the file came from, for the error message.
    """
    sha256 = file_digest(path, "sha256")
    published = remote.checksum
    if published is None:
        return sha256
    algorithm, expected = published
    actual = sha256 if algorithm == "sha256" else file_digest(path, algorithm)
    if actual != expected:
        raise DataError(
            f"{remote.filename} from {origin} failed its {algorithm.upper()} check: expected {expected}, "
            f"got {actual}. The file is corrupt, truncated or a different version. Delete it (or fix the "
            f"mirror) and fetch it again with `python -m dlbook.data fetch`."
        )
    return sha256


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path`; whatever is written there is renamed to `path` at the end.

    If the block fails, the temporary file is removed and `path` keeps its old content (or stays
    absent): a reader never finds a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix or ".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_json_atomic(path: Path, payload: dict, **dump_options: Any) -> None:
    """Write `payload` as JSON to `path` via a temporary file and a rename: never a half-written file."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, **{"indent": 2, **dump_options}))


def _progress(name: str, done: int, total: int | None, started: float, stream=sys.stderr) -> None:
    elapsed = max(time.monotonic() - started, 1e-6)
    rate = done / elapsed / 1e6
    if total:
        width = 30
        filled = int(width * done / total)
        bar = "█" * filled + "·" * (width - filled)
        text = f"\r{name}: |{bar}| {done / 1e6:6.1f}/{total / 1e6:.1f} MB {rate:5.1f} MB/s"
    else:
        text = f"\r{name}: {done / 1e6:6.1f} MB {rate:5.1f} MB/s"
    stream.write(text)
    stream.flush()


def download(remote: RemoteFile, dest: Path, *, progress: bool = True, timeout: float = 60) -> str:
    """Download `remote` to `dest`, trying its URLs in order; verify; write atomically.

    Returns the file's SHA-256. On any failure nothing is left at `dest` and a `DataError` lists
    every URL tried and why it failed.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in remote.urls:
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                total = int(response.headers.get("Content-Length") or 0) or remote.size
                done, started = 0, time.monotonic()
                for chunk in iter(lambda: response.read(CHUNK), b""):
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        _progress(remote.filename, done, total, started)
                if progress:
                    sys.stderr.write("\n")
            if total and done != total:
                raise DataError(f"{url}: transfer stopped at {done:,} of {total:,} bytes")
            sha256 = verify_file(tmp, remote, url)
            os.replace(tmp, dest)
            return sha256
        except (urllib.error.URLError, OSError, ValueError, DataError) as error:
            failures.append(f"{url}: {error}")
        finally:
            tmp.unlink(missing_ok=True)
    raise DataError(f"could not download {remote.filename}:\n  " + "\n  ".join(failures))


# --------------------------------------------------------------------------------------------------
# Preparing a source into the data directory


def _safe_member(name: str) -> bool:
    parts = Path(name).parts
    return not (name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]))


def _extract(archive: Path, kind: str, into: Path, members: str | None) -> None:
    pattern = re.compile(members) if members else None
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                bad = zf.testzip()
                if bad is not None:
                    raise DataError(f"archive {archive.name} is corrupt: member {bad} fails its CRC check")
                for info in zf.infolist():
                    if not _safe_member(info.filename):
                        raise DataError(f"archive {archive.name} has an unsafe member path {info.filename!r}")
                    if pattern is None or pattern.match(info.filename):
                        zf.extract(info, into)
        elif kind == "tar":
            with tarfile.open(archive) as tf:
                chosen = [m for m in tf.getmembers() if pattern is None or pattern.match(m.name)]
                tf.extractall(into, members=chosen, filter="data")
        else:
            raise DataError(f"unknown archive kind {kind!r}")
    except (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError, OSError) as error:
        raise DataError(
            f"archive {archive.name} is corrupt or truncated ({error}). Delete it and fetch it again."
        ) from error


def _dogs_vs_cats_split(staging: Path, files: list[Path]) -> Path:
    """Build the small split (cat/dog.0–999 train, 1000–1499 validation) from Kaggle's train.zip."""
    out = staging / "prepared"
    ranges = {"train": range(0, 1000), "validation": range(1000, 1500)}
    with zipfile.ZipFile(files[0]) as zf:
        for info in zf.infolist():
            match = re.search(r"(cat|dog)\.(\d+)\.jpg$", info.filename)
            if not match:
                continue
            animal, number = match.group(1), int(match.group(2))
            for split, numbers in ranges.items():
                if number in numbers:
                    target = out / split / f"{animal}s" / f"{animal}.{number}.jpg"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst)
    return out


PREPARERS: dict[str, Callable[[Path, list[Path]], Path]] = {"dogs_vs_cats_split": _dogs_vs_cats_split}


def _prepare(entry: Item, source: Source, files: list[Path], origin: str, digests: dict[str, str]) -> Path:
    """Turn verified `files` into the prepared copy of `entry`; atomic: all or nothing."""
    root = data_dir()
    target = root / entry.target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{Path(entry.target).name}.staging."))
    try:
        if source.unpack == "copy":
            if entry.is_file:
                built = staging / Path(entry.target).name
                shutil.copyfile(files[0], built)
            else:
                built = staging / "prepared"
                built.mkdir()
                for f, remote in zip(files, source.files):
                    shutil.copyfile(f, built / remote.filename)
        elif source.prepare:
            built = PREPARERS[source.prepare](staging, files)
        else:
            unpacked = staging / "unpacked"
            for f in files:
                _extract(f, source.unpack, unpacked, source.members)
            built = unpacked / source.root if source.root else unpacked
        if not _complete(built, source):
            missing = [p for p in source.provides if not (built / p).exists()]
            raise DataError(f"{entry.name}: the files from {origin} do not have the expected layout (missing {missing})")
        _remove(target)
        os.replace(built, target)
        write_json_atomic(_marker(entry.name), {
            "item": entry.name, "source": source.note, "origin": origin,
            "sha256": digests, "prepared": time.strftime("%Y-%m-%dT%H:%M:%S"),
        })
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


# --------------------------------------------------------------------------------------------------
# The public entry points


def locate(name: str, *, download_missing: bool = True, progress: bool = True) -> Path:
    """The path of item `name`'s prepared copy, fetching and preparing it if needed.

    Raises `DataError` naming every place looked in, and how to supply the item, when nothing resolves.
    """
    entry = item(name)
    found = prepared_path(name)
    if found is not None:
        return found
    found = mirror_prepared_path(name)
    if found is not None:
        return found

    looked = [f"prepared copy: {data_dir() / entry.target} (not there)"]
    mirrors = mirror_dirs()
    if not mirrors:
        looked.append("local mirror: DLBOOK_DATA_MIRROR is not set")
    for source in entry.sources:
        located = [_in_mirror(f) for f in source.files]
        if mirrors and all(located):
            digests = {f.filename: verify_file(p, f, f"the mirror ({p})") for f, p in zip(source.files, located)}
            return _prepare(entry, source, located, f"mirror {located[0].parent}", digests)
        for mirror in mirrors:
            names = ", ".join(f.filename for f in source.files)
            looked.append(f"mirror {mirror}: no {names}")

    errors = []
    if download_missing:
        for source in entry.sources:
            if not all(f.urls for f in source.files) or any(f.manual for f in source.files):
                continue
            downloads = data_dir() / ".downloads"
            try:
                digests = {}
                paths = []
                for remote in source.files:
                    dest = downloads / remote.filename
                    if remote.checksum is None:
                        print(f"note: no checksum is published for {remote.filename}; it is checked by its "
                              "layout and its SHA-256 is recorded", file=sys.stderr)
                    digests[remote.filename] = download(remote, dest, progress=progress)
                    paths.append(dest)
                prepared = _prepare(entry, source, paths, source.files[0].urls[0], digests)
                for p in paths:
                    p.unlink(missing_ok=True)
                return prepared
            except DataError as error:
                errors.append(str(error))
        looked.append("download: " + ("; ".join(errors) if errors else "no downloadable source"))
    else:
        looked.append("download: not attempted (offline)")

    manual = [f.manual for s in entry.sources for f in s.files if f.manual]
    canonical = [u for s in entry.sources for f in s.files for u in f.urls[:1]]
    how = (
        f"Supply it by pointing DLBOOK_DATA_MIRROR at a folder holding one of: "
        + "; ".join(" + ".join(f.filename for f in s.files) for s in entry.sources)
        + (f" (origin: {canonical[0]})" if canonical else "")
        + (f". {manual[0]}" if manual else "")
        + ". Then run `python -m dlbook.data fetch " + name + "`."
    )
    raise DataError(f"cannot find {name} ({entry.title}). Looked in:\n  - " + "\n  - ".join(looked) + "\n" + how)


def fetch(names: Iterable[str], *, progress: bool = True) -> dict[str, Path]:
    """Resolve several items; returns name → path."""
    return {name: locate(name, progress=progress) for name in names}


def verify(name: str) -> list[str]:
    """Problems with item `name`'s prepared copy (empty when it is sound).

    Single files are re-hashed against the registry (or against the SHA-256 recorded when they were
    prepared); folders are checked for their layout and their marker.
    """
    entry = item(name)
    path = prepared_path(name) or mirror_prepared_path(name)
    if path is None:
        return [f"{name}: not prepared (run `python -m dlbook.data fetch {name}`)"]
    problems = []
    marker = _marker(name)
    recorded = json.loads(marker.read_text()).get("sha256", {}) if marker.is_file() else {}
    if entry.is_file:
        remote = entry.sources[0].files[0]
        try:
            sha = verify_file(path, remote, str(path))
            if remote.checksum is None and recorded.get(remote.filename) not in (None, sha):
                problems.append(f"{name}: SHA-256 changed since it was prepared")
        except DataError as error:
            problems.append(str(error))
    else:
        # A folder of files used as they are (MNIST) is re-hashed; an unpacked archive is checked by layout.
        source = next((s for s in entry.sources if s.unpack == "copy" and _complete(path, s)), None)
        for remote in source.files if source else ():
            try:
                verify_file(path / remote.filename, remote, str(path))
            except DataError as error:
                problems.append(str(error))
    return problems


def status(name: str) -> str:
    """A one-word status for `list`: prepared, mirror, or missing."""
    if prepared_path(name):
        return "prepared"
    if mirror_prepared_path(name):
        return "mirror (prepared copy)"
    entry = item(name)
    for source in entry.sources:
        if mirror_dirs() and all(_in_mirror(f) for f in source.files):
            return "mirror"
    return "missing"


def count_files(folder: Path, suffixes: tuple[str, ...]) -> int:
    """Number of files under `folder` with one of `suffixes` (for subset reports)."""
    return sum(1 for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
