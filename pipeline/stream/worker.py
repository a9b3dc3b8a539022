"""The worker entry point: create the topics, serve metrics, build the app and run it."""

from __future__ import annotations

import faust

from pipeline.enrich import Enricher
from pipeline.metrics import Metrics
from pipeline.settings import Settings
from pipeline.stream.agents import register_agents
from pipeline.stream.app import create_app, create_dedup_table, create_topics
from pipeline.transport.client import ensure_topics


def build_worker(settings: Settings) -> faust.Worker:
    """A Faust worker running the enrich agent for ``settings``."""
    if settings.create_topics:
        ensure_topics(settings)
    metrics = Metrics(model=settings.ner_model)
    metrics.init_topics([settings.topic_raw], settings.output_topics)
    if settings.metrics_port:
        metrics.serve(settings.metrics_port)
    app = create_app(settings)
    topics = create_topics(app, settings)
    enricher = Enricher(settings, dedup_store=create_dedup_table(app, settings), metrics=metrics)
    enricher.warm_up()
    register_agents(app, topics, enricher, metrics, settings)
    return faust.Worker(app, loglevel=settings.log_level, quiet=True)


def run_worker(settings: Settings) -> None:
    """Run the worker until SIGTERM or SIGINT."""
    build_worker(settings).execute_from_commandline()
