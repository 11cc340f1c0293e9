"""Execute chapters one at a time and print their wall-clock time and the kernel's peak memory.

    python tools/benchmark_chapters.py            # every chapter under book/lessons
    python tools/benchmark_chapters.py 01 03      # chapters whose file names start with these

The profile is whatever DLBOOK_PROFILE says (quick by default). Memory is the peak resident set
size of the kernel process and its children, sampled every 0.2 s.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import jupytext
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run(path: Path) -> tuple[float, float]:
    notebook = jupytext.read(path)
    client = NotebookClient(notebook, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                pid = client.km.provisioner.process.pid if client.km and client.km.provisioner else None
                if pid:
                    process = psutil.Process(pid)
                    rss = process.memory_info().rss + sum(c.memory_info().rss for c in process.children(recursive=True))
                    peak = max(peak, rss / 2**20)
            except (psutil.Error, AttributeError):
                pass
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    with client.setup_kernel():
        sampler.start()
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
    seconds = time.perf_counter() - started
    done.set()
    return seconds, peak


def main(prefixes: list[str]) -> int:
    chapters = sorted((ROOT / "book" / "lessons").glob("*.md"))
    if prefixes:
        chapters = [c for c in chapters if any(c.name.startswith(p) for p in prefixes)]
    total = 0.0
    print(f"{'chapter':32} {'seconds':>8} {'peak MB':>8}")
    for chapter in chapters:
        seconds, peak = run(chapter)
        total += seconds
        print(f"{chapter.stem:32} {seconds:8.1f} {peak:8.0f}", flush=True)
    print(f"{'total':32} {total:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
