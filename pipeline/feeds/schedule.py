"""When each feed is polled next. A poll that finds new items halves the feed's interval, one
that finds none (or a 304) makes it half as long again, between ``MEDIAMON_FEEDS_POLL_MIN_S``
and ``MEDIAMON_FEEDS_POLL_MAX_S``; a failed poll is retried after the backoff
(pipeline/backoff.py) or the server's Retry-After, whichever is longer."""

from __future__ import annotations

from pipeline.backoff import Backoff
from pipeline.settings import Settings

_GROW = 1.5


class Schedule:
    """One feed's poll interval and next poll time (``time.monotonic()`` seconds)."""

    def __init__(self, settings: Settings, now: float) -> None:
        self._min = settings.feeds_poll_min_s
        self._max = max(settings.feeds_poll_max_s, self._min)
        self.interval = self._min
        self.due = now
        self._backoff = Backoff(self._min, self._max)

    def polled(self, now: float, new_items: int) -> None:
        """A poll succeeded and found ``new_items``."""
        self._backoff.reset()
        grown = self.interval / 2 if new_items else self.interval * _GROW
        self.interval = min(self._max, max(self._min, grown))
        self.due = now + self.interval

    def failed(self, now: float, retry_after: float | None = None) -> None:
        """A poll failed: try again after the backoff, or ``retry_after`` if longer."""
        self.due = now + max(self._backoff.next(), retry_after or 0.0)
