"""Geoparsing on LGL: toponym recognition and resolution of the enricher's ``locations``.

Usage: ``python bench/eval_geoparsing.py PATH [--limit N] [--errors N]``
(e.g. ``/work/shared/data/geoparsing/lgl.xml``).

Each article's ``<text>`` is fed through the enricher's entities and locations stages as the
body (no title: the text's offsets are the gold ones). Recognition compares the spans of the
locations' mentions with the gold toponyms' spans, strictly (same start and end) and leniently
(overlapping); precision, recall and F1 of each. Resolution takes the gold toponyms recognised
(leniently) and measures the great-circle distance from the resolved place to the gold
coordinates: the share within 161 km (100 miles, "accuracy@161"), the mean and median error.
``--errors N`` prints N resolution errors (phrase, ours, gold) for tuning. Nothing of the
data is written.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from pipeline.enrich import Enricher
from pipeline.models import EnrichedEvent, RawRecord
from pipeline.resources.gazetteer import distance_km
from pipeline.resources.kb import default_kb
from pipeline.settings import Settings
from pipeline.stages.standard import standard_stages

ACCURACY_KM = 161.0
BATCH = 32


@dataclass(frozen=True, slots=True)
class Toponym:
    start: int
    end: int
    phrase: str
    lat: float
    lon: float


@dataclass(slots=True)
class Doc:
    text: str
    gold: list[Toponym]


def read_lgl(path: Path) -> list[Doc]:
    docs = []
    for article in ET.parse(path).getroot().iter("article"):
        gold = []
        for toponym in article.iter("toponym"):
            tag = toponym.find("gaztag")
            lat = tag.findtext("lat") if tag is not None else None
            lon = tag.findtext("lon") if tag is not None else None
            if lat is None or lon is None:
                continue  # a toponym without coordinates counts nowhere
            gold.append(
                Toponym(
                    int(toponym.findtext("start") or 0),
                    int(toponym.findtext("end") or 0),
                    toponym.findtext("phrase") or "",
                    float(lat),
                    float(lon),
                )
            )
        docs.append(Doc(article.findtext("text") or "", gold))
    return docs


@dataclass(frozen=True, slots=True)
class Predicted:
    start: int
    end: int
    name: str
    lat: float
    lon: float


def predict(docs: list[Doc]) -> list[list[Predicted] | None]:
    """The locations' mentions of each document (None when its body was changed by the
    normaliser, so that the offsets would not compare)."""
    settings = Settings(stance_enabled=False)
    stages = [
        s for s in standard_stages(settings, default_kb()) if s.name in {"entities", "locations"}
    ]
    enricher = Enricher(settings, stages=stages)
    out: list[list[Predicted] | None] = []
    for i in range(0, len(docs), BATCH):
        batch = docs[i : i + BATCH]
        records = [RawRecord(value=orjson.dumps({"body": d.text, "language": "en"})) for d in batch]
        for doc, outcome in zip(batch, enricher.process(records), strict=True):
            if not isinstance(outcome, EnrichedEvent) or outcome.body != doc.text:
                out.append(None)
                continue
            out.append(
                [
                    Predicted(m.start, m.end, loc.name, loc.lat, loc.lon)
                    for loc in outcome.locations
                    for m in loc.mentions
                ]
            )
    return out


def _prf(tp: int, n_pred: int, n_gold: int) -> str:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return f"P {p:.3f}  R {r:.3f}  F1 {f:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--errors", type=int, default=0)
    args = parser.parse_args()
    docs = read_lgl(args.path)[: args.limit]
    started = time.perf_counter()
    predictions = predict(docs)
    elapsed = time.perf_counter() - started
    n_gold = n_pred = strict = lenient_pred = lenient_gold = skipped = 0
    errors_km: list[float] = []
    shown = 0
    for doc, predicted in zip(docs, predictions, strict=True):
        if predicted is None:
            skipped += 1
            continue
        n_gold += len(doc.gold)
        n_pred += len(predicted)
        spans = {(p.start, p.end) for p in predicted}
        strict += sum((g.start, g.end) in spans for g in doc.gold)
        lenient_pred += sum(
            any(p.start < g.end and g.start < p.end for g in doc.gold) for p in predicted
        )
        for g in doc.gold:
            hits = [p for p in predicted if p.start < g.end and g.start < p.end]
            if not hits:
                continue
            lenient_gold += 1
            km = distance_km(hits[0].lat, hits[0].lon, g.lat, g.lon)
            errors_km.append(km)
            if km > ACCURACY_KM and shown < args.errors:
                shown += 1
                print(f"  {g.phrase!r}: {hits[0].name} ({km:.0f} km off)")
    print(f"LGL {args.path}: {len(docs) - skipped} articles ({skipped} skipped: body changed),")
    print(f"  {n_gold} gold toponyms, {n_pred} predicted mentions, {elapsed:.0f} s")
    print(f"recognition, strict   {_prf(strict, n_pred, n_gold)}")
    lenient_p = lenient_pred / n_pred if n_pred else 0.0
    lenient_r = lenient_gold / n_gold if n_gold else 0.0
    lenient_f = (
        2 * lenient_p * lenient_r / (lenient_p + lenient_r) if lenient_p + lenient_r else 0.0
    )
    print(f"recognition, lenient  P {lenient_p:.3f}  R {lenient_r:.3f}  F1 {lenient_f:.3f}")
    if errors_km:
        within = sum(km <= ACCURACY_KM for km in errors_km) / len(errors_km)
        print(
            f"resolution ({len(errors_km)} recognised): acc@161 {within:.3f}  mean error"
            f" {statistics.fmean(errors_km):.0f} km  median {statistics.median(errors_km):.0f} km"
        )


if __name__ == "__main__":
    main()
