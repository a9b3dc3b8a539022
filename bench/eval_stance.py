"""Target-dependent sentiment on NewsMTSC: macro-F1 over negative/neutral/positive.

    python bench/eval_stance.py ../shared/data/newsmtsc/rw-dev.jsonl \\
        ../shared/data/newsmtsc/mt-dev.jsonl

Two figures per file:

- ``pipeline`` (the figure the goal is about): each sentence fed as an article body through the
  offline enrich path (``Enricher.process``, every stage: normalise, entities, quotations,
  stance); each gold target takes the polarity of our mention that overlaps it (the first, in
  body order; sentiment below -0.2 negative, above 0.2 positive), neutral where we have none.
  ``coverage`` is the share of targets with an overlapping mention.
- ``classifier``: the stance model alone, given the gold target spans (what the model
  can do when the entity stage finds the target).

And ``contrast``: of the pairs of targets in one sentence whose gold classes differ ("voters
punished A and rewarded B"), the share the classifier scores in the gold order: whether it
tells the targets of a sentence apart rather than reading the sentence's overall tone.

The model is the one ``MEDIAMON_STANCE_MODEL`` names (``standard`` by default, ``fast``, or a
directory). Also prints the stage's time on these sentences (the model's inference, not the
whole chain).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from newsmtsc import NEUTRAL, Sentence, macro_f1, read

from pipeline.enrich import Enricher
from pipeline.models import EnrichedEvent, RawRecord
from pipeline.settings import Settings
from pipeline.stages.attribution.stance import StanceStage, polarity, sentiment


def _label(score: float) -> int:
    return polarity(score) + 1


def contrast(data: Sequence[Sentence], scores: Sequence[np.ndarray]) -> tuple[int, int]:
    """(pairs of targets of one sentence with different gold classes, pairs of them whose
    ``scores`` are in the gold order)."""
    pairs = right = 0
    for sentence, score in zip(data, scores, strict=True):
        targets = sentence.targets
        for i, first in enumerate(targets):
            for j in range(i + 1, len(targets)):
                if first.label != targets[j].label:
                    pairs += 1
                    right += (score[i] - score[j]) * (first.label - targets[j].label) > 0
    return pairs, right


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", type=Path, nargs="+")
    args = parser.parse_args()
    enricher = Enricher(Settings())
    stage = enricher.stage("stance")
    assert isinstance(stage, StanceStage)
    _, model = stage.model_for(behind=False)
    for path in args.paths:
        data = read(path)
        records = [
            RawRecord(value=orjson.dumps({"body": s.text}), origin=f"{path.name}:{i}")
            for i, s in enumerate(data)
        ]
        started = time.perf_counter()
        events = enricher.process(records)
        chain_seconds = time.perf_counter() - started
        gold: list[int] = []
        chain: list[int] = []
        covered = 0
        changed = 0
        for sentence, event in zip(data, events, strict=True):
            mentions = []
            if isinstance(event, EnrichedEvent) and event.body == sentence.text:
                mentions = sorted(
                    (m for e in event.entities for m in e.mentions), key=lambda m: m.start
                )
            else:
                changed += 1
            for target in sentence.targets:
                gold.append(target.label)
                hits = [m for m in mentions if m.start < target.end and target.start < m.end]
                covered += bool(hits)
                chain.append(_label(hits[0].sentiment or 0.0) if hits else NEUTRAL)
        started = time.perf_counter()
        probs = model.probabilities(
            [s.text for s in data], [[(t.start, t.end) for t in s.targets] for s in data]
        )
        model_seconds = time.perf_counter() - started
        scores = [sentiment(ps) for ps in probs]
        direct = [_label(float(v)) for score in scores for v in score]
        pairs, right = contrast(data, scores)
        n = len(gold)
        print(
            f"{path.name}: {len(data)} sentences, {n} targets; pipeline macro-F1 "
            f"{macro_f1(gold, chain):.3f} (coverage {covered / n:.3f}); classifier on gold "
            f"spans macro-F1 {macro_f1(gold, direct):.3f}, contrast {right / max(1, pairs):.3f} "
            f"of {pairs} pairs; bodies changed by normalisation: "
            f"{changed}; {len(data) / chain_seconds:.1f} sentences/s through the enricher, "
            f"model alone {len(data) / model_seconds:.1f} sentences/s"
        )


if __name__ == "__main__":
    main()
