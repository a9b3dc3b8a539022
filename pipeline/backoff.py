"""Exponential backoff between retries: the first delay, multiplied by a factor after each
attempt up to a ceiling (``MEDIAMON_RETRY_BACKOFF_MAX_S``), back to the first once a retry
succeeds."""

from __future__ import annotations

from pipeline.settings import Settings


class Backoff:
    """The delays to wait between retries: ``first_s``, then ``factor`` times the last one,
    never more than ``ceiling_s``."""

    def __init__(self, first_s: float, ceiling_s: float, factor: float = 2.0) -> None:
        if first_s <= 0 or ceiling_s <= 0 or factor < 1:
            raise ValueError("backoff delays must be positive and must not shrink")
        self.first_s = first_s
        self.ceiling_s = ceiling_s
        self.factor = factor
        self._delay = min(first_s, ceiling_s)

    @classmethod
    def of(cls, settings: Settings, first_s: float) -> Backoff:
        """A backoff from ``first_s`` up to the settings' ceiling."""
        return cls(first_s, settings.retry_backoff_max_s)

    def next(self) -> float:
        """The delay to wait before the next retry (each call lengthens the following one)."""
        delay = self._delay
        self._delay = min(delay * self.factor, self.ceiling_s)
        return delay

    def reset(self) -> None:
        """A retry succeeded: the next delay is the first again."""
        self._delay = min(self.first_s, self.ceiling_s)
