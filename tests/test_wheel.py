"""The package as a user installs it: a wheel built from the source tree, installed in a fresh
virtual environment, runs ``mediamon demo --once`` from a directory outside the repository
(every file the demo needs, models and sample articles included, is inside the wheel).

The fresh environment gets the wheel alone (``--no-deps``) and sees the dependencies through a
``.pth`` line naming the development environment's site-packages: a path line runs none of
that directory's own ``.pth`` files, so the repository's editable install stays out of it, and
the test checks that ``pipeline`` is the wheel's copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from pipeline.transport.broker import free_port
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

_SOURCES = ("pyproject.toml", "README.md", "LICENSE")
_NO_DEPS = ("--quiet", "--no-deps", "--no-index")


def _build_wheel(tmp_path: Path) -> Path:
    """Build the wheel from a copy of what the Dockerfile builds from, so that the build's
    leftovers (build/, *.egg-info) stay out of the work tree."""
    source = tmp_path / "source"
    shutil.copytree(
        ROOT / "pipeline", source / "pipeline", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in _SOURCES:
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = dist.glob("mediamon-*.whl")
    return wheel


def _fresh_venv(tmp_path: Path, wheel: Path) -> Path:
    """A new virtual environment holding the wheel, its dependencies borrowed; its bin/."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", *_NO_DEPS, str(wheel)],
        check=True,
        timeout=300,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "mediamon-dev-dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    return venv / "bin"


def test_the_installed_wheel_runs_the_demo_outside_the_repository(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    bin_dir = _fresh_venv(tmp_path, wheel)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIAMON_", "PYTHON"))}
    env |= {"MEDIAMON_DATA_DIR": str(work / "data"), "MEDIAMON_METRICS_PORT": str(free_port())}

    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import pipeline; print(pipeline.__file__)"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(tmp_path / "venv"), where  # the wheel's, not the repo's

    done = subprocess.run(
        [str(bin_dir / "mediamon"), "demo", "--once", "--port", str(free_port())],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    worker_log = work / "data" / "worker.log"
    log = worker_log.read_text(errors="replace")[-3000:] if worker_log.exists() else ""
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:] + log
    assert "11 of 11 article(s) enriched" in done.stdout
    assert "(standard model)" in done.stdout
