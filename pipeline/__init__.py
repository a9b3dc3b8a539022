"""Mediamon: a media-monitoring stream processor (raw news in, enriched events out, over Kafka)."""

__version__ = "0.1.0"
