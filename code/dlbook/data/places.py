"""Where the data layer reads and writes: the data directory, the mirrors, locks and atomic writes.

Everything that touches the disk goes through here, so that every failure becomes one `DataError`
whose message names the file, what was found and the fix:

- `data_dir()` and `mirror_dirs()` read `DLBOOK_DATA_DIR` and `DLBOOK_DATA_MIRROR`;
- `writable_data_dir()` checks the data directory once before anything is written into it;
- `item_lock(name)` lets one process at a time prepare an item (filelock; the operating system
  releases the lock when its holder dies, so a killed fetch never blocks the next one);
- `atomic_path` and `write_json_atomic` write through a temporary name and a rename;
- `disk_error` turns an `OSError` met while writing (a full disk, a read-only folder) into a message
  that says so, instead of blaming the file being read.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import filelock

MARKER_DIR = ".dlbook"
DOWNLOADS = ".downloads"
CHUNK = 1 << 20
# How long a process waits for another one that is preparing the same item (a large download).
LOCK_TIMEOUT = 3 * 3600
# atomic_path's temporary files carry the writer's process id, so a leftover can be told from a
# write in progress: `.NAME.partial-PID-RANDOM.SUFFIX`.
PARTIAL = re.compile(r"^\..+\.partial-(\d+)-[^/]*$")


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


def writable_data_dir() -> Path:
    """The data directory, created if needed; a `DataError` saying how to fix it when it cannot be used."""
    root = data_dir()
    if root.exists() and not root.is_dir():
        raise DataError(f"the data directory {root} is a file, not a folder. Point DLBOOK_DATA_DIR at a folder "
                        f"(e.g. `export DLBOOK_DATA_DIR=~/dlbook-data`), or move the file away.")
    try:
        (root / MARKER_DIR).mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=root / MARKER_DIR, prefix=".probe-", delete=True)
        probe.close()
    except OSError as error:
        raise DataError(f"the data directory {root} cannot be written ({error.strerror or error}). Point "
                        "DLBOOK_DATA_DIR at a folder you can write to (e.g. `export DLBOOK_DATA_DIR=~/dlbook-data`), "
                        "or fix its permissions.") from None
    return root


def lock_path(name: str) -> Path:
    return data_dir() / MARKER_DIR / "locks" / f"{name}.lock"


def downloads_dir(name: str) -> Path:
    """Where item `name`'s files are downloaded to before they are unpacked (one folder per item)."""
    return data_dir() / DOWNLOADS / name


# --------------------------------------------------------------------------------------------------
# Locks


def _lock(path: Path, what: str, timeout: float) -> contextlib.AbstractContextManager:
    lock = filelock.FileLock(str(path), timeout=timeout)

    @contextlib.contextmanager
    def held() -> Iterator[None]:
        try:
            try:
                lock.acquire(timeout=0)
            except filelock.Timeout:
                print(f"dlbook.data: waiting for another process that is preparing {what} (lock {path})",
                      file=sys.stderr, flush=True)
                lock.acquire(timeout=timeout)
        except filelock.Timeout:
            raise DataError(f"{what}: another process has been preparing it for {timeout / 3600:.0f} h (lock {path}). "
                            "If no such process runs, delete the lock file and try again.") from None
        except OSError as error:
            raise DataError(f"{what}: cannot create the lock file {path} ({error.strerror or error}). Point "
                            "DLBOOK_DATA_DIR at a folder you can write to.") from None
        try:
            yield
        finally:
            lock.release()

    return held()


def item_lock(name: str, timeout: float = LOCK_TIMEOUT) -> contextlib.AbstractContextManager:
    """Hold item `name`'s lock: only one process at a time prepares, repairs or cleans an item."""
    return _lock(lock_path(name), name, timeout)


def folder_lock(path: Path, what: str, timeout: float = LOCK_TIMEOUT) -> contextlib.AbstractContextManager:
    """Hold a lock kept in the file `path` (for caches such as the checked image folders)."""
    return _lock(path, what, timeout)


def lock_is_free(path: Path) -> bool:
    """True when nobody holds the lock in `path` (its holder finished or died)."""
    if not path.exists():
        return True
    lock = filelock.FileLock(str(path), timeout=0)
    try:
        lock.acquire(timeout=0)
    except (filelock.Timeout, OSError):
        return False
    lock.release()
    return True


# --------------------------------------------------------------------------------------------------
# Digests, atomic writes and disk errors


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path`; whatever is written there is renamed to `path` at the end.

    If the block fails, the temporary file is removed and `path` keeps its old content (or stays
    absent): a reader never finds a half-written file. The temporary name keeps `path`'s suffix
    (Keras picks the format of `model.save` from it) and carries this process's id, so that
    `python -m dlbook.data verify` can tell a leftover of a killed process from a write in progress.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.partial-{os.getpid()}-",
                               suffix=path.suffix or ".tmp")
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


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}


def is_disk_error(error: BaseException) -> bool:
    """True for an OSError that is about the place written to (full, read-only), not the data read."""
    return isinstance(error, OSError) and error.errno in _FULL | _DENIED


def disk_error(error: OSError, what: str, where: Path, needed: int | None = None) -> DataError:
    """A `DataError` for an OSError met while writing `where`: a full disk or a folder that cannot be written."""
    if error.errno in _FULL:
        try:
            free = shutil.disk_usage(_existing_parent(where)).free
            space = f"{free / 1e6:,.0f} MB free" + (f", about {needed / 1e6:,.0f} MB needed" if needed else "")
        except OSError:
            space = "free space unknown"
        return DataError(f"{what}: no space left on the device that holds {where} ({space}). Nothing is wrong with "
                         "the data itself. Free some space, or point DLBOOK_DATA_DIR at a larger disk, and fetch again.")
    if error.errno in _DENIED:
        return DataError(f"{what}: cannot write {where} ({error.strerror}). Point DLBOOK_DATA_DIR at a folder you "
                         "can write to, or fix its permissions, and fetch again.")
    return DataError(f"{what}: cannot write {where} ({error.strerror or error}). Check that disk, then fetch again.")


def _existing_parent(path: Path) -> Path:
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
