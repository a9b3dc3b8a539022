"""The start of a process beside the workers (the feed reader, the notifier)."""

from __future__ import annotations

import logging

from pipeline.metrics import Metrics
from pipeline.settings import Settings
from pipeline.transport.client import ensure_topics


def start_side_process(settings: Settings, metrics_port: int) -> Metrics:
    """Log at the settings' level, serve the metrics on ``metrics_port`` (0: none), create the
    topics (unless ``MEDIAMON_CREATE_TOPICS`` is false); the metrics."""
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s %(message)s")
    metrics = Metrics()
    if metrics_port:
        metrics.serve(metrics_port)
    if settings.create_topics:
        ensure_topics(settings)
    return metrics
