"""The notifier against the embedded broker: digests sent as one message, and ``mediamon notify
run`` in a process of its own behind a real worker: an article in, its alert out to a signed
webhook, and the alert of a target that keeps failing in the notify dead-letter topic."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
from kafka import TopicPartition
from pydantic import SecretStr
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.metrics import Metrics
from pipeline.models import WatchRule
from pipeline.notify.run import Notifier, Offsets
from pipeline.notify.targets import SIGNATURE_HEADER, TIMESTAMP_HEADER
from pipeline.rules.watch import WatchRules
from pipeline.settings import Settings
from pipeline.transport.client import Producer, ensure_topics, push
from tests.conftest import FIXTURES, WorkerProcess, read_outputs
from tests.notify.conftest import make_alert
from tests.sites import Answer, Site

pytestmark = pytest.mark.integration

SECRET = "another-test-secret"


def wait_until(condition: Callable[[], bool], what: str, process: WorkerProcess) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        assert process.alive, f"{what}: the notifier died\n{process.log()[-3000:]}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}\n{process.log()[-3000:]}"
        time.sleep(0.2)


def test_a_digest_goes_as_one_message_and_releases_its_offsets(
    settings: Settings, site: Site
) -> None:
    ensure_topics(settings)
    site.routes["/hook"] = Answer(200)
    rule = WatchRule.model_validate(
        {
            "id": "harbour",
            "source": ["harbour.example"],
            "notify": [site.url("/hook")],
            "notify_digest_minutes": 1,
        }
    )
    producer = Producer(settings)
    try:
        notifier = Notifier(settings, Metrics(), WatchRules([rule]), producer)
        offsets = Offsets()
        tp = TopicPartition(settings.topic_alerts, 0)
        for offset, article in enumerate(["a1", "a2"]):
            offsets.read((tp, offset))
            assert not notifier.take(make_alert("harbour", article, article), (tp, offset), 0.0)
            offsets.hold((tp, offset))
        assert offsets.committable()[tp].offset == 0  # nothing committed past a held alert
        assert notifier.due_digests(59.0) == []
        assert site.bodies == []
        released = notifier.due_digests(60.0)
    finally:
        producer.close()
    assert released == [(tp, 0), (tp, 1)]
    offsets.release(released)
    assert offsets.committable()[tp].offset == 2
    ((_, _, body),) = site.bodies
    payload = json.loads(body)
    assert payload["digest"] is True
    assert [a["article_id"] for a in payload["alerts"]] == ["a1", "a2"]


def test_an_article_becomes_a_signed_webhook_and_a_failing_target_a_dead_letter(
    settings: Settings, worker: WorkerProcess, site: Site, tmp_path: Path
) -> None:
    site.routes["/hook"] = Answer(204)
    site.routes["/down"] = Answer(503)
    rules = tmp_path / "rules.yml"
    rules.write_text(
        json.dumps(
            [
                {"id": "gazette", "source": ["example-gazette.com"], "notify": ["desk"]},
                {"id": "gazette-down", "source": ["example-gazette.com"], "notify": ["down"]},
            ]
        )
    )
    added = CliRunner().invoke(app, ["watch", "add", str(rules)], env=settings.as_env())
    assert added.exit_code == 0, added.output
    notify = settings.model_copy(
        update={
            "notify_targets": {"desk": site.url("/hook"), "down": site.url("/down")},
            "notify_webhook_secret": SecretStr(SECRET),
            "notify_attempts": 2,
            "notify_metrics_port": 0,
            "retry_backoff_max_s": 1.0,
        }
    )
    notifier = WorkerProcess(notify, tmp_path / "notify.log", ("notify", "run"))
    notifier.start()
    try:
        push(settings, [(FIXTURES / "articles" / "harbour-strike.json").read_bytes()])
        (event,) = read_outputs(settings, 1, timeout=180)  # a worker loading its models is slow
        assert event["record_type"] == "enriched"
        assert len(read_outputs(settings, 2, topics=[settings.topic_alerts])) == 2
        wait_until(lambda: site.hits("/hook") >= 1, "the webhook", notifier)
        (dead,) = read_outputs(settings, 1, topics=[settings.topic_notify_deadletter])
    finally:
        notifier.stop()
    (body,) = [b for _, path, b in site.bodies if path == "/hook"]
    headers = next(h for p, h in site.requests if p == "/hook")
    signed = hmac.new(
        SECRET.encode(), headers[TIMESTAMP_HEADER.lower()].encode() + b"." + body, hashlib.sha256
    )
    assert headers[SIGNATURE_HEADER.lower()] == "sha256=" + signed.hexdigest()
    (alert,) = json.loads(body)["alerts"]
    assert alert["rule_id"] == "gazette"
    assert alert["title"] == "Rotterdam dock strike ends after talks with Maersk"
    assert dead["rule_id"] == "gazette-down"
    assert dead["target"] == "down"
    assert dead["attempts"] == 2
    assert dead["error"] == "HTTP 503"
    assert [a["title"] for a in cast(list[dict[str, str]], dead["alerts"])] == [alert["title"]]
    assert site.hits("/down") == 2
