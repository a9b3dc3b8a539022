"""Throughput of the stance stage, next to the entity stage on the same texts.

Usage: ``python bench/bench_stance.py PATH [--limit N] [--batch-size B] [--rounds R]``
(e.g. ``/work/shared/data/bbc_news``: every ``.txt`` below it, first line the title).

Entities and quotations are found first (not timed); then, single-threaded, after a warm-up,
the stance stage (:func:`pipeline.stages.attribution.stance.analyse_stance`: pronoun mentions,
sentences, the model over every sentence with a mention, holders and stances) runs over the
articles in batches of ``--batch-size``, as the enricher calls it; the best of ``--rounds``
rounds is reported in articles per second, with the entity stage's best round
(``bench_entities.py``'s measure) and the counts that drive the cost.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_entities import read_articles, stage, timed  # noqa: E402

from pipeline.models import Entity, Quote  # noqa: E402
from pipeline.stages.attribution.quotes import find_quotes  # noqa: E402
from pipeline.stages.attribution.stance import (  # noqa: E402
    StanceModel,
    analyse_stance,
    load_model,
    model_dir,
    polarity,
    sentiment,
)
from pipeline.stages.entities.linking import link_entities  # noqa: E402
from pipeline.stages.entities.recognise import load_recogniser, recognise  # noqa: E402

Prepared = list[tuple[str, list[Entity], list[Quote]]]


class CountingModel(StanceModel):
    """The shipped model, counting the sentences and targets it is given."""

    def __init__(self, model: StanceModel) -> None:
        self.session = model.session
        self.encoder = model.encoder
        self.sentences = 0
        self.targets = 0
        self.polar = 0

    def probabilities(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> list[np.ndarray]:
        self.sentences += len(texts)
        self.targets += sum(len(s) for s in spans)
        found = super().probabilities(texts, spans)
        self.polar += sum(any(polarity(float(v)) for v in sentiment(p)) for p in found)
        return found


def prepare(nlp: Any, articles: Sequence[tuple[str, str]], batch_size: int) -> Prepared:
    """Each (title, body) as the stance stage gets it: body, linked entities, quotations."""
    found = recognise(nlp, [body for _, body in articles], batch_size)
    prepared: Prepared = []
    for (title, body), mentions in zip(articles, found, strict=True):
        entities = link_entities(mentions, body, title)
        prepared.append((body, entities, find_quotes(body, entities)))
    return prepared


def run(prepared: Prepared, batch_size: int, model: StanceModel) -> int:
    stances = 0
    for lo in range(0, len(prepared), batch_size):
        for _, found in analyse_stance(prepared[lo : lo + batch_size], model):
            stances += len(found)
    return stances


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", default="standard", help="standard, fast, lite or a directory")
    args = parser.parse_args()
    articles = read_articles(args.path, args.limit)
    nlp = load_recogniser()
    prepared = prepare(nlp, articles, args.batch_size)
    model = load_model(model_dir(args.model))
    counting = CountingModel(model)
    stances = run(prepared, args.batch_size, counting)
    n = len(prepared)
    print(
        f"{n} articles; per article {counting.sentences / n:.1f} sentences and "
        f"{counting.targets / n:.1f} mentions scored, {stances / n:.1f} stances; "
        f"{counting.polar / max(1, counting.sentences):.0%} of the sentences with a polar mention; "
        f"batch size {args.batch_size}, one thread"
    )
    run(prepared[:20], args.batch_size, model)
    best_stance, best_entities = float("inf"), float("inf")
    for _ in range(args.rounds):
        best_stance = min(best_stance, timed(lambda: run(prepared, args.batch_size, model))[0])
        best_entities = min(best_entities, timed(lambda: stage(nlp, articles, args.batch_size))[0])
    for name, best in (("stance", best_stance), ("entity", best_entities)):
        print(f"{name} stage: {n / best:7.1f} articles/s ({1000 * best / n:.1f} ms each)")


if __name__ == "__main__":
    main()
