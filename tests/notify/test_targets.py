"""Delivering to each kind of target, against local servers: a webhook whose signature the
receiver checks, e-mail to a local SMTP server, apprise's JSON target, and the retries and
refusals of a failing target."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from pipeline.notify.messages import Message
from pipeline.notify.targets import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DeliveryFailed,
    deliver,
    kind,
    resolve,
    shown,
)
from pipeline.settings import Settings
from tests.notify.conftest import Mailbox, make_alert
from tests.sites import Answer, Site

SECRET = "s3cret-for-tests"


def message(count: int = 1, digest: bool = False) -> Message:
    alerts = [make_alert("harbour", f"a{n}", f"Ferry story {n}") for n in range(count)]
    return Message("harbour", alerts, digest=digest)


def test_a_webhook_gets_the_alert_as_json_with_a_signature_the_receiver_can_check(
    site: Site,
) -> None:
    site.routes["/hook"] = Answer(204)
    settings = Settings(notify_webhook_secret=SECRET)
    assert deliver(site.url("/hook"), message(), settings) == 1
    ((method, path, body),) = site.bodies
    assert (method, path) == ("POST", "/hook")
    headers = site.requests[-1][1]
    timestamp = headers[TIMESTAMP_HEADER.lower()]
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    assert hmac.compare_digest(headers[SIGNATURE_HEADER.lower()], "sha256=" + expected.hexdigest())
    payload = json.loads(body)
    assert payload["rule_id"] == "harbour"
    assert payload["digest"] is False
    assert [a["title"] for a in payload["alerts"]] == ["Ferry story 0"]


def test_an_unsigned_webhook_when_no_secret_is_set(site: Site) -> None:
    site.routes["/hook"] = Answer(200)
    deliver(site.url("/hook"), message(), Settings())
    assert SIGNATURE_HEADER.lower() not in site.requests[-1][1]


def test_a_failing_webhook_is_retried_then_given_up(site: Site) -> None:
    site.routes["/down"] = Answer(503)
    waits: list[float] = []
    failures: list[DeliveryFailed] = []
    settings = Settings(notify_attempts=3)
    with pytest.raises(DeliveryFailed) as caught:
        deliver(site.url("/down"), message(), settings, failures.append, waits.append)
    assert not caught.value.permanent
    assert site.hits("/down") == 3
    assert len(failures) == 3
    assert waits == [1.0, 2.0]


def test_a_webhook_that_recovers_takes_the_message(site: Site) -> None:
    answers = iter([Answer(500), Answer(200)])
    site.routes["/flaky"] = lambda headers: next(answers)
    assert deliver(site.url("/flaky"), message(), Settings(), sleep=lambda s: None) == 2


def test_a_4xx_is_not_retried(site: Site) -> None:
    site.routes["/gone"] = Answer(410)
    with pytest.raises(DeliveryFailed) as caught:
        deliver(site.url("/gone"), message(), Settings(), sleep=lambda s: None)
    assert caught.value.permanent
    assert site.hits("/gone") == 1


def test_an_email_reaches_the_smtp_server(mailbox: Mailbox) -> None:
    url = f"smtp://{mailbox.host}:{mailbox.port}?from=alerts@mediamon.example&to=desk@news.example"
    deliver(url, message(2, digest=True), Settings())
    (mail,) = mailbox.messages
    assert mail["Subject"] == "[mediamon] harbour: 2 stories"
    assert mail["To"] == "desk@news.example"
    assert mailbox.envelopes == [("alerts@mediamon.example", ["desk@news.example"])]
    text = mail.get_content()
    assert "Ferry story 0" in text
    assert "Ferry story 1" in text
    assert "https://harbour.example/a1" in text


def test_an_smtp_url_without_recipients_is_refused_for_good() -> None:
    with pytest.raises(DeliveryFailed) as caught:
        deliver("smtp://127.0.0.1:1", message(), Settings())
    assert caught.value.permanent


def test_a_chat_target_goes_through_apprise(site: Site) -> None:
    site.routes["/chat"] = Answer(200)
    port = site.base.rsplit(":", 1)[1]
    deliver(f"json://127.0.0.1:{port}/chat", message(), Settings())
    ((method, path, body),) = site.bodies
    assert (method, path) == ("POST", "/chat")
    sent = json.loads(body)
    assert sent["title"] == "[mediamon] harbour: Ferry story 0"
    assert "https://harbour.example/a0" in sent["message"]


def test_an_unknown_apprise_scheme_is_refused_for_good() -> None:
    with pytest.raises(DeliveryFailed) as caught:
        deliver("nosuchservice://x", message(), Settings())
    assert caught.value.permanent


def test_targets_by_name_kind_and_how_they_are_shown() -> None:
    settings = Settings(notify_targets={"desk": "https://hooks.example/T0KEN?sig=abc"})
    assert resolve("desk", settings) == "https://hooks.example/T0KEN?sig=abc"
    assert resolve("slack://a/b/c", settings) == "slack://a/b/c"
    with pytest.raises(DeliveryFailed):
        resolve("nobody", settings)
    assert [kind(u) for u in ("https://x", "smtps://x", "tgram://x")] == [
        "webhook",
        "email",
        "apprise",
    ]
    assert shown("smtp://user:pw@mail.example:25?to=a@b") == "smtp://mail.example"
    assert shown("desk") == "desk"
