"""NewsMTSC (Hamborg and Donnay, EACL 2021) for the stance evaluation and training: reading its
JSON lines and scoring three-class predictions. Labels are 0 negative, 1 neutral, 2 positive.

Each line holds one sentence (``sentence_normalized``) and its targets: a span (``from``,
``to``), the ``polarity`` (2.0 negative, 4.0 neutral, 6.0 positive) and, for some,
``further_mentions`` of the same target in the sentence (pronouns, short names).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

NEGATIVE, NEUTRAL, POSITIVE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Target:
    start: int
    end: int
    label: int
    further: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    targets: tuple[Target, ...]


def label(polarity: float) -> int:
    """NewsMTSC's polarity (2, 4, 6) as a class."""
    return NEGATIVE if polarity < 3.0 else (POSITIVE if polarity > 5.0 else NEUTRAL)


def read(path: Path) -> list[Sentence]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        targets = tuple(
            Target(
                start=t["from"],
                end=t["to"],
                label=label(t["polarity"]),
                further=tuple((f["from"], f["to"]) for f in t.get("further_mentions") or ()),
            )
            for t in record["targets"]
        )
        out.append(Sentence(record["sentence_normalized"], targets))
    return out


def macro_f1(gold: Sequence[int], predicted: Sequence[int]) -> float:
    """Macro-averaged F1 over the three classes."""
    total = 0.0
    for c in (NEGATIVE, NEUTRAL, POSITIVE):
        tp = sum(g == c and p == c for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != c and p == c for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == c and p != c for g, p in zip(gold, predicted, strict=True))
        total += 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return total / 3
