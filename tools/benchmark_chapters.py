"""Execute chapters one at a time and print their wall-clock time and the kernel's peak memory.

    python tools/benchmark_chapters.py            # every chapter under book/lessons
    python tools/benchmark_chapters.py 01 03      # chapters whose file names start with these
    python tools/benchmark_chapters.py --smoke 08 # a smoke run of the full profile (see dlbook.profiles)
    python tools/benchmark_chapters.py --cells 5 11  # also the five slowest code cells of each chapter

The profile is whatever DLBOOK_PROFILE says (quick by default); `--smoke` runs the full profile's
code paths on a few batches (`DLBOOK_PROFILE=full DLBOOK_SMOKE=1`). Memory is the peak resident
set size of the kernel process and its children, sampled every 0.2 s. The kernel inherits this
process's environment.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import jupytext
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run(path: Path) -> tuple[float, float]:
    """Execute the chapter at `path` in a fresh kernel; returns (seconds, peak MB). A failing cell raises."""
    seconds, peak, _ = measure(path)
    return seconds, peak


def measure(path: Path, cell_times: list[tuple[float, int, str]] | None = None) -> tuple[float, float, float]:
    """Execute the chapter at `path` in a fresh kernel: (wall seconds, peak MB, kernel CPU seconds).

    CPU seconds (user + system of the kernel and its children) depend less on what else the machine
    is doing than wall time does: on a busy machine, compare those. When `cell_times` is a list, it
    receives (seconds, cell index, first line) for every code cell, to find where a chapter's time goes.
    """
    notebook = jupytext.read(path)
    client = NotebookClient(notebook, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    peak = cpu = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, cpu
        while not done.is_set():
            try:
                pid = client.km.provisioner.process.pid if client.km and client.km.provisioner else None
                if pid:
                    process = psutil.Process(pid)
                    family = [process, *process.children(recursive=True)]
                    peak = max(peak, sum(p.memory_info().rss for p in family) / 2**20)
                    cpu = max(cpu, sum(sum(p.cpu_times()[:2]) for p in family))
            except (psutil.Error, AttributeError):
                pass
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    try:
        with client.setup_kernel():
            sampler.start()
            for index, cell in enumerate(notebook.cells):
                cell_started = time.perf_counter()
                client.execute_cell(cell, index)
                if cell_times is not None and cell.cell_type == "code":
                    first = next((line for line in cell.source.splitlines() if line.strip()), "")
                    cell_times.append((time.perf_counter() - cell_started, index, first[:70]))
    finally:
        done.set()
    return time.perf_counter() - started, peak, cpu


def chapters(prefixes: list[str]) -> list[Path]:
    found = sorted((ROOT / "book" / "lessons").glob("*.md"))
    return [c for c in found if not prefixes or any(c.name.startswith(p) for p in prefixes)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prefixes", nargs="*", help="chapter file-name prefixes, e.g. 01 07 (default: all)")
    parser.add_argument("--smoke", action="store_true", help="smoke run of the full profile")
    parser.add_argument("--cells", type=int, default=0, metavar="N", help="also print the N slowest code cells")
    args = parser.parse_args(argv)
    if args.smoke:
        os.environ.update(DLBOOK_PROFILE="full", DLBOOK_SMOKE="1")
    mode = f"profile {os.environ.get('DLBOOK_PROFILE', 'quick')}" + (", smoke run" if args.smoke else "")
    total = 0.0
    print(f"{'chapter':32} {'seconds':>8} {'peak MB':>8} {'CPU s':>8}   ({mode}; load {os.getloadavg()[0]:.1f})")
    for chapter in chapters(args.prefixes):
        cell_times: list[tuple[float, int, str]] = []
        seconds, peak, cpu = measure(chapter, cell_times)
        total += seconds
        print(f"{chapter.stem:32} {seconds:8.1f} {peak:8.0f} {cpu:8.1f}   (load {os.getloadavg()[0]:.1f})", flush=True)
        for cell_seconds, index, first in sorted(cell_times, reverse=True)[:args.cells]:
            print(f"    cell {index:3} {cell_seconds:7.1f} s  {first}", flush=True)
    print(f"{'total':32} {total:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
