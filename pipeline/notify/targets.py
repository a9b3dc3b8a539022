"""Delivering a message to one target: an http(s) URL is a webhook (a JSON POST, signed with
HMAC-SHA256 when ``MEDIAMON_NOTIFY_WEBHOOK_SECRET`` is set), an smtp(s) URL an e-mail
(``smtp://user:password@host:port?from=...&to=a@x,b@y``, ``starttls=true`` to upgrade), and any
other URL goes to apprise (chat services: ``slack://``, ``matrix://``, ``tgram://``...). A
target is tried up to ``MEDIAMON_NOTIFY_ATTEMPTS`` times with the backoff (pipeline/backoff.py)
between tries; an answer that will not change (a 4xx, an unknown target) stops at once."""

from __future__ import annotations

import hashlib
import hmac
import smtplib
import time
from collections.abc import Callable
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import apprise
import httpx

from pipeline.backoff import Backoff
from pipeline.notify.messages import Message
from pipeline.settings import Settings

SIGNATURE_HEADER = "X-Mediamon-Signature"
TIMESTAMP_HEADER = "X-Mediamon-Timestamp"


class DeliveryFailed(Exception):
    """A target did not take a message; ``permanent``: trying again will not help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def kind(url: str) -> str:
    """The kind of target a URL names: webhook, email or apprise."""
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https"):
        return "webhook"
    return "email" if scheme in ("smtp", "smtps") else "apprise"


def resolve(target: str, settings: Settings) -> str:
    """The URL of a rule's target: a name of ``MEDIAMON_NOTIFY_TARGETS``, or a URL itself."""
    if target in settings.notify_targets:
        return settings.notify_targets[target]
    if "://" in target:
        return target
    raise DeliveryFailed(f"no target {target!r} in MEDIAMON_NOTIFY_TARGETS", permanent=True)


def shown(target: str) -> str:
    """A target as logs and dead letters show it: its name, or its URL without user info,
    query or fragment (where tokens live)."""
    if "://" not in target:
        return target
    parts = urlsplit(target)
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the HMAC of ``timestamp.body``."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def _webhook(url: str, message: Message, settings: Settings) -> None:
    body = message.payload
    headers = {"content-type": "application/json", "user-agent": "mediamon-notify"}
    secret = settings.notify_webhook_secret
    if secret is not None:
        timestamp = str(int(time.time()))
        headers[TIMESTAMP_HEADER] = timestamp
        headers[SIGNATURE_HEADER] = sign(secret.get_secret_value().encode(), timestamp, body)
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=settings.notify_timeout_s)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{exc!r}") from None
    status = response.status_code
    if not 200 <= status < 300:
        permanent = 400 <= status < 500 and status not in (408, 429)
        raise DeliveryFailed(f"HTTP {status}", permanent=permanent)


def _email(url: str, message: Message, settings: Settings) -> None:
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    recipients = [r.strip() for r in query.get("to", "").split(",") if r.strip()]
    if not recipients or not parts.hostname:
        raise DeliveryFailed("an smtp URL needs a host and ?to=", permanent=True)
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = query.get("from", "mediamon@localhost")
    mail["To"] = ", ".join(recipients)
    mail.set_content(message.text)
    secure = parts.scheme.lower() == "smtps"
    client = smtplib.SMTP_SSL if secure else smtplib.SMTP
    try:
        with client(parts.hostname, parts.port or 0, timeout=settings.notify_timeout_s) as smtp:
            if query.get("starttls", "").lower() in ("1", "true", "yes"):
                smtp.starttls()
            if parts.username:
                smtp.login(unquote(parts.username), unquote(parts.password or ""))
            smtp.send_message(mail)
    except smtplib.SMTPResponseException as exc:
        raise DeliveryFailed(f"SMTP {exc.smtp_code}", permanent=exc.smtp_code >= 500) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"{exc!r}") from None


def _apprise(url: str, message: Message, settings: Settings) -> None:
    client = apprise.Apprise()
    if not client.add(url):
        raise DeliveryFailed(f"{shown(url)} is not a URL apprise knows", permanent=True)
    if not client.notify(body=message.text, title=message.subject):
        raise DeliveryFailed("apprise could not deliver it")


_SENDERS: dict[str, Callable[[str, Message, Settings], None]] = {
    "webhook": _webhook,
    "email": _email,
    "apprise": _apprise,
}


def deliver(
    url: str,
    message: Message,
    settings: Settings,
    on_failure: Callable[[DeliveryFailed], None] = lambda exc: None,
    sleep: Callable[[float], object] = time.sleep,
) -> int:
    """Deliver ``message`` to ``url``, retrying; the number of attempts it took. Raises the
    last :class:`DeliveryFailed` when the target refused it for good or every attempt failed."""
    backoff = Backoff.of(settings, 1.0)
    send = _SENDERS[kind(url)]
    attempt = 0
    while True:
        attempt += 1
        try:
            send(url, message, settings)
            return attempt
        except DeliveryFailed as exc:
            on_failure(exc)
            if exc.permanent or attempt >= settings.notify_attempts:
                raise
            sleep(backoff.next())
