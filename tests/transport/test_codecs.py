"""The codec check: every codec is installed for both Kafka clients, and a missing one stops the
worker at start-up with the package to install named, before it reaches the broker."""

from __future__ import annotations

import subprocess
import sys

from pipeline.transport.codecs import CODECS, missing_codecs


def test_every_codec_is_installed_for_both_clients() -> None:
    assert CODECS == ("gzip", "snappy", "lz4", "zstd")
    assert missing_codecs() == []


def test_a_missing_codec_library_stops_the_worker_with_a_clear_error() -> None:
    # cramjam and zstandard made unimportable, as on a machine without them
    program = (
        "import sys; sys.modules['cramjam'] = None; sys.modules['zstandard'] = None;"
        " sys.argv = ['mediamon', 'worker'];"
        " from pipeline.cli import main; main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=120,
        env={"MEDIAMON_BROKER": "kafka://127.0.0.1:9", "PATH": ""},
    )
    assert done.returncode == 2, done.stderr
    assert "zstd for aiokafka (pip install cramjam)" in done.stderr
    assert "zstd for kafka-python (pip install zstandard)" in done.stderr
    assert "Traceback" not in done.stderr
