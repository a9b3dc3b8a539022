"""When a rule's alerts are sent: at once, at most ``notify_max_per_hour`` messages in any hour
(the alerts beyond it are not sent), or, in digest mode (``notify_digest_minutes``), gathered
and sent as one message that many minutes after the first of them arrived. Pure: the caller
gives the time (seconds) and a token per alert, handed back when its message is due."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pipeline.models import Alert, WatchRule

_HOUR_S = 3600.0

T = TypeVar("T")


@dataclass
class Digest(Generic[T]):
    """A rule's alerts waiting for their digest, with their tokens."""

    rule: WatchRule
    due: float
    alerts: list[Alert] = field(default_factory=list)
    tokens: list[T] = field(default_factory=list)


class Pacer(Generic[T]):
    """Each rule's messages of the last hour and its digest in the making."""

    def __init__(self) -> None:
        self._sent: dict[str, deque[float]] = {}
        self._digests: dict[str, Digest[T]] = {}

    def allow(self, rule: WatchRule, now: float) -> bool:
        """Whether a message of ``rule`` may go now (and count it if so)."""
        sent = self._sent.setdefault(rule.id, deque())
        while sent and sent[0] <= now - _HOUR_S:
            sent.popleft()
        if rule.notify_max_per_hour is not None and len(sent) >= rule.notify_max_per_hour:
            return False
        sent.append(now)
        return True

    def hold(self, rule: WatchRule, alert: Alert, token: T, now: float) -> None:
        """Keep ``alert`` for ``rule``'s next digest."""
        minutes = rule.notify_digest_minutes or 0
        digest = self._digests.setdefault(rule.id, Digest(rule, now + minutes * 60.0))
        digest.alerts.append(alert)
        digest.tokens.append(token)

    def due(self, now: float) -> list[Digest[T]]:
        """The digests whose time has come, taken out."""
        ready = [d for d in self._digests.values() if d.due <= now]
        for digest in ready:
            del self._digests[digest.rule.id]
        return ready

    @property
    def held(self) -> int:
        """Alerts waiting in digests."""
        return sum(len(d.alerts) for d in self._digests.values())
