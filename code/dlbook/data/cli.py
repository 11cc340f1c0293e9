"""`python -m dlbook.data list | fetch | verify`: see, prefetch and check the book's data."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from dlbook import profiles
from dlbook.data.registry import ITEMS
from dlbook.data.store import DataError, data_dir, locate, mirror_dirs, status, verify


def book_items(book: Path, profile: str | None = None) -> list[str]:
    """Items needed by the lessons whose chapters exist under `book/lessons/` (NN-*.md)."""
    numbers = sorted({int(m.group(1)) for p in (book / "lessons").glob("*.md")
                      if (m := re.match(r"(\d+)-", p.name))})
    numbers = [n for n in numbers if n in profiles.LESSONS]
    return profiles.data_items(profile, numbers) if numbers else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlbook.data", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every item, its status and origin")
    fetch = sub.add_parser("fetch", help="prepare items (from the mirror or by download)")
    fetch.add_argument("names", nargs="*", help="item names (see `list`)")
    fetch.add_argument("--all", action="store_true", help="every item in the registry")
    fetch.add_argument("--book", type=Path, metavar="BOOK_DIR",
                       help="the items the chapters under BOOK_DIR/lessons need in the active profile")
    fetch.add_argument("--quiet", action="store_true", help="no progress bars")
    check = sub.add_parser("verify", help="re-check prepared items against their checksums")
    check.add_argument("names", nargs="*")
    args = parser.parse_args(argv)

    if args.command == "list":
        print(f"data directory: {data_dir()}")
        print(f"mirrors: {', '.join(map(str, mirror_dirs())) or '(DLBOOK_DATA_MIRROR not set)'}")
        for name, entry in ITEMS.items():
            origin = next((f.urls[0] for s in entry.sources for f in s.files if f.urls), "-")
            print(f"{name:22} {status(name):24} {entry.title}\n{'':22} origin: {origin}")
        return 0

    if args.command == "fetch":
        names = list(ITEMS) if args.all else list(args.names)
        if args.book:
            names += [n for n in book_items(args.book) if n not in names]
        if not names:
            parser.error("name items, or use --all or --book BOOK_DIR")
        failed = 0
        for name in names:
            try:
                print(f"{name}: {locate(name, progress=not args.quiet)}")
            except DataError as error:
                failed += 1
                print(f"{name}: FAILED\n{error}", file=sys.stderr)
        return 1 if failed else 0

    names = args.names or [n for n in ITEMS if status(n).startswith("prepared")]
    problems = [p for name in names for p in verify(name)]
    for name in names:
        print(f"{name}: {'ok' if not any(p.startswith(name) or name in p for p in problems) else 'FAILED'}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0
