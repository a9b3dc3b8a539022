"""``mediamon demo --once``: the embedded broker, a worker and the samples, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.transport.broker import free_port

pytestmark = pytest.mark.integration


def test_the_demo_enriches_every_sample_with_the_main_stance_model(tmp_path: Path) -> None:
    """The samples wait in the topic while the worker starts; the demo still shows the main
    stance model's stances, not the backlog model's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAMON_")}
    env |= {"MEDIAMON_DATA_DIR": str(tmp_path), "MEDIAMON_METRICS_PORT": str(free_port())}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "demo", "--once", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    worker_log = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:] + worker_log
    assert "11 of 11 article(s) enriched" in done.stdout
    assert "entities (multilingual)" in done.stdout  # the German, Spanish and French samples
    assert "(standard model)" in done.stdout
    assert "(lite model)" not in done.stdout
