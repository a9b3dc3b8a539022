"""The kafka-python clients and the embedded broker, over TCP."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from kafka import KafkaAdminClient

from pipeline.settings import Settings
from pipeline.transport.broker import free_port
from pipeline.transport.client import BrokerUnavailable, ensure_topics, push, tail
from tests.conftest import settings_env

pytestmark = pytest.mark.integration


def test_ensure_topics_creates_the_topics_once(settings: Settings) -> None:
    created = ensure_topics(settings)
    assert created[:3] == [settings.topic_raw, settings.topic_enriched, settings.topic_deadletter]
    assert {settings.topic_alerts, settings.topic_watch} <= set(created)
    assert ensure_topics(settings) == []
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    described = admin.describe_topics([settings.topic_raw, settings.topic_watch])
    admin.close()
    partitions = {topic["name"]: len(topic["partitions"]) for topic in described}
    assert partitions == {settings.topic_raw: settings.partitions, settings.topic_watch: 1}


def test_push_then_tail_round_trips_values_in_order(settings: Settings) -> None:
    ensure_topics(settings)
    values = [f"article {i}".encode() for i in range(20)]
    assert push(settings, values, settings.topic_enriched) == 20
    got = list(tail(settings, [settings.topic_enriched], from_beginning=True, max_records=20))
    assert sorted(got) == sorted(values)


def test_tail_from_the_end_skips_what_was_there(settings: Settings) -> None:
    ensure_topics(settings)
    push(settings, [b"old"], settings.topic_enriched)
    got = list(tail(settings, [settings.topic_enriched], idle_timeout=2))
    assert got == []


def test_push_to_an_unreachable_broker_raises_a_clear_error() -> None:
    dead = Settings(broker=f"kafka://127.0.0.1:{free_port()}", connect_timeout_s=2)
    with pytest.raises(BrokerUnavailable, match="no Kafka broker reachable"):
        push(dead, [b"x"])


def test_cli_push_and_tail_work_against_the_broker(settings: Settings, tmp_path: object) -> None:
    env = settings_env(settings)
    ensure_topics(settings)
    pushed = subprocess.run(
        [sys.executable, "-m", "pipeline", "push", "--topic", settings.topic_enriched, "-"],
        input=b'[{"title": "a", "body": "b"}, {"title": "c", "body": "d"}]',
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert b"sent 2 article(s)" in pushed.stdout
    tailed = subprocess.run(
        [sys.executable, "-m", "pipeline", "tail", "--from-beginning", "--max", "2"],
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    got = sorted(tailed.stdout.splitlines())
    assert [json.loads(line) for line in got] == [
        {"title": "a", "body": "b"},
        {"title": "c", "body": "d"},
    ]


def test_cli_push_to_an_unreachable_broker_exits_non_zero_with_a_message(
    tmp_path: object,
) -> None:
    env = settings_env(Settings(broker=f"kafka://127.0.0.1:{free_port()}", connect_timeout_s=2))
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "push", "-"],
        input=b'{"title": "a", "body": "b"}',
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert b"no Kafka broker reachable" in result.stderr
