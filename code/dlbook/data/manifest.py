"""What a prepared copy is: its marker and manifest, checked by `verify`, and what was left behind.

When an item is prepared, two files are written into the data directory's `.dlbook/` folder, last:

- the *marker* `NAME.json`: the source and origin it came from, the SHA-256 of the source files, the
  date, and the number of files under each provided folder (what `provenance` reports);
- the *manifest* `NAME.manifest.json`: the size and SHA-256 of every file of the prepared copy.

`verify` re-reads every file and compares it with the manifest (missing, changed, unexpected files),
and single files also with the checksum the origin publishes. A copy made by an earlier version of
the book has a marker but no manifest; `adopt` checks it as far as it can (its layout; files used as
they are against their published checksums; files unpacked from a zip against the CRC-32 and size
the zip records, when the archive is in a mirror) and writes the manifest, or says why it cannot.

For files whose origin publishes no checksum, the SHA-256 is recorded the first time one is obtained
(`recorded-checksums.json`); a later copy that differs is refused, and the record is never overwritten.

Leftovers are what an interrupted run leaves behind: staging folders of a preparation, partial
downloads, half-written files. Each is tied to a lock or a process id, so `clean_leftovers` removes
only what no running process still writes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from dlbook.data.places import (
    CHUNK,
    DOWNLOADS,
    MARKER_DIR,
    PARTIAL,
    DataError,
    atomic_path,
    data_dir,
    file_digest,
    downloads_dir,
    folder_lock,
    lock_is_free,
    lock_path,
    mirror_dirs,
    pid_alive,
    write_json_atomic,
)
from dlbook.data.registry import ITEMS, Item, RemoteFile, Source

FORMAT = 2
RECORD = "recorded-checksums.json"
IMAGE_FOLDERS = "image-folders"
STAGING = ".staging."
# How many files of one kind a report lists before it says "and N more".
SHOWN = 5


def item(name: str) -> Item:
    """The registry entry called `name`."""
    try:
        return ITEMS[name]
    except KeyError:
        raise DataError(f"no dataset or model file called {name!r}; known: {', '.join(sorted(ITEMS))} "
                        "(see `python -m dlbook.data list`)") from None


def marker_path(name: str, root: Path | None = None) -> Path:
    return (root or data_dir()) / MARKER_DIR / f"{name}.json"


def manifest_path(name: str, root: Path | None = None) -> Path:
    return (root or data_dir()) / MARKER_DIR / f"{name}.manifest.json"


def record_path() -> Path:
    return data_dir() / MARKER_DIR / RECORD


def fix_command(name: str) -> str:
    return f"python -m dlbook.data fetch --force {name}"


# --------------------------------------------------------------------------------------------------
# Markers and manifests


def read_marker(name: str) -> dict | None:
    """Item `name`'s marker, or None when there is none; a `DataError` when it cannot be read."""
    path = marker_path(name)
    if not path.is_file():
        return None
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"{name}: its marker {path} is unreadable ({error}); "
                        f"`{fix_command(name)}` prepares the item again and rewrites it.") from None
    if not isinstance(marker, dict) or marker.get("item") not in (None, name):
        raise DataError(f"{name}: its marker {path} does not describe this item; `{fix_command(name)}` rewrites it.")
    return marker


def has_manifest(marker: dict | None) -> bool:
    return bool(marker) and marker.get("format") == FORMAT and isinstance(marker.get("manifest_sha256"), str)


def read_manifest(name: str, marker: dict) -> dict[str, list]:
    """The manifest's `relative path → [size, sha256]`, checked against the digest the marker holds."""
    path = manifest_path(name)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DataError(f"{name}: its manifest {path} cannot be read ({error.strerror or error}); "
                        f"`{fix_command(name)}` prepares the item again.") from None
    if _sha256_bytes(raw) != marker.get("manifest_sha256"):
        raise DataError(f"{name}: its manifest {path} was changed after the item was prepared (its SHA-256 "
                        f"differs from the one in {marker_path(name)}); `{fix_command(name)}` prepares the item again.")
    try:
        files = json.loads(raw)["files"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise DataError(f"{name}: its manifest {path} is unreadable ({error}); "
                        f"`{fix_command(name)}` prepares the item again.") from None
    return files


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _walk_files(path: Path) -> Iterator[tuple[str, Path]]:
    """(relative path, path) of every file of a prepared copy: the file itself, or the files under a folder."""
    if not path.is_dir():
        yield path.name, path
        return
    for current, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = Path(current) / name
            yield full.relative_to(path).as_posix(), full


def _digests(path: Path, crc: bool = False) -> tuple[int, str, int | None]:
    """(size, sha256, crc32 or None) of one file, read once."""
    digest, checksum, size = hashlib.sha256(), 0, 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
            if crc:
                checksum = zlib.crc32(chunk, checksum)
    return size, digest.hexdigest(), (checksum if crc else None)


def scan(path: Path) -> dict[str, list]:
    """The manifest of a prepared copy: `relative path → [size, sha256]` of every file."""
    return {rel: list(_digests(full)[:2]) for rel, full in _walk_files(path)}


def folder_counts(entry: Item, source: Source, path: Path, files: dict[str, list] | None = None) -> dict[str, int]:
    """Files under each folder the source provides (from a manifest when given); files provided as such are not counted."""
    names = list(files) if files is not None else [rel for rel, _ in _walk_files(path)]
    counts = {}
    for folder in source.provides:
        prefix = folder.rstrip("/") + "/"
        if folder and any(rel.startswith(prefix) for rel in names):
            counts[folder] = sum(1 for rel in names if rel.startswith(prefix))
        elif folder and (path / folder).is_dir():
            counts[folder] = 0
    return counts


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def write_record(entry: Item, source: Source, path: Path, origin: str, source_digests: dict[str, str],
                 files: dict[str, list] | None = None, adopted: str | None = None) -> dict:
    """Write item `entry`'s manifest, then its marker (the marker last: it says the copy is complete)."""
    files = scan(path) if files is None else files
    payload = json.dumps({"item": entry.name, "format": FORMAT, "files": files}, indent=0).encode()
    manifest = manifest_path(entry.name)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(manifest) as tmp:
        tmp.write_bytes(payload)
    marker = {
        "item": entry.name, "format": FORMAT, "source": source.note,
        "source_files": [f.filename for f in source.files], "origin": origin, "sha256": source_digests,
        "prepared": time.strftime("%Y-%m-%dT%H:%M:%S"), "files": len(files),
        "bytes": sum(size for size, _ in files.values()), "counts": folder_counts(entry, source, path, files),
        "manifest_sha256": _sha256_bytes(payload),
    }
    if adopted:
        marker["adopted"] = adopted
    write_json_atomic(marker_path(entry.name), marker)
    return marker


def forget(name: str) -> None:
    """Remove item `name`'s marker and manifest (before its prepared copy is replaced)."""
    marker_path(name).unlink(missing_ok=True)
    manifest_path(name).unlink(missing_ok=True)


def source_of(entry: Item, marker: dict | None, path: Path | None = None) -> Source | None:
    """The source a prepared copy came from: the one whose files the marker names, else one whose layout it has."""
    if marker:
        named = set(marker.get("source_files") or (marker.get("sha256") or {}))
        for source in entry.sources:
            if named and {f.filename for f in source.files} == named:
                return source
        for source in entry.sources:
            if marker.get("source") == source.note:
                return source
    if path is not None:
        return next((s for s in entry.sources if complete(path, s)), None)
    return None


def complete(path: Path, source: Source) -> bool:
    """True when `path` holds everything `source` provides."""
    if source.provides == ("",):
        return path.is_file()
    return path.is_dir() and all((path / p).exists() for p in source.provides)


# --------------------------------------------------------------------------------------------------
# Checksums recorded on first use


def _read_records() -> dict:
    path = record_path()
    if not path.is_file():
        return {}
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(records, dict):
            raise ValueError("not a JSON object")
        return records
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise DataError(f"the record of checksums first seen, {path}, is unreadable ({error}). Repair it, or "
                        "delete it to record the files' checksums again the next time they are obtained.") from None


def recorded(entry: Item, remote: RemoteFile) -> dict | None:
    """What was recorded when `remote` (which has no published checksum) was first obtained, or None."""
    return _read_records().get(f"{entry.name}/{remote.filename}")


def check_recorded(entry: Item, remote: RemoteFile, sha256: str, size: int, origin: str) -> None:
    """Refuse a copy of an unpublished-checksum file that differs from the first one obtained."""
    first = recorded(entry, remote)
    if first is None or first.get("sha256") == sha256:
        return
    raise DataError(
        f"{entry.name}: {remote.filename} from {origin} is not the file obtained the first time: its SHA-256 is "
        f"{sha256} ({size:,} bytes), the one recorded on {first.get('recorded', '?')} (from {first.get('origin', '?')}) "
        f"is {first.get('sha256')} ({first.get('size', 0):,} bytes). Its origin publishes no checksum, so later copies "
        f"are held to the first one. If this copy is damaged, replace it. If the origin really changed the file, "
        f"delete the entry \"{entry.name}/{remote.filename}\" from {record_path()} and fetch again.")


def record_first_use(entry: Item, remote: RemoteFile, sha256: str, size: int, origin: str) -> bool:
    """Record `remote`'s SHA-256 if none is recorded yet; True when it was recorded now."""
    key = f"{entry.name}/{remote.filename}"
    with folder_lock(record_path().with_suffix(".lock"), "the record of checksums first seen"):
        records = _read_records()
        if key in records:
            if records[key].get("sha256") != sha256:  # a race lost to another process: refuse, never overwrite
                check_recorded(entry, remote, sha256, size, origin)
            return False
        records[key] = {"sha256": sha256, "size": size, "origin": origin, "recorded": time.strftime("%Y-%m-%d")}
        write_json_atomic(record_path(), records, sort_keys=True)
    return True


# --------------------------------------------------------------------------------------------------
# Verifying a prepared copy


@dataclasses.dataclass
class Check:
    """The outcome of checking one item: `state` is ok, failed, not prepared or mirror."""

    name: str
    state: str
    problems: list[str] = dataclasses.field(default_factory=list)
    note: str = ""
    fix: str = ""


def _listed(kind: str, names: list[str], name: str, describe) -> list[str]:
    lines = [f"{name}: {rel}: {describe(rel)}" for rel in names[:SHOWN]]
    if len(names) > SHOWN:
        lines.append(f"{name}: … and {len(names) - SHOWN:,} more {kind}")
    return lines


def compare(name: str, path: Path, files: dict[str, list], when: str) -> list[str]:
    """Problems of the prepared copy at `path` against its manifest `files`."""
    present = dict(_walk_files(path))
    missing = sorted(rel for rel in files if rel not in present)
    extra = sorted(rel for rel in present if rel not in files)
    changed, unreadable = [], []
    found: dict[str, tuple[int, str]] = {}
    for rel, (size, sha) in files.items():
        if rel not in present:
            continue
        try:
            actual = _digests(present[rel])[:2]
        except OSError as error:
            unreadable.append(rel)
            found[rel] = (-1, error.strerror or str(error))
            continue
        if actual != (size, sha):
            changed.append(rel)
            found[rel] = actual
    problems = []
    problems += _listed("missing files", missing, name, lambda rel: f"missing (the manifest written {when} lists it, "
                                                                      f"{files[rel][0]:,} bytes)")
    problems += _listed("changed files", changed, name, lambda rel: (
        f"changed: {found[rel][0]:,} bytes, SHA-256 {found[rel][1][:16]}…; the manifest written {when} has "
        f"{files[rel][0]:,} bytes, SHA-256 {files[rel][1][:16]}…"))
    problems += _listed("unreadable files", unreadable, name, lambda rel: f"cannot be read ({found[rel][1]})")
    problems += _listed("unexpected files", extra, name, lambda rel: f"not in the manifest written {when} "
                                                                      "(added after the item was prepared)")
    return problems


def verify_file_checksum(entry: Item, source: Source | None, path: Path) -> list[str]:
    """A single-file item against the checksum its origin publishes (or the one recorded on first use)."""
    remote = (source or entry.sources[0]).files[0]
    if remote.checksum is None:
        first = recorded(entry, remote)
        if first and file_digest(path) != first.get("sha256"):
            return [f"{entry.name}: {path.name}: its SHA-256 differs from the one recorded when it was first "
                    f"obtained ({first.get('sha256', '')[:16]}…)"]
        return []
    algorithm, expected = remote.checksum
    actual = file_digest(path, algorithm)
    if actual != expected:
        return [f"{entry.name}: {path.name}: fails its published {algorithm.upper()} check "
                f"(expected {expected}, found {actual})"]
    return []


def check(name: str, path: Path | None, mirror_copy: bool = False) -> Check:
    """Check item `name`'s prepared copy at `path` (None: not prepared) against its manifest."""
    entry = item(name)
    fix = f"run `{fix_command(name)}` to prepare it again from its source"
    try:
        marker = read_marker(name)
    except DataError as error:
        return Check(name, "failed", [str(error)], fix=fix)
    if mirror_copy and path is not None:
        return Check(name, "mirror", note=f"a prepared copy in a mirror, used in place ({path}): its layout is complete; "
                                          "a mirror has no manifest, so its contents are not checked")
    if path is None or marker is None:
        if marker is not None:
            return Check(name, "failed", [f"{name}: its marker {marker_path(name)} exists but the prepared copy "
                                          f"{data_dir() / entry.target} is missing or incomplete"], fix=fix)
        return Check(name, "not prepared", note=f"not prepared (run `python -m dlbook.data fetch {name}`)")
    if not has_manifest(marker):
        problems, note, _ = adoption_check(entry, path, marker)
        return Check(name, "failed" if problems else "ok", problems, fix=fix,
                     note="prepared by an earlier version of the book, without a manifest: " + note
                          + f"; `python -m dlbook.data fetch {name}` records its manifest")
    try:
        files = read_manifest(name, marker)
    except DataError as error:
        return Check(name, "failed", [str(error)], fix=fix)
    when = (f"when it was {'adopted' if marker.get('adopted') else 'prepared'} on "
            f"{marker.get('prepared', '?').replace('T', ' ')}")
    problems = compare(name, path, files, when)
    if entry.is_file and not problems:
        problems = verify_file_checksum(entry, source_of(entry, marker, path), path)
    total = sum(size for size, _ in files.values())
    return Check(name, "failed" if problems else "ok", problems, fix=fix,
                 note=f"{plural(len(files), 'file')}, {total / 1e6:,.1f} MB, as in the manifest written {when}")


# --------------------------------------------------------------------------------------------------
# Copies prepared by an earlier version (a marker, no manifest)


def _archive_in_mirror(remote: RemoteFile) -> Path | None:
    for mirror in mirror_dirs():
        for rel in (remote.filename, *remote.mirror_paths):
            if (mirror / rel).is_file():
                return mirror / rel
    return None


def adoption_check(entry: Item, path: Path, marker: dict) -> tuple[list[str], str, dict[str, list] | None]:
    """Check an older prepared copy as far as possible: (problems, what was checked, its manifest)."""
    source = source_of(entry, marker, path)
    if source is None or not complete(path, source):
        missing = [p for p in (source or entry.sources[0]).provides if p and not (path / p).exists()]
        return [f"{entry.name}: {path}: incomplete layout (missing {', '.join(missing) or 'the file'})"], "", None
    digests = marker.get("sha256") or {}
    if source.unpack == "copy":
        problems = []
        for remote in source.files:
            file = path if entry.is_file else path / remote.filename
            if not file.is_file():
                problems.append(f"{entry.name}: {file.name}: missing")
                continue
            expected = remote.checksum or ("sha256", (recorded(entry, remote) or {}).get("sha256")
                                           or digests.get(remote.filename))
            if expected[1] and file_digest(file, expected[0]) != expected[1]:
                problems.append(f"{entry.name}: {file.name}: fails its {expected[0].upper()} check "
                                f"(expected {expected[1]})")
        return problems, "its files checked against their published checksums", None
    archive = _archive_in_mirror(source.files[0]) if len(source.files) == 1 and source.unpack == "zip" \
        and not source.prepare else None
    if archive is not None and digests.get(source.files[0].filename) and \
            file_digest(archive) == digests[source.files[0].filename]:
        return _against_zip(entry, source, path, archive)
    files = scan(path)
    counts = folder_counts(entry, source, path, files)
    expected = dict(source.counts)
    short = [f"{folder}: {counts.get(folder, 0):,} of {n:,}" for folder, n in expected.items() if counts.get(folder) != n]
    if short:
        return [f"{entry.name}: {path}: not the expected number of files ({'; '.join(short)})"], "", None
    return [], "its layout checked (the source archive is not at hand, so its contents are recorded as found)", files


def _against_zip(entry: Item, source: Source, path: Path, archive: Path) -> tuple[list[str], str, dict | None]:
    """Compare an unpacked copy with the zip it came from: size and CRC-32 of every member."""
    pattern = re.compile(source.members) if source.members else None
    prefix = source.root.rstrip("/") + "/" if source.root else ""
    expected: dict[str, tuple[int, int]] = {}
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if info.is_dir() or not info.filename.startswith(prefix):
                    continue
                if pattern is None or pattern.match(info.filename):
                    expected[info.filename[len(prefix):]] = (info.file_size, info.CRC)
    except (OSError, zipfile.BadZipFile) as error:
        return [f"{entry.name}: {archive}: cannot be read to check the prepared copy ({error})"], "", None
    files: dict[str, list] = {}
    problems, differ = [], []
    present = dict(_walk_files(path))
    for rel, full in present.items():
        size, sha, crc = _digests(full, crc=True)
        files[rel] = [size, sha]
        if rel not in expected:
            differ.append((rel, "not in the archive"))
        elif expected[rel] != (size, crc):
            differ.append((rel, f"{size:,} bytes, CRC-32 {crc:08x}; the archive has {expected[rel][0]:,} bytes, "
                                f"CRC-32 {expected[rel][1]:08x}"))
    differ += [(rel, "missing") for rel in sorted(set(expected) - set(present))]
    problems = _listed("differences", [rel for rel, _ in differ], entry.name, dict(differ).get)
    return problems, f"every file checked against the CRC-32 and size recorded in {archive}", files


def adopt(entry: Item, path: Path, marker: dict) -> tuple[list[str], str]:
    """Check an older prepared copy and, when sound, write its manifest: (problems, what was checked)."""
    problems, note, files = adoption_check(entry, path, marker)
    if problems:
        return problems, note
    source = source_of(entry, marker, path)
    write_record(entry, source, path, marker.get("origin", "unknown"), marker.get("sha256") or {},
                 files=files, adopted=f"prepared on {marker.get('prepared', '?')} by an earlier version; {note}")
    for remote in source.files:  # seed the first-use record from the older marker
        digest = (marker.get("sha256") or {}).get(remote.filename)
        if remote.checksum is None and digest and recorded(entry, remote) is None:
            record_first_use(entry, remote, digest, 0, marker.get("origin", "unknown"))
    return [], note


# --------------------------------------------------------------------------------------------------
# Provenance


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{folder} {n:,}" for folder, n in counts.items())


def provenance(name: str, path: Path | None = None) -> str:
    """One line naming where item `name`'s prepared copy came from, with its file counts.

    Read from the marker written when it was prepared; a copy used in place from a mirror is counted.
    """
    entry = item(name)
    marker = read_marker(name)
    if marker is None:
        if path is None:
            raise DataError(f"{name} is not prepared, so it has no provenance yet; run "
                            f"`python -m dlbook.data fetch {name}` (or call dlbook.data.locate({name!r})) first.")
        source = source_of(entry, None, path)
        counts = folder_counts(entry, source, path) if source else {}
        return (f"{entry.title}: a prepared copy in a mirror, used in place ({path})"
                + (f"; {_counts_text(counts)} files" if counts else ""))
    source = source_of(entry, marker)
    files = ", ".join(marker.get("source_files") or marker.get("sha256") or ["?"])
    note = source.note if source else marker.get("source", "")
    described = note if files in note else f"{files}, {note}" if note else files
    counts = marker.get("counts")
    if counts is None and path is not None and source is not None:
        counts = folder_counts(entry, source, path)
    size = f"{_counts_text(counts)} files" if counts else (
        f"{plural(marker['files'], 'file')}, {marker['bytes']:,} bytes" if "bytes" in marker else "")
    subset = ""
    if source is not None and source.counts and counts and dict(source.counts) != counts:
        subset = f" (a subset: the complete source has {_counts_text(dict(source.counts))})"
    elif source is not None and source.subset:
        subset = f" (a subset; the complete dataset: {entry.size_note})"
    return f"{entry.title}: {described}; from {marker.get('origin', '?')}" + (f"; {size}" if size else "") + subset


# --------------------------------------------------------------------------------------------------
# Leftovers of interrupted runs


@dataclasses.dataclass(frozen=True)
class Leftover:
    """Something an interrupted run left behind; `removable` is False while its writer still runs."""

    path: Path
    what: str
    item: str | None
    removable: bool
    lock: Path | None = None  # the lock its writer held; held again while it is removed


def _staging_dirs(parent: Path, prefix: str) -> list[Path]:
    if not parent.is_dir():
        return []
    return sorted(p for p in parent.iterdir() if p.name.startswith(prefix) and STAGING in p.name)


def leftovers() -> list[Leftover]:
    """Every leftover of an interrupted preparation, download, image-folder check or atomic write."""
    root = data_dir()
    if not root.is_dir():
        return []
    found: list[Leftover] = []
    prepared_targets = set()
    for entry in ITEMS.values():
        target = root / entry.target
        prepared_targets.add(target)
        lock = lock_path(entry.name)
        free = lock_is_free(lock)
        for staging in _staging_dirs(target.parent, f".{target.name}{STAGING}"):
            found.append(Leftover(staging, "staging folder of an interrupted preparation", entry.name, free, lock))
        downloads = downloads_dir(entry.name)
        if downloads.is_dir():
            names = {f.filename for s in entry.sources for f in s.files}
            prepared = marker_path(entry.name).is_file() and target.exists()
            for file in sorted(downloads.iterdir()):
                if file.name in names and not prepared:
                    found.append(Leftover(file, f"complete download kept for `python -m dlbook.data fetch {entry.name}`",
                                          entry.name, False))
                else:
                    what = "download already unpacked" if file.name in names else "partial download"
                    found.append(Leftover(file, what, entry.name, free, lock))
    old_downloads = root / DOWNLOADS
    if old_downloads.is_dir():  # an earlier version downloaded into .downloads/ itself, as .NAME.RANDOM.part
        for file in sorted(p for p in old_downloads.iterdir() if not p.is_dir()):
            found.append(Leftover(file, "partial download" if file.name.endswith(".part") else "earlier download",
                                  None, True))
    cache = root / IMAGE_FOLDERS
    for staging in _staging_dirs(cache, "."):
        lock = cache / ".locks" / f"{staging.name[1:].split(STAGING)[0]}.lock"
        found.append(Leftover(staging, "staging folder of an interrupted image-folder check", None,
                              lock_is_free(lock), lock))
    skip = prepared_targets | {cache, root / DOWNLOADS, root / MARKER_DIR / "locks"}
    for current, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if Path(current) / d not in skip and STAGING not in d]
        for name in files:
            match = PARTIAL.match(name)
            if match:
                found.append(Leftover(Path(current) / name, "half-written file of an interrupted write", None,
                                      not pid_alive(int(match.group(1)))))
    return found


def clean_leftovers() -> list[Leftover]:
    """Remove every leftover no running process still writes; returns what was removed."""
    removed = []
    for leftover in leftovers():
        if not leftover.removable:
            continue
        try:
            if leftover.lock is not None:
                with folder_lock(leftover.lock, str(leftover.path), timeout=1):
                    _remove(leftover.path)
            else:
                _remove(leftover.path)
        except (DataError, OSError):
            continue
        removed.append(leftover)
    return removed


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
