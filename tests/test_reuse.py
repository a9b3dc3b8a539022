"""The analysis cache: bounded, least recently used out, and never handing out a shared model."""

from __future__ import annotations

from pipeline.models import Entity, EntityType, Mention
from pipeline.reuse import AnalysisCache, Found, Key


def _found(name: str) -> Found:
    mention = Mention(text=name, start=0, end=len(name), type=EntityType.PER)
    entity = Entity(id=name, name=name, type=EntityType.PER, salience=1.0, mentions=[mention])
    return Found(
        entities=[entity], quotes=[], stances=None, stance_model=None, places=["GB"], topics=None
    )


def _key(n: int) -> Key:
    return (f"hash{n}", "A title", 2026)


def test_a_kept_result_comes_back_equal_but_not_shared() -> None:
    cache = AnalysisCache(2)
    cache.put(_key(1), _found("Ann Lund"))
    first, second = cache.get(_key(1)), cache.get(_key(1))
    assert first is not None
    assert second is not None
    assert first == second == _found("Ann Lund")
    first["entities"][0].mentions[0].sentiment = 0.5
    assert second["entities"][0].mentions[0].sentiment is None
    assert cache.get(_key(1)) == _found("Ann Lund")


def test_the_least_recently_used_goes_first() -> None:
    cache = AnalysisCache(2)
    cache.put(_key(1), _found("One"))
    cache.put(_key(2), _found("Two"))
    assert cache.get(_key(1)) is not None  # 1 is now more recent than 2
    cache.put(_key(3), _found("Three"))
    assert len(cache) == 2
    assert _key(2) not in cache
    assert _key(1) in cache
    assert _key(3) in cache


def test_size_zero_keeps_nothing() -> None:
    cache = AnalysisCache(0)
    cache.put(_key(1), _found("One"))
    assert len(cache) == 0
    assert cache.get(_key(1)) is None
