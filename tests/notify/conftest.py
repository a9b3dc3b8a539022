"""What the notifier's tests share: alerts of their own, a local HTTP server receiving
webhooks (tests/sites.py) and a local SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default

import pytest
from aiosmtpd.controller import Controller

from pipeline.models import Alert, Evidence, Source
from pipeline.transport.broker import free_port
from tests.sites import Site, serve_site


def make_alert(rule_id: str, article: str, title: str) -> Alert:
    return Alert(
        rule_id=rule_id,
        rule_description="Harbour news",
        article_id=article,
        url=f"https://harbour.example/{article}",
        title=title,
        source=Source(domain="harbour.example", name="Harbour Gazette"),
        language="en",
        published_at=None,
        duplicate_of=None,
        evidence=[Evidence(condition="source", summary="source harbour.example")],
        matched_at=datetime(2026, 12, 7, 12, 0, tzinfo=UTC),
    )


@dataclass
class Mailbox:
    """What the local SMTP server received."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        content = envelope.content  # type: ignore[attr-defined]
        message = BytesParser(policy=default).parsebytes(content)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """An SMTP server (aiosmtpd) on a free loopback port."""
    box = Mailbox("127.0.0.1", free_port())
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
def site() -> Iterator[Site]:
    with serve_site() as running:
        yield running
