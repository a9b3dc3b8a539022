"""The notifier's record: a message that could not be delivered to a target."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from pipeline.models.base import Model
from pipeline.models.events import Alert


class NotifyDeadLetter(Model):
    """Alerts of one rule that a target refused or kept failing on (the notify dead-letter
    topic, key: rule id)."""

    rule_id: str
    target: str = Field(description="The target's name, or its URL without user info or query.")
    error: str
    attempts: int
    alerts: list[Alert]
    failed_at: datetime
