"""A rule's rate limit and its digests, on a clock the test gives."""

from __future__ import annotations

from pipeline.models import WatchRule
from pipeline.notify.pacing import Pacer
from tests.notify.conftest import make_alert


def rule(**fields: object) -> WatchRule:
    return WatchRule.model_validate({"id": "harbour", "source": ["harbour.example"], **fields})


def test_at_most_the_rules_messages_an_hour() -> None:
    limited = rule(notify=["desk"], notify_max_per_hour=2)
    pacer: Pacer[int] = Pacer()
    assert [pacer.allow(limited, t) for t in (0, 10, 20, 3599)] == [True, True, False, False]
    assert pacer.allow(limited, 3601)  # the first has left the hour
    unlimited = rule(id="other", notify=["desk"])
    assert all(pacer.allow(unlimited, t) for t in range(100))


def test_a_digest_is_due_its_minutes_after_its_first_alert() -> None:
    digesting = rule(notify=["desk"], notify_digest_minutes=10)
    pacer: Pacer[int] = Pacer()
    pacer.hold(digesting, make_alert("harbour", "a1", "One"), 1, now=100)
    pacer.hold(digesting, make_alert("harbour", "a2", "Two"), 2, now=400)
    assert pacer.held == 2
    assert pacer.due(699) == []
    (digest,) = pacer.due(700)
    assert [a.article_id for a in digest.alerts] == ["a1", "a2"]
    assert digest.tokens == [1, 2]
    assert pacer.held == 0
    assert pacer.due(10_000) == []
