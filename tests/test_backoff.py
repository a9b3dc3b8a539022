"""The retry delays: doubling from the first up to the ceiling, back to the first on reset."""

from __future__ import annotations

import pytest

from pipeline.backoff import Backoff
from pipeline.settings import Settings


def test_delays_double_up_to_the_ceiling() -> None:
    backoff = Backoff(0.5, 3.0)
    assert [backoff.next() for _ in range(6)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


def test_a_reset_starts_again_from_the_first_delay() -> None:
    backoff = Backoff(1.0, 30.0, factor=3.0)
    assert [backoff.next() for _ in range(3)] == [1.0, 3.0, 9.0]
    backoff.reset()
    assert backoff.next() == 1.0


def test_the_ceiling_comes_from_the_settings_and_bounds_the_first_delay() -> None:
    assert Backoff.of(Settings(), 1.0).ceiling_s == 30.0
    backoff = Backoff.of(Settings(retry_backoff_max_s=0.25), 1.0)
    assert [backoff.next(), backoff.next()] == [0.25, 0.25]
    backoff.reset()
    assert backoff.next() == 0.25


@pytest.mark.parametrize(("first", "ceiling", "factor"), [(0, 1, 2), (1, 0, 2), (1, 2, 0.5)])
def test_delays_that_vanish_or_shrink_are_refused(
    first: float, ceiling: float, factor: float
) -> None:
    with pytest.raises(ValueError, match="positive"):
        Backoff(first, ceiling, factor)
