"""Check the Binder set-up the way repo2docker would use it, as far as this machine allows.

1. A fresh virtual environment (Python from binder/runtime.txt) gets `binder/requirements.txt`,
   installed from the repository root, and nothing else of this checkout's .venv.
2. `binder/postBuild` runs in it, from the repository root, with that environment first on PATH
   and a fresh home folder (where Jupyter's user settings land, as in a Binder image).
3. What postBuild must leave: `dlbook` importable, jupytext's server extension enabled, the
   Markdown default viewer set to Jupytext's notebook.
4. Every chapter of the table of contents is converted with that environment's jupytext and
   executed with nbclient in its kernel, from the chapter's folder, as a reader on Binder would.

Not checked here (no network, no Docker): the image build itself, JupyterLab's user interface,
and downloads from the data's origins (the data comes from DLBOOK_DATA_MIRROR when it is set).

Usage: python tools/check_binder.py [--keep] [--only NN]   (`make binder-check`; part of `make test`)
Writes test-output/binder/report.json; exits non-zero if any step fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from bookpages import notebook_pages  # noqa: E402

OUTPUT = ROOT / "test-output" / "binder"

EXECUTE = r'''
import sys, time
import nbformat
from nbclient import NotebookClient
notebook = nbformat.read(sys.argv[1], as_version=4)
started = time.perf_counter()
NotebookClient(notebook, timeout=900, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
nbformat.write(notebook, sys.argv[1])
print(f"{time.perf_counter() - started:.1f}")
'''


def python_for(runtime: Path) -> str:
    """The interpreter binder/runtime.txt asks for (python-3.11 → python3.11), else this one."""
    version = runtime.read_text(encoding="utf-8").strip().removeprefix("python-")
    found = shutil.which(f"python{version}")
    if found is None:
        current = f"{sys.version_info.major}.{sys.version_info.minor}"
        if current != version:
            raise SystemExit(f"binder/runtime.txt asks for Python {version}; no python{version} here "
                             f"(this is {current})")
        found = sys.executable
    return found


def run(step: str, command: list[str], report: dict, **kwargs) -> subprocess.CompletedProcess:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    seconds = time.perf_counter() - started
    report["steps"].append({"step": step, "seconds": round(seconds, 1), "returncode": result.returncode})
    print(f"  {step}: {seconds:.0f} s" + ("" if result.returncode == 0 else " FAILED"), flush=True)
    if result.returncode != 0:
        report["failed"] = step
        report["output"] = (result.stdout + result.stderr)[-8000:]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="reuse the environment of the last run if it is there")
    parser.add_argument("--only", help="only the chapters whose name contains this")
    args = parser.parse_args(argv)

    venv, home, notebooks = OUTPUT / "venv", OUTPUT / "home", OUTPUT / "notebooks"
    if not args.keep:
        shutil.rmtree(OUTPUT, ignore_errors=True)
    notebooks.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    report: dict = {"steps": [], "chapters": []}
    bin_dir = venv / "bin"
    # Only what the Binder files give: the new environment first on PATH, a fresh home; the data
    # settings pass through (DLBOOK_DATA_DIR pinned to the one in use, so a prepared copy is found).
    from dlbook.data.store import data_dir

    env = {key: value for key, value in os.environ.items()
           if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "JUPYTER_PATH", "JUPYTER_CONFIG_DIR"}}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", HOME=str(home),
               NB_PYTHON_PREFIX=str(venv), DLBOOK_DATA_DIR=str(data_dir()), DLBOOK_PROFILE="quick")
    print(f"Binder check in {OUTPUT}", flush=True)
    if not (args.keep and (bin_dir / "python").exists()):
        if run("create venv", [python_for(ROOT / "binder" / "runtime.txt"), "-m", "venv", str(venv)],
               report).returncode:
            return finish(report, 1)
        if run("pip install -r binder/requirements.txt",
               [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                "-r", "binder/requirements.txt"], report, cwd=ROOT, env=env).returncode:
            return finish(report, 1)
        if run("binder/postBuild", ["bash", str(ROOT / "binder" / "postBuild")], report,
               cwd=ROOT, env=env).returncode:
            return finish(report, 1)
    # Binder's Jupyter server runs in this same environment: jupytext's server extension is
    # enabled by the config file its package installs there, and JupyterLab reads the viewer
    # setting from the home folder.
    extension = venv / "etc" / "jupyter" / "jupyter_server_config.d" / "jupytext.json"
    checks = {
        "dlbook imports from the environment": ([str(bin_dir / "python"), "-c",
                                                 "import dlbook.chapter, dlbook.data; print(dlbook.chapter.__file__)"],
                                                str(ROOT / "code" / "dlbook")),
        "jupytext server extension enabled": ([str(bin_dir / "python"), "-c",
                                               f"print(open({str(extension)!r}).read())"],
                                              '"jupyterlab_jupytext": true'),
        "jupytext default viewer for Markdown": ([str(bin_dir / "jupytext-config"), "list-default-viewer"],
                                                 "markdown: Jupytext Notebook"),
    }
    for step, (command, wanted) in checks.items():
        result = run(step, command, report, cwd=ROOT, env=env)
        text = result.stdout + result.stderr
        if result.returncode or wanted not in text:
            report["failed"], report["output"] = step, text[-4000:]
            return finish(report, 1)
    for page in notebook_pages():
        if args.only and args.only not in page.docname:
            continue
        target = notebooks / f"{page.docname.replace('/', '__')}.ipynb"
        if run(f"jupytext {page.docname}", [str(bin_dir / "jupytext"), "--to", "ipynb", "--output", str(target),
                                            str(page.source)], report, cwd=ROOT, env=env).returncode:
            return finish(report, 1)
        result = run(f"execute {page.docname}", [str(bin_dir / "python"), "-c", EXECUTE, str(target),
                                                 str(page.source.parent)], report, cwd=ROOT, env=env)
        if result.returncode:
            return finish(report, 1)
        report["chapters"].append({"chapter": page.docname, "seconds": float(result.stdout.split()[-1])})
    return finish(report, 0)


def finish(report: dict, code: int) -> int:
    report["ok"] = code == 0
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "report.json").write_text(json.dumps(report, indent=2))
    total = sum(step["seconds"] for step in report["steps"])
    print(f"Binder check {'passed' if code == 0 else 'FAILED at ' + report.get('failed', '?')} in {total:.0f} s"
          f" (report: {OUTPUT / 'report.json'})")
    if code:
        print(report.get("output", ""), file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
