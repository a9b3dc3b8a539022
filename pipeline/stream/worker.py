"""The worker entry point: wait for the broker and create the topics, serve metrics, build the
app and run it."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import faust
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from pipeline.backoff import Backoff
from pipeline.enrich import Enricher
from pipeline.metrics import Metrics
from pipeline.settings import Settings
from pipeline.stream.agents import register_agents
from pipeline.stream.app import create_app, create_dedup_table, create_topics
from pipeline.stream.trends import register_trends
from pipeline.stream.watch import register_watch
from pipeline.transport.client import BrokerUnavailable, connection_options, ensure_topics
from pipeline.transport.codecs import require_codecs

log = logging.getLogger(__name__)


class Worker(faust.Worker):
    """A Faust worker whose shutdown is bounded by ``shutdown_timeout_s``
    (``MEDIAMON_SHUTDOWN_TIMEOUT_S``): a stop that hangs (the broker unreachable, as Faust
    flushes and commits before it lets go) exits anyway. That is safe: only offsets whose
    outputs the broker acknowledged are ever committed, so what was in hand is processed again
    after the restart."""

    def __init__(self, app: faust.App, *, shutdown_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.shutdown_timeout_s = shutdown_timeout_s

    async def on_stop(self) -> None:
        _exit_after(self.shutdown_timeout_s)
        await super().on_stop()


def _exit_after(seconds: float) -> None:
    def expire() -> None:
        log.error(
            "the worker did not stop within %.0fs (is the broker reachable?); exiting now,"
            " leaving uncommitted what was in hand",
            seconds,
        )
        logging.shutdown()
        os._exit(1)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()


def wait_for_broker(
    settings: Settings,
    *,
    attempts: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Reach the broker (and create the topics when ``create_topics`` is set), retrying with
    backoff and a log line per attempt until it answers; ``attempts`` bounds the tries (then the
    last error is raised), None tries forever. Authentication and authorisation failures are
    raised at once: retrying does not mend a configuration."""
    backoff = Backoff.of(settings, 1.0)
    attempt = 0
    kafka_log = logging.getLogger("kafka")
    kafka_level = kafka_log.level
    while True:
        attempt += 1
        # one line of ours per attempt rather than kafka-python's half a dozen
        kafka_log.setLevel(logging.CRITICAL if attempt > 1 else kafka_level)
        try:
            if settings.create_topics:
                created = ensure_topics(settings)
                if created:
                    log.info("created topics %s", ", ".join(created))
            else:
                _probe(settings)
        except (BrokerUnavailable, KafkaError, OSError) as exc:
            if _refused(exc) or (attempts is not None and attempt >= attempts):
                raise
            delay = backoff.next()
            log.warning(
                "broker not available (%s); attempt %d, retrying in %.0fs", exc, attempt, delay
            )
            sleep(delay)
            continue
        finally:
            kafka_log.setLevel(kafka_level)
        if attempt > 1:
            log.info("the broker answered after %d attempts", attempt)
        return


def _refused(error: BaseException) -> bool:
    """Whether the broker refused us (credentials, permissions) rather than being away."""
    name = type(error).__name__
    return "Authentication" in name or "Authorization" in name


def _probe(settings: Settings) -> None:
    """Ask the broker for its topics, as a sign of life."""
    admin = KafkaAdminClient(**connection_options(settings))
    try:
        admin.list_topics()
    finally:
        admin.close()


def build_worker(settings: Settings) -> faust.Worker:
    """A Faust worker running the enrich agent for ``settings``."""
    require_codecs()
    wait_for_broker(settings)
    metrics = Metrics(model=settings.ner_model)
    metrics.init_topics([settings.topic_raw], settings.output_topics)
    if settings.metrics_port:
        metrics.serve(settings.metrics_port)
    app = create_app(settings)
    topics = create_topics(app, settings)
    # the table calls back for every changelog record it reads, only once the app runs
    table = create_dedup_table(app, settings, lambda key, value: enricher.dedup.observe(key, value))
    enricher = Enricher(settings, dedup_store=table, metrics=metrics)
    enricher.warm_up()
    register_agents(app, topics, enricher, metrics, settings)
    register_trends(app, topics.enriched, metrics, settings)
    register_watch(app, topics, metrics, settings)
    return Worker(
        app,
        shutdown_timeout_s=settings.shutdown_timeout_s,
        loglevel=settings.log_level,
        quiet=True,
    )


def run_worker(settings: Settings) -> None:
    """Run the worker until SIGTERM or SIGINT. Until Faust sets up logging, log lines (such as
    the broker retries) go to stderr."""
    if not logging.root.handlers:
        logging.basicConfig(
            level=settings.log_level.upper(),
            format="[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s",
        )
    build_worker(settings).execute_from_commandline()
