"""The slots the feed readers share out: stable, in range, and spread over every slot."""

from __future__ import annotations

from collections import Counter

from pipeline.transport.share import slot


def test_a_key_has_the_same_slot_in_every_process_and_run() -> None:
    assert slot("https://harbour.example/rss.xml", 4) == slot("https://harbour.example/rss.xml", 4)
    assert slot("https://harbour.example/rss.xml", 1) == 0


def test_keys_spread_over_every_slot() -> None:
    counts = Counter(slot(f"https://site-{n}.example/feed.xml", 4) for n in range(400))
    assert sorted(counts) == [0, 1, 2, 3]
    assert min(counts.values()) > 60
