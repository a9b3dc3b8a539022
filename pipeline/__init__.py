"""Mediamon: a media-monitoring stream processor (raw news in, enriched events out, over Kafka)."""

__version__ = "0.1.0"

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
"""The package's models and lexicons (see data/README.md)."""
