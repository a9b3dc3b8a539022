"""The compression codecs a Kafka producer may use (gzip, snappy, lz4, zstd), checked in both
Kafka clients Mediamon runs: aiokafka (the worker, through Faust) and kafka-python (the command
line). A codec either lacks is an error at start-up that names the package to install, rather
than a crash at the first compressed batch (aiokafka's UnsupportedCodecError)."""

from __future__ import annotations

from aiokafka import codec as aiokafka_codec
from kafka import codec as kafka_python_codec

CODECS = ("gzip", "snappy", "lz4", "zstd")

_PACKAGES = {
    "aiokafka": {"snappy": "cramjam", "lz4": "cramjam", "zstd": "cramjam"},
    "kafka-python": {"snappy": "python-snappy", "lz4": "lz4", "zstd": "zstandard"},
}


class MissingCodecs(RuntimeError):
    """A Kafka client cannot read or write some compression codec."""


def missing_codecs() -> list[str]:
    """What is missing, one line per client and codec, naming the package that provides it."""
    clients = {"aiokafka": aiokafka_codec, "kafka-python": kafka_python_codec}
    missing = []
    for client, module in clients.items():
        for codec in CODECS:
            if not getattr(module, f"has_{codec}")():
                package = _PACKAGES[client].get(codec, "?")
                missing.append(f"{codec} for {client} (pip install {package})")
    return missing


def require_codecs() -> None:
    """Raise :class:`MissingCodecs` unless both clients handle every codec."""
    missing = missing_codecs()
    if missing:
        raise MissingCodecs(
            "compressed Kafka records could not be read or written; missing codec libraries: "
            + "; ".join(missing)
        )
