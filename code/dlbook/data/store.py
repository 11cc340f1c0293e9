"""Finding, fetching and preparing registry items.

Resolution order for an item:

1. its prepared copy in the data directory (`DLBOOK_DATA_DIR`, default `~/.cache/dlbook`), with
   the marker and manifest written when it was prepared (a copy made by an earlier version, with a
   marker but no manifest, is checked and adopted, or prepared again);
2. each local mirror folder in `DLBOOK_DATA_MIRROR` (several may be joined with `os.pathsep`):
   a prepared copy there is used in place; a source file there is verified and prepared. Every
   candidate is tried: a bad file in one mirror, or a bad file of one source, does not hide a good
   one elsewhere (it is reported);
3. a download from the canonical origin, with pooch: a progress bar, the checksum checked before
   the file takes its name. Files whose origin publishes no checksum are held to the SHA-256
   recorded the first time they were obtained.

What is ours and what is the libraries': pooch downloads and checks checksums; filelock makes one
process at a time prepare an item, so two chapters (or a chapter and `fetch`) never unpack into the
same place. This module keeps the registry's resolution: mirrors, alternative sources, archives
unpacked into a staging folder that is renamed into place only when complete (never in place, and
with tarfile's "data" filter, which pooch does not apply on Python 3.11), and the manifest written last.
"""

from __future__ import annotations

import contextlib
import gzip
import lzma
import os
import re
import shutil
import sys
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

from dlbook.data import manifest
from dlbook.data.manifest import complete, item
from dlbook.data.places import (
    CHUNK,
    MARKER_DIR,
    DataError,
    atomic_path,
    data_dir,
    disk_error,
    downloads_dir,
    file_digest,
    is_disk_error,
    item_lock,
    mirror_dirs,
    write_json_atomic,
    writable_data_dir,
)
from dlbook.data.registry import Item, RemoteFile, Source

__all__ = [
    "CHUNK", "MARKER_DIR", "DataError", "PREPARERS", "atomic_path", "count_files", "data_dir", "download", "fetch",
    "file_digest", "item", "locate", "mirror_dirs", "mirror_prepared_path", "prepared_path", "provenance", "status",
    "verify", "verify_file", "write_json_atomic",
]


class DiskError(DataError):
    """The disk that is written to is full or read-only: trying another source would not help."""


# --------------------------------------------------------------------------------------------------
# Prepared copies and mirrors


def prepared_path(name: str) -> Path | None:
    """The prepared copy in the data directory, if it is complete and has its manifest, else None."""
    entry = item(name)
    try:
        marker = manifest.read_marker(name)
    except DataError:
        return None
    path = data_dir() / entry.target
    if not manifest.has_manifest(marker):
        return None
    source = manifest.source_of(entry, marker)
    return path if source is not None and complete(path, source) else None


def _older_copy(name: str) -> tuple[Path, dict] | None:
    """A complete prepared copy made by an earlier version (a marker without a manifest), if there is one."""
    entry = item(name)
    try:
        marker = manifest.read_marker(name)
    except DataError:
        return None
    path = data_dir() / entry.target
    if marker is None or manifest.has_manifest(marker):
        return None
    return (path, marker) if any(complete(path, s) for s in entry.sources) else None


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
            if any(complete(candidate, s) for s in archive_sources):
                return candidate
    return None


def _mirror_candidates(remote: RemoteFile) -> list[Path]:
    """Every copy of `remote` in the mirrors, in the order of DLBOOK_DATA_MIRROR."""
    found = []
    for mirror in mirror_dirs():
        for rel in (remote.filename, *remote.mirror_paths):
            if (mirror / rel).is_file():
                found.append(mirror / rel)
    return found


# --------------------------------------------------------------------------------------------------
# Checksums and downloads


def verify_file(path: Path, remote: RemoteFile, origin: str, *, item_name: str | None = None) -> str:
    """Check `path` against the published checksum of `remote`; return its SHA-256.

    `origin` says where the file came from, for the error message.
    """
    try:
        sha256 = file_digest(path, "sha256")
        published = remote.checksum
        actual = sha256 if published is None or published[0] == "sha256" else file_digest(path, published[0])
    except OSError as error:
        raise DataError(f"{item_name + ': ' if item_name else ''}{remote.filename} from {origin} cannot be read "
                        f"({error.strerror or error}); fix or replace that file.") from None
    if published is not None and actual != published[1]:
        algorithm, expected = published
        raise DataError(
            f"{item_name + ': ' if item_name else ''}{remote.filename} from {origin} failed its {algorithm.upper()} "
            f"check: expected {expected}, found {actual} ({path.stat().st_size:,} bytes"
            + (f"; {_what_is(path)}" if _what_is(path) else "") + "). "
            "It is corrupt, truncated or a different version: replace it with a good copy (or remove it from the "
            "mirror), then fetch again.")
    return sha256


def _copy_local_url(url: str, output_file: str, pooch_instance: object = None) -> None:
    """A pooch downloader for file:// URLs (a file shipped in an installed package, or a local copy)."""
    import urllib.parse
    import urllib.request

    source = urllib.request.url2pathname(urllib.parse.urlparse(url).path)
    try:
        handle = open(source, "rb")
    except OSError as error:  # pooch reports a ValueError as this URL's failure and goes on
        raise ValueError(f"cannot read {source} ({error.strerror})") from None
    with handle, open(output_file, "wb") as out:
        shutil.copyfileobj(handle, out, CHUNK)


def _pooch_hash(remote: RemoteFile) -> str | None:
    published = remote.checksum
    return f"{published[0]}:{published[1]}" if published else None


def download(remote: RemoteFile, dest: Path, *, progress: bool = True, timeout: float = 60) -> str:
    """Download `remote` to `dest` with pooch, trying its URLs in order; verify; return the file's SHA-256.

    pooch streams into a temporary file beside `dest` and gives it its name only once the checksum
    matches, so `dest` is never a partial or unverified file. A file already at `dest` that passes
    the checksum is used without a new download. On failure a `DataError` lists every URL tried.
    """
    import logging

    import pooch
    import requests

    failures = []
    dest = Path(dest)
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.INFO if progress else logging.WARNING)
    try:
        for url in remote.urls:
            try:
                if url.startswith(("http://", "https://")):
                    downloader = pooch.HTTPDownloader(progressbar=progress, timeout=timeout)
                elif url.startswith("file:"):
                    downloader = _copy_local_url
                else:
                    downloader = None  # pooch chooses (FTP, SFTP, DOI) or says the protocol is unknown
                path = pooch.retrieve(url, known_hash=_pooch_hash(remote), fname=dest.name, path=dest.parent,
                                      downloader=downloader, progressbar=progress)
                return file_digest(Path(path))
            except ValueError as error:  # pooch: a checksum mismatch or an unknown protocol
                found = re.search(r"but got ([0-9a-fA-F]+)", str(error))
                failures.append(f"{url}: " + (f"the download failed its {remote.checksum[0].upper()} check "
                                              f"(expected {remote.checksum[1]}, found {found.group(1)}); it was "
                                              "deleted" if found and remote.checksum else str(error)))
            except requests.RequestException as error:
                failures.append(f"{url}: {_short(error)}")
            except OSError as error:
                if is_disk_error(error):
                    raise _disk(error, f"downloading {remote.filename}", dest, remote.size) from None
                failures.append(f"{url}: {error.strerror or error}")
    finally:
        logger.setLevel(level)
    raise DataError(f"could not download {remote.filename}:\n  " + "\n  ".join(failures or ["no URL is registered"]))


def _short(error: Exception) -> str:
    text = str(error)
    match = re.search(r"(\d{3} (Client|Server) Error[^:]*)", text)
    if match:
        return match.group(1)
    if "Failed to resolve" in text or "Name or service not known" in text or "NameResolutionError" in text:
        return "the host cannot be reached (no network, or its name does not resolve)"
    if "Connection refused" in text:
        return "connection refused"
    if "timed out" in text.lower():
        return "timed out"
    return text.splitlines()[0][:300]


def _disk(error: OSError, what: str, where: Path, needed: int | None = None) -> DiskError:
    return DiskError(str(disk_error(error, what, where, needed)))


# --------------------------------------------------------------------------------------------------
# Unpacking and preparing


def _what_is(path: Path, kind: str | None = None) -> str:
    """What a file that should be an archive or a data file really is, from its first bytes ("" if unremarkable)."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError as error:
        return f"unreadable ({error.strerror or error})"
    text = head.lstrip().lower()
    if size == 0:
        return "an empty file"
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head")) or b"<html" in text:
        return "an HTML page, not the file (a web page saved in its place, e.g. a login page)"
    if kind is None:
        return ""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "a damaged or truncated zip archive" if kind == "zip" else "a zip archive, not a tar archive"
    if head.startswith(b"\x1f\x8b"):
        return "a damaged or truncated gzip file" if kind == "tar" else "a gzip file, not a zip archive"
    return f"{size:,} bytes that are not a {kind} archive"


def _safe_member(name: str) -> bool:
    parts = Path(name).parts
    return not (name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]))


_CORRUPT = (zipfile.BadZipFile, tarfile.ReadError, tarfile.CompressionError, tarfile.HeaderError, zlib.error,
            EOFError, gzip.BadGzipFile, lzma.LZMAError)


def _progress_bar(total: int, label: str, progress: bool):
    from tqdm.auto import tqdm

    # Only on a terminal: in a log, a bar that redraws itself is noise.
    return tqdm(total=total, desc=label, unit="file", disable=not (progress and sys.stderr.isatty()), leave=False,
                file=sys.stderr, mininterval=0.5)


def _extract(archive: Path, kind: str, into: Path, members: str | None, *, what: str, origin: str,
             progress: bool = False) -> None:
    """Unpack `archive` into the staging folder `into`: corrupt archives, unsafe paths and full disks each say so."""
    pattern = re.compile(members) if members else None
    fix = (f"replace {archive.name} in the mirror with a good copy (or remove it), then fetch again"
           if not str(archive).startswith(str(data_dir())) else "fetch it again")
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                chosen = [i for i in zf.infolist() if pattern is None or pattern.match(i.filename)]
                unsafe = [i.filename for i in zf.infolist() if not _safe_member(i.filename)]
                if unsafe:
                    raise DataError(f"{what}: {archive.name} ({origin}) has an unsafe member path {unsafe[0]!r} "
                                    f"(it would be written outside its folder); nothing was unpacked. {fix[0].upper() + fix[1:]}.")
                needed = sum(i.file_size for i in chosen)
                into.mkdir(parents=True, exist_ok=True)
                free = shutil.disk_usage(into).free
                if needed > free:
                    raise _disk(OSError(28, "No space left on device"), f"{what}: unpacking {archive.name}", into, needed)
                with _progress_bar(len(chosen), f"unpacking {archive.name}", progress) as bar:
                    for info in chosen:
                        zf.extract(info, into)  # reads through the member's CRC-32 check
                        bar.update(1)
        elif kind == "tar":
            with tarfile.open(archive) as tf:
                chosen = [m for m in tf.getmembers() if pattern is None or pattern.match(m.name)]
                tf.extractall(into, members=chosen, filter="data")
        else:
            raise DataError(f"{what}: unknown archive kind {kind!r} in the registry")
    except tarfile.FilterError as error:
        raise DataError(f"{what}: {archive.name} ({origin}) has an unsafe member ({error}); nothing of it is used. "
                        f"{fix[0].upper() + fix[1:]}.") from None
    except _CORRUPT as error:
        raise DataError(f"{what}: {archive.name} ({origin}) is not a readable {kind} archive: it is "
                        f"{_what_is(archive, kind)} ({error}). It is corrupt, truncated or not the right file: "
                        f"{fix}.") from None
    except OSError as error:
        if is_disk_error(error):
            raise _disk(error, f"{what}: unpacking {archive.name}", into) from None
        raise DataError(f"{what}: unpacking {archive.name} ({origin}) failed: {error.strerror or error}. "
                        "Check the disk that holds the data directory, then fetch again.") from None


def _dogs_vs_cats_split(staging: Path, files: list[Path]) -> Path:
    """Build the small split (cat/dog.0–999 train, 1000–1499 validation) from Kaggle's train.zip."""
    out = staging / "prepared"
    ranges = {"train": range(0, 1000), "validation": range(1000, 1500)}
    try:
        with zipfile.ZipFile(files[0]) as zf:
            for info in zf.infolist():
                match = re.fullmatch(r"(?:train/)?(cat|dog)\.(\d+)\.jpg", info.filename)
                if not match:
                    continue
                animal, number = match.group(1), int(match.group(2))
                for split, numbers in ranges.items():
                    if number in numbers:
                        target = out / split / f"{animal}s" / f"{animal}.{number}.jpg"
                        target.parent.mkdir(parents=True, exist_ok=True)
                        with zf.open(info) as src, open(target, "xb") as dst:
                            shutil.copyfileobj(src, dst)
    except _CORRUPT as error:
        raise DataError(f"cats_and_dogs_small: {files[0].name} ({files[0]}) is not Kaggle's train.zip: it is "
                        f"{_what_is(files[0], 'zip')} ({error}). Download train.zip from "
                        "https://www.kaggle.com/c/dogs-vs-cats/data again while logged in, and put it in the mirror.") from None
    if not out.is_dir():
        raise DataError(f"cats_and_dogs_small: {files[0].name} ({files[0]}) holds no photos named train/cat.N.jpg or "
                        "train/dog.N.jpg: it is not Kaggle's Dogs vs. Cats train.zip (test1.zip has no labels).")
    return out


# Custom preparation steps named by `Source.prepare`: (staging folder, source files) → the built copy.
PREPARERS: dict[str, Callable[[Path, list[Path]], Path]] = {"dogs_vs_cats_split": _dogs_vs_cats_split}


def _build(entry: Item, source: Source, files: list[Path], staging: Path, origin: str, progress: bool) -> Path:
    target_name = Path(entry.target).name
    if source.prepare:
        if source.prepare not in PREPARERS:
            raise DataError(f"{entry.name}: the registry names an unknown preparation step {source.prepare!r}")
        return PREPARERS[source.prepare](staging, files)
    if source.unpack == "copy":
        if entry.is_file:
            built = staging / target_name
            shutil.copyfile(files[0], built)
            return built
        built = staging / "prepared"
        built.mkdir()
        for f, remote in zip(files, source.files):
            shutil.copyfile(f, built / remote.filename)
        return built
    unpacked = staging / "unpacked"
    for f in files:
        _extract(f, source.unpack, unpacked, source.members, what=entry.name, origin=origin, progress=progress)
    return unpacked / source.root if source.root else unpacked


def _prepare(entry: Item, source: Source, files: list[Path], origin: str, digests: dict[str, str],
             progress: bool = False) -> Path:
    """Turn verified `files` into the prepared copy of `entry`; all or nothing. Call with the item's lock held."""
    target = data_dir() / entry.target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}{manifest.STAGING}"))
    except OSError as error:
        raise _disk(error, f"{entry.name}: preparing", target.parent) from None
    try:
        try:
            built = _build(entry, source, files, staging, origin, progress)
            if not complete(built, source):
                missing = [p for p in source.provides if not (built / p).exists()]
                raise DataError(f"{entry.name}: {', '.join(f.name for f in files)} from {origin} does not have the "
                                f"expected layout (missing {', '.join(missing)}): it is not the right file. Replace it, "
                                "then fetch again.")
            files_found = manifest.scan(built)
            counts = manifest.folder_counts(entry, source, built, files_found)
            expected = dict(source.counts)
            if expected and counts != expected:
                shown = "; ".join(f"{k}: {counts.get(k, 0):,} (expected {v:,})" for k, v in expected.items())
                raise DataError(f"{entry.name}: {', '.join(f.name for f in files)} from {origin} does not hold the "
                                f"expected files ({shown}): it is a different or damaged archive. Replace it, then "
                                "fetch again.")
            manifest.forget(entry.name)
            if target.exists() or target.is_symlink():
                os.replace(target, staging / "previous")  # moved aside, then removed with the staging folder
            os.replace(built, target)
            manifest.write_record(entry, source, target, origin, digests, files=files_found)
        except OSError as error:
            if is_disk_error(error):
                raise _disk(error, f"{entry.name}: preparing", target.parent) from None
            raise DataError(f"{entry.name}: preparing it in {target.parent} failed ({error.strerror or error}). "
                            "Check that disk, then fetch again.") from None
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _record_first_use(entry: Item, source: Source, paths: list[Path], digests: dict[str, str], origin: str) -> None:
    for remote, path in zip(source.files, paths):
        if remote.checksum is None and manifest.record_first_use(entry, remote, digests[remote.filename],
                                                                 path.stat().st_size, origin):
            print(f"dlbook.data: {entry.name}: no checksum is published for {remote.filename}; its SHA-256 "
                  f"{digests[remote.filename]} is recorded in {manifest.record_path()}, and later copies are held "
                  "to it.", file=sys.stderr)


# --------------------------------------------------------------------------------------------------
# The public entry points


def locate(name: str, *, download_missing: bool = True, progress: bool = True, force: bool = False) -> Path:
    """The path of item `name`'s prepared copy, fetching and preparing it if needed.

    With `force`, the prepared copy is made again from its source. Raises `DataError` naming every
    place looked in, and how to supply the item, when nothing resolves.
    """
    entry = item(name)
    if not force:
        found = prepared_path(name)
        if found is not None:
            return found
        older = _older_copy(name)
        if older is None:
            found = mirror_prepared_path(name)
            if found is not None:
                return found
    try:
        writable_data_dir()
    except DataError as error:
        older = None if force else _older_copy(name)
        if older is not None:  # a read-only data directory with an older copy: use it as it is
            return older[0]
        raise DataError(f"{name}: {error}") from None
    with item_lock(name):
        return _locate_locked(entry, download_missing=download_missing, progress=progress, force=force)


def _locate_locked(entry: Item, *, download_missing: bool, progress: bool, force: bool) -> Path:
    name = entry.name
    if not force:
        found = prepared_path(name)  # another process may have prepared it while this one waited
        if found is not None:
            return found
        older = _older_copy(name)
        if older is not None:
            problems, note = manifest.adopt(entry, *older)
            if not problems:
                print(f"dlbook.data: {name}: adopted the copy prepared by an earlier version ({note}); "
                      "its manifest is written.", file=sys.stderr)
                return older[0]
            print(f"dlbook.data: {name}: the copy prepared by an earlier version does not pass its checks "
                  f"({problems[0]}{' …' if len(problems) > 1 else ''}); preparing it again.", file=sys.stderr)
    _clean_item(entry)
    looked = [f"prepared copy: {data_dir() / entry.target} "
              + ("(kept as it is: --force prepares it again from a source)" if force else "(not there)")]
    mirrors = mirror_dirs()
    if not mirrors:
        looked.append("local mirror: DLBOOK_DATA_MIRROR is not set")
    rejected: list[str] = []

    # Local sources: every mirror, every source, every copy of each file.
    for source in entry.sources:
        chosen, digests, missing = [], {}, []
        for remote in source.files:
            good = None
            for candidate in _mirror_candidates(remote):
                try:
                    digest = verify_file(candidate, remote, f"the mirror ({candidate})", item_name=name)
                    if remote.checksum is None:
                        manifest.check_recorded(entry, remote, digest, candidate.stat().st_size, str(candidate))
                    good = candidate
                    digests[remote.filename] = digest
                    break
                except DataError as error:
                    rejected.append(str(error))
            if good is None:
                missing.append(remote.filename)
            chosen.append(good)
        if missing:
            for mirror in mirrors:
                looked.append(f"mirror {mirror}: no usable {' + '.join(f.filename for f in source.files)}")
            continue
        origin = f"mirror {chosen[0].parent}" if chosen else "an installed package"
        try:
            prepared = _prepare(entry, source, chosen, origin, digests, progress)
        except DiskError:
            raise
        except DataError as error:
            rejected.append(str(error))
            continue
        _record_first_use(entry, source, chosen, digests, origin)
        _report_rejected(name, rejected, prepared)
        return prepared

    # Downloads, from the sources that need no login.
    errors = []
    if download_missing:
        for source in entry.sources:
            if not source.files or not all(f.urls for f in source.files) or any(f.manual for f in source.files):
                continue
            folder = downloads_dir(name)
            try:
                digests, paths = {}, []
                for remote in source.files:
                    dest = folder / remote.filename
                    digests[remote.filename] = download(remote, dest, progress=progress)
                    if remote.checksum is None:
                        manifest.check_recorded(entry, remote, digests[remote.filename], dest.stat().st_size,
                                                remote.urls[0])
                    paths.append(dest)
                prepared = _prepare(entry, source, paths, source.files[0].urls[0], digests, progress)
            except DiskError:
                raise
            except DataError as error:
                errors.append(str(error))
                for remote in source.files:  # a file that failed to unpack or was refused is not kept
                    if not _verified_download(folder / remote.filename, remote):
                        (folder / remote.filename).unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only when empty
                continue
            _record_first_use(entry, source, paths, digests, source.files[0].urls[0])
            shutil.rmtree(folder, ignore_errors=True)
            _report_rejected(name, rejected, prepared)
            return prepared
        looked.append("download: " + ("\n    ".join(e.replace("\n", "\n    ") for e in errors) if errors
                                      else "no source can be downloaded without a login"))
    else:
        looked.append("download: not attempted (offline)")

    manual = [f.manual for s in entry.sources for f in s.files if f.manual]
    origin = entry.login_free_origin()
    how = (
        "Supply it by pointing DLBOOK_DATA_MIRROR at a folder holding one of: "
        + "; ".join(" + ".join(f.filename for f in s.files) for s in entry.sources if s.files)
        + (f" (origin: {origin[1].urls[0]})" if origin else "")
        + (f". {manual[0].rstrip('.')}" if manual else "")
        + f". Then run `python -m dlbook.data fetch {name}`."
    )
    problems = "".join(f"\n  ! {p}" for p in rejected)
    raise DataError(f"cannot find {name} ({entry.title}). Looked in:\n  - " + "\n  - ".join(looked)
                    + (f"\nRefused:{problems}" if problems else "") + "\n" + how)


def _verified_download(path: Path, remote: RemoteFile) -> bool:
    """A complete download that passed its published checksum: worth keeping for the next try."""
    if remote.checksum is None or not path.is_file():
        return False
    try:
        verify_file(path, remote, str(path))
    except DataError:
        return False
    return True


def _report_rejected(name: str, rejected: list[str], used: Path) -> None:
    for problem in rejected:
        print(f"dlbook.data: {name}: skipped a bad copy and used another one ({used}):\n  {problem}", file=sys.stderr)


def _clean_item(entry: Item) -> None:
    """Remove an interrupted preparation's staging folders and partial downloads (the item's lock is held)."""
    for leftover in manifest.leftovers():
        if leftover.item == entry.name and "complete download" not in leftover.what:
            with contextlib.suppress(OSError):
                manifest._remove(leftover.path)


def fetch(names: Iterable[str], *, progress: bool = True) -> dict[str, Path]:
    """Resolve several items; returns name → path."""
    return {name: locate(name, progress=progress) for name in names}


def verify(name: str) -> list[str]:
    """Problems with item `name`'s prepared copy (empty when it is sound, or not prepared at all).

    Every file is compared with the manifest written when the copy was prepared (size and SHA-256);
    single files are also checked against the checksum their origin publishes.
    """
    return check(name).problems


def check(name: str) -> manifest.Check:
    """The full outcome of verifying item `name` (see `dlbook.data.manifest.Check`)."""
    item(name)
    path = prepared_path(name)
    if path is None:
        older = _older_copy(name)
        if older is not None:
            path = older[0]
    if path is None:
        try:
            has_marker = manifest.read_marker(name) is not None
        except DataError:
            has_marker = True
        mirror = None if has_marker else mirror_prepared_path(name)
        if mirror is not None:
            return manifest.check(name, mirror, mirror_copy=True)
        if has_marker:
            path = data_dir() / item(name).target
            return manifest.check(name, path if path.exists() else None)
    return manifest.check(name, path)


def provenance(name: str) -> str:
    """One line naming the source item `name`'s prepared copy came from, with its file counts.

    For a chapter to say what it trained on, e.g. `glue("photos_source", data.provenance("cats_and_dogs_small"))`.
    Read from the marker written when the copy was prepared; raises `DataError` when it is not prepared.
    """
    older = _older_copy(name)
    path = prepared_path(name) or (older[0] if older else None) or mirror_prepared_path(name)
    if path is None:
        raise DataError(f"{name} is not prepared, so it has no provenance yet; call dlbook.data.locate({name!r}) or "
                        f"run `python -m dlbook.data fetch {name}` first.")
    return manifest.provenance(name, path)


def status(name: str) -> str:
    """A short status for `list`: prepared, mirror, or missing."""
    if prepared_path(name):
        return "prepared"
    if _older_copy(name):
        return "prepared (no manifest)"
    try:
        manifest.read_marker(name)
    except DataError:
        return "broken marker"
    if mirror_prepared_path(name):
        return "mirror (prepared copy)"
    entry = item(name)
    for source in entry.sources:
        if source.files and mirror_dirs() and all(_mirror_candidates(f) for f in source.files):
            return "mirror"
    return "missing"


def count_files(folder: Path, suffixes: tuple[str, ...]) -> int:
    """Number of files under `folder` with one of `suffixes` (for subset reports)."""
    return sum(1 for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
