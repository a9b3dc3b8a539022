"""The contrast figure of ``bench/eval_stance.py``: are the targets of a sentence told apart."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest

from tests.conftest import ROOT, load_script


@pytest.fixture(scope="module")
def evaluation() -> Any:
    return load_script(ROOT / "bench" / "eval_stance.py")


def sentence(newsmtsc: Any, *labels: int) -> Any:
    targets = tuple(newsmtsc.Target(i, i + 1, label, ()) for i, label in enumerate(labels))
    return newsmtsc.Sentence("abcdef", targets)


def test_contrast_counts_pairs_with_different_gold_classes_in_gold_order(evaluation: Any) -> None:
    newsmtsc = sys.modules[evaluation.read.__module__]
    data = [
        sentence(newsmtsc, 0, 2, 2),  # two pairs differ (0-2, 0-2), one is alike (2-2)
        sentence(newsmtsc, 1, 1),  # alike: not a pair
        sentence(newsmtsc, 2, 1),
        sentence(newsmtsc, 0),
    ]
    scores = [
        np.array([-0.8, 0.6, -0.9]),  # first pair in order, second reversed
        np.array([0.9, -0.9]),
        np.array([0.1, 0.1]),  # a tie is not in order
        np.array([0.5]),
    ]
    assert evaluation.contrast(data, scores) == (3, 1)
