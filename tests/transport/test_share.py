"""The slots the feed readers share out: stable, in range, and spread over every slot."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

from pipeline.transport.share import slot

KEYS = [f"https://site-{n}.example/feed.xml" for n in range(400)]


def test_a_key_has_the_same_slot_in_every_process() -> None:
    code = f"from pipeline.transport.share import slot; print([slot(k, 7) for k in {KEYS[:50]!r}])"
    for seed in ("1", "2"):  # str hashes differ between these processes; slots must not
        env = os.environ | {"PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == str([slot(k, 7) for k in KEYS[:50]])


def test_keys_spread_over_every_slot() -> None:
    counts = Counter(slot(key, 4) for key in KEYS)
    assert sorted(counts) == [0, 1, 2, 3]
    assert min(counts.values()) > 60
