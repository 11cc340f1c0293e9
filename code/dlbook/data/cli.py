"""`python -m dlbook.data list | fetch | verify`: see, prefetch and check the book's data.

Every failure is one message naming the item, the file, what was found and the fix; the command
goes on with the other items and exits non-zero at the end. Set DLBOOK_DEBUG=1 to see tracebacks.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

from dlbook import profiles
from dlbook.data import manifest
from dlbook.data.places import DataError, data_dir, mirror_dirs
from dlbook.data.registry import ITEMS, Item, Source
from dlbook.data.store import check, locate, status


def book_items(book: Path, profile: str | None = None) -> list[str]:
    """Items needed by the lessons whose chapters exist under `book/lessons/` (NN-*.md)."""
    lessons = book / "lessons"
    if not lessons.is_dir():
        raise DataError(f"--book {book}: no folder {lessons} with the chapters (NN-*.md); pass the book's folder, "
                        "e.g. `--book book` from the repository's root.")
    numbers = sorted({int(m.group(1)) for p in lessons.glob("*.md") if (m := re.match(r"(\d+)-", p.name))})
    numbers = [n for n in numbers if n in profiles.LESSONS]
    return profiles.data_items(profile, numbers) if numbers else []


def _checksum(source: Source) -> str:
    kinds = {f.checksum[0].upper() if f.checksum else None for f in source.files}
    if kinds == {None}:
        return "no checksum is published: its SHA-256 is recorded on first download and enforced after"
    names = {"SHA256": "SHA-256", "MD5": "MD5"}
    return "checked against its published " + " and ".join(sorted(names.get(k, k) for k in kinds if k))


def origin_lines(entry: Item) -> list[str]:
    """Where `list` says an item comes from: its login-free origin, or why there is none; then the alternatives."""
    lines = []
    local = next((s for s in entry.sources if not s.files), None)
    found = entry.login_free_origin()
    if found is not None:
        source, remote = found
        more = "".join(f" + {f.filename}" for f in source.files[1:])
        lines.append(f"origin (no login): {remote.urls[0]}{more} ({_checksum(source)})")
    elif local is not None:
        lines.append(f"origin: {local.note} (nothing to download)")
    else:
        reasons = [f.manual for s in entry.sources for f in s.files if f.manual]
        lines.append("no login-free origin: " + (reasons[0] if reasons else
                                                 "no download URL is registered; supply it through DLBOOK_DATA_MIRROR"))
    others = [s for s in entry.sources if s.files and (found is None or s is not found[0])]
    if others:
        lines.append("also accepted: " + "; ".join(
            " + ".join(f.filename for f in s.files) + (" (Kaggle login)" if any(f.manual for f in s.files) else
                                                        " (download)" if all(f.urls for f in s.files) else " (mirror)")
            for s in others))
    return lines


def _list() -> int:
    print(f"data directory: {data_dir()}")
    print(f"mirrors: {', '.join(map(str, mirror_dirs())) or '(DLBOOK_DATA_MIRROR not set)'}")
    failed = 0
    for name, entry in ITEMS.items():
        try:
            state = status(name)
        except (DataError, OSError) as error:
            state, failed = f"unknown ({error})", failed + 1
        print(f"{name:22} {state:24} {entry.title}")
        for line in origin_lines(entry):
            print(f"{'':22} {line}")
    return 1 if failed else 0


def _guarded(name: str, action: Callable[[], object], failures: list[str]) -> object | None:
    """Run one item's action; a failure becomes one message, never a traceback."""
    try:
        return action()
    except DataError as error:
        message = str(error)
    except profiles.ProfileError as error:
        message = str(error)
    except OSError as error:
        message = (f"{getattr(error, 'filename', None) or ''}: {error.strerror or error}. Check that file or folder "
                   "(DLBOOK_DATA_DIR, DLBOOK_DATA_MIRROR), then try again.").lstrip(": ")
    except Exception as error:  # noqa: BLE001 — the CLI reports and goes on with the next item
        if os.environ.get("DLBOOK_DEBUG"):
            raise
        message = (f"unexpected {type(error).__name__}: {error}. This is a bug in dlbook.data; rerun with "
                   "DLBOOK_DEBUG=1 to see the traceback, and report it.")
    failures.append(name)
    print(f"{name}: FAILED\n  " + message.replace("\n", "\n  "), file=sys.stderr)
    return None


def _fetch(args: argparse.Namespace) -> int:
    failures: list[str] = []
    removed = _guarded("leftovers", manifest.clean_leftovers, failures) or []
    for leftover in removed:
        print(f"removed {leftover.path} ({leftover.what})")
    names = list(ITEMS) if args.all else list(args.names)
    if args.book:
        book = _guarded("--book", lambda: book_items(args.book), failures)
        names += [n for n in (book or []) if n not in names]
    if not names and not failures:
        if not args.book:
            print("nothing to fetch: name items, or use --all or --book BOOK_DIR (leftovers were cleaned)",
                  file=sys.stderr)
        return 0
    failed_items: list[str] = []
    for name in names:
        path = _guarded(name, lambda: locate(name, progress=not args.quiet, force=args.force,
                                                     download_missing=not args.offline), failed_items)
        if path is not None:
            print(f"{name}: {path}")
    if failed_items:
        print(f"{len(failed_items)} of {len(names)} item(s) failed: {', '.join(failed_items)}", file=sys.stderr)
    return 1 if failures or failed_items else 0


def _verify(args: argparse.Namespace) -> int:
    failures: list[str] = []
    names = list(args.names) or [n for n in ITEMS if _guarded(n, lambda: status(n), failures) not in (None, "missing", "mirror")]
    for name in names:
        result = _guarded(name, lambda: check(name), failures)
        if result is None:
            continue
        if result.state == "failed":
            failures.append(name)
            print(f"{name}: FAILED", file=sys.stderr)
            for problem in result.problems:
                print(f"  {problem}", file=sys.stderr)
            if result.fix:
                print(f"  fix: {result.fix}", file=sys.stderr)
        elif result.state == "not prepared":
            if args.names:
                failures.append(name)
            print(f"{name}: {result.note}", file=sys.stderr if args.names else sys.stdout)
        else:
            print(f"{name}: ok ({result.note})")
    found = _guarded("leftovers", manifest.leftovers, failures) or []
    stale = [leftover for leftover in found if leftover.removable]
    for leftover in found:
        state = "" if leftover.removable else " (in use or kept)"
        print(f"leftover: {leftover.path} ({leftover.what}){state}", file=sys.stderr if leftover.removable else sys.stdout)
    if stale:
        print(f"{len(stale)} leftover(s) of interrupted runs: `python -m dlbook.data fetch` removes them",
              file=sys.stderr)
    return 1 if failures or stale else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlbook.data", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every item, its status and where it comes from")
    fetch = sub.add_parser("fetch", help="prepare items (from the mirror or by download); removes leftovers")
    fetch.add_argument("names", nargs="*", help="item names (see `list`)")
    fetch.add_argument("--all", action="store_true", help="every item in the registry")
    fetch.add_argument("--book", type=Path, metavar="BOOK_DIR",
                       help="the items the chapters under BOOK_DIR/lessons need in the active profile")
    fetch.add_argument("--force", action="store_true", help="prepare the named items again from their source")
    fetch.add_argument("--offline", action="store_true", help="use the data directory and mirrors only; no download")
    fetch.add_argument("--quiet", action="store_true", help="no progress bars")
    verify = sub.add_parser("verify", help="check prepared items against their manifests; list leftovers")
    verify.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            return _list()
        if args.command == "fetch":
            return _fetch(args)
        return _verify(args)
    except KeyboardInterrupt:
        print("interrupted: nothing half-done is used; `python -m dlbook.data fetch` removes what was left",
              file=sys.stderr)
        return 130
