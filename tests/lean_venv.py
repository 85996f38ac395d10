"""A venv with libedge and one extra only, as a device's Pi gets it: built from this checkout
(`pip install libedge[EXTRA]`), its dependencies' wheels kept between runs so only the first
run on a machine needs the package index."""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHEELS = Path(tempfile.gettempdir()) / "libedge-wheels"
HEAVY = ("kivy", "starlette", "pyhanko", "uvicorn", "fpdf", "sqlite_utils", "babel")


def requirements(extra: str) -> list[str]:
    """What `libedge[extra]` installs besides libedge: the base dependencies and the extra's."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = list(project["dependencies"])
    for req in extras[extra]:
        if req.startswith("libedge["):
            for inner in req[len("libedge["):-1].split(","):
                wanted += [r for r in requirements(inner) if r not in wanted]
        else:
            wanted.append(req)
    return wanted


def wheelhouse(reqs: list[str]) -> Path:
    """A folder with a wheel for each of `reqs` and what they need (fetched once)."""
    folder = WHEELS / hashlib.sha256("\n".join(sorted(reqs)).encode()).hexdigest()[:16]
    if not (folder / ".complete").exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:",
                        "-d", str(folder), *reqs], check=True, timeout=900)
        (folder / ".complete").touch()
    return folder


def source_copy(dest: Path) -> Path:
    """The packages, pyproject and README of this checkout (no tests, no build leftovers)."""
    dest.mkdir(parents=True)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, dest)
    for package in project["tool"]["importlinter"]["root_packages"]:
        shutil.copytree(ROOT / package, dest / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return dest


def build(root: Path, extra: str = "lockd", also: tuple[str, ...] = ()) -> Path:
    """A new venv under `root` with `libedge[extra]` (and `also`) installed offline; its
    python. pip runs from this venv (`pip --python`), so the new one holds no pip."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wheels = wheelhouse(requirements(extra) + project["build-system"]["requires"] + list(also))
    pip = [sys.executable, "-m", "pip"]
    offline = ["--no-index", "--find-links", str(wheels)]
    subprocess.run([*pip, "wheel", "-q", "--no-deps", *offline, "-w", str(root / "dist"),
                    str(source_copy(root / "src"))], check=True, timeout=600, env=env())
    (wheel,) = (root / "dist").glob("libedge-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=300)
    python = venv / "bin" / "python"
    subprocess.run([*pip, "--python", str(python), "install", "-q", *offline,
                    f"libedge[{extra}] @ {wheel.as_uri()}", *also], check=True, timeout=600,
                   env=env())  # (a libedge on PYTHONPATH would count as installed)
    return python


def site_size(python: Path) -> int:
    """Bytes in the venv's site-packages, pip and setuptools left out (a venv may have them)."""
    site = next(python.parent.parent.glob("lib/python*/site-packages"))
    skip = ("pip", "setuptools", "_distutils_hack", "pkg_resources")
    return sum(f.stat().st_size for f in site.rglob("*")
               if f.is_file() and not f.relative_to(site).parts[0].startswith(skip))


def env(**more: str) -> dict[str, str]:
    """This environment for a process of the lean venv: without PYTHONPATH, so it imports
    what was installed there, never this checkout."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | more


def importable(python: Path, modules: tuple[str, ...]) -> list[str]:
    """Which of `modules` the venv's python can import (run outside any checkout)."""
    code = ("import importlib.util, sys; print(' '.join(m for m in sys.argv[1:] "
            "if importlib.util.find_spec(m)))")
    run = subprocess.run([str(python), "-c", code, *modules], capture_output=True, text=True,
                         check=True, timeout=60, env=env(), cwd=python.parent)
    return run.stdout.split()
